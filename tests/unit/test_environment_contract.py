"""One suite for every environment backend: the simulator, and I2C drivers on simulated chips."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from devices.base import Device, Sensor
from devices.bus.bh1750 import SimBh1750
from devices.bus.i2c import SimI2CBus
from devices.bus.scd4x import SimScd4x
from devices.environment.config import I2cEnvironmentConfig, SimEnvironmentConfig
from devices.environment.i2c import I2cEnvironmentSensor
from devices.environment.sim import SimEnvironmentSensor
from tests.fakes import FakeClock

METRICS = {"temperature_c", "humidity_pct", "co2_ppm", "light_lux"}


@dataclass
class Rig:
    sensor: Device
    room: SimEnvironmentSensor
    """The room model: the sensor itself for ``sim``, what the chips measure for ``i2c``."""
    clock: FakeClock

    async def read(self) -> dict[str, float]:
        assert isinstance(self.sensor, Sensor)
        return await self.sensor.read()


async def build(backend: str, **room: object) -> Rig:
    clock = FakeClock()
    config = SimEnvironmentConfig.model_validate({"backend": "sim", "seed": 1, **room})
    model = SimEnvironmentSensor("env", config, clock=clock)
    if backend == "sim":
        return Rig(model, model, clock)
    bus = SimI2CBus(model, clock=clock, sleep=clock.advance)
    bus.attach(0x62, SimScd4x())
    bus.attach(0x23, SimBh1750())
    i2c = I2cEnvironmentConfig.model_validate(
        {"backend": "i2c", "co2": {"chip": "scd4x"}, "light": {"chip": "bh1750"}}
    )
    sensor = I2cEnvironmentSensor("env", i2c, bus=bus)
    assert set(await sensor.read()) == {"light_lux"}  # the CO2 sensor starts measuring
    clock.advance(5)
    return Rig(sensor, model, clock)


@pytest.fixture(params=["sim", "i2c"])
async def rig(request: pytest.FixtureRequest) -> AsyncIterator[Rig]:
    built = await build(request.param)
    yield built
    built.sensor.close()


async def test_readings_are_plausible_and_named(rig: Rig) -> None:
    assert isinstance(rig.sensor, Sensor)
    assert rig.sensor.family == "environment"
    r = await rig.read()
    assert set(r) == METRICS
    assert 28 < r["temperature_c"] < 30
    assert 60 < r["humidity_pct"] < 80
    assert 380 < r["co2_ppm"] < 460
    assert 300 < r["light_lux"] < 400


async def test_co2_and_temperature_rise_with_a_class_and_fall_back_after(rig: Rig) -> None:
    empty = await rig.read()
    rig.room.set_occupancy(35)
    rig.clock.advance(45 * 60)
    during = await rig.read()
    assert during["co2_ppm"] > empty["co2_ppm"] + 800
    assert during["co2_ppm"] < 2500
    assert during["temperature_c"] > empty["temperature_c"] + 1
    assert during["humidity_pct"] > empty["humidity_pct"]
    rig.room.set_occupancy(0)
    rig.clock.advance(4 * 3600)
    after = await rig.read()
    assert after["co2_ppm"] == pytest.approx(empty["co2_ppm"], abs=25)
    assert after["temperature_c"] == pytest.approx(empty["temperature_c"], abs=0.3)


async def test_readings_are_rounded_like_the_simulator(rig: Rig) -> None:
    r = await rig.read()
    assert r["co2_ppm"] == round(r["co2_ppm"])
    assert r["light_lux"] == round(r["light_lux"])
    assert r["temperature_c"] == round(r["temperature_c"], 2)
    assert r["humidity_pct"] == round(r["humidity_pct"], 1)


async def test_state_is_json_ready_and_close_is_idempotent(rig: Rig) -> None:
    state = await rig.sensor.state()
    assert isinstance(state, dict)
    rig.sensor.close()
    rig.sensor.close()


@pytest.mark.parametrize("people", [0, 30])
async def test_i2c_chips_report_what_the_room_model_holds(people: int) -> None:
    real = await build("i2c", noise=False, occupancy=people)
    for _ in range(3):
        real.clock.advance(600)
        got, want = await real.read(), await real.room.read()  # the chips' few ms apart
        assert got["co2_ppm"] == pytest.approx(want["co2_ppm"], abs=1)
        assert got["temperature_c"] == pytest.approx(want["temperature_c"], abs=0.02)
        assert got["humidity_pct"] == pytest.approx(want["humidity_pct"], abs=0.1)
        assert got["light_lux"] == pytest.approx(want["light_lux"], abs=1)
