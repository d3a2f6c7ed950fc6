"""Reads of the hub's database used by the API: rooms, devices, readings, history, dead letters."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Engine, Integer, cast, func, select

from hub.db import (
    AgentHealth,
    Boot,
    DeadLetter,
    DeviceStateRow,
    EventRow,
    LatestReading,
    Room,
    Site,
    TelemetryPoint,
)
from hub.latest import SuspectView, shown_suspects, suspect_rows
from protocol.attendance import EVENT_KINDS, KIND_CARD_REFUSED, KIND_HEADCOUNT, KIND_SUMMARY

HISTORY_MAX_POINTS = 10_000
"""Most points (or buckets) one history query returns; a larger limit is cut to this."""
EVENTS_MAX = 500
"""Most events one room query returns."""
PERSONAL_KINDS = sorted(EVENT_KINDS - {KIND_CARD_REFUSED, KIND_SUMMARY, KIND_HEADCOUNT})
"""Attendance events that name a student (marks, consent, enrolments)."""
BOOTS_SHOWN = 8
"""Boots shown in a room's detail (the most recent)."""


@dataclass(frozen=True, slots=True)
class ReadingView:
    device: str
    value: float
    ts: datetime


@dataclass(frozen=True, slots=True)
class RoomView:
    site: str
    room: str
    name: str
    online: bool
    last_status_at: datetime | None
    boot: str | None
    keepalive: int | None
    agent_version: str | None
    config_version_pushed: int
    config_version_applied: int | None
    config_applied_ok: bool | None
    config_applied_text: str | None
    config_settings: dict[str, Any] | None
    last_seen: datetime | None = None
    """When the hub last received anything valid from the room (the hub's clock)."""
    clock_suspects: int = 0
    clock_skew_s: float | None = None
    clock_suspect_at: datetime | None = None
    readings: dict[str, ReadingView] = field(default_factory=dict)
    """Newest trusted value of each metric (of whichever device reported it last)."""
    clock_suspect_readings: dict[str, SuspectView] = field(default_factory=dict)
    """Newer readings than those of ``readings`` whose time the hub doubts (``hub.latest``)."""


@dataclass(frozen=True, slots=True)
class DeviceView:
    device: str
    family: str
    state: dict[str, Any]
    available: bool
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class EventView:
    kind: str
    severity: str
    device: str | None
    text: str
    data: dict[str, Any]
    ts: datetime
    boot: str
    seq: int


@dataclass(frozen=True, slots=True)
class PointView:
    ts: datetime
    value: float
    device: str


@dataclass(frozen=True, slots=True)
class BucketView:
    ts: datetime
    """Start of the bucket."""
    value: float
    """Average of the bucket."""
    min: float
    max: float
    count: int


@dataclass(frozen=True, slots=True)
class BootView:
    boot: str
    boot_no: int
    era: int
    first_seen: datetime
    last_seen: datetime
    highest: int
    end_seq: int | None
    missing: list[tuple[int, int]]
    missing_count: int
    dropped_count: int
    stored_floor: int


@dataclass(frozen=True, slots=True)
class AgentHealthView:
    boot: str
    report: dict[str, Any]
    clock_offset_s: float | None
    received_at: datetime


@dataclass(frozen=True, slots=True)
class LossTotals:
    boots: int
    """Boots known."""
    boots_missing: int
    """Boots with something missing."""
    missing: int
    dropped: int


@dataclass(frozen=True, slots=True)
class DeadLetterView:
    id: int
    topic: str
    reason: str
    detail: str
    size: int
    payload: bytes
    received_at: datetime


