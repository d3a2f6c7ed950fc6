"""Per-room bounds on what a room can make the hub keep: distinct readings and devices."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Generic, TypeVar

K = TypeVar("K")


class Budget(Generic[K]):
    """At most ``limit`` distinct keys per room; what a room has is loaded on first use.

    Used by the ingest's worker thread only. A key admitted in a transaction that is rolled
    back stays counted: the bound errs on the safe side.
    """

    def __init__(self, limit: int, load: Callable[[list[str]], Iterable[tuple[str, K]]]) -> None:
        self.limit = limit
        self._load = load
        self._known: dict[str, set[K]] = {}

    def prepare(self, rooms: Iterable[str]) -> None:
        """Load the keys of the rooms not seen yet (one query for all of them)."""
        missing = sorted({r for r in rooms if r not in self._known})
        if not missing:
            return
        for room in missing:
            self._known[room] = set()
        for room, key in self._load(missing):
            self._known.setdefault(room, set()).add(key)

    def admit(self, room: str, keys: Iterable[K]) -> bool:
        """True, and the keys counted, if the room stays within its limit with them."""
        known = self._known.setdefault(room, set())
        new = [k for k in keys if k not in known]
        if not new:
            return True
        if len(known) + len(set(new)) > self.limit:
            return False
        known.update(new)
        return True

    def forget(self) -> None:
        """Drop what is known (it is loaded again on next use)."""
        self._known.clear()


__all__ = ["Budget"]
