"""Simulated occupancy: a value set by tests or a command, or else a weekly schedule."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from devices.base import Action, parse_params
from devices.occupancy.base import OccupancySensor, OnChange, WallClock
from devices.occupancy.config import SimOccupancyConfig


class _SetOccupied(BaseModel):
    model_config = ConfigDict(extra="forbid")

    occupied: bool | None = Field(description="Fixed value; null: follow the schedule.")


class SimOccupancy(OccupancySensor):
    """Occupancy that follows a value set by tests or a command, or else a weekly schedule.

    Changes are noticed when the value is set and at each ``read`` or ``state``.
    """

    def __init__(
        self,
        device_id: str,
        config: SimOccupancyConfig,
        *,
        now: WallClock | None = None,
        on_change: OnChange | None = None,
    ) -> None:
        super().__init__(device_id, on_change)
        self.config = config
        self._now = now or (lambda: datetime.now(UTC))
        self._zone = ZoneInfo(config.timezone)
        self._value = config.occupied
        self._occupied = self._compute()
        self._actions: dict[str, Action] = {"set_occupied": self._set_action}

    @property
    def actions(self) -> Mapping[str, Action]:
        return self._actions

    def set_occupied(self, occupied: bool | None) -> None:
        """Fix the value from now on; None goes back to the schedule."""
        self._value = occupied
        self._refresh()

    def _compute(self) -> bool:
        if self._value is not None:
            return self._value
        local = self._now().astimezone(self._zone)
        clock = local.time().replace(tzinfo=None)
        return any(
            local.isoweekday() in span.days and span.start <= clock < span.end
            for span in self.config.schedule
        )

    def _refresh(self) -> None:
        self._set_occupied(self._compute())
        if self._occupied:
            self._last_motion = self._now()

    async def _set_action(self, params: dict[str, Any]) -> dict[str, Any]:
        self.set_occupied(parse_params(_SetOccupied, params).occupied)
        return await self.state()


__all__ = ["SimOccupancy"]
