"""What the agent's telemetry says of the room's use (contract v3): the interval each sample
covers, the room's occupancy, the timetable's schedule, projector and lighting usage."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from gpiozero.pins.mock import MockFactory, MockPWMPin
from pydantic import ValidationError

from devices.lighting.config import GpioLightingConfig
from edge.agent import Agent
from edge.clock import FakeClock
from edge.config import load_room_config
from edge.settings import EdgeSettings
from edge.timetable import TimetableConfig, schedule_at
from protocol import PayloadError, Telemetry, decode
from protocol.usage import ZONE_ID_MAX, zone_metric, zone_of

SAMPLE = Path(__file__).parents[2] / "firmware_configs" / "rooms" / "sim-room.yaml"
HCM = ZoneInfo("Asia/Ho_Chi_Minh")


def local(day: date, hhmm: str) -> datetime:
    hours, minutes = map(int, hhmm.split(":"))
    return datetime(day.year, day.month, day.day, hours, minutes, tzinfo=HCM)


@pytest.fixture
def timetable() -> TimetableConfig:
    table = load_room_config(SAMPLE).timetable
    assert table is not None
    return table


@pytest.mark.parametrize(
    ("hhmm", "expected"),
    [
        ("06:50", "closed"),
        ("06:55", "break"),  # preparing, lead_min 5 before period 1
        ("07:00", "lesson"),
        ("07:44", "lesson"),
        ("07:45", "break"),  # between periods 1 and 2
        ("08:40", "break"),  # the long break
        ("11:14", "lesson"),
        ("11:20", "break"),  # closing, after_min 10 after the last period
        ("11:25", "closed"),
        ("12:30", "closed"),  # between the sessions
        ("13:10", "lesson"),
        ("15:45", "closed"),
    ],
)
def test_the_schedule_of_a_school_day(timetable: TimetableConfig, hhmm: str, expected: str) -> None:
    monday = date(2025, 10, 13)
    assert schedule_at(timetable, local(monday, hhmm), HCM) == expected


def test_days_off_are_closed(timetable: TimetableConfig) -> None:
    assert schedule_at(timetable, local(date(2025, 10, 12), "07:10"), HCM) == "closed"  # Sunday
    assert schedule_at(timetable, local(date(2025, 9, 2), "07:10"), HCM) == "closed"  # holiday


class Ticks:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def room(tmp_path: Path) -> Any:
    ticks = Ticks()
    wall = FakeClock(local(date(2025, 10, 13), "07:10"))  # Monday, period 1
    agent = Agent(
        load_room_config(SAMPLE),
        EdgeSettings(data_dir=tmp_path),
        pin_factory=MockFactory(pin_class=MockPWMPin),
        clock=ticks,
        wall_clock=wall,
    )
    try:
        yield agent, ticks, wall
    finally:
        agent.close()


async def test_each_sample_says_the_interval_it_covers(room: Any) -> None:
    agent, ticks, _ = room
    first = await agent.sample()
    assert {t.device for t in first} == {"env", "lights", "projector", "noise", "presence"}
    assert {t.interval_s for t in first} == {0.0}  # nothing before the first sample
    ticks.now += 10
    assert {t.interval_s for t in await agent.sample()} == {10.0}
    ticks.now += 2 * 3600  # the agent was not sampling: at most three intervals (60 s here)
    assert {t.interval_s for t in await agent.sample()} == {60.0}
    await agent.storage.flush()
    stored = [decode(Telemetry, row.payload) for row in agent.outbox.peek(100)]
    assert [t.interval_s for t in stored if t.device == "env"] == [0.0, 10.0, 60.0]


async def test_each_sample_says_what_the_room_was_doing(room: Any) -> None:
    agent, ticks, wall = room
    batch = await agent.sample()
    presence = next(t for t in batch if t.device == "presence")
    occupied = presence.readings["occupied"] >= 0.5
    assert {t.occupied for t in batch} == {occupied}
    assert {t.schedule for t in batch} == {"lesson"}
    await wall.advance(timedelta(minutes=36))  # 07:46, between periods
    ticks.now += 10
    assert {t.schedule for t in await agent.sample()} == {"break"}


async def test_projector_and_lights_report_their_use(room: Any) -> None:
    agent, _, _ = room
    await agent.devices["lights"].execute("scene", {"name": "reading"})
    await agent.devices["projector"].execute("on", {})
    batch = {t.device: t.readings for t in await agent.sample()}
    assert batch["lights"] == {"level_front_pct": 70.0, "level_middle_pct": 100.0,
                               "level_back_pct": 0.0}  # fmt: skip
    assert batch["projector"]["power_on"] == 1.0
    assert batch["projector"]["lamp_hours"] == 0.0


def test_zone_metrics_round_trip_and_are_checked_in_the_lighting_config() -> None:
    assert zone_metric("front") == "level_front_pct"
    assert zone_of(zone_metric("row-2")) == "row_2"
    assert zone_of("level_pct") is None
    assert zone_of("co2_ppm") is None
    zones = {"row-2": {"kind": "relay", "pin": 5}, "row_2": {"kind": "relay", "pin": 6}}
    with pytest.raises(ValidationError, match="differ only by '-' and '_'"):
        GpioLightingConfig.model_validate({"backend": "gpio", "zones": zones})
    long = {"z" * (ZONE_ID_MAX + 1): {"kind": "relay", "pin": 5}}
    with pytest.raises(ValidationError, match="longer than"):
        GpioLightingConfig.model_validate({"backend": "gpio", "zones": long})


def test_older_agents_samples_are_read_without_the_context() -> None:
    for version in (1, 2):
        payload = (
            f'{{"v":{version},"ts":"2025-03-03T00:00:00Z","sender":"edge/s/r","boot":"b",'
            f'"seq":1,"device":"env","readings":{{"co2_ppm":600}}}}'
        )
        old = decode(Telemetry, payload)
        assert (old.interval_s, old.occupied, old.schedule) == (None, None, None)


@pytest.mark.parametrize(
    ("field", "value"), [("interval_s", 3601), ("interval_s", -1), ("schedule", "recess")]
)
def test_the_context_is_bounded(field: str, value: object) -> None:
    body = {"v": 3, "sender": "edge/s/r", "boot": "b", "seq": 1, "device": "env",
            "readings": {"co2_ppm": 600}, field: value}  # fmt: skip
    with pytest.raises(PayloadError, match=field):
        decode(Telemetry, json.dumps(body))
