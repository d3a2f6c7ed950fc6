"""update.yml against a real hub and real agents: it waits for each room, and stops at one.

The playbook runs for real with ``connection: local`` (the edge role into a throwaway prefix
per Pi, services off so nothing restarts) and asks a real hub process, which real agents
report to, for each room through the fleet API with an IT user's token.
"""

from __future__ import annotations

import json
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

from smartclass.broker import Mosquitto
from smartclass.cli import main
from tests.integration.ansible_runs import (
    ANSIBLE,
    PI_A,
    PI_B,
    REPO,
    SITE,
    Run,
    run_playbook,
    write_inventory,
)
from tests.integration.system import AgentProcess, HubProcess, eventually, write_room

pytestmark = pytest.mark.integration

ROOMS = ((SITE, "6a1"), (SITE, "6a2"))


def update_vars(work: Path, hub: HubProcess, wheel_version: str) -> dict[str, object]:
    token = (hub.headers or {})["Authorization"].removeprefix("Bearer ")
    return {
        "ansible_connection": "local",
        "ansible_become": False,
        "ansible_python_interpreter": sys.executable,
        "smartclass_prefix": f"{work}/root/{{{{ inventory_hostname }}}}",
        "smartclass_secrets_dir": str(work / "secrets"),
        "smartclass_source_dir": str(REPO),
        "smartclass_manage_packages": False,
        "smartclass_manage_services": False,
        "smartclass_manage_users": False,
        "smartclass_reboot": False,
        "smartclass_wheel": f"/srv/dist/smartclass-{wheel_version}-py3-none-any.whl",
        "smartclass_hub_url": hub.url,
        "smartclass_it_token": token,
        "smartclass_update_retries": 3,
        "smartclass_update_delay_s": 1,
        "edge_user": "root",
        "edge_group": "root",
        "edge_venv": sys.prefix,
        "edge_room_file": str(REPO / "firmware_configs/rooms/sim-room.yaml"),
    }


def update(work: Path, hub: HubProcess, wheel_version: str) -> Run:
    (work / "local.json").write_text(json.dumps(update_vars(work, hub, wheel_version)))
    return run_playbook(work, ANSIBLE / "update.yml", limit="edges")


async def test_the_update_waits_for_each_room_and_stops_at_the_first_that_is_not_right(
    own_broker: Mosquitto, topic_root: str, tmp_path: Path
) -> None:
    inventory = write_inventory(tmp_path / "inventory", topic_root)
    secrets = tmp_path / "secrets"
    assert main(["deploy", "secrets", "--inventory", str(inventory), "--out", str(secrets)]) == 0
    hub = HubProcess(own_broker, topic_root, tmp_path / "hub", rooms=ROOMS)
    hub.start()
    rooms = [write_room(tmp_path / "rooms", root=topic_root, site=s, room=r) for s, r in ROOMS]
    agents: list[AgentProcess] = []
    try:
        for room in rooms:
            (tmp_path / room.stem).mkdir()
            agents.append(AgentProcess(room, own_broker, tmp_path / room.stem))
        await hub.wait_connected()
        async with hub.client() as http:

            async def both_online() -> bool:
                rooms = (await http.get("/api/v1/fleet")).json()
                return len(rooms) == 2 and all(room["online"] for room in rooms)

            await eventually(both_online, 60, "both agents online at the hub")
        done = update(tmp_path, hub, version("smartclass"))
        assert done.returncode == 0, done.output[-4000:]
        assert {host: r["failed"] for host, r in done.recap().items()} == {PI_A: 0, PI_B: 0}
        assert done.output.count("Wait until the hub sees the room online") == 2
        # a version no agent runs: the first Pi's room never reports it, and the update stops
        stopped = update(tmp_path, hub, "99.0")
        assert stopped.returncode != 0
        recap = stopped.recap()
        assert recap[PI_A]["failed"] == 1
        assert PI_B not in recap or recap[PI_B]["ok"] == 0
        assert "FAILED - RETRYING: [pi-thcs-test-6a1" in stopped.output
    finally:
        for agent in agents:
            agent.close()
        hub.close()
