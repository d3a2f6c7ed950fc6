"""Timetable: the switching of a school day, days off, the next transition, and config checks."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from pydantic import ValidationError

from edge.config import ConfigError, parse_room_config
from edge.timetable import (
    Step,
    Targets,
    TimetableConfig,
    Transition,
    day_transitions,
    next_transition,
    state_at,
)

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
TARGETS = Targets(lights=("lights",), projectors=("proj",))
MONDAY = date(2025, 10, 6)
SUNDAY = date(2025, 10, 12)

BASE: dict[str, Any] = {
    "morning": [
        {"period": 1, "start": "07:00", "end": "07:45"},
        {"period": 2, "start": "07:50", "end": "08:35"},
        {"period": 3, "start": "08:50", "end": "09:35"},
    ],
    "afternoon": [
        {"period": 6, "start": "13:00", "end": "13:45"},
        {"period": 7, "start": "13:50", "end": "14:35"},
    ],
    "lead_min": 5,
    "after_min": 10,
    "holidays": [date(2025, 10, 20), {"start": "2026-02-14", "end": "2026-02-22", "name": "Tết"}],
    "lesson_plan": {"mon": {2: {"projector": True}, 3: {"projector": True}, 7: {"scene": "dim"}}},
}


def timetable(**changes: Any) -> TimetableConfig:
    return TimetableConfig.model_validate({**BASE, **changes})


def local(day: date, hhmm: str) -> datetime:
    return datetime.combine(day, time.fromisoformat(hhmm), tzinfo=HCM).astimezone(UTC)


def scene(name: str) -> Step:
    return Step("lights", "scene", {"name": name})


def test_a_monday_with_projector_periods() -> None:
    day = day_transitions(timetable(), MONDAY, HCM, TARGETS)
    assert [(t.at, t.name, t.steps) for t in day] == [
        (local(MONDAY, "06:55"), "morning prepare", (scene("lesson"),)),
        (local(MONDAY, "07:50"), "period 2 start", (Step("proj", "on"), scene("projection"))),
        (local(MONDAY, "08:35"), "period 2 end", (scene("lesson"),)),  # period 3 needs it too
        (local(MONDAY, "08:50"), "period 3 start", (scene("projection"),)),
        (local(MONDAY, "09:35"), "period 3 end", (scene("lesson"), Step("proj", "off"))),
        (local(MONDAY, "09:45"), "morning close", (scene("off"), Step("proj", "off"))),
        (local(MONDAY, "12:55"), "afternoon prepare", (scene("lesson"),)),
        (local(MONDAY, "13:50"), "period 7 start", (scene("dim"),)),
        (local(MONDAY, "14:35"), "period 7 end", (scene("lesson"),)),
        (local(MONDAY, "14:45"), "afternoon close", (scene("off"), Step("proj", "off"))),
    ]
    assert day[0].at == datetime(2025, 10, 5, 23, 55, tzinfo=UTC)  # UTC+7, the evening before


def test_projector_on_while_preparing_when_the_first_period_needs_it() -> None:
    config = timetable(lesson_plan={"tue": {6: {"projector": True}}})
    day = day_transitions(config, date(2025, 10, 7), HCM, TARGETS)
    assert day[2] == Transition(
        local(date(2025, 10, 7), "12:55"),
        "afternoon prepare",
        (scene("lesson"), Step("proj", "on")),
    )
    assert day[3].name == "period 6 start"
    assert day[3].steps == (scene("projection"),)  # no second "on" while it warms up


def test_a_day_without_lesson_plan_only_prepares_and_closes() -> None:
    day = day_transitions(timetable(), date(2025, 10, 8), HCM, TARGETS)
    assert [t.name for t in day] == [
        "morning prepare",
        "morning close",
        "afternoon prepare",
        "afternoon close",
    ]


@pytest.mark.parametrize(
    "day",
    [SUNDAY, date(2025, 10, 20), date(2026, 2, 14), date(2026, 2, 18), date(2026, 2, 22)],
    ids=["sunday", "holiday", "range-first", "range-middle", "range-last"],
)
def test_nothing_happens_on_sunday_or_a_holiday(day: date) -> None:
    assert day_transitions(timetable(), day, HCM, TARGETS) == []


def test_days_around_a_holiday_range_have_lessons() -> None:
    for day in (date(2026, 2, 13), date(2026, 2, 23)):
        assert day_transitions(timetable(), day, HCM, TARGETS)


def test_saturday_is_a_school_day_unless_left_out() -> None:
    saturday = date(2025, 10, 11)
    assert day_transitions(timetable(), saturday, HCM, TARGETS)
    weekdays = ["mon", "tue", "wed", "thu", "fri"]
    assert day_transitions(timetable(school_days=weekdays), saturday, HCM, TARGETS) == []


def test_a_period_that_ends_as_the_next_starts_is_one_transition() -> None:
    morning = [
        {"period": 1, "start": "07:00", "end": "07:45"},
        {"period": 2, "start": "07:45", "end": "08:30"},
    ]
    config = timetable(
        morning=morning, afternoon=[], lesson_plan={"mon": {1: {"projector": True}}}, lead_min=0
    )
    day = day_transitions(config, MONDAY, HCM, TARGETS)
    assert [t.name for t in day] == [
        "morning prepare, period 1 start",
        "period 1 end",
        "morning close",
    ]
    assert day[0].steps == (scene("lesson"), Step("proj", "on"), scene("projection"))
    assert day[1].steps == (scene("lesson"), Step("proj", "off"))


def test_next_transition_is_strictly_after_the_instant() -> None:
    config = timetable()
    first = next_transition(config, local(MONDAY, "06:00"), HCM, TARGETS)
    assert first is not None
    assert (first.at, first.name) == (local(MONDAY, "06:55"), "morning prepare")
    second = next_transition(config, first.at, HCM, TARGETS)
    assert second is not None
    assert (second.at, second.name) == (local(MONDAY, "07:50"), "period 2 start")


def test_next_transition_skips_sunday_and_holidays() -> None:
    config = timetable()
    after_saturday = next_transition(config, local(date(2025, 10, 11), "15:00"), HCM, TARGETS)
    assert after_saturday is not None
    assert after_saturday.at == local(date(2025, 10, 13), "06:55")
    after_tet = next_transition(config, local(date(2026, 2, 13), "20:00"), HCM, TARGETS)
    assert after_tet is not None
    assert after_tet.at == local(date(2026, 2, 23), "06:55")


def test_no_school_day_at_all_means_no_next_transition() -> None:
    holidays = [{"start": "2025-01-01", "end": "2030-12-31"}]
    config = timetable(school_days=["sun"], lesson_plan={}, holidays=holidays)
    assert next_transition(config, local(MONDAY, "06:00"), HCM, TARGETS, horizon_days=30) is None


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"morning": [{"period": 1, "start": 420, "end": "07:45"}]}, "quoted"),
        ({"morning": [{"period": 1, "start": "07:45", "end": "07:00"}]}, "not after its start"),
        (
            {
                "morning": [
                    {"period": 1, "start": "07:00", "end": "07:45"},
                    {"period": 2, "start": "07:40", "end": "08:25"},
                ]
            },
            "period 2 starts before period 1 ends",
        ),
        ({"afternoon": [{"period": 1, "start": "13:00", "end": "13:45"}]}, "used twice"),
        ({"after_min": 180, "lead_min": 180}, "after afternoon prepares"),
        ({"morning": [], "afternoon": []}, "no periods"),
        ({"lesson_plan": {"mon": {9: {"projector": True}}}}, "no period 9"),
        ({"lesson_plan": {"sun": {1: {"projector": True}}}}, "sun is not a school day"),
        ({"holidays": [{"start": "2026-02-22", "end": "2026-02-14"}]}, "ends before it starts"),
        ({"school_days": ["monday"]}, "Input should be"),
        ({"lead": 5}, "Extra inputs are not permitted"),
    ],
)
def test_bad_timetables_are_refused(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        timetable(**changes)


ROOM: dict[str, Any] = {
    "site": "thcs-x",
    "room": "6a1",
    "devices": {
        "lights": {
            "family": "lighting",
            "backend": "gpio",
            "zones": {"front": {"kind": "relay", "pin": 5}},
        },
        "env": {"family": "environment", "backend": "sim"},
    },
}


def room_text(timetable_section: dict[str, Any]) -> str:
    return yaml.safe_dump({**ROOM, "timetable": timetable_section}, sort_keys=False)


def test_room_file_with_a_timetable_loads() -> None:
    section = {k: v for k, v in BASE.items() if k != "lesson_plan"}
    room = parse_room_config(room_text(section), Path("room.yaml"))
    assert room.timetable is not None
    assert room.timetable.morning[0].start == time(7, 0)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"lesson_plan": {"mon": {2: {"scene": "disco"}}}},
            "lighting 'lights' has no scene 'disco'",
        ),
        ({"lights": ["lamp"]}, "lights: no device 'lamp' in this room"),
        ({"lights": ["env"]}, "'env' is a environment device, not lighting"),
        ({"projectors": ["lights"]}, "not projector"),
    ],
)
def test_room_file_checks_devices_and_scenes_with_the_line(
    changes: dict[str, Any], message: str
) -> None:
    section = {k: v for k, v in BASE.items() if k != "lesson_plan"} | changes
    text = room_text(section)
    line = text.splitlines().index("timetable:") + 2  # the section's first line
    with pytest.raises(ConfigError) as info:
        parse_room_config(text, Path("room.yaml"))
    assert f"room.yaml:{line}: timetable: " in str(info.value)
    assert message in str(info.value)


def test_unquoted_time_in_yaml_is_refused_with_its_line() -> None:
    text = room_text({"afternoon": [{"period": 6, "start": "13:00", "end": "13:45"}]})
    text = text.replace("'13:00'", "13:00")
    line = next(i for i, s in enumerate(text.splitlines(), 1) if "start: 13:00" in s)
    with pytest.raises(ConfigError) as info:
        parse_room_config(text, Path("room.yaml"))
    assert f"room.yaml:{line}: timetable.afternoon.0.start: " in str(info.value)
    assert 'quoted "HH:MM"' in str(info.value)


@pytest.mark.parametrize(
    ("hhmm", "expected"),
    [
        ("06:00", None),  # before the morning session: closed
        ("06:56", (scene("lesson"),)),  # prepared for period 1
        ("07:55", (scene("projection"), Step("proj", "on"))),  # period 2 uses the projector
        ("09:40", (scene("lesson"),)),  # after period 3: its projector is not switched off
        ("12:00", None),  # the morning session closed
        ("13:55", (scene("dim"),)),  # period 7's own scene
    ],
)
def test_state_at_puts_an_agent_started_mid_session_back(
    hhmm: str, expected: tuple[Step, ...] | None
) -> None:
    config = timetable()
    current = state_at(config, local(MONDAY, hhmm), HCM, TARGETS)
    if expected is None:
        assert current is None
    else:
        assert current is not None
        assert current.steps == expected
        assert current.name.startswith("catch-up after")
    assert state_at(config, local(SUNDAY, hhmm), HCM, TARGETS) is None
