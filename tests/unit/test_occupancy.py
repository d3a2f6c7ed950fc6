"""PIR occupancy on gpiozero's MockFactory with a fake clock, and the simulated backend."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from gpiozero.pins.mock import MockFactory, MockPin
from pydantic import TypeAdapter, ValidationError

from devices import occupancy
from devices.base import BadCommand, Sensor
from devices.occupancy.config import PirOccupancyConfig, SimOccupancyConfig
from devices.occupancy.pir import PirOccupancy
from devices.occupancy.sim import SimOccupancy

PIN = 17
START = datetime(2026, 9, 7, 1, 0, tzinfo=UTC)  # Monday 08:00 in Ho Chi Minh City


class FakeClock:
    """Monotonic seconds and the matching wall time, moved only by the test."""

    def __init__(self) -> None:
        self.now = 500.0

    def __call__(self) -> float:
        return self.now

    def wall(self) -> datetime:
        return START + timedelta(seconds=self.now - 500.0)

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Changes:
    """Records on_change calls with the thread they ran on; lets a test wait for the next."""

    seen: list[tuple[bool, int]] = field(default_factory=list)
    queue: asyncio.Queue[bool] = field(default_factory=asyncio.Queue)

    def __call__(self, occupied: bool) -> None:
        self.seen.append((occupied, threading.get_ident()))
        self.queue.put_nowait(occupied)

    async def next(self) -> bool:
        async with asyncio.timeout(2):
            return await self.queue.get()


class Reports:
    """The wall clock given to the device: each call means gpiozero reported the pin."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.loop = asyncio.get_running_loop()
        self.queue: asyncio.Queue[str] = asyncio.Queue()

    def __call__(self) -> datetime:
        now = self.clock.wall()
        self.loop.call_soon_threadsafe(self.queue.put_nowait, now.isoformat())
        return now

    async def wait_for(self, iso: str) -> None:
        async with asyncio.timeout(2):
            while await self.queue.get() != iso:
                pass


@dataclass
class Rig:
    factory: MockFactory
    clock: FakeClock
    reports: Reports
    changes: Changes
    device: PirOccupancy

    @property
    def pin(self) -> MockPin:
        p: MockPin = self.factory.pin(PIN)
        return p

    async def drive(self, high: bool) -> None:
        """Change the pin and wait until gpiozero's thread has reported it (last_motion moves)."""
        self.clock.advance(1)
        (self.pin.drive_high if high else self.pin.drive_low)()
        await self.reports.wait_for(self.clock.wall().isoformat())
        assert (await self.device.state())["last_motion"] == self.clock.wall().isoformat()


def build(
    factory: MockFactory, clock: FakeClock, now: Callable[[], datetime] | None = None, **kw: Any
) -> tuple[PirOccupancy, Changes]:
    config = PirOccupancyConfig.model_validate({"backend": "gpio", "pin": PIN, **kw})
    changes = Changes()
    device = PirOccupancy(
        "pir", config, pin_factory=factory, clock=clock, now=now or clock.wall, on_change=changes
    )
    return device, changes


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    factory, clock = MockFactory(), FakeClock()
    reports = Reports(clock)
    device, changes = build(factory, clock, reports)
    yield Rig(factory, clock, reports, changes, device)
    device.close()


async def test_starts_unoccupied(rig: Rig) -> None:
    assert isinstance(rig.device, Sensor)
    assert await rig.device.state() == {"occupied": False, "last_motion": None}
    assert await rig.device.read() == {"occupied": 0}


async def test_motion_makes_it_occupied_with_the_callback_on_the_loop(rig: Rig) -> None:
    rig.pin.drive_high()
    assert await rig.changes.next() is True
    assert rig.changes.seen == [(True, threading.get_ident())]  # the loop's thread
    assert await rig.device.read() == {"occupied": 1}
    assert await rig.device.state() == {"occupied": True, "last_motion": START.isoformat()}


async def test_occupied_until_the_hold_time_after_the_last_motion(rig: Rig) -> None:
    rig.pin.drive_high()
    assert await rig.changes.next() is True
    rig.clock.advance(60)
    await rig.drive(high=False)  # motion last seen now
    end = rig.clock.wall().isoformat()
    rig.clock.advance(299)
    assert await rig.device.read() == {"occupied": 1}
    rig.clock.advance(1)
    assert await rig.device.read() == {"occupied": 0}
    assert await rig.changes.next() is False
    assert [occupied for occupied, _ in rig.changes.seen] == [True, False]
    assert await rig.device.state() == {"occupied": False, "last_motion": end}


