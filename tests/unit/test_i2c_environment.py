"""The I2C environment sensor: config, plausibility, faults kept out of readings, the smbus2 bus."""

from __future__ import annotations

import ctypes
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, ClassVar

import pytest
from pydantic import TypeAdapter, ValidationError

import devices.bus.i2c
from devices import environment
from devices.base import DeviceError, DeviceUnavailable
from devices.bus.bh1750 import SimBh1750
from devices.bus.i2c import SimI2CBus, SmbusI2CBus
from devices.bus.scd4x import READ_MEASUREMENT, SimScd4x
from devices.environment.config import I2cEnvironmentConfig, SimEnvironmentConfig
from devices.environment.i2c import I2cEnvironmentSensor, SensorFault, check_plausible
from devices.environment.sim import SimEnvironmentSensor
from tests.fakes import FakeClock


@dataclass
class Rig:
    clock: FakeClock
    bus: SimI2CBus
    scd4x: SimScd4x
    sensor: I2cEnvironmentSensor
    hooked: list[tuple[SensorFault, bool]]

    async def next_period(self) -> dict[str, float]:
        self.clock.advance(5)
        return await self.sensor.read()


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    clock = FakeClock()
    room = SimEnvironmentSensor(
        "room", SimEnvironmentConfig(backend="sim", noise=False), clock=clock
    )
    bus = SimI2CBus(room, clock=clock, sleep=clock.advance)
    scd4x = SimScd4x()
    bus.attach(0x62, scd4x)
    bus.attach(0x23, SimBh1750())
    hooked: list[tuple[SensorFault, bool]] = []
    config = I2cEnvironmentConfig.model_validate(
        {"backend": "i2c", "co2": {"chip": "scd4x"}, "light": {"chip": "bh1750"}}
    )
    sensor = I2cEnvironmentSensor(
        "env", config, bus=bus, on_fault=lambda f, active: hooked.append((f, active))
    )
    await sensor.read()
    r = Rig(clock, bus, scd4x, sensor, hooked)
    assert len(await r.next_period()) == 4
    yield r
    sensor.close()


def test_config_needs_a_sensor_and_checks_addresses() -> None:
    adapter: TypeAdapter[Any] = TypeAdapter(environment.FAMILY.config_type)
    config = adapter.validate_python(
        {"backend": "i2c", "light": {"chip": "bh1750", "address": 0x5C}}
    )
    assert isinstance(config, I2cEnvironmentConfig)
    assert config.light is not None
    assert (config.bus, config.co2, config.light.address) == (1, None, 0x5C)
    with pytest.raises(ValidationError, match="at least one sensor"):
        I2cEnvironmentConfig.model_validate({"backend": "i2c"})
    with pytest.raises(ValidationError, match="address"):
        I2cEnvironmentConfig.model_validate(
            {"backend": "i2c", "light": {"chip": "bh1750", "address": 0x24}}
        )
    with pytest.raises(ValidationError, match="chip"):
        I2cEnvironmentConfig.model_validate({"backend": "i2c", "co2": {"chip": "scd30"}})


@pytest.mark.parametrize(
    ("metric", "value", "ok"),
    [
        ("co2_ppm", 300, True),
        ("co2_ppm", 299, False),
        ("co2_ppm", 10000, True),
        ("co2_ppm", 10001, False),
        ("temperature_c", -10.5, False),
        ("temperature_c", 60.1, False),
        ("humidity_pct", 100.5, False),
        ("humidity_pct", -0.1, False),
        ("light_lux", -1, False),
        ("light_lux", 100001, False),
        ("light_lux", 0, True),
    ],
)
def test_plausible_ranges(metric: str, value: float, ok: bool) -> None:
    kept, faults = check_plausible("chip", {metric: value})
    assert (metric in kept) is ok
    assert (len(faults) == 0) is ok
    if not ok:
        assert faults[0].kind == "out_of_range"
        assert (faults[0].metric, faults[0].value) == (metric, value)


async def test_out_of_range_co2_is_a_fault_not_a_reading(rig: Rig) -> None:
    rig.scd4x.override = {"co2_ppm": 20000}
    r = await rig.next_period()
    assert "co2_ppm" not in r
    assert {"temperature_c", "humidity_pct", "light_lux"} <= set(r)
    state = await rig.sensor.state()
    assert state["faults"] == [
        {
            "chip": "scd4x",
            "kind": "out_of_range",
            "metric": "co2_ppm",
            "value": 20000.0,
            "message": "scd4x: co2_ppm 20000 outside plausible range 300..10000",
        }
    ]
    await rig.next_period()  # a fault that persists is reported once
    assert [(f.metric, active) for f, active in rig.hooked] == [("co2_ppm", True)]
    rig.scd4x.override = {}
    assert "co2_ppm" in await rig.next_period()
    assert [(f.metric, active) for f, active in rig.hooked] == [
        ("co2_ppm", True),
        ("co2_ppm", False),
    ]
    assert await rig.sensor.state() == {"faults": []}


