"""The agent's clock against the hub's, measured on live messages from the hub."""

from __future__ import annotations

import statistics
from collections import deque
from datetime import datetime, timedelta

SAMPLES = 15
"""Offsets kept; the estimate is their median, so one delayed message does not move it."""


class ClockOffset:
    """Hub clock minus agent clock, in seconds, from the ``ts`` of messages the hub just sent.

    Each sample also holds the network delay (milliseconds on a LAN), so it is an upper
    bound of the true offset by that much; commands are checked against
    ``hub_now(local)`` with a tolerance larger than that.
    """

    def __init__(self, samples: int = SAMPLES) -> None:
        self._samples: deque[float] = deque(maxlen=samples)

    def add(self, hub_ts: datetime, local_now: datetime) -> None:
        self._samples.append((hub_ts - local_now).total_seconds())

    @property
    def known(self) -> bool:
        return bool(self._samples)

    @property
    def seconds(self) -> float | None:
        """The estimate, or None before the first sample."""
        return statistics.median(self._samples) if self._samples else None

    def hub_now(self, local_now: datetime) -> datetime:
        """The hub's clock now, as well as we know it (our own before any sample)."""
        offset = self.seconds
        return local_now if offset is None else local_now + timedelta(seconds=offset)


__all__ = ["ClockOffset"]
