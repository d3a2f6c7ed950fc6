"""Counters of one hub process since it started, for the health endpoint."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class IngestStats:
    """What the ingest has done since the hub started."""

    received: int = 0
    stored: int = 0
    """Valid messages written (duplicates included)."""
    points: int = 0
    events: int = 0
    duplicates: int = 0
    """Telemetry points and events that were already stored (QoS 1 redeliveries)."""
    conflicts: int = 0
    """Duplicates by (agent, boot, seq) whose content differs from what is stored: forged,
    replayed with changes, or an agent reusing a boot id."""
    dead_letters: int = 0
    dead_letters_by_reason: dict[str, int] = field(default_factory=dict)
    dead_letters_lost: int = 0
    """Dead letters the database refused too: logged and dropped, never retried forever."""
    observer_errors: int = 0
    """Batch observers (alerts, rollups, exporters) that raised; ingest went on."""
    clock_suspects: int = 0
    """Messages whose time was far from the hub's clock."""
    replies: int = 0
    """Replies handed to a waiting command."""
    batches: int = 0
    last_batch_ms: float = 0.0
    write_errors: int = 0
    """Failed attempts to write a batch while the database was unavailable (retried)."""
    last_write_error: str | None = None
    last_write_error_at: float | None = None
    """``time.monotonic()`` of the last write error."""
    db_failing: bool = False
    """The last attempt to write failed and is being retried."""
    connects: int = 0
    overload_dropped: int = 0
    """QoS 0 messages dropped because the queue was full (QoS 1 is bounded by the broker's
    in-flight window, since the hub acknowledges only what it stored)."""
    acks_sent: int = 0
    acks_failed: int = 0


__all__ = ["IngestStats"]
