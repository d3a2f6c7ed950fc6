"""The broker and edge roles applied for real on this machine, into a throwaway prefix.

``ansible-playbook`` runs both roles with ``connection: local`` on a test inventory whose
secrets ``smartclass deploy secrets`` made, with apt, pip, users, systemd and reboots turned
off. Mosquitto then runs from the files the broker role installed, an agent from the unit,
env file and room file the edge role installed; the units go through systemd-analyze.
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import grp
import json
import os
import shlex
import signal
import ssl
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

import aiomqtt
import httpx
import pytest
import yaml

from protocol import RoomTopics
from protocol.client import AckedClient, PublishRefused
from protocol.tls import client_context
from smartclass.broker import Mosquitto, free_port, mqtt_login
from smartclass.cli import main
from smartclass.credential_store import broker_config
from smartclass.processes import spawn, stop
from tests.integration.ansible_runs import (
    PI_A,
    REPO,
    ROOM_A,
    ROOM_B,
    SERVER,
    SITE,
    Run,
    run_playbook,
    write_inventory,
)
from tests.integration.auth_clients import topics_until
from tests.integration.system import eventually, it_staff
from tests.listening import ports

pytestmark = pytest.mark.integration

WAIT_S = 10.0
PLAYBOOK = """\
# The school's server and the Pi side by side (strategy free): each host runs its own role.
- name: The school's broker and hub, and one classroom's agent
  hosts: brokers:edges
  gather_facts: false
  strategy: free
  tasks:
    - name: The broker
      ansible.builtin.include_role: {name: broker, apply: {tags: [broker]}}
      tags: [broker]
      when: "'brokers' in group_names"
    - name: The hub
      ansible.builtin.include_role: {name: hub, apply: {tags: [hub]}}
      tags: [hub]
      when: "'hubs' in group_names"
    - name: The agent
      ansible.builtin.include_role: {name: edge, apply: {tags: [edge]}}
      tags: [edge]
      when: "'edges' in group_names"
"""


@dataclass(slots=True)
class Deployment:
    """The test school as the roles left it: paths, ports, both runs, the running broker."""

    work: Path
    prefix: Path
    secrets: Path
    root: str
    tls_port: int
    plain_port: int
    runs: list[Run]
    hub_port: int = field(default_factory=free_port)
    broker: Mosquitto | None = None

    @property
    def ca_file(self) -> Path:
        return self.prefix / "etc/smartclass/ca.crt"

    @property
    def room_file(self) -> Path:
        return self.prefix / "etc/smartclass/room.yaml"

    @property
    def unit_file(self) -> Path:
        return self.unit("smartclass-edge")

    def unit(self, name: str) -> Path:
        return self.prefix / f"etc/systemd/system/{name}.service"

    def unit_setting(self, name: str, key: str) -> str:
        """The value of ``key=`` in an installed unit."""
        lines = self.unit(name).read_text().splitlines()
        (value,) = [line.split("=", 1)[1] for line in lines if line.startswith(f"{key}=")]
        return value

    def env(self, path: Path) -> dict[str, str]:
        """An env file's variables as systemd reads them: a later line wins."""
        text = path.read_text(encoding="utf-8")
        lines = [line for line in text.splitlines() if "=" in line and not line.startswith("#")]
        return dict(line.split("=", 1) for line in lines)

    def login(self, part: str) -> tuple[str, str]:
        """The username and password of a generated env file (``edge/6a1.env``, ``hub/…``)."""
        values = self.env(self.secrets / SITE / part)
        kind = "HUB" if part.startswith("hub/") else "EDGE"
        return values[f"SMARTCLASS_{kind}_MQTT_USERNAME"], values[
            f"SMARTCLASS_{kind}_MQTT_PASSWORD"
        ]


