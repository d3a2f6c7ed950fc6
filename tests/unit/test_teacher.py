"""The simulated teacher: rare, deterministic help requests during lessons, on the school clock."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from devices.base import Device
from edge.clock import FakeClock
from edge.config import load_room_config
from edge.help import HelpPanel
from edge.teacher import HELP_REASONS, HelpCall, SimulatedTeacher, next_call, plan_day
from protocol import Event, HelpAck
from protocol.aio import wait_within
from protocol.timetable import TimetableConfig
from tests.integration.system import SIM_ROOM

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
TIMETABLE = load_room_config(SIM_ROOM).timetable
assert TIMETABLE is not None
MONDAY = date(2025, 10, 6)
ROOM = "thcs-nguyen-chi-thanh/6a1"


def plan(day: date = MONDAY, *, seed: int = 1, room: str = ROOM, per_day: float = 2.0) -> Any:
    assert TIMETABLE is not None
    return plan_day(TIMETABLE, day, HCM, seed=seed, room=room, per_day=per_day)


def school_days(count: int) -> list[date]:
    assert TIMETABLE is not None
    days = (MONDAY + timedelta(days=n) for n in range(2 * count))
    return [d for d in days if TIMETABLE.is_school_day(d)][:count]


def test_the_same_seed_room_and_day_make_the_same_requests() -> None:
    assert plan() == plan()
    days = school_days(30)
    by_seed = {seed: [plan(d, seed=seed) for d in days] for seed in (1, 2)}
    assert by_seed[1] != by_seed[2]
    assert [plan(d) for d in days] != [plan(d, room="th-vo-thi-sau/1a") for d in days]


def test_requests_come_inside_periods_with_a_reason_from_the_panel_s_list() -> None:
    assert TIMETABLE is not None
    periods = {p.period: p for _, session in TIMETABLE.sessions() for p in session}
    calls = [call for day in school_days(60) for call in plan(day, per_day=4)]
    assert calls
    for call in calls:
        local = call.at.astimezone(HCM)
        period = periods[call.period]
        assert period.start < local.time() < period.end
        assert call.reason in HELP_REASONS
        assert call.at.tzinfo == UTC
    assert {c.reason for c in calls} == set(HELP_REASONS)
    assert all(a.at < b.at for a, b in pairwise(calls))


def test_on_average_per_day_requests_a_school_day_and_none_on_a_day_off() -> None:
    days = school_days(400)
    for per_day in (0.5, 2.0):
        mean = sum(len(plan(d, per_day=per_day)) for d in days) / len(days)
        assert per_day * 0.8 < mean < per_day * 1.2, (per_day, mean)
    assert plan(date(2025, 10, 12)) == []  # a Sunday
    assert plan(date(2025, 9, 2)) == []  # Quốc khánh
    assert plan(per_day=0) == []
    assert len(plan(per_day=20)) == 8  # at most one a period


def test_a_higher_rate_keeps_the_requests_of_a_lower_one() -> None:
    for day in school_days(20):
        rare, often = set(plan(day, per_day=0.5)), set(plan(day, per_day=3))
        assert rare <= often


def test_the_next_request_is_found_across_nights_weekends_and_holidays() -> None:
    assert TIMETABLE is not None
    saturday_evening = datetime.combine(date(2025, 10, 11), time(18), tzinfo=HCM)
    call = next_call(TIMETABLE, saturday_evening, HCM, seed=1, room=ROOM, per_day=20)
    assert call is not None
    assert call.at.astimezone(HCM).date() == date(2025, 10, 13)  # Monday, after the Sunday
    assert call.period == 1
    tet = datetime.combine(date(2026, 2, 13), time(18), tzinfo=HCM)  # Friday before Tết
    after_tet = next_call(TIMETABLE, tet, HCM, seed=1, room=ROOM, per_day=20)
    assert after_tet is not None
    assert after_tet.at.astimezone(HCM).date() == date(2026, 2, 23)
    assert next_call(TIMETABLE, tet, HCM, seed=1, room=ROOM, per_day=0) is None


class Room:
    """A help panel whose events and published states the test reads."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.published = asyncio.Event()
        self.panel = HelpPanel(self._emit)

    def _emit(self, kind: str, **fields: Any) -> Event:
        event = Event(sender="edge/s/r", boot="b1", boot_no=1, seq=len(self.events) + 1,
                      kind=kind, **fields)  # fmt: skip
        self.events.append(event)
        return event

    async def publish(self, device: Device) -> None:
        assert device is self.panel
        self.published.set()

    async def next_publication(self) -> None:
        await wait_within(self.published.wait(), 5)
        self.published.clear()


def teacher(room: Room, clock: FakeClock, timetable: TimetableConfig | None = TIMETABLE) -> Any:
    return SimulatedTeacher(
        ROOM, room.panel, room.publish, clock=clock, timetable=lambda: timetable, tz=HCM,
        seed=1, per_day=20,
    )  # fmt: skip


@contextlib.asynccontextmanager
async def running(simulated: SimulatedTeacher) -> Any:
    task = asyncio.create_task(simulated.run())
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_the_teacher_presses_help_as_planned_and_waits_while_a_request_is_open() -> None:
    clock = FakeClock(datetime.combine(MONDAY, time(6, 50), tzinfo=HCM))
    room = Room()
    simulated = teacher(room, clock)
    first, second, third = plan(per_day=20)[:3]
    async with running(simulated):
        await clock.wait_for_sleepers()
        await clock.advance_to(first.at)
        await room.next_publication()
        assert list(simulated.asked) == [first]
        assert [(e.kind, e.data["reason"]) for e in room.events] == [("help", first.reason)]
        assert (await room.panel.state())["request"] == "requested"

        await clock.advance_to(second.at)  # still open: the teacher waits for IT
        assert list(simulated.asked) == [first]
        assert len(room.events) == 1

        resolved = HelpAck(sender="hub/h", alert=1, state="resolved", boot="b1", seq=1)
        assert room.panel.show(resolved)
        await clock.advance_to(third.at)
        await room.next_publication()
        assert list(simulated.asked) == [first, third]
        assert [e.data["reason"] for e in room.events] == [first.reason, third.reason]


async def test_without_a_timetable_the_teacher_never_asks() -> None:
    clock = FakeClock(datetime.combine(MONDAY, time(6, 50), tzinfo=HCM))
    room = Room()
    async with running(teacher(room, clock, timetable=None)) as task:
        await clock.wait_for_sleepers()
        await clock.advance(timedelta(days=3))
        assert not task.done()
    assert room.events == []


@pytest.mark.parametrize("reason", HELP_REASONS)
async def test_each_reason_is_one_the_panel_takes(reason: str) -> None:
    room = Room()
    clock = FakeClock(datetime.combine(MONDAY, time(7, 10), tzinfo=HCM))
    await teacher(room, clock).ask(HelpCall(clock.now(), reason, 1))
    state = await room.panel.state()
    assert (state["request"], state["reason"]) == ("requested", reason)
