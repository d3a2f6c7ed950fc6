"""The alert tables: one row per alert with its life cycle, and the history of its transitions.

They share ``hub.db.Base``, so the migrations (``hub/migrations``) keep them with the hub's
other tables.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import Base

SOURCE_MAX = 200
"""Longest source kept: ``{site}/{room}/{boot}/{seq}`` of an event, or a version of a state."""


class AlertRow(Base):
    """One alert: what, where, since when, where it stands, and who handled it.

    While it is open or acknowledged it is *active*, and at most one active alert exists per
    (kind, site, room, device): a unique index says so, for every hub sharing the database.
    """

    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32))
    severity: Mapped[str] = mapped_column(String(16))
    site: Mapped[str] = mapped_column(String(63))
    room: Mapped[str] = mapped_column(String(63))
    device: Mapped[str] = mapped_column(String(63), default="", server_default="")
    """The device it is about; empty for the room itself (an agent offline, a help request)."""
    state: Mapped[str] = mapped_column(String(16))
    """open, acknowledged, resolved or ended (its cause cleared by itself)."""
    active: Mapped[bool] = mapped_column(Boolean)
    """Open or acknowledged."""
    started_at: Mapped[datetime]
    last_at: Mapped[datetime]
    """When it was raised or last repeated."""
    ended_at: Mapped[datetime | None]
    """When it was resolved or ended."""
    repeats: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """How often its cause was reported again while it was active."""
    text: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    source: Mapped[str] = mapped_column(String(SOURCE_MAX), default="", server_default="")
    """The version of what last said so (a new one is a repeat; a redelivery is not)."""
    level: Mapped[float | None] = mapped_column(Float)
    """How bad, when that can grow (messages missing, drops, the projector's error level)."""
    acknowledged_by: Mapped[str | None] = mapped_column(String(63))
    acknowledged_at: Mapped[datetime | None]
    ack_comment: Mapped[str | None] = mapped_column(Text)
    resolved_by: Mapped[str | None] = mapped_column(String(63))
    resolved_at: Mapped[datetime | None]
    resolve_comment: Mapped[str | None] = mapped_column(Text)
    cause_ended_at: Mapped[datetime | None]
    """When its cause cleared. An alert resolved while its cause still held keeps that cause
    from raising another until it clears (or grows worse)."""


Index(
    "uq_alerts_active",
    AlertRow.kind,
    AlertRow.site,
    AlertRow.room,
    AlertRow.device,
    unique=True,
    sqlite_where=AlertRow.active.is_(True),
    postgresql_where=AlertRow.active.is_(True),
)
Index("ix_alerts_started_at", AlertRow.started_at)
Index("ix_alerts_site_room_started_at", AlertRow.site, AlertRow.room, AlertRow.started_at)


class AlertTransition(Base):
    """One step of an alert's life: raised, repeated (a help request asked again), acknowledged,
    resolved, ended; with who, their comment, and the event that caused it."""

    __tablename__ = "alert_transitions"
    __table_args__ = (
        UniqueConstraint("source", name="uq_alert_transitions_source"),
        Index("ix_alert_transitions_alert", "alert_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"))
    at: Mapped[datetime]
    action: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(63), default="", server_default="")
    """The user; empty for the hub itself."""
    comment: Mapped[str] = mapped_column(Text, default="", server_default="")
    source: Mapped[str | None] = mapped_column(String(SOURCE_MAX))
    """``{site}/{room}/{boot}/{seq}`` of the event behind it: each event counts once, ever."""
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


__all__ = ["SOURCE_MAX", "AlertRow", "AlertTransition"]
