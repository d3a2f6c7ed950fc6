"""The outbox on a thread of its own, so an SD card's fsync never stalls the event loop.

Every call runs in order on one worker thread. A storage fault (disk full, a broken
file) never stops the room: it is reported once (``on_fault``), the messages that could
not be written wait in memory (bounded; beyond, they are counted as lost) and are
written when the disk works again. An outbox that cannot be opened at all is replaced by
one in memory, so the room runs on, with its data kept until a restart.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from edge.outbox import Boot, Loss, Outbox, OutboxMessage, OutboxStats
from protocol.ranges import merge, runs

logger = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")

UNSTORED_MAX = 10_000
"""Most messages held in memory while the disk refuses them."""

Row = tuple[str, bytes, str | None, int | None]
"""(topic, payload, boot, seq)."""

StorageErrors = (sqlite3.Error, OSError)


class Storage:
    """Asynchronous access to one room's outbox."""

    def __init__(
        self,
        path: Path,
        *,
        label: str,
        on_fault: Callable[[bool, str], None] = lambda _bad, _why: None,
        **outbox_args: Any,
    ) -> None:
        self.path = path
        self.label = label
        self.on_fault = on_fault
        self._args = outbox_args
        self._executor = ThreadPoolExecutor(1, thread_name_prefix=f"outbox {label}")
        self._outbox: Outbox | None = None
        self._unstored: deque[Row] = deque()
        self._lost: list[tuple[str, int]] = []
        self.fault: str | None = None
        """Why the disk refuses the outbox now (None: it works)."""
        self._volatile: str | None = None
        """Why the outbox is in memory (it could not be opened): a fault until a restart."""
        self.on_stored: Callable[[], None] = lambda: None
        self._loop: asyncio.AbstractEventLoop | None = None

    # --- life cycle -----------------------------------------------------------------------

    def open(self, boot: str) -> Boot:
        """Open the outbox (blocking, before the loop runs) and count a new boot."""
        try:
            self._outbox = Outbox(self.path, **self._args)
            return self._outbox.begin_boot(boot)
        except StorageErrors as exc:
            self._volatile = f"cannot open the outbox {self.path}: {exc}; kept in memory"
            self._set_fault(self._volatile)
            if self._outbox is not None:
                self._outbox.close()
            self._outbox = Outbox(":memory:", **self._args)
            return self._outbox.begin_boot(boot)

    def close(self) -> None:
        """Finish pending writes and close; safe to call twice."""
        self._executor.shutdown(wait=True)
        if self._outbox is not None:
            self._outbox.close()
            self._outbox = None

    @property
    def outbox(self) -> Outbox:
        if self._outbox is None:
            msg = f"{self.label}: the outbox is not open"
            raise RuntimeError(msg)
        return self._outbox

    def __len__(self) -> int:
        return len(self._outbox) if self._outbox is not None else 0

    def _set_fault(self, why: str | None) -> None:
        if why == self.fault:
            return
        was, self.fault = self.fault, why
        if why is not None:
            logger.error("%s: storage fault: %s", self.label, why)
            self.on_fault(True, why)
        elif was is not None:
            logger.warning("%s: the outbox is writable again", self.label)
            self.on_fault(False, was)

    # --- calls on the worker --------------------------------------------------------------

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run ``fn`` on the worker thread, after everything submitted before it."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, lambda: fn(*args, **kwargs))

    async def _guarded(self, what: str, default: T, fn: Callable[[], T]) -> T:
        try:
            return await self.run(fn)
        except StorageErrors as exc:
            self._set_fault(f"{what}: {exc}")
            return default

    def add_soon(self, rows: list[Row]) -> None:
        """Store rows in order, without waiting (outside a loop: now); a failure keeps them
        in memory."""
        try:
            loop = self._loop = asyncio.get_running_loop()
        except RuntimeError:
            self._executor.submit(self._add, rows).result()
            return
        future = loop.run_in_executor(self._executor, self._add, rows)
        future.add_done_callback(lambda _f: self.on_stored())

    async def add(self, rows: list[Row]) -> None:
        """Store rows in order and wait until they are written (or kept in memory)."""
        loop = self._loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, self._add, rows)
        self.on_stored()

    async def flush(self) -> None:
        """Wait until everything submitted so far is written."""
        await self.run(lambda: None)

    def _add(self, rows: list[Row]) -> None:
        """Worker side: write what waited in memory first, then ``rows``; never raise."""
        self._unstored.extend(rows)
        try:
            while self._unstored:
                batch = [self._unstored[i] for i in range(min(500, len(self._unstored)))]
                self.outbox.add_many(batch)
                for _ in batch:
                    self._unstored.popleft()
            if self._lost:
                self.outbox.add_losses(self._lost, "storage_fault")
                self._lost.clear()
        except StorageErrors as exc:
            while len(self._unstored) > UNSTORED_MAX:
                _, _, boot, seq = self._unstored.popleft()
                if boot is not None and seq is not None:
                    self._lost.append((boot, seq))
            self._loop_fault(f"cannot write the outbox: {exc}")
            return
        self._loop_fault(self._volatile)

    def _loop_fault(self, why: str | None) -> None:
        """Worker side: report a change of fault on the loop thread."""
        if why != self.fault and self._loop is not None:
            self._loop.call_soon_threadsafe(self._set_fault, why)

    async def peek(self, n: int, after_id: int = 0) -> list[OutboxMessage]:
        return await self._guarded(
            "cannot read the outbox", [], lambda: self.outbox.peek(n, after_id)
        )

    async def first_id(self) -> int | None:
        return await self._guarded("cannot read the outbox", None, self.outbox.first_id)

    async def delete_acked(self, boot: str, ranges: list[tuple[int, int]]) -> int:
        return await self._guarded(
            "cannot delete from the outbox", 0, lambda: self.outbox.delete_acked(boot, ranges)
        )

    async def refused(self, row_id: int, reason: str) -> float | None:
        """Back a refused row off (return when to retry it) or park it (return None)."""
        return await self._guarded(
            "cannot update the outbox", None, lambda: self.outbox.refused(row_id, reason)
        )

    async def rows(self, ids: list[int]) -> list[OutboxMessage]:
        return await self._guarded("cannot read the outbox", [], lambda: self.outbox.rows(ids))

    async def stats(self) -> OutboxStats:
        stats = await self._guarded(
            "cannot read the outbox", OutboxStats(len(self), 0, 0.0), self.outbox.stats
        )
        return OutboxStats(stats.backlog + len(self._unstored), stats.parked, stats.oldest_s)

    async def losses(self) -> list[Loss]:
        found: list[Loss] = await self._guarded(
            "cannot read the outbox", [], lambda: self.outbox.losses()
        )
        if self._lost:  # lost while the disk refused, not yet on disk
            pending: dict[str, list[int]] = {}
            for boot, seq in self._lost:
                pending.setdefault(boot, []).append(seq)
            merged = {loss.boot: loss for loss in found}
            for boot, seqs in pending.items():
                old = merged.get(boot)
                ranges = merge([*(old.ranges if old else []), *runs(seqs)])
                reasons = dict(old.by_reason) if old else {}
                reasons["storage_fault"] = reasons.get("storage_fault", 0) + len(seqs)
                merged[boot] = Loss(boot, ranges, sum(reasons.values()), reasons)
            found = list(merged.values())
        return found


__all__ = ["Row", "Storage"]
