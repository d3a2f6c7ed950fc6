"""What both occupancy backends share: the occupied state, its readings and the change callback."""

from __future__ import annotations

import logging
from abc import abstractmethod
from collections.abc import Callable
from datetime import datetime
from typing import Any

from devices.base import Device

logger = logging.getLogger(__name__)

WallClock = Callable[[], datetime]
"""The current time, timezone-aware (``datetime.now(UTC)`` by default)."""
OnChange = Callable[[bool], None]
"""Called on the event loop with the new ``occupied`` value when it changes."""


class OccupancySensor(Device):
    """What both backends share: the state shape, ``read`` and the change callback."""

    family = "occupancy"

    def __init__(self, device_id: str, on_change: OnChange | None) -> None:
        super().__init__(device_id)
        self.on_change = on_change
        """Called on the event loop with the new value whenever ``occupied`` changes."""
        self._occupied = False
        self._last_motion: datetime | None = None

    @abstractmethod
    def _refresh(self) -> None:
        """Bring ``occupied`` up to date with the clock (on the event loop)."""

    @property
    def occupied(self) -> bool:
        return self._occupied

    def _set_occupied(self, occupied: bool) -> None:
        if occupied == self._occupied:
            return
        self._occupied = occupied
        logger.info("%s: %s", self.id, "occupied" if occupied else "unoccupied")
        if self.on_change is not None:
            try:
                self.on_change(occupied)
            except Exception:
                logger.exception("%s: on_change callback failed", self.id)

    async def read(self) -> dict[str, float]:
        self._refresh()
        return {"occupied": int(self._occupied)}

    async def state(self) -> dict[str, Any]:
        self._refresh()
        last = self._last_motion
        return {"occupied": self._occupied, "last_motion": last.isoformat() if last else None}


__all__ = ["OccupancySensor", "OnChange", "WallClock"]
