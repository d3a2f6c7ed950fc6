"""One contract for every occupancy backend: a PIR on mock pins and the simulator behave alike."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import pytest
from gpiozero.pins.mock import MockFactory

from devices.base import Device, Sensor
from devices.occupancy.config import SimOccupancyConfig
from devices.occupancy.sim import SimOccupancy
from tests.unit.test_occupancy import Changes, FakeClock, Reports, Rig, build


@dataclass
class Backend:
    """A device of one backend and the two things the world can do to it."""

    device: Device
    changes: Changes
    arrive: Callable[[], Awaitable[None]]
    leave: Callable[[], Awaitable[None]]


async def _pir() -> Backend:
    factory, clock = MockFactory(), FakeClock()
    reports = Reports(clock)
    device, changes = build(factory, clock, reports, hold_time_s=300)
    rig = Rig(factory, clock, reports, changes, device)

    async def arrive() -> None:
        await rig.drive(high=True)

    async def leave() -> None:
        await rig.drive(high=False)
        clock.advance(300)  # the hold time runs out on the clock, without waiting

    return Backend(device, changes, arrive, leave)


async def _sim() -> Backend:
    changes = Changes()
    device = SimOccupancy("occ", SimOccupancyConfig(backend="sim", occupied=False))
    device.on_change = changes

    async def arrive() -> None:
        await device.execute("set_occupied", {"occupied": True})

    async def leave() -> None:
        await device.execute("set_occupied", {"occupied": False})

    return Backend(device, changes, arrive, leave)


@pytest.fixture(params=[_pir, _sim], ids=["pir-gpio", "sim"])
async def backend(request: pytest.FixtureRequest) -> AsyncIterator[Backend]:
    made: Backend = await request.param()
    yield made
    made.device.close()
    made.device.close()  # closing twice is safe


async def test_family_and_sensor_shape(backend: Backend) -> None:
    assert backend.device.family == "occupancy"
    assert isinstance(backend.device, Sensor)
    assert await backend.device.read() == {"occupied": 0}
    assert (await backend.device.state())["occupied"] is False


async def test_presence_then_absence_with_changes_reported_on_the_loop(backend: Backend) -> None:
    await backend.arrive()
    assert await backend.device.read() == {"occupied": 1}  # type: ignore[attr-defined]
    assert await backend.changes.next() is True
    state = await backend.device.state()
    assert state["occupied"] is True
    assert set(state) == {"occupied", "last_motion"}
    await backend.leave()
    assert await backend.device.read() == {"occupied": 0}  # type: ignore[attr-defined]
    assert await backend.changes.next() is False
    loop_thread = threading.get_ident()
    assert [(occupied, thread) for occupied, thread in backend.changes.seen] == [
        (True, loop_thread),
        (False, loop_thread),
    ]
