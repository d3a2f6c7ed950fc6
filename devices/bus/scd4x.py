"""Sensirion SCD40/SCD41 (CO2, temperature, humidity) over I2C: the driver and a chip model."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from devices.base import DeviceError, DeviceTimeout
from devices.bus.i2c import ChecksumError, Conditions, I2CBus, nack

logger = logging.getLogger(__name__)

ADDRESS = 0x62
START_PERIODIC_MEASUREMENT = 0x21B1
READ_MEASUREMENT = 0xEC05
GET_DATA_READY_STATUS = 0xE4B8
STOP_PERIODIC_MEASUREMENT = 0x3F86
PERIOD_S = 5.0
"""A new measurement every 5 s in periodic mode."""
COMMAND_DELAY_S = 0.001
"""Execution time of read_measurement and get_data_ready_status."""
STOP_DELAY_S = 0.5
"""After stop_periodic_measurement the sensor takes no command for 500 ms."""


def crc8(data: bytes) -> int:
    """Sensirion's CRC-8 over one word: polynomial 0x31, init 0xFF, no reflection."""
    crc = 0xFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = ((crc << 1) ^ 0x31) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc


def encode_words(words: list[int]) -> bytes:
    """Words as the sensor sends them: big-endian, each followed by its CRC."""
    out = bytearray()
    for word in words:
        pair = word.to_bytes(2, "big")
        out += pair + bytes([crc8(pair)])
    return bytes(out)


def decode_words(data: bytes) -> list[int]:
    """Check each word's CRC; raise ChecksumError on the first mismatch."""
    if len(data) % 3:
        msg = f"SCD4x answer of {len(data)} bytes is not whole words"
        raise ChecksumError(msg)
    words = []
    for i in range(0, len(data), 3):
        pair, crc = data[i : i + 2], data[i + 2]
        if crc8(pair) != crc:
            msg = f"SCD4x CRC mismatch in word {i // 3}: got 0x{crc:02x}, want 0x{crc8(pair):02x}"
            raise ChecksumError(msg)
        words.append(int.from_bytes(pair, "big"))
    return words


@dataclass(frozen=True)
class Scd4xMeasurement:
    """One measurement, converted as the datasheet says."""

    co2_ppm: float
    temperature_c: float
    humidity_pct: float

    @classmethod
    def from_words(cls, co2: int, temperature: int, humidity: int) -> Scd4xMeasurement:
        return cls(
            co2_ppm=float(co2),
            temperature_c=-45 + 175 * temperature / 65535,
            humidity_pct=100 * humidity / 65535,
        )

    def readings(self) -> dict[str, float]:
        return {
            "co2_ppm": self.co2_ppm,
            "temperature_c": self.temperature_c,
            "humidity_pct": self.humidity_pct,
        }


class Scd4x:
    """An SCD4x in periodic mode, started at the first :meth:`measure`.

    Start-up sends stop_periodic_measurement first (the sensor may still be
    measuring from an earlier run, and then refuses start), waits 500 ms, and
    starts. After an unanswered or timed-out transaction, or when no new
    measurement came for ``max_age_s``, the next call starts the sensor again.
    """

    name = "scd4x"

    def __init__(
        self,
        bus: I2CBus,
        address: int = ADDRESS,
        *,
        timeout_s: float = 2.0,
        max_age_s: float = 30.0,
    ) -> None:
        self.bus = bus
        self.address = address
        self.timeout_s = timeout_s
        self.max_age_s = max_age_s
        self.label = f"{bus.label}/scd4x@0x{address:02x}"
        self._started_at: float | None = None
        self._latest: Scd4xMeasurement | None = None
        self._latest_at = 0.0

    def _command(self, command: int) -> None:
        self.bus.write(self.address, command.to_bytes(2, "big"))

    def _query(self, command: int, words: int) -> list[int]:
        self._command(command)
        self.bus.sleep(COMMAND_DELAY_S)
        return decode_words(self.bus.read(self.address, 3 * words))

    def _start(self) -> None:
        self._command(STOP_PERIODIC_MEASUREMENT)
        self.bus.sleep(STOP_DELAY_S)
        self._command(START_PERIODIC_MEASUREMENT)

    def _poll(self) -> Scd4xMeasurement | None:
        (status,) = self._query(GET_DATA_READY_STATUS, 1)
        if status & 0x07FF == 0:
            return None
        return Scd4xMeasurement.from_words(*self._query(READ_MEASUREMENT, 3))

    async def measure(self) -> Scd4xMeasurement | None:
        """The newest measurement (at most ``max_age_s`` old), or None while warming up.

        Raises ChecksumError on a CRC mismatch, DeviceUnavailable if the sensor
        does not answer, DeviceTimeout if it is too slow or sends nothing new.
        """
        try:
            if self._started_at is None:
                await self.bus.run(self._start, timeout=self.timeout_s, what=f"{self.label} start")
                self._started_at = self.bus.clock()
                logger.info("%s: periodic measurement started", self.label)
                return None
            fresh = await self.bus.run(self._poll, timeout=self.timeout_s, what=self.label)
        except ChecksumError:
            raise
        except DeviceError:
            self._started_at = None
            raise
        now = self.bus.clock()
        if fresh is not None:
            self._latest, self._latest_at = fresh, now
            return fresh
        if self._latest is not None and now - self._latest_at <= self.max_age_s:
            return self._latest
        if now - max(self._started_at, self._latest_at) > self.max_age_s:
            self._started_at = None
            msg = f"{self.label}: no new measurement for more than {self.max_age_s:g} s"
            raise DeviceTimeout(msg)
        return None

    def close(self) -> None:
        """Stop periodic measurement (best effort)."""
        started, self._started_at = self._started_at, None
        if started is None:
            return
        try:
            self._command(STOP_PERIODIC_MEASUREMENT)
        except OSError as exc:
            logger.warning("%s: stop on close failed: %s", self.label, exc)


