"""The school clock of a fast day: school time runs N times the monotonic clock from its start,
sleeps take 1/N of the school time in real seconds, and what is recorded keeps real time."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from gpiozero.pins.mock import MockFactory, MockPWMPin

from devices.lighting.config import GpioLightingConfig
from devices.lighting.gpio import GpioLighting
from edge.automation import Automation
from edge.clock import ScaledClock
from edge.config import load_room_config
from protocol.aio import wait_within
from tests.integration.system import SIM_ROOM

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
MONDAY = date(2025, 10, 6)
REAL = datetime(2025, 10, 1, 3, 0, tzinfo=UTC)
"""The wall time the tests' recorders stamp with: nowhere near the school day."""


def school(hhmm: str, day: date = MONDAY) -> datetime:
    return datetime.combine(day, time.fromisoformat(hhmm), tzinfo=HCM)


class ManualTime:
    """Monotonic seconds that move only when the test says, and the sleeps made on them."""

    def __init__(self, start: float = 500.0) -> None:
        self.now = start
        self.asked: list[float] = []
        """Every sleep asked for, in real seconds."""
        self._sleepers: list[tuple[float, asyncio.Future[None]]] = []
        self._changed = asyncio.Event()

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.asked.append(seconds)
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._sleepers.append((self.now + seconds, future))
        self._changed.set()
        await future

    @property
    def sleepers(self) -> int:
        self._sleepers = [(at, f) for at, f in self._sleepers if not f.done()]
        return len(self._sleepers)

    async def wait_for_sleepers(self, count: int = 1) -> None:
        async with asyncio.timeout(5):
            while self.sleepers < count:
                self._changed.clear()
                await self._changed.wait()

    def advance(self, seconds: float, *, wake_all: bool = False) -> None:
        """Move on and wake the sleepers due, or all of them (a sleep may end early); they
        run at the test's next await."""
        self.now += seconds
        for at, future in self._sleepers:
            if (wake_all or at <= self.now) and not future.done():
                future.set_result(None)


def test_it_reads_its_start_at_its_origin_and_runs_speed_times_real_time() -> None:
    ticks = ManualTime()
    clock = ScaledClock(school("06:45"), 60, monotonic=ticks)
    assert clock.now() == school("06:45")
    assert clock.origin == 500.0
    ticks.now += 15  # 15 real seconds: a quarter of an hour of the school day
    assert clock.now() == school("07:00")
    assert clock.monotonic() == 900.0  # school seconds, for the simulated devices
    assert clock.now().tzinfo == UTC


def test_processes_that_resume_it_read_the_same_school_time() -> None:
    """Each process of the demo (and each restart) makes its clock from the same anchors."""
    began = datetime(2026, 12, 2, 2, 30, tzinfo=UTC)
    ticks = ManualTime()
    first = ScaledClock.resumed(
        school("06:45"), 60, began, wall=lambda: began + timedelta(seconds=2), monotonic=ticks
    )
    ticks.now += 58  # a minute after the demo began, the agents' process starts again
    again = ScaledClock.resumed(
        school("06:45"), 60, began, wall=lambda: began + timedelta(seconds=60), monotonic=ticks
    )
    assert first.now() == again.now() == school("07:45")


def test_a_stepped_wall_clock_does_not_move_it() -> None:
    wall = [datetime(2026, 12, 2, 2, 30, tzinfo=UTC)]
    ticks = ManualTime()
    clock = ScaledClock.resumed(school("06:45"), 60, wall[0], wall=lambda: wall[0], monotonic=ticks)
    wall[0] += timedelta(hours=7)  # NTP steps the wall clock
    assert clock.now() == school("06:45")


async def test_sleeping_until_a_school_time_takes_a_speedth_of_it_in_real_seconds() -> None:
    ticks = ManualTime()
    clock = ScaledClock(school("06:45"), 60, monotonic=ticks, sleep=ticks.sleep)
    sleeper = asyncio.ensure_future(clock.sleep_until(school("06:55")))
    await ticks.wait_for_sleepers()
    assert ticks.asked == [10.0]  # ten school minutes
    ticks.advance(9.5, wake_all=True)  # woken early: it sleeps the rest
    await ticks.wait_for_sleepers()
    assert not sleeper.done()
    assert ticks.asked[1] == pytest.approx(0.5)
    ticks.advance(0.5)
    await wait_within(sleeper, 5)
    assert clock.now() == school("06:55")
    await clock.sleep_until(school("06:50"))  # already past: no sleep at all
    assert len(ticks.asked) == 2


@pytest.mark.parametrize("speed", [0.0, -1.0, float("inf"), float("nan")])
def test_a_speed_that_is_not_a_positive_number_is_refused(speed: float) -> None:
    with pytest.raises(ValueError, match="speed must be a positive number"):
        ScaledClock(school("06:45"), speed)


def test_a_start_without_a_time_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="time zone"):
        ScaledClock(datetime(2025, 10, 6, 6, 45), 60)


class Recorded:
    """The automation's events, and a way to wait for the next one."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.added = asyncio.Event()

    def emit_event(self, kind: str, **fields: Any) -> object:
        self.events.append({"kind": kind, **fields})
        self.added.set()
        return None


async def test_the_timetable_runs_on_school_time_and_events_keep_the_real_time() -> None:
    ticks = ManualTime()
    clock = ScaledClock(school("06:50"), 60, monotonic=ticks, sleep=ticks.sleep)
    pins = MockFactory(pin_class=MockPWMPin)
    room = load_room_config(SIM_ROOM)
    lights_config = room.devices["lights"]
    assert isinstance(lights_config, GpioLightingConfig)
    lights = GpioLighting("lights", lights_config, pin_factory=pins)
    recorded = Recorded()
    automation = Automation(
        {"lights": lights}, recorded, sender="edge/test/6a1", timetable=room.timetable,
        tz=HCM, clock=clock, stamp=lambda: REAL,
    )  # fmt: skip
    task = asyncio.create_task(automation.run())
    try:
        await ticks.wait_for_sleepers()
        assert ticks.asked[-1] == pytest.approx(5.0)  # 06:50 → 06:55 (prepare): 5 s at 60 times
        assert recorded.events == []
        ticks.advance(5.0)
        await wait_within(recorded.added.wait(), 5)
        [event] = recorded.events
        assert event["kind"] == "schedule"
        assert event["data"]["transition"] == "morning prepare"
        assert event["data"]["at"] == school("06:55").astimezone(UTC).isoformat()
        assert event["ts"] == REAL  # the wall clock's time, not the school's
        assert pins.pin(18).state == 1.0  # the lesson scene: the front dimmer full
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        lights.close()
