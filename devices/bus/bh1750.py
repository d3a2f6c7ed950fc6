"""ROHM BH1750 ambient light sensor (lux) over I2C: the driver and a chip model."""

from __future__ import annotations

import logging

from devices.base import DeviceError
from devices.bus.i2c import Conditions, I2CBus, nack

logger = logging.getLogger(__name__)

ADDRESS = 0x23
"""ADDR pin low; 0x5C with ADDR high."""
ALT_ADDRESS = 0x5C
POWER_DOWN = 0x00
POWER_ON = 0x01
RESET = 0x07
CONTINUOUS_HIGH_RES = 0x10
CONTINUOUS_HIGH_RES_2 = 0x11
CONTINUOUS_LOW_RES = 0x13
ONE_TIME_HIGH_RES = 0x20
ONE_TIME_HIGH_RES_2 = 0x21
ONE_TIME_LOW_RES = 0x23
HIGH_RES_MAX_S = 0.18
"""Longest high-resolution measurement time (120 ms typical) at the default MTreg."""
COUNTS_PER_LUX = 1.2
"""Measurement accuracy factor at the default measurement time (MTreg 69)."""


def lux_from_raw(raw: int) -> float:
    """Continuous high-resolution mode: lux = count / 1.2."""
    return raw / COUNTS_PER_LUX


class Bh1750:
    """A BH1750 in continuous high-resolution mode (1 lx resolution, up to 54612 lx).

    The first :meth:`measure` powers it on, sets the mode and waits one
    measurement time; after a failed transaction the next call sets it up again.
    """

    name = "bh1750"

    def __init__(self, bus: I2CBus, address: int = ADDRESS, *, timeout_s: float = 2.0) -> None:
        self.bus = bus
        self.address = address
        self.timeout_s = timeout_s
        self.label = f"{bus.label}/bh1750@0x{address:02x}"
        self._configured = False

    def _command(self, opcode: int) -> None:
        self.bus.write(self.address, bytes([opcode]))

    def _read(self, configure: bool) -> int:
        if configure:
            self._command(POWER_ON)
            self._command(CONTINUOUS_HIGH_RES)
            self.bus.sleep(HIGH_RES_MAX_S)
        return int.from_bytes(self.bus.read(self.address, 2), "big")

    async def measure(self) -> float:
        """Illuminance in lux; DeviceUnavailable or DeviceTimeout if the chip fails to answer."""
        configure = not self._configured
        try:
            raw = await self.bus.run(
                lambda: self._read(configure), timeout=self.timeout_s, what=self.label
            )
        except DeviceError:
            self._configured = False
            raise
        self._configured = True
        return lux_from_raw(raw)

    def close(self) -> None:
        """Power the chip down (best effort)."""
        configured, self._configured = self._configured, False
        if not configured:
            return
        try:
            self._command(POWER_DOWN)
        except OSError as exc:
            logger.warning("%s: power down on close failed: %s", self.label, exc)


_MODES = {
    # opcode: (counts per lux, measurement time typical s, low-resolution step, one-time)
    CONTINUOUS_HIGH_RES: (1.2, 0.12, 1, False),
    CONTINUOUS_HIGH_RES_2: (2.4, 0.12, 1, False),
    CONTINUOUS_LOW_RES: (1.2, 0.016, 4, False),
    ONE_TIME_HIGH_RES: (1.2, 0.12, 1, True),
    ONE_TIME_HIGH_RES_2: (2.4, 0.12, 1, True),
    ONE_TIME_LOW_RES: (1.2, 0.016, 4, True),
}


class SimBh1750:
    """A BH1750 chip model: power states, the six measurement modes and their timing.

    The data register keeps its last value (0 after power-up or reset) until a
    measurement completes. Tests set ``override_lux`` to force the light level.
    """

    def __init__(self, address: int = ADDRESS) -> None:
        self.address = address
        self.powered = False
        self.mode: int | None = None
        self.override_lux: float | None = None
        self.commands: list[int] = []
        self._mode_at = 0.0
        self._register = 0

    def _update(self, now: float, conditions: Conditions) -> None:
        if self.mode is None or not self.powered:
            return
        counts_per_lux, duration, step, one_time = _MODES[self.mode]
        if now - self._mode_at < duration:
            return
        lux = self.override_lux if self.override_lux is not None else conditions["light_lux"]
        raw = max(0, min(65535, round(lux * counts_per_lux)))
        self._register = raw - raw % step
        if one_time:
            self.powered, self.mode = False, None

    def write(self, data: bytes, now: float, conditions: Conditions) -> None:
        self._update(now, conditions)
        if len(data) != 1:
            raise nack(self.address, f"{len(data)}-byte write")
        opcode = data[0]
        self.commands.append(opcode)
        if opcode == POWER_DOWN:
            self.powered, self.mode = False, None
        elif opcode == POWER_ON:
            self.powered = True
        elif opcode == RESET:
            if self.powered:
                self._register = 0
        elif opcode in _MODES:
            self.powered, self.mode, self._mode_at = True, opcode, now
        else:
            raise nack(self.address, f"opcode 0x{opcode:02x} not modelled")

    def read(self, length: int, now: float, conditions: Conditions) -> bytes:
        self._update(now, conditions)
        if length != 2:
            raise nack(self.address, f"{length}-byte read")
        return self._register.to_bytes(2, "big")


__all__ = [
    "ADDRESS",
    "ALT_ADDRESS",
    "CONTINUOUS_HIGH_RES",
    "POWER_DOWN",
    "POWER_ON",
    "Bh1750",
    "SimBh1750",
    "lux_from_raw",
]