def local_vars(d: Deployment) -> dict[str, object]:
    """What makes the roles run here, as this user, into the prefix, without services."""
    user, group = getpass.getuser(), grp.getgrgid(os.getgid()).gr_name
    return {
        "ansible_connection": "local",
        "ansible_python_interpreter": sys.executable,
        "smartclass_prefix": str(d.prefix),
        "smartclass_secrets_dir": str(d.secrets),
        "smartclass_source_dir": str(REPO),
        "smartclass_manage_packages": False,
        "smartclass_manage_services": False,
        "smartclass_manage_users": False,
        "smartclass_reboot": False,
        "smartclass_broker_tls_port": d.tls_port,
        "smartclass_broker_plain_port": d.plain_port,
        "smartclass_hub_port": d.hub_port,
        "broker_tls_address": "127.0.0.1",
        "hub_address": "127.0.0.1",
        "hub_user": user,
        "hub_group": group,
        "hub_file_owner": user,
        "hub_file_group": group,
        "hub_venv": sys.prefix,
        "smartclass_grafana": True,
        "smartclass_grafana_influx_url": "http://127.0.0.1:8086",
        "smartclass_grafana_influx_read_token": "read-only-token",
        "broker_file_owner": user,
        "broker_file_group": group,
        "edge_user": user,
        "edge_group": group,
        "edge_file_owner": user,
        "edge_file_group": group,
        "edge_venv": sys.prefix,
        "edge_room_file": str(REPO / "firmware_configs/rooms/sim-room.yaml"),
        "edge_room_overrides": {"panel": {"enabled": False}},
        "edge_pin_factory": "mock",
    }


def play(d: Deployment, *extra: str, limit: str = f"{SERVER},{PI_A}") -> Run:
    """ansible-playbook on the test inventory with the local variables (and ``extra``)."""
    return run_playbook(d.work, d.work / "play.yml", *extra, limit=limit)


def installed_broker(d: Deployment) -> Mosquitto:
    """Mosquitto with what the broker role installed, included as Debian's mosquitto.conf does."""
    data = d.work / "mosquitto"
    config = (
        f"include_dir {d.prefix / 'etc/mosquitto/conf.d'}\n"
        f"log_dest file {data}/mosquitto.log\nlog_type error\nlog_type warning\n"
        "log_type notice\nconnection_messages true\n"
    )
    return Mosquitto(port=d.plain_port, data_dir=data, raw_config=config)


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    work = tmp_path_factory.mktemp("ansible")
    root = f"t{uuid.uuid4().hex[:10]}"
    inventory = write_inventory(work / "inventory", root)
    secrets = work / "secrets"
    assert main(["deploy", "secrets", "--inventory", str(inventory), "--out", str(secrets)]) == 0
    d = Deployment(work, work / "root", secrets, root, free_port(), free_port(), runs=[])
    (work / "local.json").write_text(json.dumps(local_vars(d)))
    (work / "play.yml").write_text(PLAYBOOK)
    for _ in range(2):
        run = play(d)
        assert run.returncode == 0, run.output[-4000:]
        d.runs.append(run)
    with installed_broker(d) as broker:
        d.broker = broker
        yield d


@dataclass(frozen=True, slots=True)
class InstalledHub:
    """The hub started from its installed unit: its URL and an IT user's headers."""

    url: str
    headers: dict[str, str]


@pytest.fixture(scope="module")
def installed_hub(deployment: Deployment) -> Iterator[InstalledHub]:
    """``ExecStartPre=`` then ``ExecStart=`` of the installed hub unit, with its env file."""
    env = deployment.env(Path(deployment.unit_setting("smartclass-hub", "EnvironmentFile")))
    migrate = shlex.split(deployment.unit_setting("smartclass-hub", "ExecStartPre"))
    subprocess.run(migrate, env={**os.environ, **env}, check=True, timeout=120,
                   capture_output=True)  # fmt: skip
    hub = spawn(shlex.split(deployment.unit_setting("smartclass-hub", "ExecStart")), env=env,
                log_file=deployment.work / "hub.log")  # fmt: skip
    try:
        url = f"http://127.0.0.1:{deployment.hub_port}"
        headers = it_staff(env["SMARTCLASS_HUB_DATABASE_URL"], [(SITE, ROOM_A)])
        yield InstalledHub(url, headers)
    finally:
        stop(hub, "hub")


