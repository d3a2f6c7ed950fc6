"""The schema of the last hub before migrations, frozen: the baseline revision creates it, and
a database that hub made is brought to it before it is stamped.

Never edit it to follow the models: a change of schema is a new revision in ``versions/``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Connection,
    Date,
    DateTime,
    Float,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    inspect,
    text,
)

metadata = MetaData()
"""The baseline's tables."""

_ID = BigInteger().with_variant(Integer, "sqlite")
"""A row id: BIGSERIAL on PostgreSQL, SQLite's own INTEGER PRIMARY KEY."""
_UTC = DateTime(timezone=True)


def _zero(name: str, type_: Integer) -> Column[int]:
    return Column(name, type_, nullable=False, server_default="0")


Table(
    "sites",
    metadata,
    Column("id", String(63), nullable=False),
    Column("name", String(200), nullable=False),
    PrimaryKeyConstraint("id"),
)
Table(
    "rooms",
    metadata,
    Column("site_id", String(63), nullable=False),
    Column("room_id", String(63), nullable=False),
    Column("name", String(200), nullable=False),
    Column("online", Boolean, nullable=False),
    Column("last_status_at", _UTC),
    Column("boot", String(64)),
    Column("keepalive", Integer),
    Column("agent_version", String(64)),
    Column("families", JSON),
    Column("status_era", Integer),
    Column("status_boot_no", Integer),
    Column("status_conn", Integer),
    Column("status_rank", Integer),
    Column("last_seen_at", _UTC),
    _zero("clock_suspects", Integer()),
    Column("clock_skew_s", Float),
    Column("clock_suspect_at", _UTC),
    Column("config_version_pushed", Integer, nullable=False),
    Column("config_settings", JSON),
    Column("config_version_applied", Integer),
    Column("config_applied_ok", Boolean),
    Column("config_applied_text", Text),
    Column("config_refused_version", Integer),
    Column("applied_era", Integer),
    Column("applied_boot_no", Integer),
    Column("applied_n", Integer),
    PrimaryKeyConstraint("site_id", "room_id"),
    ForeignKeyConstraint(["site_id"], ["sites.id"], ondelete="CASCADE"),
)
Table(
    "telemetry",
    metadata,
    Column("id", _ID, nullable=False, autoincrement=True),
    Column("agent", String(127), nullable=False),
    Column("boot", String(64), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("device", String(63), nullable=False),
    Column("metric", String(63), nullable=False),
    Column("value", Float, nullable=False),
    Column("ts", _UTC, nullable=False),
    PrimaryKeyConstraint("id"),
    UniqueConstraint("agent", "boot", "seq", "metric", name="uq_telemetry_message_metric"),
    Index("ix_telemetry_agent_metric_ts", "agent", "metric", "ts"),
)
Table(
    "latest_readings",
    metadata,
    Column("agent", String(127), nullable=False),
    Column("device", String(63), nullable=False),
    Column("metric", String(63), nullable=False),
    Column("value", Float, nullable=False),
    Column("ts", _UTC, nullable=False),
    _zero("era", Integer()),
    _zero("boot_no", Integer()),
    _zero("seq", BigInteger()),
    PrimaryKeyConstraint("agent", "device", "metric"),
)
Table(
    "events",
    metadata,
    Column("id", _ID, nullable=False, autoincrement=True),
    Column("agent", String(127), nullable=False),
    Column("boot", String(64), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("kind", String(63), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("device", String(63)),
    Column("text", Text, nullable=False),
    Column("data", JSON, nullable=False),
    Column("ts", _UTC, nullable=False),
    PrimaryKeyConstraint("id"),
    UniqueConstraint("agent", "boot", "seq", name="uq_events_message"),
    Index("ix_events_agent_ts", "agent", "ts"),
)
Table(
    "device_state",
    metadata,
    Column("site", String(63), nullable=False),
    Column("room", String(63), nullable=False),
    Column("device", String(63), nullable=False),
    Column("family", String(63), nullable=False),
    Column("state", JSON, nullable=False),
    Column("available", Boolean, nullable=False),
    Column("updated_at", _UTC, nullable=False),
    _zero("era", Integer()),
    _zero("boot_no", Integer()),
    _zero("n", Integer()),
    PrimaryKeyConstraint("site", "room", "device"),
)
Table(
    "boots",
    metadata,
    Column("agent", String(127), nullable=False),
    Column("boot", String(64), nullable=False),
    Column("boot_no", Integer, nullable=False),
    Column("era", Integer, nullable=False),
    Column("first_seen", _UTC, nullable=False),
    Column("last_seen", _UTC, nullable=False),
    Column("stored", JSON, nullable=False),
    _zero("stored_floor", BigInteger()),
    _zero("highest", BigInteger()),
    Column("dropped", JSON, nullable=False),
    _zero("dropped_count", BigInteger()),
    Column("end_seq", BigInteger),
    Column("missing", JSON, nullable=False),
    _zero("missing_count", BigInteger()),
    PrimaryKeyConstraint("agent", "boot"),
    Index("ix_boots_agent", "agent"),
)
Table(
    "agent_health",
    metadata,
    Column("site", String(63), nullable=False),
    Column("room", String(63), nullable=False),
    Column("boot", String(64), nullable=False),
    Column("era", Integer, nullable=False),
    Column("boot_no", Integer, nullable=False),
    Column("n", Integer, nullable=False),
    Column("report", JSON, nullable=False),
    Column("clock_offset_s", Float),
    Column("received_at", _UTC, nullable=False),
    PrimaryKeyConstraint("site", "room"),
)
Table(
    "dead_letters",
    metadata,
    Column("id", _ID, nullable=False, autoincrement=True),
    Column("topic", Text, nullable=False),
    Column("payload", LargeBinary, nullable=False),
    Column("size", Integer, nullable=False),
    Column("reason", String(32), nullable=False),
    Column("detail", Text, nullable=False),
    Column("received_at", _UTC, nullable=False),
    PrimaryKeyConstraint("id"),
    Index("ix_dead_letters_received_at", "received_at"),
)
Table(
    "commands",
    metadata,
    Column("id", String(64), nullable=False),
    Column("site", String(63), nullable=False),
    Column("room", String(63), nullable=False),
    Column("device", String(63), nullable=False),
    Column("action", String(63), nullable=False),
    Column("params", JSON, nullable=False),
    Column("issuer", String(200), nullable=False),
    Column("sent_at", _UTC, nullable=False),
    Column("expires_at", _UTC, nullable=False),
    Column("reply_code", String(32)),
    Column("reply_text", Text),
    Column("reply_at", _UTC),
    PrimaryKeyConstraint("id"),
    Index("ix_commands_room_sent_at", "site", "room", "sent_at"),
)
Table(
    "users",
    metadata,
    Column("id", Integer, nullable=False, autoincrement=True),
    Column("username", String(63), nullable=False, unique=True),
    Column("display_name", String(200), nullable=False),
    Column("role", String(16), nullable=False),
    Column("password_hash", String(255), nullable=False),
    Column("disabled", Boolean, nullable=False),
    Column("created_at", _UTC, nullable=False),
    Column("password_changed_at", _UTC, nullable=False),
    Column("last_login_at", _UTC),
    PrimaryKeyConstraint("id"),
)
Table(
    "user_sites",
    metadata,
    Column("user_id", Integer, nullable=False),
    Column("site_id", String(63), nullable=False),
    PrimaryKeyConstraint("user_id", "site_id"),
    ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
)
Table(
    "user_rooms",
    metadata,
    Column("user_id", Integer, nullable=False),
    Column("site_id", String(63), nullable=False),
    Column("room_id", String(63), nullable=False),
    PrimaryKeyConstraint("user_id", "site_id", "room_id"),
    ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
)
Table(
    "api_tokens",
    metadata,
    Column("id", Integer, nullable=False, autoincrement=True),
    Column("user_id", Integer, nullable=False, index=True),
    Column("name", String(80), nullable=False),
    Column("digest", String(64), nullable=False, unique=True),
    Column("created_at", _UTC, nullable=False),
    Column("expires_at", _UTC),
    Column("last_used_at", _UTC),
    Column("revoked_at", _UTC),
    PrimaryKeyConstraint("id"),
    ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
)
Table(
    "web_sessions",
    metadata,
    Column("id", Integer, nullable=False, autoincrement=True),
    Column("user_id", Integer, nullable=False, index=True),
    Column("digest", String(64), nullable=False, unique=True),
    Column("csrf", String(64), nullable=False),
    Column("created_at", _UTC, nullable=False),
    Column("last_used_at", _UTC, nullable=False),
    Column("expires_at", _UTC, nullable=False),
    Column("address", String(64), nullable=False),
    PrimaryKeyConstraint("id"),
    ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
)
Table(
    "audit_log",
    metadata,
    Column("id", Integer, nullable=False, autoincrement=True),
    Column("at", _UTC, nullable=False),
    Column("actor", String(63), nullable=False),
    Column("role", String(16), nullable=False),
    Column("via", String(16), nullable=False),
    Column("address", String(64), nullable=False),
    Column("action", String(40), nullable=False),
    Column("site", String(63)),
    Column("room", String(63)),
    Column("device", String(63)),
    Column("outcome", String(40), nullable=False),
    Column("duration_ms", Float),
    Column("detail", JSON, nullable=False),
    PrimaryKeyConstraint("id"),
    Index("ix_audit_at", "at"),
    Index("ix_audit_site_room_at", "site", "room", "at"),
    Index("ix_audit_actor_at", "actor", "at"),
)

alerts = Table(
    "alerts",
    metadata,
    Column("id", Integer, nullable=False, autoincrement=True),
    Column("kind", String(32), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("site", String(63), nullable=False),
    Column("room", String(63), nullable=False),
    Column("device", String(63), nullable=False, server_default=""),
    Column("state", String(16), nullable=False),
    Column("active", Boolean, nullable=False),
    Column("started_at", _UTC, nullable=False),
    Column("last_at", _UTC, nullable=False),
    Column("ended_at", _UTC),
    _zero("repeats", Integer()),
    Column("text", Text, nullable=False),
    Column("data", JSON, nullable=False),
    Column("source", String(200), nullable=False, server_default=""),
    Column("level", Float),
    Column("acknowledged_by", String(63)),
    Column("acknowledged_at", _UTC),
    Column("ack_comment", Text),
    Column("resolved_by", String(63)),
    Column("resolved_at", _UTC),
    Column("resolve_comment", Text),
    Column("cause_ended_at", _UTC),
    PrimaryKeyConstraint("id"),
    Index("ix_alerts_started_at", "started_at"),
    Index("ix_alerts_site_room_started_at", "site", "room", "started_at"),
)
Index(
    "uq_alerts_active",
    alerts.c.kind,
    alerts.c.site,
    alerts.c.room,
    alerts.c.device,
    unique=True,
    sqlite_where=alerts.c.active.is_(True),
    postgresql_where=alerts.c.active.is_(True),
)
Table(
    "alert_transitions",
    metadata,
    Column("id", Integer, nullable=False, autoincrement=True),
    Column("alert_id", Integer, nullable=False),
    Column("at", _UTC, nullable=False),
    Column("action", String(16), nullable=False),
    Column("actor", String(63), nullable=False, server_default=""),
    Column("comment", Text, nullable=False, server_default=""),
    Column("source", String(200)),
    Column("data", JSON, nullable=False),
    PrimaryKeyConstraint("id"),
    UniqueConstraint("source", name="uq_alert_transitions_source"),
    ForeignKeyConstraint(["alert_id"], ["alerts.id"], ondelete="CASCADE"),
    Index("ix_alert_transitions_alert", "alert_id", "id"),
)

Table(
    "site_config_versions",
    metadata,
    Column("site", String(63), nullable=False),
    Column("version", Integer, nullable=False, autoincrement=False),
    Column("document", JSON, nullable=False),
    Column("author", String(63), nullable=False),
    Column("role", String(16), nullable=False),
    Column("created_at", _UTC, nullable=False),
    Column("comment", Text, nullable=False),
    PrimaryKeyConstraint("site", "version"),
    ForeignKeyConstraint(["site"], ["sites.id"], ondelete="CASCADE"),
)
Table(
    "room_config_versions",
    metadata,
    Column("site", String(63), nullable=False),
    Column("room", String(63), nullable=False),
    Column("version", Integer, nullable=False, autoincrement=False),
    Column("document", JSON, nullable=False),
    Column("site_version", Integer, nullable=False),
    Column("effective", JSON, nullable=False),
    Column("cause", String(16), nullable=False),
    Column("author", String(63), nullable=False),
    Column("role", String(16), nullable=False),
    Column("created_at", _UTC, nullable=False),
    Column("comment", Text, nullable=False),
    PrimaryKeyConstraint("site", "room", "version"),
    ForeignKeyConstraint(["site", "room"], ["rooms.site_id", "rooms.room_id"], ondelete="CASCADE"),
)

_USAGE_SUMS = (
    "covered_s", "on_s", "empty_s", "closed_s", "waste_s", "energy_wh", "waste_wh",
    "occupied_s", "co2_1000_s", "co2_1500_s", "temp_sum", "temp_n", "noise_sum", "noise_n",
)  # fmt: skip
"""The measures of the usage tables that add up (``*_n``: counts, integers)."""


def _usage_sums() -> list[Column[Any]]:
    return [
        Column(name, Integer if name.endswith("_n") else Float, nullable=False, server_default="0")
        for name in _USAGE_SUMS
    ]


def _usage_device(period: str, period_type: Date | DateTime) -> list[Column[Any]]:
    """The key, kind and measure columns of ``usage_hourly`` and ``usage_daily``."""
    return [
        Column("site", String(63), nullable=False),
        Column(period, period_type, nullable=False),
        Column("room", String(63), nullable=False),
        Column("device", String(63), nullable=False),
        Column("part", String(63), nullable=False),
        Column("kind", String(16), nullable=False),
        *_usage_sums(),
        Column("lamp_h", Float),
        Column("filter_h", Float),
    ]


Table(
    "usage_hourly",
    metadata,
    *_usage_device("hour", _UTC),
    PrimaryKeyConstraint("site", "hour", "room", "device", "part"),
    Index("ix_usage_hourly_hour", "hour"),
    sqlite_with_rowid=False,
)
Table(
    "usage_daily",
    metadata,
    *_usage_device("day", Date()),
    PrimaryKeyConstraint("site", "day", "room", "device", "part"),
    Index("ix_usage_daily_day", "day"),
    sqlite_with_rowid=False,
)
Table(
    "usage_site_daily",
    metadata,
    Column("site", String(63), nullable=False),
    Column("day", Date, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("device", String(63), nullable=False),
    Column("part", String(63), nullable=False),
    *_usage_sums(),
    PrimaryKeyConstraint("site", "day", "kind", "device", "part"),
    sqlite_with_rowid=False,
)
Table(
    "usage_room_daily",
    metadata,
    Column("site", String(63), nullable=False),
    Column("day", Date, nullable=False),
    Column("room", String(63), nullable=False),
    *(
        Column(name, Float, nullable=False, server_default="0")
        for name in ("covered_s", "occupied_s", "co2_1000_s", "co2_1500_s")
    ),
    PrimaryKeyConstraint("site", "day", "room"),
    sqlite_with_rowid=False,
)


def complete(conn: Connection) -> None:
    """Bring a database of a hub from before migrations to the baseline, as that hub's own
    start did: create the tables it lacks, and add the columns an older hub's tables lack
    (every column added before the baseline is nullable or has a server default)."""
    metadata.create_all(conn)
    inspector = inspect(conn)
    preparer = conn.dialect.identifier_preparer
    for table in metadata.sorted_tables:
        have = {c["name"] for c in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name in have:
                continue
            ddl = (
                f"ALTER TABLE {preparer.format_table(table)} ADD COLUMN "
                f"{preparer.format_column(column)} {column.type.compile(conn.dialect)}"
            )
            if column.server_default is not None:
                default = str(column.server_default.arg).replace("'", "''")  # type: ignore[attr-defined]
                ddl += f" DEFAULT '{default}'" + ("" if column.nullable else " NOT NULL")
            conn.execute(text(ddl))


__all__ = ["complete", "metadata"]
