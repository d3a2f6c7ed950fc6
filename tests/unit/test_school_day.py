"""The demo's school day: its rooms live by the timetable, a fast day starts on the next school
morning, the agents take it from one setting, and messages keep the real time."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from gpiozero.pins.mock import MockFactory, MockPWMPin
from pydantic import ValidationError

from devices.occupancy.config import SimOccupancyConfig
from edge.agent import Agent
from edge.clock import ScaledClock
from edge.config import load_room_config
from edge.settings import EdgeSettings
from edge.simulated_day import SimulatedDay
from edge.timetable import Targets, day_transitions
from protocol import utcnow
from smartclass.cli import main
from smartclass.demo import write_demo_files
from smartclass.school_day import (
    DayOptions,
    day_lines,
    next_school_morning,
    presence,
    simulated_day,
)
from tests.integration.system import SIM_ROOM

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
TIMETABLE = load_room_config(SIM_ROOM).timetable
assert TIMETABLE is not None


def local(day: date, hhmm: str) -> datetime:
    return datetime.combine(day, time.fromisoformat(hhmm), tzinfo=HCM)


def test_the_class_is_in_for_the_lessons_and_out_for_the_long_breaks() -> None:
    assert TIMETABLE is not None
    spans = [(s["start"], s["end"]) for s in presence(TIMETABLE)]
    assert spans == [
        ("06:55", "08:35"),  # in as the lights come on; out at the 15-minute break (ra chơi)
        ("08:47", "11:15"),  # back before period 3; five-minute breaks spent in the room
        ("12:55", "14:35"),
        ("14:47", "15:35"),
    ]
    assert {d for s in presence(TIMETABLE) for d in s["days"]} == set(range(1, 7))


def test_demo_rooms_use_the_projector_every_school_day_and_keep_their_own_plan(
    tmp_path: Path,
) -> None:
    _, files = write_demo_files(tmp_path, 6, interval=5)
    rooms = [load_room_config(path) for path in files]
    monday = date(2025, 10, 6)
    for room in rooms:
        assert room.timetable is not None
        targets = Targets(lights=("lights",), projectors=("projector",))
        for day in (monday + timedelta(days=n) for n in range(6)):  # Monday to Saturday
            switched = [
                (t.at.astimezone(HCM), s.action)
                for t in day_transitions(room.timetable, day, targets=targets, tz=HCM)
                for s in t.steps
                if s.device == "projector"
            ]
            ons = [at for at, action in switched if action == "on"]
            assert len(ons) == 2, (room.room, day, switched)  # a block each session
            assert ons[0] <= local(day, "08:50")  # from one of the first three periods
        plan = room.timetable.lesson_plan
        assert plan["mon"][1].subject == "Chào cờ"  # the room file's own plan comes first
        assert not plan["mon"][1].projector
        presence_config = room.devices["presence"]
        assert isinstance(presence_config, SimOccupancyConfig)
        first = presence_config.schedule[0]
        assert (first.start, first.end) == (time(6, 55), time(8, 35))
    airs = {r.devices["env"].air_changes_per_h for r in rooms}  # type: ignore[union-attr]
    assert len(airs) > 1, "some rooms are better ventilated than others"


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (local(date(2025, 10, 6), "05:30"), local(date(2025, 10, 6), "06:45")),  # Monday early
        (local(date(2025, 10, 6), "09:00"), local(date(2025, 10, 7), "06:45")),  # the next day
        (local(date(2025, 10, 11), "09:00"), local(date(2025, 10, 13), "06:45")),  # Sat → Mon
        (local(date(2025, 8, 31), "20:00"), local(date(2025, 9, 3), "06:45")),  # Quốc khánh
    ],
)
def test_a_fast_day_starts_on_the_next_school_morning(now: datetime, expected: datetime) -> None:
    assert TIMETABLE is not None
    assert next_school_morning(TIMETABLE, time(6, 45), now.astimezone(UTC), HCM) == expected


def test_the_agents_setting_says_the_school_clock_and_the_teachers() -> None:
    assert TIMETABLE is not None
    now = local(date(2025, 10, 6), "09:00").astimezone(UTC)
    fast = simulated_day(DayOptions(fast=True, speed=120, seed=4), TIMETABLE, HCM, now)
    assert (fast.start, fast.started_at, fast.speed) == (
        local(date(2025, 10, 7), "06:45"),
        now,
        120,
    )
    assert (fast.seed, fast.help_per_day) == (4, 0.5)
    assert day_lines(fast, TIMETABLE, HCM) == [
        "  school day:          fast, 120 times real time, from Tue 2025-10-07 06:45 "
        "(lessons 07:00-15:35 take 4 min 18 s)",
        "  help requests:       0.5 per room and school day (seed 4)",
    ]
    real = simulated_day(DayOptions(help_per_day=0), TIMETABLE, HCM, now)
    assert (real.start, real.speed, real.clock()) == (None, 1.0, None)
    assert day_lines(real, TIMETABLE, HCM) == [
        "  school day:          real time (Asia/Ho_Chi_Minh)",
        "  help requests:       none",
    ]
    again = SimulatedDay.model_validate_json(fast.model_dump_json())
    assert again == fast  # what the demo passes to its agents, as JSON


def test_the_setting_comes_from_the_environment_and_its_errors_name_the_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    variable = "SMARTCLASS_EDGE_SIMULATED_DAY"
    monkeypatch.setenv(variable, '{"start": "2025-10-07T06:45:00+07:00", "speed": 60}')
    day = EdgeSettings().simulated_day
    assert day is not None
    clock = day.clock()
    assert isinstance(clock, ScaledClock)
    assert clock.speed == 60
    monkeypatch.setenv(variable, '{"start": "2025-10-07T06:45:00+07:00", "speed": 0}')
    with pytest.raises(ValidationError, match=r"simulated_day\.speed"):
        EdgeSettings()
    monkeypatch.setenv(variable, '{"speed": 60}')
    with pytest.raises(ValidationError, match="speed needs start"):
        EdgeSettings()
    monkeypatch.setenv(variable, '{"start": "2025-10-07T06:45:00+07:00", "sped": 60}')
    with pytest.raises(ValidationError, match=r"simulated_day\.sped"):
        EdgeSettings()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--speed", "10"], "--speed needs --fast-day"),
        (["--start", "06:00"], "--start needs --fast-day"),
        (["--fast-day", "--speed", "0"], "--speed must be above 0"),
        (["--fast-day", "--speed", "7200"], "at most 3600"),
        (["--fast-day", "--start", "6h"], "not a time of day as HH:MM"),
        (["--help-rate", "-1"], "--help-rate must be between 0 and 20"),
    ],
)
def test_the_demo_refuses_options_that_do_not_fit_and_names_them(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["demo", *argv])
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


def test_the_demo_s_help_explains_the_school_day(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["demo", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for option in ("--fast-day", "--speed N", "--start HH:MM", "--seed SEED", "--help-rate R"):
        assert option in text
    assert "messages keep the real time" in text
    assert "default 60: a 9-hour school day in 9 minutes" in text


@pytest.mark.parametrize(
    ("school_time", "occupied", "schedule"),
    [
        (local(date(2025, 10, 6), "07:10"), 1, "lesson"),  # Monday, period 1: the class is in
        (local(date(2025, 10, 12), "10:00"), 0, "closed"),  # Sunday: nobody
    ],
)
async def test_on_a_school_clock_the_room_lives_the_school_day_but_stamps_real_time(
    tmp_path: Path, school_time: datetime, occupied: int, schedule: str
) -> None:
    """Whatever the real time, one of the two cases differs from it: both pass only if the
    simulated room follows the school clock."""
    day = SimulatedDay(start=school_time, speed=1.0, help_per_day=1)
    agent = Agent(
        load_room_config(SIM_ROOM),
        EdgeSettings(data_dir=tmp_path, simulated_day=day),
        pin_factory=MockFactory(pin_class=MockPWMPin),
    )
    try:
        assert isinstance(agent.automation.clock, ScaledClock)
        assert agent.teacher is not None
        assert agent.teacher.clock is agent.automation.clock
        await agent._start_simulation()  # what run() does first
        before = utcnow()
        batch = {t.device: t for t in await agent.sample()}
        after = utcnow()
        assert batch["presence"].readings["occupied"] == occupied
        assert {t.schedule for t in batch.values()} == {schedule}
        assert all(before <= t.ts <= after for t in batch.values()), "messages keep real time"
        assert agent.sim is not None
        assert agent.sim.occupancy == (agent.sim.config.occupancy if occupied else 0)
    finally:
        agent.close()
