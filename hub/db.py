"""Database schema (SQLAlchemy 2 typed ORM) and the engine factory for SQLite and PostgreSQL."""

from __future__ import annotations

import importlib.util
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Dialect,
    Engine,
    Float,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    make_url,
)
from sqlalchemy.engine import URL
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

AGENT_VERSION_MAX = 64
"""Longest agent version kept (PostgreSQL enforces string lengths, SQLite does not)."""
DEAD_LETTER_MAX_BYTES = 64 * 1024
"""Longest payload kept for a dead letter; the rest is cut off."""
CONNECT_TIMEOUT_S = 10
"""Seconds a PostgreSQL connection attempt may take, unless the URL sets ``connect_timeout``."""


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive, in UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            msg = "naive datetime given to a UTC column"
            raise ValueError(msg)
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base of every hub table."""

    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UtcDateTime, dict[str, Any]: JSON}


class Site(Base):
    __tablename__ = "sites"

    id: Mapped[str] = mapped_column(String(63), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))


class Room(Base):
    __tablename__ = "rooms"
    __table_args__ = (ForeignKeyConstraint(["site_id"], ["sites.id"], ondelete="CASCADE"),)

    site_id: Mapped[str] = mapped_column(String(63), primary_key=True)
    room_id: Mapped[str] = mapped_column(String(63), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    online: Mapped[bool] = mapped_column(Boolean, default=False)
    last_status_at: Mapped[datetime | None]
    """``ts`` of the newest status stored: an older status never overwrites it."""
    boot: Mapped[str | None] = mapped_column(String(64))
    keepalive: Mapped[int | None] = mapped_column(Integer)
    agent_version: Mapped[str | None] = mapped_column(String(AGENT_VERSION_MAX))
    config_version_pushed: Mapped[int] = mapped_column(Integer, default=0)
    config_settings: Mapped[dict[str, Any] | None]
    """Settings of the last configuration pushed."""
    config_version_applied: Mapped[int | None] = mapped_column(Integer)
    config_applied_ok: Mapped[bool | None] = mapped_column(Boolean)
    config_applied_text: Mapped[str | None] = mapped_column(Text)


class TelemetryPoint(Base):
    """One metric of one telemetry message; stored once per (agent, boot, seq, metric)."""

    __tablename__ = "telemetry"
    __table_args__ = (
        UniqueConstraint("agent", "boot", "seq", "metric", name="uq_telemetry_message_metric"),
        Index("ix_telemetry_agent_metric_ts", "agent", "metric", "ts"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    agent: Mapped[str] = mapped_column(String(127))
    """``{site}/{room}``, taken from the topic."""
    boot: Mapped[str] = mapped_column(String(64))
    seq: Mapped[int] = mapped_column(BigInteger)
    device: Mapped[str] = mapped_column(String(63))
    metric: Mapped[str] = mapped_column(String(63))
    value: Mapped[float] = mapped_column(Float)
    ts: Mapped[datetime]


class LatestReading(Base):
    """The newest value of each metric of each device: the room list reads this, not telemetry."""

    __tablename__ = "latest_readings"

    agent: Mapped[str] = mapped_column(String(127), primary_key=True)
    device: Mapped[str] = mapped_column(String(63), primary_key=True)
    metric: Mapped[str] = mapped_column(String(63), primary_key=True)
    value: Mapped[float] = mapped_column(Float)
    ts: Mapped[datetime]


class EventRow(Base):
    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("agent", "boot", "seq", name="uq_events_message"),
        Index("ix_events_agent_ts", "agent", "ts"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    agent: Mapped[str] = mapped_column(String(127))
    boot: Mapped[str] = mapped_column(String(64))
    seq: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(63))
    severity: Mapped[str] = mapped_column(String(16))
    device: Mapped[str | None] = mapped_column(String(63))
    text: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]]
    ts: Mapped[datetime]


class DeviceStateRow(Base):
    __tablename__ = "device_state"

    site: Mapped[str] = mapped_column(String(63), primary_key=True)
    room: Mapped[str] = mapped_column(String(63), primary_key=True)
    device: Mapped[str] = mapped_column(String(63), primary_key=True)
    family: Mapped[str] = mapped_column(String(63))
    state: Mapped[dict[str, Any]]
    available: Mapped[bool] = mapped_column(Boolean)
    updated_at: Mapped[datetime]
    """``ts`` of the state message: an older one never overwrites a newer."""


class DeadLetter(Base):
    __tablename__ = "dead_letters"
    __table_args__ = (Index("ix_dead_letters_received_at", "received_at"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    topic: Mapped[str] = mapped_column(Text)
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    """At most DEAD_LETTER_MAX_BYTES of the payload."""
    size: Mapped[int] = mapped_column(Integer)
    """Length of the whole payload in bytes."""
    reason: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime]


class CommandLog(Base):
    """Every command the hub sent and the reply it got: the start of the audit trail."""

    __tablename__ = "commands"
    __table_args__ = (Index("ix_commands_room_sent_at", "site", "room", "sent_at"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    site: Mapped[str] = mapped_column(String(63))
    room: Mapped[str] = mapped_column(String(63))
    device: Mapped[str] = mapped_column(String(63))
    action: Mapped[str] = mapped_column(String(63))
    params: Mapped[dict[str, Any]]
    issuer: Mapped[str] = mapped_column(String(200))
    sent_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    reply_code: Mapped[str | None] = mapped_column(String(32))
    reply_text: Mapped[str | None] = mapped_column(Text)
    reply_at: Mapped[datetime | None]


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


def _postgres_engine(url: URL, *, echo: bool) -> Engine:
    if url.drivername == "postgresql":  # SQLAlchemy's default would be psycopg2
        url = url.set(drivername="postgresql+psycopg")
    if url.get_driver_name() == "psycopg" and importlib.util.find_spec("psycopg") is None:
        msg = "PostgreSQL needs psycopg 3: pip install 'smartclass[postgresql]'"
        raise ModuleNotFoundError(msg, name="psycopg")
    connect_args = {} if "connect_timeout" in url.query else {"connect_timeout": CONNECT_TIMEOUT_S}
    return create_engine(url, echo=echo, pool_pre_ping=True, connect_args=connect_args)


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """An engine for ``url``; for a SQLite file: WAL, NORMAL sync, busy timeout, foreign keys.

    ``postgresql://`` means psycopg 3 (``pip install 'smartclass[postgresql]'``); a PostgreSQL
    connection attempt gives up after CONNECT_TIMEOUT_S unless the URL sets ``connect_timeout``.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        return _postgres_engine(parsed, echo=echo)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, echo=echo, pool_pre_ping=True)
    database = parsed.database
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, echo=echo, connect_args={"check_same_thread": False})
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def create_schema(engine: Engine) -> None:
    """Create the tables that do not exist yet (Alembic migrations will take this over)."""
    Base.metadata.create_all(engine)


__all__ = [
    "AGENT_VERSION_MAX",
    "CONNECT_TIMEOUT_S",
    "DEAD_LETTER_MAX_BYTES",
    "Base",
    "CommandLog",
    "DeadLetter",
    "DeviceStateRow",
    "EventRow",
    "LatestReading",
    "Room",
    "Site",
    "TelemetryPoint",
    "UtcDateTime",
    "create_schema",
    "make_engine",
]
