"""Room occupancy: a PIR motion sensor on GPIO with a hold time, and a simulated backend."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from abc import abstractmethod
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from datetime import time as TimeOfDay  # noqa: N812 - reads better than dt_time
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from gpiozero import GPIOZeroError, MotionSensor
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from devices.base import Action, Clock, Device, DeviceError, parse_params

logger = logging.getLogger(__name__)

WallClock = Callable[[], datetime]
"""The current time, timezone-aware (``datetime.now(UTC)`` by default)."""
OnChange = Callable[[bool], None]
"""Called on the event loop with the new ``occupied`` value when it changes."""


class PirOccupancyConfig(BaseModel):
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


class SimOccupancyConfig(BaseModel):
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


OccupancyConfig = Annotated[PirOccupancyConfig | SimOccupancyConfig, Field(discriminator="backend")]
"""Occupancy config, picked by ``backend``."""


class _Occupancy(Device):
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


class PirOccupancy(_Occupancy):
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


class _SetOccupied(BaseModel):
    model_config = ConfigDict(extra="forbid")

    occupied: bool | None = Field(description="Fixed value; null: follow the schedule.")


class SimOccupancy(_Occupancy):
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


__all__ = [
    "OccupancyConfig",
    "OccupiedSpan",
    "OnChange",
    "PirOccupancy",
    "PirOccupancyConfig",
    "SimOccupancy",
    "SimOccupancyConfig",
    "WallClock",
]
