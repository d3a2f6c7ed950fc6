"""Wall clocks for the automation: the real one, a fake one that tests move by hand, and the
scaled school clock of the demo's fast day."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Wall time for the automation: ``now`` (aware, UTC) and sleeping until an instant."""

    def now(self) -> datetime: ...

    def sleep_until(self, instant: datetime) -> Awaitable[None]:
        """An awaitable done at ``instant`` (cancel it to stop waiting)."""
        ...


class SystemClock:
    """The real wall clock; naps at most ``max_nap_s`` so a stepped clock (NTP) is noticed."""

    def __init__(self, max_nap_s: float = 30.0) -> None:
        self.max_nap_s = max_nap_s

    def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep_until(self, instant: datetime) -> None:
        while True:  # a timer, not a poll: the wall clock may be stepped while we sleep
            left = (instant - self.now()).total_seconds()
            if left <= 0:
                return
            await asyncio.sleep(min(left, self.max_nap_s))


class FakeClock:
    """A wall clock that moves only when told to (``advance_to``); sleepers wake on the way.

    ``sleep_until`` registers the sleeper at once (not when first awaited), so a
    test that waits for the code under test to go idle knows the sleeper is there.
    """

    def __init__(self, start: datetime) -> None:
        self._now = start.astimezone(UTC)
        self._sleepers: list[tuple[datetime, asyncio.Future[None]]] = []
        self._activity = asyncio.Event()

    def now(self) -> datetime:
        return self._now

    def _pending(self) -> list[tuple[datetime, asyncio.Future[None]]]:
        self._sleepers = [(at, f) for at, f in self._sleepers if not f.done()]
        return self._sleepers

    @property
    def sleepers(self) -> int:
        """How many sleepers wait on this clock."""
        return len(self._pending())

    def sleep_until(self, instant: datetime) -> asyncio.Future[None]:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if instant <= self._now:
            future.set_result(None)
            return future
        self._sleepers.append((instant, future))
        future.add_done_callback(lambda _: self._activity.set())
        self._activity.set()
        return future

    async def wait_for_sleepers(self, count: int = 1, timeout: float = 5.0) -> None:
        """Wait (real time, at most ``timeout``) until ``count`` sleepers wait on this clock."""
        async with asyncio.timeout(timeout):
            while self.sleepers < count:
                self._activity.clear()
                await self._activity.wait()

    async def advance_to(self, instant: datetime, *, timeout: float = 5.0) -> None:
        """Move to ``instant``, stopping at each sleeper's wake-up time on the way.

        At each stop the woken sleepers' owners run until as many sleepers wait
        as before (each woke, did its work and sleeps again), within ``timeout``.
        """
        while due := [at for at, _ in self._pending() if at <= instant]:
            asleep = self.sleepers
            self._now = max(self._now, min(due))
            for at, future in self._pending():
                if at <= self._now:
                    future.set_result(None)
            await self.wait_for_sleepers(asleep, timeout)
        self._now = max(self._now, instant)

    async def advance(self, delta: timedelta, *, timeout: float = 5.0) -> None:
        await self.advance_to(self._now + delta, timeout=timeout)


class ScaledClock:
    """A school clock that reads ``start`` at the monotonic instant ``origin`` and runs
    ``speed`` times real time from there: the demo's fast school day.

    Only what the school day decides follows it (the timetable, the rules, the simulated
    room and teachers); what is sent keeps the wall clock (message times, the outbox, MQTT,
    command expiry), so an agent on a fast day never sends a time far from the hub's. It
    advances with the monotonic clock: a wall clock stepped by NTP moves the school day by
    nothing, not by ``speed`` times the step.
    """

    def __init__(
        self,
        start: datetime,
        speed: float = 1.0,
        *,
        origin: float | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if not (math.isfinite(speed) and speed > 0):
            msg = f"speed must be a positive number, not {speed!r}"
            raise ValueError(msg)
        if start.tzinfo is None:
            msg = f"start must say its time zone: {start.isoformat()}"
            raise ValueError(msg)
        self.start = start.astimezone(UTC)
        self.speed = speed
        self._monotonic = monotonic
        self._sleep = sleep
        self.origin = monotonic() if origin is None else origin
        """The monotonic instant at which this clock reads ``start``."""

    @classmethod
    def resumed(
        cls,
        start: datetime,
        speed: float,
        started_at: datetime,
        *,
        wall: Callable[[], datetime] = lambda: datetime.now(UTC),
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> ScaledClock:
        """The clock that read ``start`` at the wall instant ``started_at``: every process
        of the demo, and each of its restarts, reads the same school time of it."""
        since = (wall() - started_at).total_seconds()
        return cls(start, speed, origin=monotonic() - since, monotonic=monotonic, sleep=sleep)

    def monotonic(self) -> float:
        """School seconds since ``start``: the monotonic clock of the simulated devices, so
        the air of a room fills with CO2 at the school day's pace."""
        return (self._monotonic() - self.origin) * self.speed

    def now(self) -> datetime:
        return self.start + timedelta(seconds=self.monotonic())

    async def sleep_until(self, instant: datetime) -> None:
        while (left := (instant - self.now()).total_seconds()) > 0:
            await self._sleep(left / self.speed)


__all__ = ["Clock", "FakeClock", "ScaledClock", "SystemClock"]