async def test_new_motion_during_the_hold_time_extends_it(rig: Rig) -> None:
    rig.pin.drive_high()
    await rig.changes.next()
    await rig.drive(high=False)
    rig.clock.advance(200)
    await rig.drive(high=True)
    await rig.drive(high=False)
    rig.clock.advance(250)  # 450 s after the first motion ended, 250 s after the second
    assert await rig.device.read() == {"occupied": 1}
    assert [occupied for occupied, _ in rig.changes.seen] == [True]


async def test_expiry_is_noticed_by_the_loop_without_a_read() -> None:
    config = PirOccupancyConfig(backend="gpio", pin=PIN, hold_time_s=0.05)
    changes = Changes()
    device = PirOccupancy("pir", config, pin_factory=MockFactory(), on_change=changes)
    try:
        pin: MockPin = device.sensor.pin
        started = time.monotonic()
        pin.drive_high()
        assert await changes.next() is True
        pin.drive_low()
        assert await changes.next() is False  # the hold timer fired on the loop
        assert time.monotonic() - started >= 0.05
        assert {thread for _, thread in changes.seen} == {threading.get_ident()}
    finally:
        device.close()


async def test_motion_in_the_first_sample_counts() -> None:
    factory, clock = MockFactory(), FakeClock()
    device, changes = build(factory, clock)
    factory.pin(PIN).drive_high()  # before gpiozero's first sample: it fires no callback
    try:
        assert await changes.next() is True
        assert await device.read() == {"occupied": 1}
    finally:
        device.close()


async def test_pull_up_sensor_is_active_low() -> None:
    factory, clock = MockFactory(), FakeClock()
    device, changes = build(factory, clock, pull_up=True)
    try:
        assert await device.read() == {"occupied": 0}  # pulled up: no motion
        factory.pin(PIN).drive_low()
        assert await changes.next() is True
    finally:
        device.close()


async def test_close_twice_frees_the_pin_and_stops_callbacks(rig: Rig) -> None:
    rig.device.close()
    rig.device.close()
    again, _ = build(rig.factory, rig.clock)
    again.close()
    assert rig.changes.seen == []


def test_config_defaults_and_limits() -> None:
    config = PirOccupancyConfig.model_validate({"backend": "gpio", "pin": 4})
    assert (config.hold_time_s, config.pull_up, config.queue_len, config.threshold) == (
        300,
        False,
        1,
        0.5,
    )
    for bad in ({"pin": 28}, {"pin": 4, "hold_time_s": 0}, {"pin": 4, "queue_len": 0}):
        with pytest.raises(ValidationError):
            PirOccupancyConfig.model_validate({"backend": "gpio", **bad})
    adapter: TypeAdapter[Any] = TypeAdapter(occupancy.FAMILY.config_type)
    assert isinstance(adapter.validate_python({"backend": "sim"}), SimOccupancyConfig)
    with pytest.raises(ValidationError, match="timezone"):
        SimOccupancyConfig.model_validate({"backend": "sim", "timezone": "Mars/Olympus"})
    with pytest.raises(ValidationError, match="not after start"):
        SimOccupancyConfig.model_validate(
            {"backend": "sim", "schedule": [{"start": "11:00", "end": "07:00"}]}
        )


async def test_sim_follows_a_set_value_and_a_command() -> None:
    changes = Changes()
    device = SimOccupancy("occ", SimOccupancyConfig(backend="sim"), on_change=changes)
    assert await device.read() == {"occupied": 0}
    device.set_occupied(True)
    assert await changes.next() is True
    state = await device.execute("set_occupied", {"occupied": False})
    assert state["occupied"] is False
    assert await changes.next() is False
    with pytest.raises(BadCommand) as info:
        await device.execute("set_occupied", {"occupied": "maybe"})
    assert info.value.code == "bad_params"


async def test_sim_follows_a_schedule_in_local_time() -> None:
    clock = FakeClock()
    schedule = [{"start": "07:00", "end": "11:30"}, {"start": "13:30", "end": "17:00"}]
    config = SimOccupancyConfig.model_validate({"backend": "sim", "schedule": schedule})
    changes = Changes()
    device = SimOccupancy("occ", config, now=clock.wall, on_change=changes)
    assert await device.read() == {"occupied": 1}  # Monday 08:00
    clock.advance(4 * 3600)  # 12:00, lunch
    assert await device.read() == {"occupied": 0}
    assert [occupied for occupied, _ in changes.seen] == [False]
    clock.advance(2 * 3600)  # 14:00
    assert await device.read() == {"occupied": 1}
    clock.advance(6 * 24 * 3600)  # Sunday 14:00: not a school day
    assert await device.read() == {"occupied": 0}
    device.set_occupied(True)  # a value overrides the schedule ...
    assert await device.read() == {"occupied": 1}
    device.set_occupied(None)  # ... until cleared
    assert await device.read() == {"occupied": 0}
    device.close()
