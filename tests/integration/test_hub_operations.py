"""Operating the hub: Prometheus metrics of a hub at work, and logs as JSON lines."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from hub.access import Role
from protocol import RoomTopics, Telemetry, encode
from smartclass.broker import Mosquitto, free_port
from smartclass.processes import smartclass_command, spawn, stop
from tests.integration.system import agent_client, eventually, hub_settings, running_hub
from tests.unit.hub_helpers import bearer

pytestmark = pytest.mark.integration

SITE, ROOM = "thcs-nguyen-chi-thanh", "6a1"


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def test_metrics_count_what_the_hub_ingests(
    broker: Mosquitto, topic_root: str, database_url: str
) -> None:
    settings = hub_settings(broker, topic_root, database_url)
    topics = RoomTopics(SITE, ROOM, topic_root)
    async with running_hub(settings) as http, agent_client(broker, topic_root) as edge:
        for seq in range(1, 11):
            msg = Telemetry(sender=f"edge/{SITE}/{ROOM}", boot="b1", boot_no=1, seq=seq,
                            device="env", readings={"co2_ppm": 500.0})  # fmt: skip
            await edge.publish(topics.telemetry, encode(msg), qos=1)
        await edge.publish(topics.telemetry, b"\xff not json", qos=1)

        async def scraped() -> dict[tuple[str, tuple[tuple[str, str], ...]], float] | None:
            r = await http.get("/metrics")
            assert r.status_code == 200
            assert r.headers["content-type"].startswith("text/plain")
            found = samples(r.text)
            stored = found.get(("smartclass_hub_ingest_messages_total", (("outcome", "stored"),)))
            dead = found.get(("smartclass_hub_dead_letters_total", (("reason", "bad_json"),)))
            return found if (stored, dead) == (10, 1) else None

        found = await eventually(scraped, 10, "ten messages stored and one dead letter")
        assert found[("smartclass_hub_ingest_points_total", ())] == 10
        assert found[("smartclass_hub_mqtt_connected", ())] == 1
        assert found[("smartclass_hub_ingest_batch_messages_count", ())] >= 1
        received = found[("smartclass_hub_ingest_messages_total", (("outcome", "received"),))]
        assert received >= 11
        assert found[("smartclass_hub_ingest_batch_messages_sum", ())] == received
        assert found[("smartclass_hub_ingest_store_seconds_count", ())] >= 1
        r = await http.post(
            f"/api/v1/rooms/{SITE}/{ROOM}/devices/lights/commands",
            json={"action": "on", "timeout_s": 0.5},
        )
        assert r.status_code == 504, "no agent answers in this test"
        after = samples((await http.get("/metrics")).text)
        assert after[("smartclass_hub_commands_total", (("outcome", "CommandTimeout"),))] == 1
        teacher = await http.get("/metrics", headers=bearer(settings.database_url, Role.TEACHER))
        assert teacher.status_code == 403
        anonymous = await http.get("/metrics", headers={"Authorization": ""})
        assert anonymous.status_code == 401


def test_the_hub_logs_one_json_object_per_line(tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "hub.log"
    hub = spawn(
        smartclass_command("--log-format", "json", "hub", "--port", str(port)),
        env={
            "SMARTCLASS_HUB_DATABASE_URL": f"sqlite:///{tmp_path / 'hub.sqlite'}",
            "SMARTCLASS_HUB_MQTT_PORT": str(free_port()),  # nobody there: it logs retries
            "SMARTCLASS_HUB_HUB_ID": "hub-json",
        },
        log_file=log,
    )
    try:

        def answering() -> bool:
            try:
                return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 503
            except httpx.TransportError:
                return False

        deadline = time.monotonic() + 30
        while not answering():
            assert time.monotonic() < deadline, log.read_text()
            assert hub.poll() is None, log.read_text()
            time.sleep(0.1)  # polling another process: no event to wait on
    finally:
        stop(hub, "hub")
    lines = [line for line in log.read_text().splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    assert all({"time", "level", "logger", "message"} <= r.keys() for r in records)
    assert any(r["logger"].startswith("uvicorn") for r in records), "the web server's too"
    assert any(r["logger"].startswith("hub") for r in records)
    assert all(r["time"].endswith("Z") for r in records)
    usage = subprocess.run(
        smartclass_command("--help"), capture_output=True, text=True, check=True
    ).stdout
    assert "[--log-format {text,json}]" in usage