async def hub_get(hub: InstalledHub, path: str) -> Any:
    """GET ``path`` of the hub (None while it does not answer yet)."""
    async with httpx.AsyncClient(base_url=hub.url, headers=hub.headers, timeout=5) as http:
        try:
            response = await http.get(path)
        except httpx.TransportError:
            return None
        return response.json() if response.status_code == 200 else None


@contextlib.asynccontextmanager
async def connected(
    d: Deployment,
    login: tuple[str, str] | None,
    *,
    tls: ssl.SSLContext | None = None,
    plain: bool = False,
) -> AsyncIterator[AckedClient]:
    """An MQTT 5 client on the TLS listener as localhost, trusting the installed CA (or
    ``tls``); with ``plain``, on the loopback listener as the hub on the server uses it."""
    user, password = login or (None, None)
    client = AckedClient(
        "127.0.0.1" if plain else "localhost",
        d.plain_port if plain else d.tls_port,
        username=user,
        password=password,
        identifier=user or f"anonymous-{uuid.uuid4().hex[:6]}",
        protocol=aiomqtt.ProtocolVersion.V5,
        tls_context=None if plain else (tls or client_context(d.ca_file, setting="test")),
        timeout=WAIT_S,
    )
    async with client:
        yield client


async def first_message(client: aiomqtt.Client, topic: str) -> aiomqtt.Message:
    async with asyncio.timeout(WAIT_S):
        async for message in client.messages:
            if message.topic.value == topic:
                return message
    raise AssertionError(f"nothing on {topic}")  # pragma: no cover


def test_a_second_run_of_each_role_changes_nothing(deployment: Deployment) -> None:
    first, second = (run.recap() for run in deployment.runs)
    assert set(first) == set(second) == {SERVER, PI_A}  # the server: broker and hub
    assert all(first[host]["changed"] > 0 for host in first)
    assert {host: r["changed"] for host, r in second.items()} == {SERVER: 0, PI_A: 0}
    assert all(r["failed"] == 0 for r in second.values())
    # the boot settings changed once: the Pi would reboot then (here: it says so), not again
    reboot = "RUNNING HANDLER [edge : Say the Pi needs a reboot]"
    assert [reboot in run.output for run in deployment.runs] == [True, False]


