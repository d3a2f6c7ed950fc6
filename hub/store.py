"""Writes of the hub: one transaction per ingest batch, idempotent under QoS 1 duplicates."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, delete, insert, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite

from hub.attendance_writes import AttendanceWriter
from hub.boots import AckBoots, BootCache
from hub.db import CommandLog, DeadLetter, DeviceStateRow, LatestReading, Room, Site
from hub.latest import suspect_series
from hub.ordered_writes import Families, OrderedWriter
from hub.parsing import Parsed, Rejected
from hub.queries import Queries
from hub.rollups import UsageRollups
from hub.roster import Roster
from hub.series import Budget
from hub.writes import BatchWriter
from protocol import (
    Command,
    CommandReply,
    ConfigApplied,
    DeviceState,
    Event,
    Health,
    Status,
    Telemetry,
    utcnow,
)
from protocol.messages import DEVICES_MAX

SERIES_MAX = 256
"""Default bound on the distinct (device, metric) readings one room can make the hub keep."""


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
    conflicts: int = 0
    """Duplicates by (agent, boot, seq) whose content differs from what is stored."""
    clock_suspects: int = 0
    """Telemetry whose time went backwards, found while writing (``hub.latest``; times ahead
    are found when a message is read)."""
    dead_letters: int = 0
    dead_letters_by_reason: Counter[str] = field(default_factory=Counter)
    acks: dict[str, AckBoots] = field(default_factory=dict)
    """What each agent touched by the batch has stored (or dropped), for its acknowledgement."""

    def add(self, other: BatchResult) -> None:
        self.messages += other.messages
        self.points += other.points
        self.events += other.events
        if self.duplicates >= 0:
            self.duplicates = -1 if other.duplicates < 0 else self.duplicates + other.duplicates
        self.conflicts += other.conflicts
        self.clock_suspects += other.clock_suspects
        self.dead_letters += other.dead_letters
        self.dead_letters_by_reason.update(other.dead_letters_by_reason)
        self.acks.update(other.acks)


class Store(Queries):
    """Sync access to the hub's database; call it from a worker thread, never the event loop."""

    def __init__(
        self,
        engine: Engine,
        *,
        series_max: int = SERIES_MAX,
        rollups: UsageRollups | None = None,
        clock_skew_max_s: float = 300.0,
    ) -> None:
        super().__init__(engine)
        self.clock_skew_max_s = clock_skew_max_s
        """A reading's time farther than this from the hub's clock is doubted (``hub.latest``)."""
        self.rollups = rollups
        """Usage rollups added in each batch's transaction (None: kept by nobody)."""
        self._pg = engine.dialect.name == "postgresql"
        self.roster = Roster()
        """The registered rooms; messages of any other room are dead letters."""
        self.reading_budget: Budget[tuple[str, str]] = Budget(series_max, self._known_readings)
        """Distinct (device, metric) latest readings per room."""
        self.device_budget: Budget[str] = Budget(DEVICES_MAX, self._known_devices)
        """Distinct devices with a state per room."""
        self._seen: dict[tuple[str, str], float] = {}
        self._boots = None if self._pg else BootCache()
        """On SQLite the hub is the file's only writer: its agents' boots are kept in memory
        between batches (on PostgreSQL they are read under the rooms' locks each time)."""

    def _insert(self, table: Any) -> sqlite.Insert | postgresql.Insert:
        return postgresql.insert(table) if self._pg else sqlite.insert(table)

    def _known_readings(self, agents: list[str]) -> list[tuple[str, tuple[str, str]]]:
        r = LatestReading
        with self.engine.connect() as conn:
            rows = conn.execute(select(r.agent, r.device, r.metric).where(r.agent.in_(agents)))
            return [(row.agent, (row.device, row.metric)) for row in rows] + suspect_series(
                conn, agents
            )

    def _known_devices(self, agents: list[str]) -> list[tuple[str, str]]:
        d = DeviceStateRow
        rooms = [tuple(a.split("/", 1)) for a in agents]
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(d.site, d.room, d.device).where(tuple_(d.site, d.room).in_(rooms))
            )
            return [(f"{row.site}/{row.room}", row.device) for row in rows]

    # --- registry -----------------------------------------------------------------------

    def load_roster(self) -> None:
        """Read the registered rooms into memory (at start, and after the registry changes)."""
        with self.engine.connect() as conn:
            rooms = conn.execute(select(Room.site_id, Room.room_id)).all()
        self.roster.replace((site, room) for site, room in rooms)

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
        self.load_roster()

    # --- ingest ---------------------------------------------------------------------------

    def write_batch(
        self, items: Sequence[Parsed | Rejected], *, now: datetime | None = None
    ) -> BatchResult:
        """Store a batch in one transaction; telemetry and events exactly once; ordered
        messages only if newer; dead letters for what is refused on the way."""
        now = now or utcnow()
        result = BatchResult()
        by_type: dict[type, list[Parsed]] = {}
        dead: list[Rejected] = []
        parsed: list[Parsed] = []
        for item in items:
            if isinstance(item, Rejected):
                dead.append(item)
            else:
                parsed.append(item)
                by_type.setdefault(type(item.message), []).append(item)
        try:
            return self._write(parsed, dead, by_type, now, result)
        except BaseException:
            if self._boots is not None:
                self._boots.clear()  # what the failed transaction changed in them is undone
            raise

    def _write(
        self,
        parsed: list[Parsed],
        dead: list[Rejected],
        by_type: dict[type, list[Parsed]],
        now: datetime,
        result: BatchResult,
    ) -> BatchResult:
        with self.engine.begin() as conn:
            w = BatchWriter(
                conn,
                self._insert,
                now=now,
                readings=self.reading_budget,
                seen=self._seen,
                boots=self._boots,
                skew_max_s=self.clock_skew_max_s,
            )
            w.lock_rooms(parsed)
            result.points, dup_points = w.telemetry(by_type.get(Telemetry, []))
            if self.rollups is not None:
                self.rollups.add(conn, w.new_telemetry)
            result.events, dup_events = w.events(by_type.get(Event, []))
            if w.new_events:
                dead += AttendanceWriter(conn, self._insert, now).write(w.new_events)
            result.duplicates = -1 if min(dup_points, dup_events) < 0 else dup_points + dup_events
            o = OrderedWriter(
                conn, self._insert, w.book, now=now, devices=self.device_budget, reject=w.reject
            )
            families: Families = {}
            if Status in by_type:
                families = o.statuses(by_type[Status])
            if DeviceState in by_type:
                # a state is checked against the families the hub knew when it arrived, so
                # where a batch happens to begin or end changes nothing
                early, late = _before_a_status(parsed)
                if early:
                    o.states(early, {})  # the rooms' families before this batch's statuses
                if late:
                    o.states(late, families)
            if ConfigApplied in by_type:
                o.applied(by_type[ConfigApplied])
            if Health in by_type:
                o.health(by_type[Health])
            w.replies(by_type.get(CommandReply, []))
            result.acks = w.book.write()
            dead += w.rejected
            result.dead_letters = w.dead_letters(dead)
        result.messages = len(parsed) - len(w.rejected)
        result.conflicts = w.conflicts
        result.clock_suspects = w.clock_suspects
        result.dead_letters_by_reason.update(d.reason for d in dead)
        return result

    def write_dead_letters(self, items: Sequence[Rejected]) -> int:
        """Store dead letters alone (when the batch they came in could not be stored)."""
        with self.engine.begin() as conn:
            writer = BatchWriter(conn, self._insert, now=utcnow(), readings=self.reading_budget)
            return writer.dead_letters(items)

    def prune_dead_letters(self, *, keep: int, max_age: timedelta, now: datetime) -> int:
        """Delete dead letters older than ``max_age`` and all but the newest ``keep``."""
        d = DeadLetter
        with self.engine.begin() as conn:
            gone = conn.execute(delete(d).where(d.received_at < now - max_age)).rowcount or 0
            cutoff = conn.execute(
                select(d.id).order_by(d.id.desc()).offset(keep).limit(1)
            ).scalar_one_or_none()
            if cutoff is not None:
                gone += conn.execute(delete(d).where(d.id <= cutoff)).rowcount or 0
        return gone

    # --- commands ---------------------------------------------------

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


def _before_a_status(parsed: Sequence[Parsed]) -> tuple[list[Parsed], list[Parsed]]:
    """The batch's device states that arrived before the first status of their room in the
    same batch, and the others, each in arrival order."""
    first_status: dict[tuple[str, str], int] = {}
    for i, item in enumerate(parsed):
        if isinstance(item.message, Status):
            first_status.setdefault((item.topic.site, item.topic.room), i)
    early: list[Parsed] = []
    late: list[Parsed] = []
    for i, item in enumerate(parsed):
        if isinstance(item.message, DeviceState):
            room = (item.topic.site, item.topic.room)
            (early if i < first_status.get(room, -1) else late).append(item)
    return early, late


__all__ = ["BatchResult", "SiteSpec", "Store"]
