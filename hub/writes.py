"""The SQL of one ingest batch: idempotent inserts and ordered upserts, inside one transaction."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Boolean, Connection, bindparam, case, insert, update
from sqlalchemy.dialects import postgresql, sqlite

from hub.db import (
    AGENT_VERSION_MAX,
    DEAD_LETTER_MAX_BYTES,
    CommandLog,
    DeadLetter,
    DeviceStateRow,
    EventRow,
    LatestReading,
    Room,
    Site,
    TelemetryPoint,
    UtcDateTime,
)
from hub.parsing import Parsed, Rejected
from protocol import CommandReply, ConfigApplied, DeviceState, Event, Status, Telemetry

InsertFactory = Callable[[Any], sqlite.Insert | postgresql.Insert]
"""``sqlite.insert`` or ``postgresql.insert``: both know ON CONFLICT."""


_TELEMETRY_COLUMNS = ("agent", "boot", "seq", "device", "metric", "value", "ts")
_COMPILED: dict[tuple[str, str, tuple[str, ...]], Any] = {}
"""Compiled hot-path inserts, per dialect, table and columns."""
_TS_BINDERS: dict[str, Callable[[Any], Any]] = {}


def _ts_binder(dialect: Any) -> Callable[[Any], Any]:
    """The function turning a UTC datetime into the driver's value for a UtcDateTime column."""
    binder = _TS_BINDERS.get(dialect.name)
    if binder is None:
        processor = UtcDateTime().dialect_impl(dialect).bind_processor(dialect)
        binder = _TS_BINDERS[dialect.name] = processor or (lambda value: value)
    return binder


