"""A real agent's telemetry through the secured Mosquitto into the hub's rollups and report:
the rollups hold exactly what the agent's samples said, each once."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, case, func, select

from edge.clock import FakeClock
from hub.db import TelemetryPoint, make_engine
from hub.rollup_tables import usage_hourly
from protocol import Telemetry, decode
from protocol.usage import zone_of
from smartclass.broker import Mosquitto
from tests.integration.system import (
    eventually,
    hub_settings,
    make_agent,
    mqtt_client,
    running,
    running_hub,
)

pytestmark = pytest.mark.integration

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
MONDAY_LESSON = datetime(2025, 10, 13, 8, 0, tzinfo=HCM)
"""Period 2 of the sample room's timetable: the lights are on for the lesson."""


async def test_what_the_agent_says_is_what_the_report_counts(
    broker: Mosquitto, topic_root: str, tmp_path: Path, database_url: str
) -> None:
    agent, _ = make_agent(broker, topic_root, tmp_path / "edge", clock=FakeClock(MONDAY_LESSON))
    said: dict[tuple[str, int], Telemetry] = {}
    settings = hub_settings(broker, topic_root, database_url)
    engine = make_engine(database_url)
    async with (
        running_hub(settings) as http,
        mqtt_client(broker, topic_root, "collector") as collector,
    ):
        await collector.subscribe(f"{topic_root}/+/+/telemetry", qos=1)

        async def collect() -> None:
            async for message in collector.messages:
                msg = decode(Telemetry, message.payload)  # type: ignore[arg-type]
                said[(msg.boot, msg.seq)] = msg  # a redelivery is the same sample

        listening = asyncio.create_task(collect())
        try:
            async with running(agent):
                await agent.devices["projector"].execute("on", {})

                async def lit_samples() -> bool:
                    return sum(m.readings.get("power_on") == 1.0 for m in said.values()) >= 15

                await eventually(lit_samples, 20, "15 samples of the projector on")
                await agent.devices["projector"].execute("off", {})

            async def all_stored() -> bool:  # the hub and the collector got the same samples
                stored = await asyncio.to_thread(_stored_seqs, engine)
                return bool(stored) and stored == set(said)

            await eventually(all_stored, 20, "the hub to store what the broker delivered")
        finally:
            listening.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listening
        samples = list(said.values())
        expected = _expected(samples)
        found = await asyncio.to_thread(_rolled_up, engine)
        engine.dispose()
        assert {k: round(v, 6) for k, v in found.items()} == {
            k: round(v, 6) for k, v in expected.items()
        }
        assert expected["projector_on_s"] > 0
        assert expected["temp_n"] > 0
        days = sorted({m.ts.astimezone(HCM).date().isoformat() for m in samples})
        r = await http.get(
            "/api/v1/reports/usage",
            params={"scope": "room", "site": agent.room.site, "room": agent.room.room,
                    "from": days[0], "to": days[-1]},
        )  # fmt: skip
        assert r.status_code == 200, r.text
        total = r.json()["total"]
        assert total["projector_on_h"] == round(expected["projector_on_s"] / 3600, 3)
        assert total["lesson_temperature_samples"] == expected["temp_n"]


def _expected(samples: list[Telemetry]) -> dict[str, float]:
    """What the samples say, added up by hand (every one in a lesson, by the fake clock)."""
    out = {"covered_s": 0.0, "on_s": 0.0, "projector_on_s": 0.0, "temp_n": 0.0}
    for m in samples:
        assert m.interval_s is not None
        assert m.schedule == "lesson"
        out["covered_s"] += m.interval_s
        if m.readings.get("power_on", 0) >= 0.5:
            out["on_s"] += m.interval_s
            out["projector_on_s"] += m.interval_s
        lit = [v for k, v in m.readings.items() if zone_of(k) is not None and v > 0]
        out["on_s"] += m.interval_s * len(lit)
        out["temp_n"] += "temperature_c" in m.readings
    return out


def _stored_seqs(engine: Engine) -> set[tuple[str, int]]:
    t = TelemetryPoint
    with engine.connect() as conn:
        return {(r.boot, r.seq) for r in conn.execute(select(t.boot, t.seq).distinct())}


def _rolled_up(engine: Engine) -> dict[str, float]:
    c = usage_hourly.c
    projector = case((c.kind == "projector", c.on_s), else_=0.0)
    with engine.connect() as conn:
        row = conn.execute(
            select(func.sum(c.covered_s), func.sum(c.on_s), func.sum(projector), func.sum(c.temp_n))
        ).one()
    return {"covered_s": row[0], "on_s": row[1], "projector_on_s": row[2], "temp_n": row[3]}