class SimScd4x:
    """An SCD4x chip model: modes, busy times, the 5 s period, CRCs, and refusals (NACK).

    Tests set ``override`` to force physical values (e.g. ``{"co2_ppm": 20000}``)
    and put commands in ``corrupt_next`` to spoil a CRC in their next answer.
    """

    def __init__(self, address: int = ADDRESS) -> None:
        self.address = address
        self.periodic = False
        self.override: dict[str, float] = {}
        self.corrupt_next: set[int] = set()
        self.commands: list[int] = []
        """Every command received, refused ones included."""
        self._started = 0.0
        self._taken = 0
        self._busy_until = 0.0
        self._answer: bytes | None = None
        self._answer_to = 0
        self._answer_at = 0.0

    def _available(self, now: float) -> int:
        return int((now - self._started) / PERIOD_S) if self.periodic else 0

    def _measurement(self, conditions: Conditions) -> list[int]:
        values = {**conditions, **self.override}
        temperature = round((values["temperature_c"] + 45) * 65535 / 175)
        humidity = round(values["humidity_pct"] * 65535 / 100)
        return [max(0, min(65535, round(v))) for v in (values["co2_ppm"], temperature, humidity)]

    def write(self, data: bytes, now: float, conditions: Conditions) -> None:
        command = int.from_bytes(data, "big")
        self.commands.append(command)
        self._answer = None
        if len(data) != 2 or now < self._busy_until:
            raise nack(self.address, f"command 0x{command:04x} refused")
        if self.periodic and command not in (
            READ_MEASUREMENT,
            GET_DATA_READY_STATUS,
            STOP_PERIODIC_MEASUREMENT,
        ):
            raise nack(self.address, f"command 0x{command:04x} refused in periodic mode")
        if command == START_PERIODIC_MEASUREMENT:
            self.periodic, self._started, self._taken = True, now, 0
        elif command == STOP_PERIODIC_MEASUREMENT:
            self.periodic, self._busy_until = False, now + STOP_DELAY_S
        elif command == GET_DATA_READY_STATUS:
            ready = self._available(now) > self._taken
            self._answer = encode_words([0x8006 if ready else 0x8000])
        elif command == READ_MEASUREMENT:
            if self._available(now) > self._taken:
                self._taken = self._available(now)
                self._answer = encode_words(self._measurement(conditions))
        else:
            raise nack(self.address, f"unknown command 0x{command:04x}")
        self._answer_to, self._answer_at = command, now + COMMAND_DELAY_S

    def read(self, length: int, now: float, conditions: Conditions) -> bytes:
        answer, self._answer = self._answer, None
        if answer is None or now < self._answer_at or length > len(answer):
            raise nack(self.address, "nothing to read")
        if self._answer_to in self.corrupt_next:
            self.corrupt_next.discard(self._answer_to)
            answer = answer[:2] + bytes([answer[2] ^ 0xFF]) + answer[3:]
        return answer[:length]


__all__ = [
    "ADDRESS",
    "GET_DATA_READY_STATUS",
    "READ_MEASUREMENT",
    "START_PERIODIC_MEASUREMENT",
    "STOP_PERIODIC_MEASUREMENT",
    "Scd4x",
    "Scd4xMeasurement",
    "SimScd4x",
    "crc8",
    "decode_words",
    "encode_words",
]
