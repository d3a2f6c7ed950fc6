"""The audit log: who did what, where, when, and how it went; append-only.

Every command, configuration change, login and failed login, token made or revoked, and
every read of personal data is one row. Nothing in the API edits or deletes a row; only
the retention setting (``SMARTCLASS_HUB_AUDIT_RETENTION_DAYS``) removes rows older than it,
from the pruning task. Writes happen off the event loop, in the request's own flow: the
action is not reported done before its entry is stored.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, Engine, Float, Index, Integer, String, delete, insert, or_, select
from sqlalchemy.orm import Mapped, mapped_column

from hub.access import Caller, Scope
from hub.db import Base
from protocol import utcnow
from protocol.bounds import safe_text

DETAIL_TEXT_MAX = 2000
"""Longest text kept in one detail value (a command's params are bounded already)."""
PAGE_MAX = 1000
EXPORT_MAX = 100_000
"""Most rows one CSV export holds; narrow the filter for more."""
CSV_COLUMNS = (
    "id",
    "at",
    "actor",
    "role",
    "via",
    "address",
    "action",
    "site",
    "room",
    "device",
    "outcome",
    "duration_ms",
    "detail",
)


class AuditEntry(Base):
    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_at", "at"),
        Index("ix_audit_site_room_at", "site", "room", "at"),
        Index("ix_audit_actor_at", "actor", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(63), default="")
    """User name; empty for the hub itself or someone not signed in (a failed login)."""
    role: Mapped[str] = mapped_column(String(16), default="")
    via: Mapped[str] = mapped_column(String(16), default="")
    address: Mapped[str] = mapped_column(String(64), default="")
    action: Mapped[str] = mapped_column(String(40))
    site: Mapped[str | None] = mapped_column(String(63))
    room: Mapped[str | None] = mapped_column(String(63))
    device: Mapped[str | None] = mapped_column(String(63))
    outcome: Mapped[str] = mapped_column(String(40), default="ok")
    duration_ms: Mapped[float | None] = mapped_column(Float)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


@dataclass(frozen=True, slots=True)
class AuditFilter:
    site: str | None = None
    room: str | None = None
    actor: str | None = None
    action: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    after_id: int = 0
    """Entries with a greater id only (paging forwards)."""
    before_id: int | None = None
    """Entries with a smaller id only (paging backwards, newest first)."""


@dataclass(frozen=True, slots=True)
class AuditRow:
    id: int
    at: datetime
    actor: str
    role: str
    via: str
    address: str
    action: str
    site: str | None
    room: str | None
    device: str | None
    outcome: str
    duration_ms: float | None
    detail: dict[str, Any]


def _clean(detail: dict[str, Any] | None) -> dict[str, Any]:
    """Detail values fit for JSON and bounded: long or odd text is cut and made safe."""
    out: dict[str, Any] = {}
    for key, value in (detail or {}).items():
        if isinstance(value, str):
            out[str(key)[:64]] = safe_text(value, DETAIL_TEXT_MAX)
        elif value is None or isinstance(value, bool | int | float | list | dict):
            out[str(key)[:64]] = value
        else:
            out[str(key)[:64]] = safe_text(str(value), DETAIL_TEXT_MAX)
    return out


class Audit:
    """Appends to and reads the audit log."""

    def __init__(self, engine: Engine, *, retention: timedelta | None = None) -> None:
        self.engine = engine
        self.retention = retention
        self.written = 0
        self.failed = 0

    def record_sync(
        self,
        actor: Caller | None,
        action: str,
        *,
        site: str | None = None,
        room: str | None = None,
        device: str | None = None,
        detail: dict[str, Any] | None = None,
        outcome: str = "ok",
        duration_ms: float | None = None,
        address: str = "",
        actor_name: str = "",
    ) -> None:
        """Append one entry (from a worker thread). ``actor_name`` names who was not
        authenticated (the name a failed login tried)."""
        row = {
            "at": utcnow(),
            # made safe: a failed sign-in may try any name, and PostgreSQL stores no NUL
            "actor": safe_text(actor.username if actor else actor_name, 63),
            "role": actor.role.value if actor else "",
            "via": actor.via if actor else "",
            "address": safe_text(address, 64),
            "action": safe_text(action, 40),
            "site": site,
            "room": room,
            "device": device,
            "outcome": safe_text(outcome, 40),
            "duration_ms": None if duration_ms is None else round(duration_ms, 1),
            "detail": _clean(detail),
        }
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(AuditEntry), [row])
        except Exception:
            self.failed += 1
            raise
        self.written += 1

    async def record(self, actor: Caller | None, action: str, **fields: Any) -> None:
        """Append one entry without blocking the loop; returns once it is stored."""
        await asyncio.to_thread(lambda: self.record_sync(actor, action, **fields))

    def query(
        self,
        scope: Scope,
        f: AuditFilter,
        limit: int = 100,
        *,
        hub_wide: bool = False,
        newest_first: bool = False,
    ) -> list[AuditRow]:
        """Entries within ``scope`` matching ``f``, oldest first (or newest), at most
        ``limit``; with ``hub_wide``, also those of no school (sign-ins, tokens)."""
        return list(self._rows(scope, f, min(limit, PAGE_MAX), hub_wide, newest_first))

    def export_csv(self, scope: Scope, f: AuditFilter, *, hub_wide: bool = False) -> Iterator[str]:
        """The matching entries as CSV text, in chunks (a header line first)."""
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(CSV_COLUMNS)
        for row in self._rows(scope, f, EXPORT_MAX, hub_wide):
            writer.writerow(
                [
                    row.id,
                    row.at.isoformat(),
                    row.actor,
                    row.role,
                    row.via,
                    row.address,
                    row.action,
                    row.site or "",
                    row.room or "",
                    row.device or "",
                    row.outcome,
                    "" if row.duration_ms is None else row.duration_ms,
                    _json(row.detail),
                ]
            )
            if buf.tell() > 64 * 1024:
                yield buf.getvalue()
                buf.seek(0)
                buf.truncate()
        yield buf.getvalue()

    def _rows(
        self, scope: Scope, f: AuditFilter, limit: int, hub_wide: bool, newest_first: bool = False
    ) -> Iterator[AuditRow]:
        t = AuditEntry
        q = select(*AuditEntry.__table__.columns).where(t.id > f.after_id)
        if f.before_id is not None:
            q = q.where(t.id < f.before_id)
        if not scope.everything:
            within = scope.where(t.site, t.room)
            q = q.where(or_(within, t.site.is_(None)) if hub_wide else within)
        if f.site is not None:
            q = q.where(t.site == f.site)
        if f.room is not None:
            q = q.where(t.room == f.room)
        if f.actor is not None:
            q = q.where(t.actor == safe_text(f.actor, 63))  # as it was stored
        if f.action is not None:
            q = q.where(t.action == f.action)
        if f.since is not None:
            q = q.where(t.at >= f.since)
        if f.until is not None:
            q = q.where(t.at < f.until)
        q = q.order_by(t.id.desc() if newest_first else t.id).limit(limit)
        with self.engine.connect() as conn:
            for r in conn.execute(q):
                e = r._mapping
                yield AuditRow(
                    id=e["id"],
                    at=e["at"],
                    actor=e["actor"],
                    role=e["role"],
                    via=e["via"],
                    address=e["address"],
                    action=e["action"],
                    site=e["site"],
                    room=e["room"],
                    device=e["device"],
                    outcome=e["outcome"],
                    duration_ms=e["duration_ms"],
                    detail=e["detail"] or {},
                )

    def prune(self, now: datetime | None = None) -> int:
        """Delete entries older than the retention (none without one)."""
        if self.retention is None:
            return 0
        cutoff = (now or utcnow()) - self.retention
        with self.engine.begin() as conn:
            result = conn.execute(delete(AuditEntry).where(AuditEntry.at < cutoff))
        return int(result.rowcount)


def _json(value: dict[str, Any]) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


__all__ = ["CSV_COLUMNS", "Audit", "AuditEntry", "AuditFilter", "AuditRow"]
