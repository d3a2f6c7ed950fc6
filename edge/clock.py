"""Wall clocks for the automation: the real one, and a fake one that tests move by hand."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
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


__all__ = ["Clock", "FakeClock", "SystemClock"]
