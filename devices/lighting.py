"""Classroom lighting on GPIO: relay zones (on/off), PWM dimmer zones and named scenes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from gpiozero import DigitalOutputDevice, GPIOZeroError, PWMOutputDevice
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from devices.base import Action, BadCommand, Device, DeviceError, parse_params

ZoneId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")]
GpioPin = Annotated[int, Field(ge=0, le=27, description="BCM GPIO number of the pin.")]
SceneName = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")]


def _scene_level(value: object) -> object:
    """``on``/``true`` is 100, ``off``/``false`` is 0; numbers are left to the int check."""
    if isinstance(value, bool):
        return 100 if value else 0
    if isinstance(value, str) and value.strip().lower() in ("on", "off"):
        return 100 if value.strip().lower() == "on" else 0
    return value


SceneLevel = Annotated[
    int,
    BeforeValidator(_scene_level),
    Field(ge=0, le=100, description="Level 0..100, or on (100) / off (0)."),
]
Scene = dict[ZoneId, SceneLevel]
"""Zone name to its level in the scene; zones a scene does not name keep their level."""
DEFAULT_SCENES = ("lesson", "projection", "off")
PROJECTION_LEVEL = 30
"""Level of the dimmable zones other than the front one in the default ``projection`` scene."""


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
    scenes: dict[SceneName, Scene] = Field(
        default_factory=dict,
        description="Named scenes, zone to level 0..100 or on/off; they add to or replace the "
        "built-in 'lesson' (all full), 'projection' (front zone off, other dimmers low, relays "
        "on; the front zone is the one named 'front', else the first) and 'off'.",
    )

    @model_validator(mode="after")
    def _distinct_pins(self) -> GpioLightingConfig:
        seen: dict[int, str] = {}
        for name, zone in self.zones.items():
            if zone.pin in seen:
                msg = f"zones {seen[zone.pin]!r} and {name!r} use the same pin {zone.pin}"
                raise ValueError(msg)
            seen[zone.pin] = name
        return self

    @model_validator(mode="after")
    def _scenes_fit_zones(self) -> GpioLightingConfig:
        for scene, levels in self.scenes.items():
            for zone, level in levels.items():
                config = self.zones.get(zone)
                if config is None:
                    msg = f"scene {scene!r} names zone {zone!r}, which is not one of the zones"
                    raise ValueError(msg)
                if config.kind == "relay" and level not in (0, 100):
                    msg = f"scene {scene!r}: relay zone {zone!r} takes 0, 100 or on/off only"
                    raise ValueError(msg)
        return self

    @property
    def all_scenes(self) -> dict[str, dict[str, int]]:
        """The built-in scenes overlaid with the configured ones."""
        front = "front" if "front" in self.zones else next(iter(self.zones))
        projection = {
            name: 0 if name == front else PROJECTION_LEVEL if zone.kind == "dimmer" else 100
            for name, zone in self.zones.items()
        }
        scenes: dict[str, dict[str, int]] = {
            "lesson": dict.fromkeys(self.zones, 100),
            "projection": projection,
            "off": dict.fromkeys(self.zones, 0),
        }
        scenes.update({name: dict(levels) for name, levels in self.scenes.items()})
        return scenes


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


__all__ = [
    "DEFAULT_SCENES",
    "PROJECTION_LEVEL",
    "DimmerZoneConfig",
    "GpioLighting",
    "GpioLightingConfig",
    "LightingConfig",
    "RelayZoneConfig",
    "Scene",
    "SceneLevel",
    "SceneName",
    "ZoneConfig",
]
