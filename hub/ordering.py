"""What is newest, by the agent's own counters and never by its clock; and clocks far off.

An agent's boots are ordered by ``(era, boot_no)``. ``boot_no`` counts the agent's starts
(kept on its disk); the era goes up by one when a boot the hub has never seen comes with a
``boot_no`` not above the highest the hub knows (a wiped disk, or an agent of contract v1,
which says 0): such a boot is newer than everything known, so a late will of an old boot
can never override it. The era is decided once, when the boot is first seen, and stored.

Within a boot, Status is ordered by (``conn``, online before offline), the other ordered
kinds by their counter ``n``, telemetry for the latest reading by ``seq``. An ordered message
with ``boot_no`` 0 (contract v1: no counters) is applied in order of arrival.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import NamedTuple

from protocol import Ordered, Status


class BootOrder(NamedTuple):
    """Where a boot stands among its agent's boots."""

    era: int
    boot_no: int


def era_of_new_boot(known: Iterable[BootOrder], boot_no: int) -> int:
    """The era of a boot seen for the first time, given the agent's boots already known.

    Same era as the newest known boot when ``boot_no`` is above its number; otherwise a new
    era above everything known (a wiped disk restarts its count; v1 boots all say 0).
    """
    newest = max(known, default=None)
    if newest is None:
        return 0
    return newest.era if boot_no > newest.boot_no else newest.era + 1


StatusKey = tuple[int, int, int, int]
"""(era, boot_no, conn, 0 for online / 1 for offline)."""
CounterKey = tuple[int, int, int]
"""(era, boot_no, n) or, for the latest reading, (era, boot_no, seq)."""


def status_key(order: BootOrder, message: Status) -> StatusKey:
    """A connection's will is made before its ``online`` but always comes after it."""
    return (order.era, order.boot_no, message.conn, 1 if message.state == "offline" else 0)


def counter_key(order: BootOrder, message: Ordered) -> CounterKey:
    return (order.era, order.boot_no, message.n)


def by_arrival(message: Ordered) -> bool:
    """Messages without counters (contract v1, ``boot_no`` 0) apply in order of arrival."""
    return message.boot_no == 0


def newer(key: tuple[int, ...], stored: tuple[int, ...] | None, *, arrival: bool) -> bool:
    """Whether a message with ``key`` replaces what is stored with ``stored``."""
    return arrival or stored is None or key > stored


def clock_skew(ts: datetime, now: datetime, max_s: float, *, future_only: bool) -> float | None:
    """Seconds by which ``ts`` is ahead of (positive) or behind ``now`` when that is more than
    ``max_s``; None when the clock looks right. Telemetry and events may legitimately be old
    (an outbox replays them), so for them only the future counts."""
    skew = (ts - now).total_seconds()
    if skew > max_s or (not future_only and skew < -max_s):
        return skew
    return None


__all__ = [
    "BootOrder",
    "CounterKey",
    "StatusKey",
    "by_arrival",
    "clock_skew",
    "counter_key",
    "era_of_new_boot",
    "newer",
    "status_key",
]
