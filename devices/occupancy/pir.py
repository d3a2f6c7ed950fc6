"""Room occupancy from a PIR motion sensor on GPIO, held for a while after the last motion."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from gpiozero import GPIOZeroError, MotionSensor

from devices.base import Action, Clock, DeviceError
from devices.occupancy.base import OccupancySensor, OnChange, WallClock
from devices.occupancy.config import PirOccupancyConfig

logger = logging.getLogger(__name__)


class PirOccupancy(OccupancySensor):
    """A gpiozero MotionSensor from the given pin factory, with a hold time on ``clock``.

    gpiozero reports motion on its own thread; the callbacks only note the time
    and hand over to the event loop with ``call_soon_threadsafe``, where
    ``occupied`` changes and ``on_change`` runs. Hold-time expiry is noticed by
    a loop timer, and by every ``read`` and ``state`` (so a fake clock works).
    The loop is the one running when the device is built, else the one of the
    first ``read`` or ``state``.
    """

    def __init__(
        self,
        device_id: str,
        config: PirOccupancyConfig,
        *,
        pin_factory: Any = None,
        clock: Clock | None = None,
        now: WallClock | None = None,
        on_change: OnChange | None = None,
    ) -> None:
        super().__init__(device_id, on_change)
        self.config = config
        self._clock = clock or time.monotonic
        self._now = now or (lambda: datetime.now(UTC))
        self._lock = threading.Lock()
        self._active = False
        self._seen_at: float | None = None
        self._edges = 0
        self._timer: asyncio.TimerHandle | None = None
        self._closed = False
        try:
            self._loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            self._loop = None
        try:
            self.sensor = MotionSensor(
                config.pin,
                pull_up=config.pull_up,
                queue_len=config.queue_len,
                sample_rate=config.sample_rate_hz,
                threshold=config.threshold,
                pin_factory=pin_factory,
            )
        except GPIOZeroError as exc:
            msg = f"occupancy {device_id!r}: cannot open GPIO {config.pin}: {exc}"
            raise DeviceError(msg) from exc
        self.sensor.when_motion = lambda: self._from_gpio(active=True)
        self.sensor.when_no_motion = lambda: self._from_gpio(active=False)
        threading.Thread(target=self._first_sample, name=f"{device_id} first sample").start()
        self._actions: dict[str, Action] = {}

    @property
    def actions(self) -> Mapping[str, Action]:
        return self._actions

    def _first_sample(self) -> None:
        """gpiozero fires no callback for the state it samples first: take motion seen then."""
        window = 2 * self.config.queue_len / self.config.sample_rate_hz + 0.2
        if self.sensor.wait_for_motion(timeout=window):
            self._from_gpio(active=True, edge=False)

    def _from_gpio(self, *, active: bool, edge: bool = True) -> None:
        """On gpiozero's thread: note the motion, then let the loop take it."""
        with self._lock:
            if not edge and self._edges:
                return  # an edge came first and told the newer state
            self._edges += edge
            self._active = active
            self._seen_at = self._clock()
            self._last_motion = self._now()
        loop = self._loop
        if loop is None:
            return
        try:
            loop.call_soon_threadsafe(self._refresh)
        except RuntimeError:  # the loop is closed: nobody is listening any more
            logger.debug("%s: motion after the event loop closed", self.id)

    def _compute(self) -> bool:
        with self._lock:
            active, seen = self._active, self._seen_at
        return active or (seen is not None and self._clock() - seen < self.config.hold_time_s)

    def _refresh(self) -> None:
        if self._closed:
            return
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
        self._set_occupied(self._compute())
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        with self._lock:
            active, seen = self._active, self._seen_at
        if self._occupied and not active and seen is not None:
            remaining = seen + self.config.hold_time_s - self._clock()
            self._timer = self._loop.call_later(max(0.0, remaining), self._refresh)

    def close(self) -> None:
        self._closed = True
        self._loop = None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if hasattr(self, "sensor"):
            self.sensor.close()


__all__ = ["PirOccupancy"]
