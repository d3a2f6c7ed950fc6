"""Keeps the dead letters bounded by count and age: at start, periodically, after a burst."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

from hub.audit import Audit
from hub.store import BatchResult, Store
from protocol import utcnow
from protocol.aio import wait_within

logger = logging.getLogger(__name__)


class Pruner:
    """Deletes dead letters beyond ``keep`` or older than ``max_age``, and audit entries
    past their retention."""

    def __init__(self, store: Store, *, keep: int, max_age: timedelta, interval_s: float) -> None:
        self.store = store
        self.keep = keep
        self.max_age = max_age
        self.interval_s = interval_s
        self.burst = max(keep // 10, 100)
        """Dead letters written since the last pruning that call for one at once."""
        self.pruned = 0
        self.runs = 0
        self._since = 0
        self._wake = asyncio.Event()
        self._stopping = False
        self.audit: Audit | None = None
        self.audit_pruned = 0

    def noted(self, result: BatchResult) -> None:
        """Count a committed batch's dead letters (on the loop thread)."""
        self._since += result.dead_letters
        if self._since >= self.burst:
            self._wake.set()

    async def prune(self) -> int:
        self._since = 0
        gone = await asyncio.to_thread(
            self.store.prune_dead_letters, keep=self.keep, max_age=self.max_age, now=utcnow()
        )
        if self.audit is not None:
            self.audit_pruned += await asyncio.to_thread(self.audit.prune)
        self.runs += 1
        self.pruned += gone
        if gone:
            logger.info("pruned %d dead letters (keeping at most %d, %s)",
                        gone, self.keep, self.max_age)  # fmt: skip
        return gone

    def stop(self) -> None:
        """Let ``run`` return once a pruning under way is done (never cut it short: its
        thread would go on with the database after the hub closed it)."""
        self._stopping = True
        self._wake.set()

    async def run(self) -> None:
        while not self._stopping:
            await self.prune()
            self._wake.clear()
            if self._stopping:
                return
            with contextlib.suppress(TimeoutError):
                await wait_within(self._wake.wait(), self.interval_s)


__all__ = ["Pruner"]
