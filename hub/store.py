"""Writes of the hub: one transaction per ingest batch, idempotent under QoS 1 duplicates."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from hub.db import CommandLog, Room, Site
from hub.parsing import Parsed, Rejected
from hub.queries import Queries
from hub.writes import BatchWriter
from protocol import (
    Command,
    CommandReply,
    ConfigApplied,
    DeviceState,
    Event,
    RoomSettings,
    Status,
    Telemetry,
)


@dataclass(frozen=True, slots=True)
class SiteSpec:
    """A site and its rooms as the registry declares them."""

    id: str
    name: str
    rooms: Sequence[tuple[str, str]]
    """(room id, display name) pairs."""


@dataclass(slots=True)
class BatchResult:
    """What one batch write did."""

    messages: int = 0
    """Valid messages in the batch."""
    points: int = 0
    """Telemetry points newly stored."""
    events: int = 0
    """Events newly stored."""
    duplicates: int = 0
    """Telemetry points and events already stored (QoS 1 redeliveries); -1 if unknown."""
    dead_letters: int = 0


class Store(Queries):
    """Sync access to the hub's database; call it from a worker thread, never the event loop."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)
        self._pg = engine.dialect.name == "postgresql"

    def _insert(self, table: Any) -> sqlite.Insert | postgresql.Insert:
        return postgresql.insert(table) if self._pg else sqlite.insert(table)

    # --- registry -----------------------------------------------------------------------

    def upsert_sites(self, sites: Iterable[SiteSpec]) -> None:
        """Create or rename the registry's sites and rooms; run state is left alone."""
        sites = list(sites)
        site_rows = [{"id": s.id, "name": s.name} for s in sites]
        room_rows = [{"site_id": s.id, "room_id": r, "name": n} for s in sites for r, n in s.rooms]
        with self.engine.begin() as conn:
            if site_rows:
                stmt = self._insert(Site)
                conn.execute(
                    stmt.on_conflict_do_update(
                        index_elements=[Site.id], set_={"name": stmt.excluded.name}
                    ),
                    site_rows,
                )
            if room_rows:
                stmt = self._insert(Room)
                conn.execute(
                    stmt.on_conflict_do_update(
                        index_elements=[Room.site_id, Room.room_id],
                        set_={"name": stmt.excluded.name},
                    ),
                    room_rows,
                )

    # --- ingest ---------------------------------------------------------------------------

    def write_batch(self, items: Sequence[Parsed | Rejected]) -> BatchResult:
        """Store a batch in one transaction; telemetry and events exactly once."""
        result = BatchResult()
        by_type: dict[type, list[Parsed]] = {}
        dead: list[Rejected] = []
        for item in items:
            if isinstance(item, Rejected):
                dead.append(item)
            else:
                by_type.setdefault(type(item.message), []).append(item)
                result.messages += 1
        with self.engine.begin() as conn:
            w = BatchWriter(conn, self._insert)
            w.ensure_rooms({(p.topic.site, p.topic.room) for ps in by_type.values() for p in ps})
            result.points, dup_points = w.telemetry(by_type.get(Telemetry, []))
            result.events, dup_events = w.events(by_type.get(Event, []))
            result.duplicates = -1 if min(dup_points, dup_events) < 0 else dup_points + dup_events
            w.statuses(by_type.get(Status, []))
            w.states(by_type.get(DeviceState, []))
            w.applied(by_type.get(ConfigApplied, []))
            w.replies(by_type.get(CommandReply, []))
            result.dead_letters = w.dead_letters(dead)
        return result

    # --- commands and configuration ---------------------------------------------------

    def log_command(self, site: str, room: str, command: Command) -> None:
        """Record a command before it is published."""
        with self.engine.begin() as conn:
            conn.execute(
                insert(CommandLog),
                {
                    "id": command.id,
                    "site": site,
                    "room": room,
                    "device": command.device,
                    "action": command.action,
                    "params": command.params,
                    "issuer": command.issuer,
                    "sent_at": command.ts,
                    "expires_at": command.expires,
                },
            )

    def next_config_version(self, site: str, room: str, settings: RoomSettings) -> int | None:
        """Reserve the next configuration version of a room and record its settings."""
        with self.engine.begin() as conn:
            done = conn.execute(
                update(Room)
                .where(Room.site_id == site, Room.room_id == room)
                .values(
                    config_version_pushed=Room.config_version_pushed + 1,
                    config_settings=settings.model_dump(mode="json"),
                )
            )
            if done.rowcount == 0:
                return None
            version = conn.execute(
                select(Room.config_version_pushed).where(Room.site_id == site, Room.room_id == room)
            ).scalar_one()
            return int(version)


__all__ = ["BatchResult", "SiteSpec", "Store"]
