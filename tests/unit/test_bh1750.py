"""BH1750 driver against the chip model on a simulated bus: set-up, conversion, modes, failures."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from devices.base import DeviceUnavailable
from devices.bus.bh1750 import (
    ALT_ADDRESS,
    CONTINUOUS_HIGH_RES,
    POWER_DOWN,
    POWER_ON,
    Bh1750,
    SimBh1750,
    lux_from_raw,
)
from devices.bus.i2c import Conditions, SimI2CBus
from devices.environment.config import SimEnvironmentConfig
from devices.environment.sim import SimEnvironmentSensor


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@dataclass
class Rig:
    clock: FakeClock
    bus: SimI2CBus
    chip: SimBh1750
    driver: Bh1750


def make_rig(address: int = 0x23, daylight_lux: float = 350.0) -> Rig:
    clock = FakeClock()
    config = SimEnvironmentConfig(backend="sim", noise=False, daylight_lux=daylight_lux)
    room = SimEnvironmentSensor("room", config, clock=clock)
    bus = SimI2CBus(room, clock=clock, sleep=clock.sleep)
    chip = SimBh1750(address)
    bus.attach(address, chip)
    return Rig(clock, bus, chip, Bh1750(bus, address))


def test_conversion_matches_the_datasheet_example() -> None:
    assert lux_from_raw(0b1000_0011_1001_0000) == pytest.approx(28067, abs=1)


async def test_first_read_powers_on_sets_the_mode_and_waits_a_measurement() -> None:
    rig = make_rig()
    assert await rig.driver.measure() == pytest.approx(350, abs=1)
    assert rig.chip.commands == [POWER_ON, CONTINUOUS_HIGH_RES]
    assert rig.clock.slept == [pytest.approx(0.18)]
    assert await rig.driver.measure() == pytest.approx(350, abs=1)
    assert rig.chip.commands == [POWER_ON, CONTINUOUS_HIGH_RES]  # continuous: just read


async def test_second_address_and_brighter_rooms() -> None:
    rig = make_rig(ALT_ADDRESS, daylight_lux=12000)
    assert await rig.driver.measure() == pytest.approx(12000, abs=1)


async def test_bright_light_saturates_the_counter() -> None:
    rig = make_rig()
    rig.chip.override_lux = 80000
    assert await rig.driver.measure() == pytest.approx(65535 / 1.2)


async def test_unplugged_is_unavailable_then_set_up_again() -> None:
    rig = make_rig()
    await rig.driver.measure()
    rig.bus.detach(0x23)
    with pytest.raises(DeviceUnavailable) as info:
        await rig.driver.measure()
    assert isinstance(info.value.__cause__, OSError)
    rig.bus.attach(0x23, SimBh1750())  # a fresh chip: powered down, register 0
    assert await rig.driver.measure() == pytest.approx(350, abs=1)


async def test_close_powers_down_once() -> None:
    rig = make_rig()
    await rig.driver.measure()
    rig.driver.close()
    rig.driver.close()
    assert rig.chip.commands[-1] == POWER_DOWN
    assert rig.chip.commands.count(POWER_DOWN) == 1
    assert not rig.chip.powered


def test_chip_model_timing_and_modes() -> None:
    chip = SimBh1750()
    room: Conditions = {"light_lux": 500.0}
    chip.write(bytes([POWER_ON]), 0.0, room)
    chip.write(bytes([CONTINUOUS_HIGH_RES]), 0.0, room)
    assert chip.read(2, 0.05, room) == b"\x00\x00"  # first measurement not finished
    assert int.from_bytes(chip.read(2, 0.2, room), "big") == 600
    chip.write(b"\x11", 1.0, room)  # high-resolution mode 2: 0.5 lx per count
    assert int.from_bytes(chip.read(2, 1.2, room), "big") == 1200
    chip.write(b"\x23", 2.0, {"light_lux": 10.0})  # one-time low resolution: 4-count steps
    assert int.from_bytes(chip.read(2, 2.1, {"light_lux": 10.0}), "big") == 12
    assert not chip.powered  # one-time modes power down after measuring
    assert int.from_bytes(chip.read(2, 3.0, room), "big") == 12  # the register keeps it
    with pytest.raises(OSError, match="not modelled"):
        chip.write(b"\x42", 4.0, room)
