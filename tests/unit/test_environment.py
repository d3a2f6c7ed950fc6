"""The simulated room: CO2, temperature and humidity follow occupancy on a fake clock."""

from __future__ import annotations

import pytest

from devices.base import BadCommand, Sensor
from devices.environment.config import SimEnvironmentConfig
from devices.environment.sim import SimEnvironmentSensor
from tests.fakes import FakeClock


def make(clock: FakeClock, **overrides: object) -> SimEnvironmentSensor:
    config = SimEnvironmentConfig.model_validate({"backend": "sim", "seed": 1, **overrides})
    return SimEnvironmentSensor("env", config, clock=clock)


async def test_readings_are_plausible_and_named() -> None:
    sensor = make(FakeClock())
    assert isinstance(sensor, Sensor)
    r = await sensor.read()
    assert set(r) == {"temperature_c", "humidity_pct", "co2_ppm", "light_lux"}
    assert 28 < r["temperature_c"] < 30
    assert 60 < r["humidity_pct"] < 80
    assert 380 < r["co2_ppm"] < 460
    assert 300 < r["light_lux"] < 400


async def test_co2_and_temperature_rise_with_a_class_and_fall_back_after() -> None:
    clock = FakeClock()
    sensor = make(clock, noise=False)
    empty = await sensor.read()
    sensor.set_occupancy(35)
    clock.advance(45 * 60)  # one period
    during = await sensor.read()
    assert during["co2_ppm"] > empty["co2_ppm"] + 800
    assert during["co2_ppm"] < 2500  # ventilation caps it
    assert during["temperature_c"] > empty["temperature_c"] + 1
    assert during["humidity_pct"] > empty["humidity_pct"]
    sensor.set_occupancy(0)
    clock.advance(4 * 3600)
    after = await sensor.read()
    assert after["co2_ppm"] == pytest.approx(empty["co2_ppm"], abs=10)
    assert after["temperature_c"] == pytest.approx(empty["temperature_c"], abs=0.1)


async def test_model_does_not_depend_on_sampling_rate() -> None:
    coarse_clock, fine_clock = FakeClock(), FakeClock()
    coarse, fine = make(coarse_clock, noise=False), make(fine_clock, noise=False)
    coarse.set_occupancy(30)
    fine.set_occupancy(30)
    coarse_clock.advance(1800)
    for _ in range(180):
        fine_clock.advance(10)
        await fine.read()
    assert (await coarse.read())["co2_ppm"] == pytest.approx((await fine.read())["co2_ppm"], abs=1)


async def test_better_ventilation_means_less_co2() -> None:
    clock = FakeClock()
    stuffy, airy = make(clock, noise=False), make(clock, noise=False, air_changes_per_h=6)
    stuffy.set_occupancy(30)
    airy.set_occupancy(30)
    clock.advance(3600)
    assert (await airy.read())["co2_ppm"] < (await stuffy.read())["co2_ppm"] - 300


async def test_same_seed_same_noise() -> None:
    a, b = make(FakeClock()), make(FakeClock())
    assert [await a.read() for _ in range(3)] == [await b.read() for _ in range(3)]


async def test_occupancy_action_and_state() -> None:
    sensor = make(FakeClock())
    assert await sensor.execute("set_occupancy", {"people": 12}) == {"occupancy": 12}
    assert sensor.occupancy == 12
    with pytest.raises(BadCommand) as info:
        await sensor.execute("set_occupancy", {"people": -1})
    assert info.value.code == "bad_params"
    sensor.close()
    sensor.close()
