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
DEAD_LETTER_MAX_BYTES = 4 * 1024
"""Longest payload kept for a dead letter; the rest is cut off (``size`` tells the whole)."""
DEAD_LETTER_TOPIC_MAX = 512
"""Longest topic kept for a dead letter (MQTT allows 65 535 bytes)."""
DETAIL_MAX = 2000
"""Longest reason text kept for a dead letter."""
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
    """Declarative base of every hub table. A change to them needs a migration in
    ``hub/migrations`` (docs/design.md, "Migrations"): a test compares the two."""

    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UtcDateTime,
        dict[str, Any]: JSON,
        list[Any]: JSON,
    }


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
    """When the hub received the status it applied last (the hub's clock)."""
    boot: Mapped[str | None] = mapped_column(String(64))
    keepalive: Mapped[int | None] = mapped_column(Integer)
    agent_version: Mapped[str | None] = mapped_column(String(AGENT_VERSION_MAX))
    families: Mapped[dict[str, Any] | None]
    """Device id → family, from the status applied last: a state of another family is refused."""
    status_era: Mapped[int | None] = mapped_column(Integer)
    status_boot_no: Mapped[int | None] = mapped_column(Integer)
    status_conn: Mapped[int | None] = mapped_column(Integer)
    status_rank: Mapped[int | None] = mapped_column(Integer)
    """The order key of the status applied last (see ``hub.ordering``)."""
    last_seen_at: Mapped[datetime | None]
    """When the hub last received anything valid from the room's agent (the hub's clock)."""
    clock_suspects: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """Messages whose time was far from the hub's clock."""
    clock_skew_s: Mapped[float | None] = mapped_column(Float)
    """The last such skew, seconds (positive: the agent's clock is ahead)."""
    clock_suspect_at: Mapped[datetime | None]
    config_version_pushed: Mapped[int] = mapped_column(Integer, default=0)
    config_settings: Mapped[dict[str, Any] | None]
    """Settings of the last configuration pushed."""
    config_version_applied: Mapped[int | None] = mapped_column(Integer)
    config_applied_ok: Mapped[bool | None] = mapped_column(Boolean)
    config_applied_text: Mapped[str | None] = mapped_column(Text)
    config_refused_version: Mapped[int | None] = mapped_column(Integer)
    """The version the agent last refused (0 or None: none since it applied one)."""
    applied_era: Mapped[int | None] = mapped_column(Integer)
    applied_boot_no: Mapped[int | None] = mapped_column(Integer)
    applied_n: Mapped[int | None] = mapped_column(Integer)


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
    """The newest value of each metric of each device: the room list reads this, not telemetry.

    Newest by (era, boot_no, seq) of the agent, never by the sample's ``ts``.
    """

    __tablename__ = "latest_readings"

    agent: Mapped[str] = mapped_column(String(127), primary_key=True)
    device: Mapped[str] = mapped_column(String(63), primary_key=True)
    metric: Mapped[str] = mapped_column(String(63), primary_key=True)
    value: Mapped[float] = mapped_column(Float)
    ts: Mapped[datetime]
    era: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    boot_no: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    seq: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


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
    """``ts`` of the state message (informative: order comes from the counters below)."""
    era: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    boot_no: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    n: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class Boot(Base):
    """One start of one agent: its order, what of its telemetry and events is stored, what
    the agent says it dropped, where it ended, and so what is missing."""

    __tablename__ = "boots"
    __table_args__ = (Index("ix_boots_agent", "agent"),)

    agent: Mapped[str] = mapped_column(String(127), primary_key=True)
    boot: Mapped[str] = mapped_column(String(64), primary_key=True)
    boot_no: Mapped[int] = mapped_column(Integer)
    era: Mapped[int] = mapped_column(Integer)
    first_seen: Mapped[datetime]
    last_seen: Mapped[datetime]
    stored: Mapped[list[Any]] = mapped_column(JSON)
    """Sequence numbers stored, as inclusive ranges ``[[1, 40], [42, 97]]`` (bounded)."""
    stored_floor: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    """Ranges at or below this were cut off the list to bound it: not counted as missing."""
    highest: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    dropped: Mapped[list[Any]] = mapped_column(JSON)
    """What the agent reports it dropped (its outbox bounds), as ranges."""
    dropped_count: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    end_seq: Mapped[int | None] = mapped_column(BigInteger)
    """The boot's last sequence number as the agent reported it (None: not known)."""
    missing: Mapped[list[Any]] = mapped_column(JSON)
    """[1 .. max(highest, end_seq)] minus stored minus dropped (the highest ranges, bounded)."""
    missing_count: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


class AgentHealth(Base):
    """The newest ``Health`` report of each room's agent."""

    __tablename__ = "agent_health"

    site: Mapped[str] = mapped_column(String(63), primary_key=True)
    room: Mapped[str] = mapped_column(String(63), primary_key=True)
    boot: Mapped[str] = mapped_column(String(64))
    era: Mapped[int] = mapped_column(Integer)
    boot_no: Mapped[int] = mapped_column(Integer)
    n: Mapped[int] = mapped_column(Integer)
    report: Mapped[dict[str, Any]]
    """The report as the agent sent it (bounded by the contract)."""
    clock_offset_s: Mapped[float | None] = mapped_column(Float)
    received_at: Mapped[datetime]


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


def load_models() -> None:
    """Import every module that declares tables, so ``Base.metadata`` holds them all."""
    import hub.alerts.tables
    import hub.attendance_tables
    import hub.audit
    import hub.config_versions
    import hub.latest
    import hub.rollup_tables
    import hub.users  # noqa: F401


def create_schema(engine: Engine) -> None:
    """Bring the database to the newest schema, the migrations' head (``hub.migrate``, which
    also adopts a database made by a hub from before migrations): for the tools and tests
    that make a database of their own; the hub does it at start."""
    from hub.migrate import upgrade  # Alembic is loaded only where a schema is made

    upgrade(engine)


__all__ = [
    "AGENT_VERSION_MAX",
    "CONNECT_TIMEOUT_S",
    "DEAD_LETTER_MAX_BYTES",
    "DEAD_LETTER_TOPIC_MAX",
    "DETAIL_MAX",
    "AgentHealth",
    "Base",
    "Boot",
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
    "load_models",
    "make_engine",
]