async def test_too_cold_and_too_low_co2_are_faults(rig: Rig) -> None:
    rig.scd4x.override = {"co2_ppm": 150, "temperature_c": -30}
    r = await rig.next_period()
    assert set(r) == {"humidity_pct", "light_lux"}
    assert sorted(f.metric or "" for f in rig.sensor.faults) == ["co2_ppm", "temperature_c"]


async def test_crc_error_drops_the_whole_measurement(rig: Rig) -> None:
    rig.scd4x.corrupt_next = {READ_MEASUREMENT}
    r = await rig.next_period()
    assert set(r) == {"light_lux"}
    (fault,) = rig.sensor.faults
    assert (fault.chip, fault.kind, fault.metric) == ("scd4x", "crc", None)
    assert "CRC mismatch" in fault.message
    assert rig.hooked == [(fault, True)]
    assert len(await rig.next_period()) == 4
    assert rig.hooked == [(fault, True), (fault, False)]


async def test_one_sensor_unplugged_the_other_still_reads(rig: Rig) -> None:
    rig.bus.detach(0x23)
    r = await rig.next_period()
    assert set(r) == {"co2_ppm", "temperature_c", "humidity_pct"}
    (fault,) = rig.sensor.faults
    assert (fault.chip, fault.kind) == ("bh1750", "unavailable")


async def test_all_sensors_unplugged_raises_unavailable(rig: Rig) -> None:
    rig.bus.detach(0x23)
    rig.bus.detach(0x62)
    with pytest.raises(DeviceUnavailable, match="no plausible reading") as info:
        await rig.next_period()
    assert isinstance(info.value.__cause__, DeviceUnavailable)
    assert {f.chip for f in rig.sensor.faults} == {"scd4x", "bh1750"}


async def test_only_faulty_readings_raise_a_device_error() -> None:
    clock = FakeClock()
    room = SimEnvironmentSensor("room", SimEnvironmentConfig(backend="sim"), clock=clock)
    bus = SimI2CBus(room, clock=clock, sleep=clock.advance)
    chip = SimScd4x()
    bus.attach(0x62, chip)
    config = I2cEnvironmentConfig.model_validate({"backend": "i2c", "co2": {"chip": "scd4x"}})
    sensor = I2cEnvironmentSensor("env", config, bus=bus)
    with pytest.raises(DeviceError, match="no reading yet"):
        await sensor.read()
    clock.advance(5)
    chip.corrupt_next = {READ_MEASUREMENT}
    with pytest.raises(DeviceError, match="CRC") as info:
        await sensor.read()
    assert not isinstance(info.value, DeviceUnavailable)


async def test_a_failing_fault_hook_does_not_break_reading(rig: Rig) -> None:
    def broken(fault: SensorFault, active: bool) -> None:
        raise RuntimeError("hook bug")

    rig.sensor.on_fault = broken
    rig.scd4x.override = {"co2_ppm": 20000}
    assert "temperature_c" in await rig.next_period()


async def test_missing_bus_device_is_unavailable() -> None:
    config = I2cEnvironmentConfig.model_validate(
        {"backend": "i2c", "bus": 250, "light": {"chip": "bh1750"}}
    )
    sensor = I2cEnvironmentSensor("env", config)  # opens nothing yet
    with pytest.raises(DeviceUnavailable, match="i2c-250") as info:
        await sensor.read()
    assert isinstance(info.value.__cause__, DeviceUnavailable)
    assert isinstance(info.value.__cause__.__cause__, FileNotFoundError)
    sensor.close()
    sensor.close()


class FakeSMBus:
    """Stands in for smbus2.SMBus: records the messages and answers reads."""

    opened: ClassVar[list[FakeSMBus]] = []

    def __init__(self, bus: int) -> None:
        self.bus = bus
        self.messages: list[tuple[int, int, bytes]] = []
        self.closed = 0
        FakeSMBus.opened.append(self)

    def i2c_rdwr(self, *msgs: Any) -> None:
        for msg in msgs:
            if msg.flags & 0x0001:  # I2C_M_RD
                ctypes.memmove(msg.buf, b"\x01\xf4\x33"[: msg.len], msg.len)
            self.messages.append((msg.addr, msg.flags, ctypes.string_at(msg.buf, msg.len)))

    def close(self) -> None:
        self.closed += 1


@pytest.fixture
def fake_smbus(monkeypatch: pytest.MonkeyPatch) -> type[FakeSMBus]:
    FakeSMBus.opened = []
    monkeypatch.setattr(devices.bus.i2c, "SMBus", FakeSMBus)
    return FakeSMBus


async def test_smbus_bus_uses_combined_transfers(fake_smbus: type[FakeSMBus]) -> None:
    bus = SmbusI2CBus(1)
    assert fake_smbus.opened == []  # opened at the first transfer

    def transaction() -> bytes:
        bus.write(0x62, b"\xec\x05")
        return bus.read(0x62, 3)

    assert await bus.run(transaction, timeout=1, what="test") == b"\x01\xf4\x33"
    (opened,) = fake_smbus.opened
    assert opened.bus == 1
    assert opened.messages == [(0x62, 0, b"\xec\x05"), (0x62, 1, b"\x01\xf4\x33")]
    bus.close()
    bus.close()
    assert opened.closed == 1
