"""Occupancy config models: a PIR motion sensor on GPIO, or a simulated value or schedule."""

from __future__ import annotations

from datetime import time as TimeOfDay  # noqa: N812 - reads better than dt_time
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from devices.family import BackendConfig


class PirOccupancyConfig(BackendConfig):
    """A PIR motion sensor on a GPIO pin; the room stays occupied for a while after motion."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    family: Literal["occupancy"] = Field(default="occupancy", description="Device family.")
    backend: Literal["gpio"] = Field(description="gpiozero MotionSensor (mock pins in tests).")
    pin: int = Field(ge=0, le=27, description="BCM GPIO number of the sensor's output.")
    hold_time_s: float = Field(
        default=300.0, gt=0, description="The room counts as occupied this long after motion."
    )
    pull_up: bool = Field(
        default=False, description="Pull the pin up (sensor output active low); else down."
    )
    queue_len: int = Field(
        default=1, ge=1, le=100, description="Samples averaged before deciding (gpiozero)."
    )
    sample_rate_hz: float = Field(
        default=10.0, gt=0, le=1000, description="Samples per second (gpiozero sample_rate)."
    )
    threshold: float = Field(
        default=0.5, gt=0, lt=1, description="Average above which motion is detected (gpiozero)."
    )


class OccupiedSpan(BaseModel):
    """A time of day when the simulated room is occupied, on some weekdays."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    start: TimeOfDay = Field(description="Local start time, e.g. 07:00.")
    end: TimeOfDay = Field(description="Local end time (exclusive), after start.")
    days: frozenset[Annotated[int, Field(ge=1, le=7)]] = Field(
        default=frozenset(range(1, 7)), description="ISO weekdays: 1 Monday .. 7 Sunday."
    )

    @model_validator(mode="after")
    def _ordered(self) -> OccupiedSpan:
        if self.end <= self.start:
            msg = f"end {self.end} is not after start {self.start}"
            raise ValueError(msg)
        return self


class SimOccupancyConfig(BackendConfig):
    """Simulated occupancy: a fixed value, or a weekly schedule."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    family: Literal["occupancy"] = Field(default="occupancy", description="Device family.")
    backend: Literal["sim"] = Field(description="Simulated occupancy (no hardware).")
    occupied: bool | None = Field(
        default=None, description="Fixed value; None: follow the schedule."
    )
    schedule: list[OccupiedSpan] = Field(
        default_factory=list, description="When the room is occupied (if 'occupied' is None)."
    )
    timezone: str = Field(default="Asia/Ho_Chi_Minh", description="Timezone of the schedule.")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            msg = f"unknown timezone {value!r}"
            raise ValueError(msg) from exc
        return value


__all__ = [
    "OccupiedSpan",
    "PirOccupancyConfig",
    "SimOccupancyConfig",
]