class BatchWriter:
    """Writes the parts of one batch on an open transaction."""

    def __init__(self, conn: Connection, insert_factory: InsertFactory) -> None:
        self.conn = conn
        self.insert = insert_factory

    def ensure_rooms(self, rooms: set[tuple[str, str]]) -> None:
        if not rooms:
            return
        sites = sorted({site for site, _ in rooms})
        self.conn.execute(
            self.insert(Site).on_conflict_do_nothing(), [{"id": s, "name": s} for s in sites]
        )
        self.conn.execute(
            self.insert(Room).on_conflict_do_nothing(),
            [{"site_id": s, "room_id": r, "name": r} for s, r in sorted(rooms)],
        )

    def _insert_once(self, table: Any, rows: list[dict[str, Any]]) -> tuple[int, int]:
        """Insert rows, skipping those already stored; return (inserted, duplicates or -1)."""
        if not rows:
            return 0, 0
        # preserve_rowcount: psycopg forgets the count of an executemany once its cursor closes
        stmt = self.insert(table).on_conflict_do_nothing().execution_options(preserve_rowcount=True)
        count = self.conn.execute(stmt, rows).rowcount
        if count is None or count < 0:
            return len(rows), -1
        return count, len(rows) - count

    def _insert_raw(
        self, table: Any, columns: tuple[str, ...], rows: list[tuple[Any, ...]]
    ) -> tuple[int, int]:
        """Like ``_insert_once`` for rows already in the driver's own values (the hot path).

        SQLAlchemy's per-row, per-column bind processing cost more than the insert itself;
        here the statement is compiled once per dialect and the rows go to the driver as they
        are, so callers convert values (times) once per message, not once per row.
        """
        if not rows:
            return 0, 0
        dialect = self.conn.dialect
        key = (dialect.name, table.name, columns)
        compiled = _COMPILED.get(key)
        if compiled is None:
            stmt = self.insert(table).on_conflict_do_nothing()
            compiled = _COMPILED[key] = stmt.compile(dialect=dialect, column_keys=list(columns))
        params: list[Any]
        if compiled.positional:
            order = [columns.index(name) for name in compiled.positiontup or ()]
            if order == list(range(len(columns))):
                params = rows
            else:
                params = [tuple(row[i] for i in order) for row in rows]
        else:
            params = [dict(zip(columns, row, strict=True)) for row in rows]
        options = {"preserve_rowcount": True}
        count = self.conn.exec_driver_sql(compiled.string, params, options).rowcount
        if count is None or count < 0:
            return len(rows), -1
        return count, len(rows) - count

    def telemetry(self, items: list[Parsed]) -> tuple[int, int]:
        rows: dict[tuple[str, str, int, str], tuple[Any, ...]] = {}
        latest: dict[tuple[str, str, str], dict[str, Any]] = {}
        sent = 0
        bind_ts = _ts_binder(self.conn.dialect)
        for item in items:
            msg = item.message
            assert isinstance(msg, Telemetry)
            agent = item.agent
            ts = bind_ts(msg.ts)
            for metric, value in msg.readings.items():
                sent += 1
                rows[(agent, msg.boot, msg.seq, metric)] = (
                    agent, msg.boot, msg.seq, msg.device, metric, value, ts
                )  # fmt: skip
                key = (agent, msg.device, metric)
                if key not in latest or latest[key]["ts"] < msg.ts:
                    latest[key] = {
                        "agent": agent,
                        "device": msg.device,
                        "metric": metric,
                        "value": value,
                        "ts": msg.ts,
                    }
        stored, dups = self._insert_raw(
            TelemetryPoint.__table__, _TELEMETRY_COLUMNS, list(rows.values())
        )
        if latest:
            stmt = self.insert(LatestReading)
            self.conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=[
                        LatestReading.agent,
                        LatestReading.device,
                        LatestReading.metric,
                    ],
                    set_={"value": stmt.excluded.value, "ts": stmt.excluded.ts},
                    where=LatestReading.ts < stmt.excluded.ts,
                ),
                [latest[k] for k in sorted(latest)],  # one lock order for every hub
            )
        return stored, -1 if dups < 0 else dups + sent - len(rows)

    def events(self, items: list[Parsed]) -> tuple[int, int]:
        rows: dict[tuple[str, str, int], dict[str, Any]] = {}
        for item in items:
            msg = item.message
            assert isinstance(msg, Event)
            rows[(item.agent, msg.boot, msg.seq)] = {
                "agent": item.agent,
                "boot": msg.boot,
                "seq": msg.seq,
                "kind": msg.kind,
                "severity": msg.severity,
                "device": msg.device,
                "text": msg.text,
                "data": msg.data,
                "ts": msg.ts,
            }
        stored, dups = self._insert_once(EventRow, list(rows.values()))
        return stored, -1 if dups < 0 else dups + len(items) - len(rows)

    def statuses(self, items: list[Parsed]) -> None:
        """Apply statuses in arrival order; an older status never overwrites a newer one.

        Exception: an ``offline`` of the boot already stored always applies, because an
        agent's last will is made when it connects, so its ``ts`` is older than the
        ``online`` it published just after. ``last_status_at`` never moves backwards.
        """
        if not items:
            return
        ts = bindparam("b_ts", type_=UtcDateTime())
        newer = Room.last_status_at.is_(None) | (Room.last_status_at < ts)
        stmt = (
            update(Room)
            .where(Room.site_id == bindparam("b_site"), Room.room_id == bindparam("b_room"))
            .where(
                newer | ((Room.boot == bindparam("b_boot")) & bindparam("b_offline", type_=Boolean))
            )
            .values(
                online=bindparam("b_online"),
                boot=bindparam("b_boot"),
                keepalive=bindparam("b_keepalive"),
                agent_version=bindparam("b_version"),
                last_status_at=case((newer, ts), else_=Room.last_status_at),
            )
        )
        rows = []
        for item in items:
            m = item.message
            assert isinstance(m, Status)
            rows.append(
                {
                    "b_site": item.topic.site,
                    "b_room": item.topic.room,
                    "b_online": m.state == "online",
                    "b_offline": m.state == "offline",
                    "b_ts": m.ts,
                    "b_boot": m.boot,
                    "b_keepalive": m.keepalive,
                    "b_version": m.agent_version[:AGENT_VERSION_MAX],  # unbounded in the contract
                }
            )
        for row in rows:  # one by one: each status decides against the one before it
            self.conn.execute(stmt, row)

    def states(self, items: list[Parsed]) -> None:
        newest: dict[tuple[str, str, str], dict[str, Any]] = {}
        for item in items:
            msg = item.message
            assert isinstance(msg, DeviceState)
            key = (item.topic.site, item.topic.room, msg.device)
            if key not in newest or newest[key]["updated_at"] <= msg.ts:
                newest[key] = {
                    "site": key[0],
                    "room": key[1],
                    "device": msg.device,
                    "family": msg.family,
                    "state": msg.state,
                    "available": msg.available,
                    "updated_at": msg.ts,
                }
        if not newest:
            return
        stmt = self.insert(DeviceStateRow)
        self.conn.execute(
            stmt.on_conflict_do_update(
                index_elements=[DeviceStateRow.site, DeviceStateRow.room, DeviceStateRow.device],
                set_={c: stmt.excluded[c] for c in ("family", "state", "available", "updated_at")},
                where=DeviceStateRow.updated_at <= stmt.excluded.updated_at,
            ),
            [newest[k] for k in sorted(newest)],  # one lock order for every hub
        )

    def applied(self, items: list[Parsed]) -> None:
        newest: dict[tuple[str, str], ConfigApplied] = {}
        for item in items:
            msg = item.message
            assert isinstance(msg, ConfigApplied)
            key = (item.topic.site, item.topic.room)
            if key not in newest or newest[key].ts <= msg.ts:
                newest[key] = msg
        if newest:
            stmt = (
                update(Room)
                .where(Room.site_id == bindparam("b_site"), Room.room_id == bindparam("b_room"))
                .values(
                    config_version_applied=bindparam("b_version"),
                    config_applied_ok=bindparam("b_ok"),
                    config_applied_text=bindparam("b_text"),
                )
            )
            self.conn.execute(
                stmt,
                [
                    {
                        "b_site": s,
                        "b_room": r,
                        "b_version": m.version,
                        "b_ok": m.ok,
                        "b_text": m.text,
                    }
                    for (s, r), m in newest.items()
                ],
            )

    def replies(self, items: list[Parsed]) -> None:
        if not items:
            return
        rows = []
        for item in items:
            msg = item.message
            assert isinstance(msg, CommandReply)
            rows.append({"b_id": msg.id, "b_code": msg.code, "b_text": msg.text, "b_at": msg.ts})
        stmt = (
            update(CommandLog)
            .where(CommandLog.id == bindparam("b_id"), CommandLog.reply_code.is_(None))
            .values(
                reply_code=bindparam("b_code"),
                reply_text=bindparam("b_text"),
                reply_at=bindparam("b_at"),
            )
        )
        self.conn.execute(stmt, rows)

    def dead_letters(self, items: list[Rejected]) -> int:
        if items:
            self.conn.execute(insert(DeadLetter), [_dead_row(d) for d in items])
        return len(items)


def _text(value: str) -> str:
    """Text that every backend stores: PostgreSQL refuses NUL characters."""
    return value.replace("\x00", "\ufffd")


def _dead_row(item: Rejected) -> dict[str, Any]:
    """A dead letter must always be storable, or the ingest would retry it forever."""
    return {
        "topic": _text(item.topic),
        "payload": item.payload[:DEAD_LETTER_MAX_BYTES],
        "size": len(item.payload),
        "reason": item.reason,
        "detail": _text(item.detail[:2000]),
        "received_at": item.received_at,
    }


__all__ = ["BatchWriter", "InsertFactory"]
