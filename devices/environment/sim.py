"""A simulated room: CO2, heat and moisture from the people in it, removed by ventilation."""

from __future__ import annotations

import math
import random
import time
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from devices.base import Action, Clock, Device, parse_params
from devices.environment.config import SimEnvironmentConfig


class _Occupancy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    people: int = Field(ge=0, le=200)


class SimEnvironmentSensor(Device):
    """A room model driven by an injectable clock; occupancy set by tests or by a command.

    Between two instants the occupancy is constant, so each quantity relaxes
    exponentially toward its steady state; the model is exact whatever the
    sampling rate (CO2 with the ventilation time constant, temperature and
    humidity with the thermal one).
    """

    family = "environment"

    def __init__(
        self, device_id: str, config: SimEnvironmentConfig, *, clock: Clock | None = None
    ) -> None:
        super().__init__(device_id)
        self.config = config
        self._clock = clock or time.monotonic
        self._rng = random.Random(config.seed)
        self._people = config.occupancy
        self._t = self._clock()
        self._co2 = config.outdoor_co2_ppm
        self._temp = config.base_temperature_c
        self._hum = config.base_humidity_pct
        self._actions: dict[str, Action] = {"set_occupancy": self._set_occupancy_action}

    @property
    def actions(self) -> Mapping[str, Action]:
        return self._actions

    @property
    def occupancy(self) -> int:
        return self._people

    def set_occupancy(self, people: int) -> None:
        """Change how many people are in the room from now on."""
        if people < 0:
            msg = f"occupancy cannot be negative: {people}"
            raise ValueError(msg)
        self._advance()
        self._people = people

    def _advance(self) -> None:
        cfg = self.config
        now = self._clock()
        dt = max(0.0, now - self._t)
        self._t = now
        if dt == 0:
            return
        ach = cfg.air_changes_per_h / 3600.0
        generation_ppm_s = self._people * cfg.co2_per_person_lps * 1e-3 / cfg.volume_m3 * 1e6
        co2_target = cfg.outdoor_co2_ppm + generation_ppm_s / ach
        self._co2 += (co2_target - self._co2) * (1 - math.exp(-dt * ach))
        k = 1 - math.exp(-dt / cfg.thermal_time_constant_s)
        temp_target = cfg.base_temperature_c + self._people * cfg.temperature_per_person_c
        hum_target = min(95.0, cfg.base_humidity_pct + self._people * cfg.humidity_per_person_pct)
        self._temp += (temp_target - self._temp) * k
        self._hum += (hum_target - self._hum) * k

    def _jitter(self, sigma: float) -> float:
        return self._rng.gauss(0.0, sigma) if self.config.noise else 0.0

    async def read(self) -> dict[str, float]:
        self._advance()
        return {
            "temperature_c": round(self._temp + self._jitter(0.05), 2),
            "humidity_pct": round(min(100.0, max(0.0, self._hum + self._jitter(0.3))), 1),
            "co2_ppm": round(max(0.0, self._co2 + self._jitter(5.0)), 0),
            "light_lux": round(max(0.0, self.config.daylight_lux + self._jitter(4.0)), 0),
        }

    async def state(self) -> dict[str, Any]:
        return {"occupancy": self._people}

    async def _set_occupancy_action(self, params: dict[str, Any]) -> dict[str, Any]:
        self.set_occupancy(parse_params(_Occupancy, params).people)
        return await self.state()


__all__ = ["SimEnvironmentSensor"]
