"""Storing one ingest batch whatever happens: retried while the database is unavailable, one
by one when it refuses the batch, and a dead letter for each message it refuses."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from hub.parsing import Ignored, Parsed, Rejected, rejected
from hub.stats import IngestStats
from hub.store import BatchResult, Store
from protocol import encode, utcnow
from protocol.bounds import safe_text

logger = logging.getLogger(__name__)

Classify = Callable[[str, bytes, bool], Parsed | Rejected | Ignored]


@dataclass(slots=True)
class Received:
    """A message not yet stored, with what is needed to acknowledge it afterwards."""

    client: object | None
    """The connection it came on (only that connection can acknowledge it)."""
    mid: int
    qos: int
    topic: str
    payload: bytes
    """Empty once read (``parsed`` holds what is kept)."""
    retain: bool = False
    parsed: Parsed | Rejected | Ignored | None = None


def transient(exc: BaseException) -> bool:
    """Worth retrying without acknowledging: a lost connection, a locked database, a server
    going away. Anything else is about the data, and retrying would never end."""
    return isinstance(exc, OperationalError | InterfaceError | PoolTimeout) or (
        isinstance(exc, DBAPIError) and exc.connection_invalidated
    )


class BatchStorer:
    """Turns a batch of received messages into stored rows and dead letters."""

    def __init__(
        self,
        store: Store,
        classify: Classify,
        stats: IngestStats,
        executor: Executor,
        *,
        retry_min_s: float = 0.1,
        retry_max_s: float = 5.0,
    ) -> None:
        self.store = store
        self.classify = classify
        self.stats = stats
        self.executor = executor
        self.retry_min_s = retry_min_s
        self.retry_max_s = retry_max_s

    async def store_batch(self, batch: Sequence[Received]) -> BatchResult:
        """Store the batch, waiting out a database that is unavailable (nothing is
        acknowledged meanwhile, so the broker keeps the messages)."""
        loop = asyncio.get_running_loop()
        delay = self.retry_min_s
        while True:
            try:
                result = await loop.run_in_executor(self.executor, self._store, batch)
            except Exception as exc:
                if not transient(exc):
                    raise
                st = self.stats
                st.write_errors += 1
                st.last_write_error = safe_text(exc, 300)
                st.last_write_error_at = time.monotonic()
                st.db_failing = True
                logger.error("database unavailable (%s); retrying the batch in %.1f s",
                             st.last_write_error, delay)  # fmt: skip
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.retry_max_s)
                continue
            self.stats.db_failing = False
            return result

    def _read(self, batch: Sequence[Received]) -> list[Parsed | Rejected]:
        """Classify what is not classified yet (worker thread); never raises."""
        out: list[Parsed | Rejected] = []
        for r in batch:
            if r.parsed is None:
                r.parsed = self.classify(r.topic, r.payload, r.retain)
                r.payload = b""
            if isinstance(r.parsed, Rejected):
                logger.warning("dead letter on %s: %s: %s",
                               r.parsed.topic, r.parsed.reason, r.parsed.detail[:300])  # fmt: skip
            if not isinstance(r.parsed, Ignored):
                out.append(r.parsed)
        return out

    def _store(self, batch: Sequence[Received]) -> BatchResult:
        """Parse and write (worker thread); raise only for a transient database error."""
        items = self._read(batch)
        try:
            return self.store.write_batch(items)
        except Exception as exc:
            if transient(exc):
                raise
            logger.error("the database refused a batch of %d (%s); storing one by one",
                         len(items), safe_text(exc, 300))  # fmt: skip
        total = BatchResult()
        for item in items:
            total.add(self._store_one(item))
        return total

    def _store_one(self, item: Parsed | Rejected) -> BatchResult:
        try:
            return self.store.write_batch([item])
        except Exception as exc:
            if transient(exc):
                raise
            error = safe_text(exc, 500)
        if isinstance(item, Parsed):
            logger.warning("dead letter on %s: the database refused it: %s", item.source, error)
            dead = rejected(item.source, _payload_of(item), "store_error", error, utcnow())
            try:
                return self.store.write_batch([dead])
            except Exception as exc:
                if transient(exc):
                    raise
                error = safe_text(exc, 500)
            item = dead
        self.stats.dead_letters_lost += 1
        logger.error("dead letter on %s (%s) dropped: the database refused it too: %s",
                     item.topic, item.reason, error)  # fmt: skip
        return BatchResult()


def _payload_of(item: Parsed) -> bytes:
    try:
        return encode(item.message)
    except Exception:  # a payload for the record only
        return b""


__all__ = ["BatchStorer", "Classify", "Received", "transient"]
