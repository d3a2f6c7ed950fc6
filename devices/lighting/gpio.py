"""Classroom lights on gpiozero outputs: relay zones (on/off), PWM dimmer zones and scenes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gpiozero import DigitalOutputDevice, GPIOZeroError, PWMOutputDevice
from pydantic import BaseModel, ConfigDict, Field, model_validator

from devices.base import Action, BadCommand, Device, DeviceError, parse_params
from devices.lighting.config import GpioLightingConfig, RelayZoneConfig
from protocol.usage import zone_metric


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


class _SceneParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str


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
        self._scenes = config.all_scenes
        self._actions: dict[str, Action] = {
            "on": self._on,
            "off": self._off,
            "set": self._set,
            "scene": self._scene,
        }

    @property
    def actions(self) -> Mapping[str, Action]:
        return self._actions

    def reconfigure(self, config: GpioLightingConfig) -> None:
        """Take new scenes; the zones and their pins stay as they are."""
        if config.zones != self.config.zones:
            msg = f"lighting {self.id!r}: its zones cannot change while it runs"
            raise DeviceError(msg)
        self.config = config
        self._scenes = config.all_scenes

    @property
    def zones(self) -> Mapping[str, DigitalOutputDevice | PWMOutputDevice]:
        """Zone name to its gpiozero output (for tests and diagnostics)."""
        return {name: zone.output for name, zone in self._zones.items()}

    async def state(self) -> dict[str, Any]:
        return {name: {"on": z.level > 0, "level": z.level} for name, z in self._zones.items()}

    async def read(self) -> dict[str, float]:
        """Each zone's level, 0..100, for telemetry: the hub counts the time a zone is lit."""
        return {zone_metric(name): float(z.level) for name, z in self._zones.items()}

    def _pick(self, zone: str | None) -> list[_Zone]:
        if zone is None:
            return list(self._zones.values())
        try:
            return [self._zones[zone]]
        except KeyError:
            msg = f"lighting {self.id!r} has no zone {zone!r} (zones: {', '.join(self._zones)})"
            raise BadCommand("bad_params", msg) from None

    @property
    def scenes(self) -> Mapping[str, Mapping[str, int]]:
        """Scene name to its zone levels (built-in and configured)."""
        return self._scenes

    def _apply(self, zones: list[_Zone], level: int | None) -> None:
        self._apply_levels([(z, z.last_level if level is None else level) for z in zones])

    def _apply_levels(self, levels: list[tuple[_Zone, int]]) -> None:
        try:
            for zone, level in levels:
                zone.set_level(level)
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

    async def _scene(self, params: dict[str, Any]) -> dict[str, Any]:
        name = parse_params(_SceneParams, params).name
        levels = self._scenes.get(name)
        if levels is None:
            known = ", ".join(sorted(self._scenes))
            msg = f"lighting {self.id!r} has no scene {name!r} (scenes: {known})"
            raise BadCommand("bad_params", msg)
        self._apply_levels([(self._zones[zone], level) for zone, level in levels.items()])
        return await self.state()

    def close(self) -> None:
        for zone in self._zones.values():
            zone.output.close()


__all__ = ["GpioLighting"]
