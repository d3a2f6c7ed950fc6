"""Classroom lighting on GPIO: relay zones (on/off) and PWM dimmer zones, through gpiozero."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from gpiozero import DigitalOutputDevice, GPIOZeroError, PWMOutputDevice
from pydantic import BaseModel, ConfigDict, Field, model_validator

from devices.base import Action, BadCommand, Device, DeviceError, parse_params

ZoneId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")]
GpioPin = Annotated[int, Field(ge=0, le=27, description="BCM GPIO number of the pin.")]


class RelayZoneConfig(BaseModel):
    """A zone switched by a relay: on or off."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["relay"] = Field(description="Relay zone (on/off).")
    pin: GpioPin
    active_high: bool = Field(
        default=True, description="True if the relay closes when the pin is high."
    )


class DimmerZoneConfig(BaseModel):
    """A zone driven by a PWM dimmer: level 0..100 %."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["dimmer"] = Field(description="PWM dimmer zone (level 0..100).")
    pin: GpioPin
    frequency_hz: int = Field(default=1000, ge=1, le=20000, description="PWM frequency, Hz.")
    active_high: bool = Field(default=True, description="True if a high pin means light.")


ZoneConfig = Annotated[RelayZoneConfig | DimmerZoneConfig, Field(discriminator="kind")]


class GpioLightingConfig(BaseModel):
    """Lights on the Pi's GPIO header, one output per zone."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    family: Literal["lighting"] = Field(default="lighting", description="Device family: lights.")
    backend: Literal["gpio"] = Field(description="gpiozero outputs (a mock pin factory in tests).")
    zones: dict[ZoneId, ZoneConfig] = Field(min_length=1, description="Zone name to its output.")

    @model_validator(mode="after")
    def _distinct_pins(self) -> GpioLightingConfig:
        seen: dict[int, str] = {}
        for name, zone in self.zones.items():
            if zone.pin in seen:
                msg = f"zones {seen[zone.pin]!r} and {name!r} use the same pin {zone.pin}"
                raise ValueError(msg)
            seen[zone.pin] = name
        return self


LightingConfig = Annotated[GpioLightingConfig, Field(discriminator="backend")]
"""Lighting config, picked by ``backend`` (other backends, e.g. DALI, join this union)."""


class _ZoneParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    zone: str | None = None


class _SetParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    zone: str
    level: int | None = Field(default=None, ge=0, le=100)
    on: bool | None = None

    @model_validator(mode="after")
    def _one_of(self) -> _SetParams:
        if (self.level is None) == (self.on is None):
            msg = "give exactly one of 'level' (0..100) or 'on' (true/false)"
            raise ValueError(msg)
        return self


class _Zone:
    """One zone's output and its last non-zero level (restored by ``on``)."""

    def __init__(self, output: DigitalOutputDevice | PWMOutputDevice) -> None:
        self.output = output
        self.last_level = 100

    @property
    def dimmable(self) -> bool:
        return isinstance(self.output, PWMOutputDevice)

    @property
    def level(self) -> int:
        return round(float(self.output.value) * 100)

    def set_level(self, level: int) -> None:
        if self.dimmable:
            self.output.value = level / 100
        elif level > 0:
            self.output.on()
        else:
            self.output.off()
        if level > 0:
            self.last_level = level if self.dimmable else 100


class GpioLighting(Device):
    """Relay and dimmer zones on gpiozero outputs from the given pin factory."""

    family = "lighting"

    def __init__(
        self,
        device_id: str,
        config: GpioLightingConfig,
        *,
        pin_factory: Any = None,
    ) -> None:
        super().__init__(device_id)
        self.config = config
        self._zones: dict[str, _Zone] = {}
        try:
            for name, zone in config.zones.items():
                output: DigitalOutputDevice | PWMOutputDevice
                if isinstance(zone, RelayZoneConfig):
                    output = DigitalOutputDevice(
                        zone.pin, active_high=zone.active_high, pin_factory=pin_factory
                    )
                else:
                    output = PWMOutputDevice(
                        zone.pin,
                        active_high=zone.active_high,
                        frequency=zone.frequency_hz,
                        pin_factory=pin_factory,
                    )
                self._zones[name] = _Zone(output)
        except GPIOZeroError as exc:
            self.close()
            msg = f"lighting {device_id!r}: cannot open its GPIO outputs: {exc}"
            raise DeviceError(msg) from exc
        self._actions: dict[str, Action] = {"on": self._on, "off": self._off, "set": self._set}

    @property
    def actions(self) -> Mapping[str, Action]:
        return self._actions

    @property
    def zones(self) -> Mapping[str, DigitalOutputDevice | PWMOutputDevice]:
        """Zone name to its gpiozero output (for tests and diagnostics)."""
        return {name: zone.output for name, zone in self._zones.items()}

    async def state(self) -> dict[str, Any]:
        return {name: {"on": z.level > 0, "level": z.level} for name, z in self._zones.items()}

    def _pick(self, zone: str | None) -> list[_Zone]:
        if zone is None:
            return list(self._zones.values())
        try:
            return [self._zones[zone]]
        except KeyError:
            msg = f"lighting {self.id!r} has no zone {zone!r} (zones: {', '.join(self._zones)})"
            raise BadCommand("bad_params", msg) from None

    def _apply(self, zones: list[_Zone], level: int | None) -> None:
        try:
            for z in zones:
                z.set_level(z.last_level if level is None else level)
        except GPIOZeroError as exc:
            msg = f"lighting {self.id!r}: GPIO write failed: {exc}"
            raise DeviceError(msg) from exc

    async def _on(self, params: dict[str, Any]) -> dict[str, Any]:
        self._apply(self._pick(parse_params(_ZoneParams, params).zone), None)
        return await self.state()

    async def _off(self, params: dict[str, Any]) -> dict[str, Any]:
        self._apply(self._pick(parse_params(_ZoneParams, params).zone), 0)
        return await self.state()

    async def _set(self, params: dict[str, Any]) -> dict[str, Any]:
        p = parse_params(_SetParams, params)
        zones = self._pick(p.zone)
        if p.on is not None:
            level = None if p.on else 0
        else:
            level = p.level
            if not zones[0].dimmable and level not in (0, 100):
                msg = f"zone {p.zone!r} is a relay: level must be 0 or 100 (or use 'on')"
                raise BadCommand("bad_params", msg)
        self._apply(zones, level)
        return await self.state()

    def close(self) -> None:
        for zone in self._zones.values():
            zone.output.close()


__all__ = [
    "DimmerZoneConfig",
    "GpioLighting",
    "GpioLightingConfig",
    "LightingConfig",
    "RelayZoneConfig",
    "ZoneConfig",
]
