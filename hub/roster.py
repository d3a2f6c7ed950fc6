"""The rooms the hub knows, in memory: one set lookup per message on the ingest's hot path."""

from __future__ import annotations

from collections.abc import Iterable


class Roster:
    """The registry's (site, room) pairs, replaced whole when the registry changes.

    Read from any thread: ``replace`` swaps one frozen set for another, so a reader sees
    either the old registry or the new one, never a mix.
    """

    def __init__(self, rooms: Iterable[tuple[str, str]] = ()) -> None:
        self._rooms: frozenset[tuple[str, str]] = frozenset(rooms)

    def __contains__(self, room: object) -> bool:
        return room in self._rooms

    def __len__(self) -> int:
        return len(self._rooms)

    def replace(self, rooms: Iterable[tuple[str, str]]) -> None:
        self._rooms = frozenset(rooms)

    @property
    def rooms(self) -> frozenset[tuple[str, str]]:
        return self._rooms


__all__ = ["Roster"]