class Queries:
    """Read-only queries; sync, for a worker thread."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def ping(self) -> None:
        """Raise if the database cannot answer."""
        with self.engine.connect() as conn:
            conn.execute(select(1))

    def _bucket(self, column: Any, interval_s: int) -> ColumnElement[int]:
        """Number of the ``interval_s`` bucket of a timestamp since 1970, computed in SQL.

        Both count from the epoch, so buckets never depend on the server's time zone.
        """
        if self.engine.dialect.name == "sqlite":
            # Whole seconds cut from the UTC text ("YYYY-MM-DD HH:MM:SS.ffffff") first: SQLite
            # rounds fractions to milliseconds, which moved 1 µs before a boundary past it.
            seconds = func.strftime("%s", func.substr(column, 1, 19))
            return cast(seconds, Integer) // interval_s
        return cast(func.floor(func.extract("epoch", column) / interval_s), BigInteger)

    def list_rooms(self) -> list[RoomView]:
        with self.engine.connect() as conn:
            rooms = conn.execute(select(Room).order_by(Room.site_id, Room.room_id)).all()
            latest = conn.execute(select(LatestReading)).all()
            doubted = suspect_rows(conn)
        readings = _newest_per_metric(latest)
        suspects = shown_suspects(latest, doubted)
        views = []
        for r in rooms:
            agent = f"{r.site_id}/{r.room_id}"
            views.append(_room_view(r, readings.get(agent, {}), suspects.get(agent, {})))
        return views

    def get_room(self, site: str, room: str) -> RoomView | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(Room).where(Room.site_id == site, Room.room_id == room)
            ).first()
            if row is None:
                return None
            agent = f"{site}/{room}"
            latest = conn.execute(select(LatestReading).where(LatestReading.agent == agent)).all()
            doubted = suspect_rows(conn, agent)
        return _room_view(
            row,
            _newest_per_metric(latest).get(agent, {}),
            shown_suspects(latest, doubted).get(agent, {}),
        )

    def room_exists(self, site: str, room: str) -> bool:
        with self.engine.connect() as conn:
            found = conn.execute(
                select(Room.room_id).where(Room.site_id == site, Room.room_id == room)
            ).first()
        return found is not None

    def site_exists(self, site: str) -> bool:
        with self.engine.connect() as conn:
            found = conn.execute(select(Site.id).where(Site.id == site)).first()
        return found is not None

    def devices(self, site: str, room: str) -> list[DeviceView]:
        stmt = (
            select(DeviceStateRow)
            .where(DeviceStateRow.site == site, DeviceStateRow.room == room)
            .order_by(DeviceStateRow.device)
        )
        with self.engine.connect() as conn:
            return [
                DeviceView(r.device, r.family, r.state, r.available, r.updated_at)
                for r in conn.execute(stmt)
            ]

    def recent_events(self, site: str, room: str, limit: int = 20) -> list[EventView]:
        """The room's most recent events, newest stored first (by arrival, not by ``ts``).
        Attendance events naming a student are personal data: they are read through the
        attendance routes only (``personal.read``, audited), never here."""
        stmt = (
            select(EventRow)
            .where(EventRow.agent == f"{site}/{room}", EventRow.kind.not_in(PERSONAL_KINDS))
            .order_by(EventRow.id.desc())
            .limit(min(limit, EVENTS_MAX))
        )
        with self.engine.connect() as conn:
            return [
                EventView(r.kind, r.severity, r.device, r.text, r.data, r.ts, r.boot, r.seq)
                for r in conn.execute(stmt)
            ]

    def telemetry(
        self,
        site: str,
        room: str,
        metric: str,
        start: datetime,
        end: datetime,
        *,
        device: str | None = None,
        limit: int = 10_000,
    ) -> list[PointView]:
        """Raw points of one metric in [start, end), oldest first."""
        t = TelemetryPoint
        stmt = select(t.ts, t.value, t.device).where(
            t.agent == f"{site}/{room}", t.metric == metric, t.ts >= start, t.ts < end
        )
        if device is not None:
            stmt = stmt.where(t.device == device)
        with self.engine.connect() as conn:
            limited = stmt.order_by(t.ts, t.id).limit(min(limit, HISTORY_MAX_POINTS))
            rows = conn.execute(limited).all()
        return [PointView(r.ts, r.value, r.device) for r in rows]

    def telemetry_buckets(
        self,
        site: str,
        room: str,
        metric: str,
        start: datetime,
        end: datetime,
        interval_s: int,
        *,
        device: str | None = None,
        limit: int = 10_000,
    ) -> list[BucketView]:
        """One metric averaged per ``interval_s`` bucket (aligned to the epoch), in SQL."""
        t = TelemetryPoint
        bucket = self._bucket(t.ts, interval_s)
        stmt = select(
            bucket.label("bucket"),
            func.avg(t.value).label("avg"),
            func.min(t.value).label("min"),
            func.max(t.value).label("max"),
            func.count().label("n"),
        ).where(t.agent == f"{site}/{room}", t.metric == metric, t.ts >= start, t.ts < end)
        if device is not None:
            stmt = stmt.where(t.device == device)
        stmt = stmt.group_by(bucket).order_by(bucket).limit(min(limit, HISTORY_MAX_POINTS))
        with self.engine.connect() as conn:
            rows = conn.execute(stmt).all()
        return [
            BucketView(
                datetime.fromtimestamp(int(r.bucket) * interval_s, UTC),
                float(r.avg),
                float(r.min),
                float(r.max),
                int(r.n),
            )
            for r in rows
        ]

    def boots(self, site: str, room: str, limit: int = BOOTS_SHOWN) -> list[BootView]:
        """The agent's most recent boots (newest first) with what is missing of each."""
        b = Boot
        stmt = (
            select(b)
            .where(b.agent == f"{site}/{room}")
            .order_by(b.era.desc(), b.boot_no.desc(), b.last_seen.desc())
            .limit(min(limit, BOOTS_SHOWN))
        )
        with self.engine.connect() as conn:
            return [
                BootView(
                    r.boot, r.boot_no, r.era, r.first_seen, r.last_seen, r.highest, r.end_seq,
                    [(int(x[0]), int(x[1])) for x in r.missing or []], r.missing_count,
                    r.dropped_count, r.stored_floor,
                )
                for r in conn.execute(stmt)
            ]  # fmt: skip

    def agent_health(self, site: str, room: str) -> AgentHealthView | None:
        """The newest Health report of the room's agent."""
        h = AgentHealth
        with self.engine.connect() as conn:
            r = conn.execute(select(h).where(h.site == site, h.room == room)).first()
        if r is None:
            return None
        return AgentHealthView(r.boot, r.report, r.clock_offset_s, r.received_at)

    def loss_totals(self) -> LossTotals:
        """Boots known, and what is missing and dropped over all of them."""
        b = Boot
        stmt = select(
            func.count(),
            func.count().filter(b.missing_count > 0),
            func.coalesce(func.sum(b.missing_count), 0),
            func.coalesce(func.sum(b.dropped_count), 0),
        )
        with self.engine.connect() as conn:
            boots, with_missing, missing, dropped = conn.execute(stmt).one()
        return LossTotals(int(boots), int(with_missing), int(missing), int(dropped))

    def clock_suspect_rooms(self, since: datetime) -> int:
        """Rooms that sent a time far from the hub's clock since ``since``."""
        stmt = select(func.count()).where(Room.clock_suspect_at >= since)
        with self.engine.connect() as conn:
            return int(conn.execute(stmt).scalar_one())

    def dead_letters(self, limit: int = 100) -> list[DeadLetterView]:
        stmt = select(DeadLetter).order_by(DeadLetter.id.desc()).limit(limit)
        with self.engine.connect() as conn:
            return [
                DeadLetterView(r.id, r.topic, r.reason, r.detail, r.size, r.payload, r.received_at)
                for r in conn.execute(stmt)
            ]

    def dead_letter_counts(self) -> dict[str, int]:
        stmt = select(DeadLetter.reason, func.count()).group_by(DeadLetter.reason)
        with self.engine.connect() as conn:
            return {reason: int(n) for reason, n in conn.execute(stmt)}


