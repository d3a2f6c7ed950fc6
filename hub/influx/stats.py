"""Counters of the InfluxDB export, kept by callbacks on the writer's threads."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class InfluxStats:
    """What the export did since the hub started. Updated from the writer's threads under
    ``lock``; read from the event loop (a read of one int needs no lock)."""

    handed: int = 0
    """Points handed to the writer."""
    written: int = 0
    """Points the writer reports written."""
    failed: int = 0
    """Points of batches the writer gave up on (refused, or retried until ``retry_max_s``);
    a batch that InfluxDB refused in part counts whole."""
    dropped: int = 0
    """Points never handed to the writer: the backlog was full (InfluxDB away or slow)."""
    retries: int = 0
    """Attempts that failed and were tried again."""
    retimed: int = 0
    """Points written at the hub's receive time because their own time was implausible."""
    unconverted: int = 0
    """Messages that could not be turned into points (a bug: logged)."""
    failing: bool = False
    """The last attempt to write failed; cleared by the next batch written."""
    last_error: str | None = None
    last_error_at: float | None = None
    """``time.monotonic()`` of the last failed attempt."""
    last_loss_at: float | None = None
    """``time.monotonic()`` of the last point dropped or failed."""
    last_written_at: datetime | None = None
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @property
    def backlog(self) -> int:
        """Points handed to the writer that it has not yet reported written or failed."""
        return self.handed - self.written - self.failed


__all__ = ["InfluxStats"]