def test_the_installed_units_pass_systemd_analyze_verify(deployment: Deployment) -> None:
    hub = deployment.unit("smartclass-hub")
    hub_env = Path(deployment.unit_setting("smartclass-hub", "EnvironmentFile"))
    assert hub_env.stat().st_mode & 0o777 == 0o600  # settings and secrets: root only
    assert deployment.unit_setting("smartclass-hub", "ExecStartPre").endswith("hub migrate")
    for setting in ("Restart=on-failure", "ProtectSystem=strict", "NoNewPrivileges=yes",
                    "PrivateTmp=yes", "ProtectHome=yes"):  # fmt: skip
        assert setting in hub.read_text().splitlines()
    proc = subprocess.run(
        ["/usr/bin/systemd-analyze", "verify", "--man=no", str(hub)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    own = [line for line in proc.stderr.splitlines() if hub.name in line]
    assert (proc.returncode, own) == (0, []), proc.stderr
    unit = deployment.unit_file
    text = unit.read_text()
    for setting in ("Type=notify", "WatchdogSec=30", "Restart=always", "ProtectSystem=strict",
                    "NoNewPrivileges=yes", "PrivateTmp=yes", "ProtectHome=yes"):  # fmt: skip
        assert setting in text.splitlines()
    # verify loads the unit file as systemd would (no PID 1 needed): every key known, every
    # value parsed, ExecStart= executable, EnvironmentFile= readable. An unknown key or a bad
    # value is only a warning on stderr, so its lines count too.
    proc = subprocess.run(
        ["/usr/bin/systemd-analyze", "verify", "--man=no", str(unit)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    own = [line for line in proc.stderr.splitlines() if unit.name in line]
    assert (proc.returncode, own) == (0, []), proc.stderr
    broken = deployment.work / "broken" / unit.name
    broken.parent.mkdir(exist_ok=True)
    broken.write_text(text.replace("WatchdogSec=30", "WatchdogSec=thirty"))
    proc = subprocess.run(
        ["/usr/bin/systemd-analyze", "verify", "--man=no", str(broken)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert "Failed to parse sec value" in proc.stderr  # so the check above would have seen it


def test_the_rendered_broker_config_holds_every_setting_of_broker_config(
    deployment: Deployment,
) -> None:
    installed = deployment.prefix / "etc/mosquitto/smartclass"
    rendered = (deployment.prefix / "etc/mosquitto/conf.d/smartclass.conf").read_text()

    def settings(text: str) -> list[str]:
        return [line for line in text.splitlines() if line and not line.startswith("#")]

    expected = settings(broker_config(installed / "passwd", installed / "acl"))
    assert [line for line in settings(rendered) if line in expected] == expected
    assert f"listener {deployment.plain_port} 127.0.0.1" in settings(rendered)
    # the installed broker opens its two listeners and no other (no default one on 1883)
    assert deployment.broker is not None
    assert deployment.broker._proc is not None
    opened = ports(deployment.broker._proc.pid)
    assert opened == {deployment.tls_port, deployment.plain_port}


def test_grafana_gets_the_data_source_the_provider_and_every_dashboard(
    deployment: Deployment,
) -> None:
    provisioning = deployment.prefix / "etc/grafana/provisioning"
    for part in ("datasources", "dashboards"):
        shipped = REPO / "dashboards/provisioning" / part / "smartclass.yaml"
        assert (provisioning / part / "smartclass.yaml").read_bytes() == shipped.read_bytes()
    installed = deployment.prefix / "var/lib/grafana/dashboards/smartclass"
    shipped_dashboards = sorted(p.name for p in (REPO / "dashboards/smartclass").glob("*.json"))
    assert sorted(p.name for p in installed.iterdir()) == shipped_dashboards
    # what the data source file reads, in Grafana's environment (a drop-in), root only
    env_file = deployment.prefix / "etc/smartclass/grafana.env"
    assert env_file.stat().st_mode & 0o777 == 0o600
    assert deployment.env(env_file) == {
        "SMARTCLASS_INFLUX_URL": "http://127.0.0.1:8086",
        "SMARTCLASS_INFLUX_DATABASE": "smartclass",
        "SMARTCLASS_INFLUX_READ_TOKEN": "read-only-token",
    }
    dropin = deployment.prefix / "etc/systemd/system/grafana-server.service.d/smartclass.conf"
    assert f"EnvironmentFile={env_file}" in dropin.read_text().splitlines()


def test_the_machines_get_their_own_secrets_and_no_other(deployment: Deployment) -> None:
    installed = b"".join(p.read_bytes() for p in deployment.prefix.rglob("*") if p.is_file())
    assert deployment.login(f"edge/{ROOM_A}.env")[1].encode() in installed
    never = [
        deployment.login(f"edge/{ROOM_B}.env")[1].encode(),  # a Pi not in this run
        (deployment.secrets / "ca/ca.key").read_bytes(),
        (deployment.secrets / SITE / "keys/cards.key").read_bytes(),
    ]
    assert [secret in installed for secret in never] == [False, False, False]
    public = deployment.prefix / "etc/smartclass/cards.pub.pem"
    assert public.read_bytes() == (deployment.secrets / SITE / "keys/cards.pub.pem").read_bytes()


def test_the_rendered_room_file_passes_smartclass_validate(deployment: Deployment) -> None:
    assert main(["validate", str(deployment.room_file)]) == 0
    room = yaml.safe_load(deployment.room_file.read_text())
    assert (room["site"], room["room"], room["mqtt"]["topic_root"]) == (
        SITE, ROOM_A, deployment.root,
    )  # fmt: skip


async def test_an_agent_logs_in_over_tls_with_its_own_credential_and_checks_the_broker(
    deployment: Deployment,
) -> None:
    installed = deployment.env(deployment.prefix / "etc/smartclass/edge.env")
    login = installed["SMARTCLASS_EDGE_MQTT_USERNAME"], installed["SMARTCLASS_EDGE_MQTT_PASSWORD"]
    assert login == deployment.login(f"edge/{ROOM_A}.env")
    assert installed["SMARTCLASS_EDGE_MQTT_HOST"] == "localhost"
    assert installed["SMARTCLASS_EDGE_MQTT_PORT"] == str(deployment.tls_port)
    assert installed["SMARTCLASS_EDGE_MQTT_TLS_CA_FILE"] == str(deployment.ca_file)
    topic = RoomTopics(SITE, ROOM_A, deployment.root).status
    async with connected(deployment, login) as agent:
        await agent.publish_acked(topic, b"{}", 1)
    # without the school's CA the agent does not trust the broker
    with pytest.raises(aiomqtt.MqttError, match="CERTIFICATE_VERIFY_FAILED"):
        async with connected(deployment, login, tls=ssl.create_default_context()):
            pass  # pragma: no cover


async def test_the_hub_runs_from_its_installed_unit_with_its_credential_on_loopback(
    deployment: Deployment, installed_hub: InstalledHub
) -> None:
    env_file = Path(deployment.unit_setting("smartclass-hub", "EnvironmentFile"))
    assert deployment.env(env_file)["SMARTCLASS_HUB_MQTT_PORT"] == str(deployment.plain_port)

    async def connected() -> Any:
        health = await hub_get(installed_hub, "/api/v1/health")
        return health and health["mqtt_connected"]

    await eventually(connected, 60, "the installed hub to connect to the installed broker")


async def test_anonymous_and_wrong_password_clients_are_refused(deployment: Deployment) -> None:
    user, password = deployment.login(f"edge/{ROOM_A}.env")
    for login in (None, (user, password + "x"), (user, deployment.login("hub/hub.env")[1])):
        for plain in (False, True):
            with pytest.raises(aiomqtt.MqttCodeError, match="Not authorized"):
                async with connected(deployment, login, plain=plain):
                    pass  # pragma: no cover
    assert not mqtt_login("127.0.0.1", deployment.plain_port, None, None)


async def test_room_a_can_neither_command_room_b_nor_read_its_telemetry(
    deployment: Deployment,
) -> None:
    a, b = (RoomTopics(SITE, room, deployment.root) for room in (ROOM_A, ROOM_B))
    command_b, marker = b.command("lights"), a.command("lights")
    async with (
        connected(deployment, deployment.login("hub/hub.env"), plain=True) as hub,
        connected(deployment, deployment.login(f"edge/{ROOM_A}.env")) as agent_a,
        connected(deployment, deployment.login(f"edge/{ROOM_B}.env")) as agent_b,
    ):
        await hub.subscribe(b.telemetry, qos=1)
        await agent_b.subscribe(command_b, qos=1)
        await agent_a.subscribe(marker, qos=1)
        with contextlib.suppress(aiomqtt.MqttError):  # refused, or granted and never fed
            await agent_a.subscribe(b.telemetry, qos=1)
        with pytest.raises(PublishRefused):
            await agent_a.publish_acked(command_b, b"from room a", 1)
        # what the hub and B may do arrives: B's reading reaches the hub's subscriber
        await hub.publish_acked(command_b, b"from the hub", 1)
        assert (await first_message(agent_b, command_b)).payload == b"from the hub"
        await agent_b.publish_acked(b.telemetry, b"b's reading", 1)
        assert (await first_message(hub, b.telemetry)).payload == b"b's reading"
        # then a command of A's own, after B's reading: A gets it, and nothing before it
        await hub.publish_acked(marker, b"marker", 1)
        received = await topics_until(agent_a, marker)
        assert received == [marker]


async def test_a_broken_room_file_is_refused_without_touching_the_installed_one_or_the_agent(
    deployment: Deployment, installed_hub: InstalledHub
) -> None:
    exec_start = deployment.unit_setting("smartclass-edge", "ExecStart")
    env_file = Path(deployment.unit_setting("smartclass-edge", "EnvironmentFile"))
    before = deployment.room_file.read_bytes(), deployment.room_file.stat().st_mtime_ns
    room = f"/api/v1/fleet/{SITE}/{ROOM_A}"

    async def online() -> Any:
        view = await hub_get(installed_hub, room)
        return view if view and view["online"] else None

    agent = spawn(shlex.split(exec_start), env=deployment.env(env_file),
                  log_file=deployment.work / "edge.log")  # fmt: skip
    try:
        running = await eventually(online, 60, "the installed agent online at the installed hub")
        bad = {"edge_room_overrides": {"panel": {"enabled": False}, "projector_colour": "blue"}}
        run = play(deployment, "-e", json.dumps(bad), limit=PI_A)
        assert run.returncode != 0
        assert "projector_colour" in run.output  # smartclass validate said why
        assert run.recap()[PI_A]["failed"] == 1
        after = deployment.room_file.read_bytes(), deployment.room_file.stat().st_mtime_ns
        assert after == before
        # a boot profile whose I2S pins the room's lights use: refused before /boot
        boot = deployment.prefix / "boot/firmware/smartclass.txt"
        boot_before = boot.read_bytes()
        clash = {"smartclass_hardware_profile": "classroom-standard", **bad}
        clash["edge_room_overrides"] = {"panel": {"enabled": False}}
        run = play(deployment, "-e", json.dumps(clash), limit=PI_A)
        assert run.returncode != 0
        assert "GPIO18 (I2S BCLK) is also room.yaml devices.lights" in run.output
        assert "Reboot the Pi" not in run.output
        assert boot.read_bytes() == boot_before
        assert agent.poll() is None  # the process started before the runs: never stopped
        still = await online()
        assert still is not None
        assert (still["boot"], still["agent_version"]) == (running["boot"], version("smartclass"))
    finally:
        stop(agent, "edge")


async def test_a_rotated_password_reaches_the_broker_by_a_reload_not_a_restart(
    deployment: Deployment,
) -> None:
    """Last in this file: room B's password changes (no Pi of the runs holds it)."""
    assert deployment.broker is not None
    user, old = deployment.login(f"edge/{ROOM_B}.env")
    inventory = str(deployment.work / "inventory/hosts.yml")
    rotate = ["--out", str(deployment.secrets), "--rotate", user]
    assert main(["deploy", "secrets", "--inventory", inventory, *rotate]) == 0
    new = deployment.login(f"edge/{ROOM_B}.env")[1]
    assert new != old
    # room A's identity stays connected through the reload (its agent has stopped by now; the
    # hub's identity is the installed hub's: one connection per identity, the client id is
    # the username, so a second one would close the hub's)
    topic = RoomTopics(SITE, ROOM_A, deployment.root).telemetry
    async with connected(deployment, deployment.login(f"edge/{ROOM_A}.env")) as hub:
        run = play(deployment, "--diff", "--tags", "broker", limit=SERVER)
        assert run.returncode == 0, run.output[-4000:]
        assert run.recap()[SERVER]["changed"] == 1  # the password file, and nothing else
        passwd = (deployment.secrets / SITE / "broker/passwd").read_text().splitlines()
        (line,) = [entry for entry in passwd if entry.startswith(f"{user}:")]
        assert line.split(":", 1)[1] not in run.output  # no diff of a secret file
        assert "RUNNING HANDLER [broker : Reload Mosquitto]" in run.output
        assert "RUNNING HANDLER [broker : Restart Mosquitto]" not in run.output
        # what `systemctl reload mosquitto` does with Debian's unit (ExecReload=kill -HUP)
        deployment.broker._proc.send_signal(signal.SIGHUP)  # type: ignore[union-attr]

        async def reloaded() -> bool:
            port = deployment.plain_port
            accepts = await asyncio.to_thread(mqtt_login, "127.0.0.1", port, user, new)
            refuses = not await asyncio.to_thread(mqtt_login, "127.0.0.1", port, user, old)
            return accepts and refuses

        await eventually(reloaded, WAIT_S, "the broker to take the new password file")
        await hub.publish_acked(topic, b"still connected", 1)  # a reload keeps its clients
