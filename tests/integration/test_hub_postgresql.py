"""The hub app on PostgreSQL behind a real Mosquitto: telemetry stored once, listed by the API."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from hub.db import TelemetryPoint, make_engine
from protocol import RoomTopics, Status, Telemetry, encode
from smartclass.broker import Mosquitto
from tests.integration.system import agent_client, eventually, hub_settings, running_hub

pytestmark = [pytest.mark.integration, pytest.mark.postgresql]

SITE, ROOM = "thcs-nguyen-chi-thanh", "6a1"


def telemetry(seq: int, co2: float) -> bytes:
    return encode(
        Telemetry(sender=f"edge/{SITE}/{ROOM}", boot="b1", seq=seq, device="env",
                  readings={"co2_ppm": co2, "temperature_c": 27.5})
    )  # fmt: skip


def stored_points(url: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(TelemetryPoint)).scalar_one())
    finally:
        engine.dispose()


async def test_telemetry_is_stored_once_in_postgresql_and_listed(
    broker: Mosquitto, topic_root: str, postgres_url: str
) -> None:
    settings = hub_settings(broker, topic_root, postgres_url)
    topics = RoomTopics(SITE, ROOM, topic_root)
    edge = agent_client(broker, topic_root)
    async with running_hub(settings) as http, edge:
        status = Status(sender=f"edge/{SITE}/{ROOM}", state="online", boot="b1", keepalive=5)
        await edge.publish(topics.status, encode(status), qos=1, retain=True)
        first, second = telemetry(1, 500.0), telemetry(2, 650.0)
        for payload in (first, second, first):  # the third is a redelivery
            await edge.publish(topics.telemetry, payload, qos=1)

        async def all_stored() -> Any:
            health = (await http.get("/api/v1/health")).json()
            return health["counters"]["received"] >= 4 and health["ingest_pending"] == 0 and health

        health = await eventually(all_stored, 10, "every message stored")
        assert (health["counters"]["points"], health["counters"]["duplicates"]) == (4, 2)
        [room] = (await http.get("/api/v1/rooms")).json()
        assert (room["site"], room["room"], room["online"]) == (SITE, ROOM, True)
        assert room["readings"]["co2_ppm"]["value"] == 650.0
        history = (
            await http.get(f"/api/v1/rooms/{SITE}/{ROOM}/telemetry", params={"metric": "co2_ppm"})
        ).json()
        assert [p["value"] for p in history["points"]] == [500.0, 650.0]
    assert stored_points(postgres_url) == 4

    async with running_hub(settings) as http, edge:  # a new hub process, the same database
        await edge.publish(topics.telemetry, second, qos=1)

        async def redelivery_seen() -> Any:
            counters = (await http.get("/api/v1/health")).json()["counters"]
            return counters["duplicates"] == 2 and counters  # one message, two metrics

        await eventually(redelivery_seen, 10, "the redelivery after a restart")
    assert stored_points(postgres_url) == 4
