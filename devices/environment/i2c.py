"""Room environment from real I2C sensors (SCD4x, BH1750), with plausibility checks and faults."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal

from devices.base import Action, Device, DeviceError, DeviceUnavailable
from devices.bus.bh1750 import Bh1750
from devices.bus.i2c import ChecksumError, I2CBus, SmbusI2CBus
from devices.bus.scd4x import Scd4x
from devices.environment.config import I2cEnvironmentConfig

logger = logging.getLogger(__name__)


PLAUSIBLE: Mapping[str, tuple[float, float]] = {
    "co2_ppm": (300.0, 10000.0),
    "temperature_c": (-10.0, 60.0),
    "humidity_pct": (0.0, 100.0),
    "light_lux": (0.0, 100000.0),
}
"""Readings outside these closed ranges are sensor faults, never stored as readings."""

DECIMALS = {"co2_ppm": 0, "temperature_c": 2, "humidity_pct": 1, "light_lux": 0}

FaultKind = Literal["out_of_range", "crc", "unavailable"]


@dataclass(frozen=True)
class SensorFault:
    """Something wrong with a sensor: a reading outside its plausible range, bad data, silence."""

    chip: str
    """``scd4x`` or ``bh1750``."""
    kind: FaultKind
    metric: str | None
    """The refused metric (``out_of_range``), None for a whole-chip fault."""
    value: float | None
    """The refused value (``out_of_range``)."""
    message: str

    @property
    def key(self) -> tuple[str, str, str | None]:
        """Identity of the fault: it starts, persists and clears under this key."""
        return (self.chip, self.kind, self.metric)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


FaultHook = Callable[[SensorFault, bool], None]
"""Called on the event loop with ``(fault, True)`` when a fault starts, ``(fault, False)`` when
it clears; e.g. the agent turns it into an alert event."""


def check_plausible(
    chip: str, readings: Mapping[str, float]
) -> tuple[dict[str, float], list[SensorFault]]:
    """Split readings into plausible ones (rounded) and out-of-range faults."""
    kept: dict[str, float] = {}
    faults: list[SensorFault] = []
    for metric, value in readings.items():
        low, high = PLAUSIBLE[metric]
        if low <= value <= high:
            kept[metric] = round(value, DECIMALS[metric])
        else:
            text = f"{chip}: {metric} {value:.6g} outside plausible range {low:g}..{high:g}"
            faults.append(SensorFault(chip, "out_of_range", metric, value, text))
    return kept, faults


class I2cEnvironmentSensor(Device):
    """Temperature, humidity and CO2 from an SCD4x, light from a BH1750, on one I2C bus.

    ``read`` returns only plausible readings; each sensor fault (out-of-range
    value, CRC error, a sensor not answering) is left out of the readings,
    listed in ``state()["faults"]`` and passed to ``on_fault`` when it starts
    and when it clears. If no plausible reading is left, ``read`` raises
    (DeviceUnavailable if every sensor failed to answer, else DeviceError).
    ``bus`` defaults to ``/dev/i2c-<config.bus>`` through smbus2.
    """

    family = "environment"

    def __init__(
        self,
        device_id: str,
        config: I2cEnvironmentConfig,
        *,
        bus: I2CBus | None = None,
        on_fault: FaultHook | None = None,
    ) -> None:
        super().__init__(device_id)
        self.config = config
        self._own_bus = bus is None
        self.bus: I2CBus = SmbusI2CBus(config.bus) if bus is None else bus
        self.on_fault = on_fault
        timeout = config.timeout_s
        self.scd4x = (
            None if config.co2 is None else Scd4x(self.bus, config.co2.address, timeout_s=timeout)
        )
        self.bh1750 = (
            None
            if config.light is None
            else Bh1750(self.bus, config.light.address, timeout_s=timeout)
        )
        self._faults: dict[tuple[str, str, str | None], SensorFault] = {}
        self._actions: dict[str, Action] = {}

    @property
    def actions(self) -> Mapping[str, Action]:
        return self._actions

    @property
    def faults(self) -> list[SensorFault]:
        """The faults of the latest read."""
        return list(self._faults.values())

    async def _sample(self) -> tuple[dict[str, float], list[SensorFault], list[DeviceError]]:
        raw: dict[str, dict[str, float]] = {}
        faults: list[SensorFault] = []
        silent: list[DeviceError] = []
        try:
            if self.scd4x is not None:
                measurement = await self.scd4x.measure()
                if measurement is not None:
                    raw["scd4x"] = measurement.readings()
        except ChecksumError as exc:
            faults.append(SensorFault("scd4x", "crc", None, None, str(exc)))
        except DeviceError as exc:
            faults.append(SensorFault("scd4x", "unavailable", None, None, str(exc)))
            silent.append(exc)
        try:
            if self.bh1750 is not None:
                raw["bh1750"] = {"light_lux": await self.bh1750.measure()}
        except DeviceError as exc:
            faults.append(SensorFault("bh1750", "unavailable", None, None, str(exc)))
            silent.append(exc)
        readings: dict[str, float] = {}
        for chip, values in raw.items():
            kept, refused = check_plausible(chip, values)
            readings.update(kept)
            faults.extend(refused)
        return readings, faults, silent

    async def read(self) -> dict[str, float]:
        readings, faults, silent = await self._sample()
        self._update_faults(faults)
        if readings:
            return readings
        chips = int(self.scd4x is not None) + int(self.bh1750 is not None)
        if faults:
            msg = f"{self.id}: no plausible reading: " + "; ".join(f.message for f in faults)
            if len(silent) == chips:
                raise DeviceUnavailable(msg) from silent[0]
            raise DeviceError(msg)
        msg = f"{self.id}: no reading yet (the CO2 sensor's first measurement takes 5 s)"
        raise DeviceError(msg)

    def _update_faults(self, faults: list[SensorFault]) -> None:
        current = {f.key: f for f in faults}
        for key, fault in self._faults.items():
            if key not in current:
                logger.info("%s: sensor fault cleared: %s", self.id, fault.message)
                self._notify(fault, active=False)
        for key, fault in current.items():
            if key not in self._faults:
                logger.warning("%s: sensor fault: %s", self.id, fault.message)
                self._notify(fault, active=True)
        self._faults = current

    def _notify(self, fault: SensorFault, *, active: bool) -> None:
        if self.on_fault is None:
            return
        try:
            self.on_fault(fault, active)
        except Exception:
            logger.exception("%s: fault hook failed", self.id)

    async def state(self) -> dict[str, Any]:
        return {"faults": [f.as_dict() for f in self._faults.values()]}

    def close(self) -> None:
        for chip in (self.scd4x, self.bh1750):
            if chip is not None:
                chip.close()
        if self._own_bus:
            self.bus.close()


__all__ = [
    "PLAUSIBLE",
    "FaultHook",
    "FaultKind",
    "I2cEnvironmentSensor",
    "SensorFault",
    "check_plausible",
]
