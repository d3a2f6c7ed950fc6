"""Lighting config models: relay and dimmer zones on GPIO, and named scenes."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from devices.family import BackendConfig
from protocol.room_config import Scene, SceneLevel, SceneName, Scenes
from protocol.room_config import ZoneName as ZoneId
from protocol.usage import ZONE_ID_MAX, zone_metric

GpioPin = Annotated[int, Field(ge=0, le=27, description="BCM GPIO number of the pin.")]
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


class GpioLightingConfig(BackendConfig):
    """Lights on the Pi's GPIO header, one output per zone."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    family: Literal["lighting"] = Field(default="lighting", description="Device family: lights.")
    backend: Literal["gpio"] = Field(description="gpiozero outputs (a mock pin factory in tests).")
    zones: dict[ZoneId, ZoneConfig] = Field(min_length=1, description="Zone name to its output.")
    scenes: Scenes = Field(default_factory=dict)

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
    def _zones_fit_telemetry(self) -> GpioLightingConfig:
        """Each zone's level goes out as a metric of its own (``level_{zone}_pct``)."""
        seen: dict[str, str] = {}
        for name in self.zones:
            if len(name) > ZONE_ID_MAX:
                msg = f"zone {name!r} is longer than {ZONE_ID_MAX} characters"
                raise ValueError(msg)
            metric = zone_metric(name)
            if metric in seen:
                msg = f"zones {seen[metric]!r} and {name!r} differ only by '-' and '_'"
                raise ValueError(msg)
            seen[metric] = name
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


__all__ = [
    "DEFAULT_SCENES",
    "PROJECTION_LEVEL",
    "DimmerZoneConfig",
    "GpioLightingConfig",
    "RelayZoneConfig",
    "Scene",
    "SceneLevel",
    "SceneName",
    "ZoneConfig",
]
