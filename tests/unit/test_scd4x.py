"""SCD4x driver against the chip model on a simulated bus: CRCs, start-up, periods and failures."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import pytest

from devices.base import DeviceTimeout, DeviceUnavailable
from devices.bus.i2c import ChecksumError, Conditions, SimI2CBus
from devices.bus.scd4x import (
    GET_DATA_READY_STATUS,
    READ_MEASUREMENT,
    START_PERIODIC_MEASUREMENT,
    STOP_PERIODIC_MEASUREMENT,
    Scd4x,
    Scd4xMeasurement,
    SimScd4x,
    crc8,
    decode_words,
    encode_words,
)
from devices.environment.config import SimEnvironmentConfig
from devices.environment.sim import SimEnvironmentSensor
from tests.fakes import FakeClock


@dataclass
class Rig:
    clock: FakeClock
    room: SimEnvironmentSensor
    bus: SimI2CBus
    chip: SimScd4x
    driver: Scd4x


@pytest.fixture
def rig() -> Rig:
    clock = FakeClock()
    config = SimEnvironmentConfig(backend="sim", noise=False, occupancy=25)
    room = SimEnvironmentSensor("room", config, clock=clock)
    bus = SimI2CBus(room, clock=clock, sleep=clock.advance)
    chip = SimScd4x()
    bus.attach(0x62, chip)
    return Rig(clock, room, bus, chip, Scd4x(bus))


def test_crc_matches_the_datasheet_example() -> None:
    assert crc8(b"\xbe\xef") == 0x92


def test_words_round_trip_and_the_datasheet_measurement() -> None:
    data = encode_words([0x01F4, 0x6667, 0x5EB9])
    assert data == bytes.fromhex("01f433 6667a2 5eb93c")
    m = Scd4xMeasurement.from_words(*decode_words(data))
    assert m.co2_ppm == 500
    assert m.temperature_c == pytest.approx(25.0, abs=0.01)
    assert m.humidity_pct == pytest.approx(37.0, abs=0.01)


@pytest.mark.parametrize("index", range(9))
def test_any_corrupted_byte_is_caught(index: int) -> None:
    data = bytearray(encode_words([0x01F4, 0x6667, 0x5EB9]))
    data[index] ^= 0x01
    with pytest.raises(ChecksumError):
        decode_words(bytes(data))


async def test_starts_with_stop_then_start_and_measures_every_five_seconds(rig: Rig) -> None:
    assert await rig.driver.measure() is None  # warming up
    assert rig.chip.commands == [STOP_PERIODIC_MEASUREMENT, START_PERIODIC_MEASUREMENT]
    assert rig.chip.periodic
    rig.clock.advance(4)
    assert await rig.driver.measure() is None
    rig.clock.advance(1)
    m = await rig.driver.measure()
    assert m is not None
    truth = await rig.room.read()
    assert m.co2_ppm == pytest.approx(truth["co2_ppm"], abs=1)
    assert m.temperature_c == pytest.approx(truth["temperature_c"], abs=0.01)
    assert m.humidity_pct == pytest.approx(truth["humidity_pct"], abs=0.1)


async def test_between_periods_the_latest_measurement_is_kept(rig: Rig) -> None:
    await rig.driver.measure()
    rig.clock.advance(5)
    first = await rig.driver.measure()
    reads = rig.chip.commands.count(READ_MEASUREMENT)
    rig.clock.advance(2)
    assert await rig.driver.measure() == first
    assert rig.chip.commands.count(READ_MEASUREMENT) == reads  # only asked if data was ready


async def test_a_sensor_left_measuring_is_restarted(rig: Rig) -> None:
    rig.chip.write(b"\x21\xb1", rig.clock(), {})  # still in periodic mode from an earlier run
    assert await rig.driver.measure() is None
    rig.clock.advance(5)
    assert await rig.driver.measure() is not None


def test_chip_refuses_commands_while_busy_or_measuring() -> None:
    chip = SimScd4x()
    nothing: Conditions = {}
    chip.write(b"\x21\xb1", 0.0, nothing)
    with pytest.raises(OSError, match="periodic mode"):
        chip.write(b"\x21\xb1", 0.1, nothing)
    chip.write(b"\x3f\x86", 0.2, nothing)
    with pytest.raises(OSError, match="refused"):
        chip.write(b"\x21\xb1", 0.6, nothing)  # within 500 ms of stop
    chip.write(b"\x21\xb1", 0.7, nothing)
    chip.write(b"\xec\x05", 1.0, nothing)
    with pytest.raises(OSError, match="nothing to read"):
        chip.read(9, 1.01, nothing)  # no measurement yet: NACK


async def test_crc_error_is_raised_and_the_next_period_is_fine(rig: Rig) -> None:
    await rig.driver.measure()
    rig.clock.advance(5)
    rig.chip.corrupt_next = {GET_DATA_READY_STATUS}
    with pytest.raises(ChecksumError, match="CRC mismatch in word 0"):
        await rig.driver.measure()
    rig.chip.corrupt_next = {READ_MEASUREMENT}
    with pytest.raises(ChecksumError):
        await rig.driver.measure()  # status fine, measurement spoiled
    rig.clock.advance(5)
    assert await rig.driver.measure() is not None
    assert rig.chip.commands.count(START_PERIODIC_MEASUREMENT) == 1  # no restart for a CRC


async def test_unplugged_sensor_is_unavailable_then_restarted(rig: Rig) -> None:
    await rig.driver.measure()
    rig.bus.detach(0x62)
    with pytest.raises(DeviceUnavailable) as info:
        await rig.driver.measure()
    assert isinstance(info.value.__cause__, OSError)
    rig.bus.attach(0x62, rig.chip)
    rig.chip.periodic = False  # it lost power
    assert await rig.driver.measure() is None
    assert rig.chip.commands.count(START_PERIODIC_MEASUREMENT) == 2


async def test_a_sensor_that_stops_measuring_times_out_and_is_restarted(rig: Rig) -> None:
    await rig.driver.measure()
    rig.clock.advance(5)
    assert await rig.driver.measure() is not None
    rig.chip.periodic = False  # a brown-out put it back to idle
    rig.clock.advance(20)
    assert await rig.driver.measure() is not None  # the latest is still young enough
    rig.clock.advance(15)
    with pytest.raises(DeviceTimeout, match="no new measurement"):
        await rig.driver.measure()
    assert await rig.driver.measure() is None
    assert rig.chip.periodic


class StuckChip:
    """Holds the bus until released, like a chip stretching the clock forever."""

    def __init__(self) -> None:
        self.release = threading.Event()

    def write(self, data: bytes, now: float, conditions: Conditions) -> None:
        self.release.wait(10)

    def read(self, length: int, now: float, conditions: Conditions) -> bytes:
        return bytes(length)


async def test_a_stuck_bus_times_out(rig: Rig) -> None:
    stuck = StuckChip()
    rig.bus.detach(0x62)
    rig.bus.attach(0x62, stuck)
    driver = Scd4x(rig.bus, timeout_s=0.05)
    try:
        with pytest.raises(DeviceTimeout) as info:
            await driver.measure()
        assert isinstance(info.value.__cause__, TimeoutError)
        with pytest.raises(DeviceTimeout, match="still busy"):
            await driver.measure()  # no second thread queued behind the stuck one
    finally:
        stuck.release.set()


async def test_close_stops_measuring_once(rig: Rig) -> None:
    await rig.driver.measure()
    rig.clock.advance(1)
    rig.driver.close()
    rig.driver.close()
    assert not rig.chip.periodic
    assert rig.chip.commands.count(STOP_PERIODIC_MEASUREMENT) == 2  # start-up and close