def _newest_per_metric(rows: Sequence[Any]) -> dict[str, dict[str, ReadingView]]:
    """Per agent and metric, the reading newest by the agent's counters (of any device)."""
    out: dict[str, dict[str, ReadingView]] = {}
    ranks: dict[tuple[str, str], tuple[int, int, int]] = {}
    for r in rows:
        rank = (r.era, r.boot_no, r.seq)
        key = (r.agent, r.metric)
        if key not in ranks or ranks[key] < rank:
            ranks[key] = rank
            out.setdefault(r.agent, {})[r.metric] = ReadingView(r.device, r.value, r.ts)
    return out


def _room_view(
    r: Any, readings: dict[str, ReadingView], suspects: dict[str, SuspectView]
) -> RoomView:
    return RoomView(
        site=r.site_id,
        room=r.room_id,
        name=r.name,
        online=r.online,
        last_status_at=r.last_status_at,
        boot=r.boot,
        keepalive=r.keepalive,
        agent_version=r.agent_version,
        config_version_pushed=r.config_version_pushed,
        config_version_applied=r.config_version_applied,
        config_applied_ok=r.config_applied_ok,
        config_applied_text=r.config_applied_text,
        config_settings=r.config_settings,
        last_seen=r.last_seen_at,
        clock_suspects=r.clock_suspects or 0,
        clock_skew_s=r.clock_skew_s,
        clock_suspect_at=r.clock_suspect_at,
        readings=readings,
        clock_suspect_readings=suspects,
    )


__all__ = [
    "BOOTS_SHOWN",
    "EVENTS_MAX",
    "HISTORY_MAX_POINTS",
    "AgentHealthView",
    "BootView",
    "BucketView",
    "LossTotals",
    "DeadLetterView",
    "DeviceView",
    "EventView",
    "PointView",
    "Queries",
    "ReadingView",
    "RoomView",
]
