"""Reads of the hub's database used by the API: rooms, devices, readings, history, dead letters."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Engine, Integer, cast, func, select

from hub.db import DeadLetter, DeviceStateRow, EventRow, LatestReading, Room, TelemetryPoint


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
    readings: dict[str, ReadingView] = field(default_factory=dict)
    """Newest value of each metric (of whichever device reported it last)."""

    @property
    def last_seen(self) -> datetime | None:
        """Newest of the last status and the last reading."""
        times = [t for t in [self.last_status_at, *(r.ts for r in self.readings.values())] if t]
        return max(times, default=None)


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
        readings = _newest_per_metric(latest)
        return [_room_view(r, readings.get(f"{r.site_id}/{r.room_id}", {})) for r in rooms]

    def get_room(self, site: str, room: str) -> RoomView | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(Room).where(Room.site_id == site, Room.room_id == room)
            ).first()
            if row is None:
                return None
            latest = conn.execute(
                select(LatestReading).where(LatestReading.agent == f"{site}/{room}")
            ).all()
        return _room_view(row, _newest_per_metric(latest).get(f"{site}/{room}", {}))

    def room_exists(self, site: str, room: str) -> bool:
        with self.engine.connect() as conn:
            found = conn.execute(
                select(Room.room_id).where(Room.site_id == site, Room.room_id == room)
            ).first()
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
        stmt = (
            select(EventRow)
            .where(EventRow.agent == f"{site}/{room}")
            .order_by(EventRow.ts.desc(), EventRow.id.desc())
            .limit(limit)
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
            rows = conn.execute(stmt.order_by(t.ts, t.id).limit(limit)).all()
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
        stmt = stmt.group_by(bucket).order_by(bucket).limit(limit)
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
    out: dict[str, dict[str, ReadingView]] = {}
    for r in rows:
        metrics = out.setdefault(r.agent, {})
        seen = metrics.get(r.metric)
        if seen is None or seen.ts < r.ts:
            metrics[r.metric] = ReadingView(r.device, r.value, r.ts)
    return out


def _room_view(r: Any, readings: dict[str, ReadingView]) -> RoomView:
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
        readings=readings,
    )


__all__ = [
    "BucketView",
    "DeadLetterView",
    "DeviceView",
    "EventView",
    "PointView",
    "Queries",
    "ReadingView",
    "RoomView",
]
