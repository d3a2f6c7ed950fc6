"""The SQL of one ingest batch: rooms locked, telemetry and events stored exactly once."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite

from hub import rawsql
from hub.boots import BootBook, BootCache
from hub.db import (
    DEAD_LETTER_MAX_BYTES,
    CommandLog,
    DeadLetter,
    EventRow,
    LatestReading,
    Room,
    TelemetryPoint,
    UtcDateTime,
)
from hub.latest import TRUSTED, Candidate, LatestChooser, flag_rooms, write_suspects
from hub.ordering import BootOrder
from hub.parsing import Parsed, Rejected, rejected
from hub.ranges import from_numbers
from hub.rawsql import time_binder
from hub.series import Budget
from protocol import CommandReply, Event, Health, Ordered, Telemetry, encode
from protocol.bounds import safe_text
from protocol.messages import Sequenced

InsertFactory = Callable[[Any], sqlite.Insert | postgresql.Insert]
"""``sqlite.insert`` or ``postgresql.insert``: both know ON CONFLICT."""

_TELEMETRY_COLUMNS = ("agent", "boot", "seq", "device", "metric", "value", "ts")
_COMPILED: dict[tuple[str, str, tuple[str, ...]], Any] = {}
"""Compiled hot-path inserts, per dialect, table and columns."""
SEEN_EVERY_S = 1.0
"""On SQLite a room's ``last_seen_at`` is written at most this often."""
_KEYS_PER_QUERY = 300


class StaleBootsError(RuntimeError):
    """The boots' ranges did not know of telemetry the database holds."""


def _ts_binder(dialect: Any) -> Callable[[Any], Any]:
    return time_binder(dialect)


def _chunks(keys: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for i in range(0, len(keys), _KEYS_PER_QUERY):
        yield keys[i : i + _KEYS_PER_QUERY]


class BatchWriter:
    """Writes the parts of one batch on an open transaction."""

    def __init__(
        self,
        conn: Connection,
        insert_factory: InsertFactory,
        *,
        now: datetime,
        readings: Budget[tuple[str, str]],
        seen: dict[tuple[str, str], float] | None = None,
        boots: BootCache | None = None,
        skew_max_s: float = 300.0,
    ) -> None:
        self.conn = conn
        self.skew_max_s = skew_max_s
        """The hub's ``clock_skew_max_s``: farther from its clock, a time is doubted."""
        self.insert = insert_factory
        self.now = now
        self.readings = readings
        self._seen = {} if seen is None else seen
        """When each room's ``last_seen_at`` was last written (``time.monotonic``)."""
        self._tick = time.monotonic()
        self._boots = boots
        self.book = BootBook(conn, (), now)
        self.rejected: list[Rejected] = []
        """Messages found wrong while writing (kept as dead letters in the same transaction)."""
        self.conflicts = 0
        """Duplicates by (agent, boot, seq) whose content differs from what is stored."""
        self.clock_suspects = 0
        """Telemetry found, while writing, to have a time gone backwards (``hub.latest``)."""
        self.new_telemetry: list[Parsed] = []
        """Telemetry stored by this batch for the first time, never a redelivery (the usage
        rollups add these, in the same transaction)."""
        self.new_events: list[Parsed] = []
        """Events this batch stores, redeliveries left out (attendance is kept from these, in
        the same transaction)."""

    def reject(self, item: Parsed, reason: str, detail: str) -> None:
        self.rejected.append(rejected(item.source, encode(item.message), reason, detail, self.now))

    # --- rooms and boots ------------------------------------------------------------------

    def lock_rooms(self, items: Sequence[Parsed]) -> None:
        """Mark the batch's rooms seen (the hub's clock), which locks their rows until commit
        (always in one order), then read their agents' boots."""
        rooms = sorted({(p.topic.site, p.topic.room) for p in items})
        if not rooms:
            return
        now = bindparam("b_now", type_=UtcDateTime())
        if self.conn.dialect.name == "sqlite":
            # one writer at a time for the whole file: any write locks; the rooms' "last seen"
            # is written at most every SEEN_EVERY_S (it is the hub's clock, not an order)
            due = [
                r for r in rooms if self._seen.get(r, -SEEN_EVERY_S) + SEEN_EVERY_S <= self._tick
            ]
            touched = due or rooms[:1]
        else:
            touched = rooms  # each room's row, locked until commit, in one order for every hub
        for room in touched:
            self._seen[room] = self._tick
        when = _ts_binder(self.conn.dialect)(self.now)
        self._raw(
            "seen",
            lambda: (
                update(Room)
                .where(Room.site_id == bindparam("b_site"), Room.room_id == bindparam("b_room"))
                .values(last_seen_at=now)
            ),
            [{"b_site": s, "b_room": r, "b_now": when} for s, r in touched],
        )
        suspects: Counter[tuple[str, str]] = Counter()
        skews: dict[tuple[str, str], float] = {}
        for p in items:
            if p.skew_s is not None:
                room = (p.topic.site, p.topic.room)
                suspects[room] += 1
                skews[room] = p.skew_s
        flag_rooms(self.conn, suspects, skews, self.now)
        self.book = BootBook(self.conn, (f"{s}/{r}" for s, r in rooms), self.now, self._boots)
        placed: set[tuple[str, str]] = set()
        for p in items:  # eras are decided in order of arrival, whatever the kind
            msg = p.message
            if isinstance(msg, Health):
                self.book.register(p.agent, msg.boot, msg.boot_no, msg.previous_boot)
            elif isinstance(msg, Sequenced | Ordered) and (p.agent, msg.boot) not in placed:
                placed.add((p.agent, msg.boot))
                self.book.register(p.agent, msg.boot, msg.boot_no)

    # --- telemetry and events -------------------------------------------------------------

    def _raw(self, key: str, build: Callable[[], Any], rows: list[dict[str, Any]]) -> int:
        return rawsql.run(self.conn, key, build, rows)

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
        """Store new telemetry; return (points stored, points already stored or -1)."""
        if not items:
            return 0, 0
        book = self.book
        rows: list[tuple[Any, ...]] = []
        first: dict[tuple[str, str, int], Telemetry] = {}
        chooser = LatestChooser(self.skew_max_s)
        latest = chooser.trusted
        seqs: dict[tuple[str, str, int], list[int]] = {}
        again: list[Parsed] = []
        repeated = 0
        admitted: set[tuple[str, ...]] = set()
        """(agent, device, metrics…) already within the room's bound in this batch."""
        orders: dict[tuple[str, str], BootOrder] = {}
        bind_ts = _ts_binder(self.conn.dialect)
        self.readings.prepare(p.agent for p in items)
        for item in items:
            msg = item.message
            assert isinstance(msg, Telemetry)
            agent = item.agent
            key = (agent, msg.boot, msg.seq)
            seen = first.get(key)
            if seen is not None or book.is_stored(agent, msg.boot, msg.seq):
                repeated += len(msg.readings)
                if seen is None:
                    again.append(item)
                elif _telemetry_body(seen) != _telemetry_body(msg):
                    self.conflicts += 1
                book.touched.add(agent)
                continue
            shape = (agent, msg.device, *msg.readings)
            if shape not in admitted:
                if not self.readings.admit(agent, [(msg.device, m) for m in msg.readings]):
                    self.reject(item, "too_many_series", _too_many(agent, self.readings.limit))
                    continue
                admitted.add(shape)
            first[key] = msg
            self.new_telemetry.append(item)
            order = orders.get((agent, msg.boot))
            if order is None:
                order = orders[(agent, msg.boot)] = book.order(agent, msg.boot, msg.boot_no)
            rank = (order.era, order.boot_no, msg.seq)
            ts = bind_ts(msg.ts)
            doubt = chooser.doubt(msg.ts, item.received_at, item.skew_s)
            for metric, value in msg.readings.items():
                rows.append((agent, msg.boot, msg.seq, msg.device, metric, value, ts))
                lkey = (agent, msg.device, metric)
                if doubt != TRUSTED:
                    chooser.add(lkey, Candidate(rank, value, msg.ts, doubt, item.received_at))
                    continue
                have = latest.get(lkey)
                if have is None or have.rank < rank:
                    latest[lkey] = Candidate(rank, value, msg.ts, doubt, item.received_at)
            seqs.setdefault((agent, msg.boot, msg.boot_no), []).append(msg.seq)
        known = self._stored_already(self.new_telemetry)
        if known:  # redeliveries after all
            again += [i for i in self.new_telemetry if _seq_key(i) in known]
            self.new_telemetry = [i for i in self.new_telemetry if _seq_key(i) not in known]
            rows = [row for row in rows if (row[0], row[1], row[2]) not in known]
            repeated += sum(len(m.readings) for k, m in first.items() if k in known)
        stored, dups = self._insert_raw(TelemetryPoint.__table__, _TELEMETRY_COLUMNS, rows)
        if dups > 0:
            # The database holds messages the boots' ranges did not know of (another writer
            # of a SQLite file): they must not count as new. The transaction is undone, the
            # boots in memory are forgotten, and the batch goes again (one by one).
            why = f"{dups} telemetry points were stored already, unknown to their boots' ranges"
            raise StaleBootsError(why)
        for (agent, boot, boot_no), numbers in seqs.items():
            book.add_stored(agent, boot, boot_no, from_numbers(numbers))
        self.conflicts += self._telemetry_conflicts(again)
        chosen = chooser.choose(self.conn)
        self._latest(chosen.trusted)
        write_suspects(self.conn, self.insert, chosen.suspects)
        flag_rooms(self.conn, chosen.backwards, chosen.skews, self.now)
        self.clock_suspects += chosen.backwards.total()
        return stored, -1 if dups < 0 else dups + repeated

    def _stored_already(self, items: list[Parsed]) -> set[tuple[str, str, int]]:
        """Of the messages the boots' ranges take for new, those whose (agent, boot, seq) the
        telemetry table has nevertheless: asked only where the ranges cannot tell (a boot
        new to them, a seq below their cut), which is once per boot in the usual case."""
        book = self.book
        unsure = sorted({k for i in items if book.unsure(*(k := _seq_key(i)))})
        if not unsure:
            return set()
        t = TelemetryPoint
        found: set[tuple[str, str, int]] = set()
        for chunk in _chunks(unsure):
            query = select(t.agent, t.boot, t.seq).where(tuple_(t.agent, t.boot, t.seq).in_(chunk))
            found.update((r.agent, r.boot, r.seq) for r in self.conn.execute(query))
        return found

    def _latest(self, latest: dict[tuple[str, str, str], Candidate]) -> None:
        """Newest trusted value per metric by (era, boot_no, seq): a sender's clock never
        orders, and a time the hub doubts never becomes the current value (``hub.latest``)."""
        if not latest:
            return
        bind_ts = _ts_binder(self.conn.dialect)

        def build() -> Any:
            stmt = self.insert(LatestReading)
            current = tuple_(LatestReading.era, LatestReading.boot_no, LatestReading.seq)
            incoming = tuple_(stmt.excluded.era, stmt.excluded.boot_no, stmt.excluded.seq)
            return stmt.on_conflict_do_update(
                index_elements=[LatestReading.agent, LatestReading.device, LatestReading.metric],
                set_={c: stmt.excluded[c] for c in ("value", "ts", "era", "boot_no", "seq")},
                where=current < incoming,
            )

        rows = [
            {"agent": a, "device": d, "metric": m, "value": v.value, "ts": bind_ts(v.ts),
             "era": v.rank[0], "boot_no": v.rank[1], "seq": v.rank[2]}
            for (a, d, m), v in sorted(latest.items())  # one lock order for every hub
        ]  # fmt: skip
        self._raw("latest", build, rows)

    def _telemetry_conflicts(self, items: list[Parsed]) -> int:
        """Redelivered telemetry whose content is not what was stored under its (boot, seq)."""
        if not items:
            return 0
        t = TelemetryPoint
        keys = sorted({(i.agent, i.message.boot, i.message.seq) for i in items})  # type: ignore[attr-defined]
        stored: dict[tuple[str, str, int], tuple[str, datetime, dict[str, float]]] = {}
        for chunk in _chunks(keys):
            query = select(t.agent, t.boot, t.seq, t.device, t.metric, t.value, t.ts).where(
                tuple_(t.agent, t.boot, t.seq).in_(chunk)
            )
            for row in self.conn.execute(query):
                body = stored.setdefault((row.agent, row.boot, row.seq), (row.device, row.ts, {}))
                body[2][row.metric] = row.value
        conflicts = 0
        for item in items:
            msg = item.message
            assert isinstance(msg, Telemetry)
            found = stored.get((item.agent, msg.boot, msg.seq))
            if found is None or found != (msg.device, msg.ts, dict(msg.readings)):
                conflicts += 1  # another content, or the seq of an event
        return conflicts

    def events(self, items: list[Parsed]) -> tuple[int, int]:
        """Store new events; return (stored, already stored or -1)."""
        if not items:
            return 0, 0
        book = self.book
        rows: dict[tuple[str, str, int], dict[str, Any]] = {}
        first: dict[tuple[str, str, int], Event] = {}
        seqs: dict[tuple[str, str, int], list[int]] = {}
        again: list[Parsed] = []
        repeated = 0
        for item in items:
            msg = item.message
            assert isinstance(msg, Event)
            key = (item.agent, msg.boot, msg.seq)
            seen = first.get(key)
            if seen is not None or book.is_stored(item.agent, msg.boot, msg.seq):
                repeated += 1
                if seen is None:
                    again.append(item)
                elif _event_body(seen) != _event_body(msg):
                    self.conflicts += 1
                book.touched.add(item.agent)
                continue
            first[key] = msg
            self.new_events.append(item)
            book.order(item.agent, msg.boot, msg.boot_no)
            rows[key] = {
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
            seqs.setdefault((item.agent, msg.boot, msg.boot_no), []).append(msg.seq)
        stored, dups = self._insert_once(EventRow, list(rows.values()))
        for (agent, boot, boot_no), numbers in seqs.items():
            book.add_stored(agent, boot, boot_no, from_numbers(numbers))
        self.conflicts += self._event_conflicts(again)
        return stored, -1 if dups < 0 else dups + repeated

    def _event_conflicts(self, items: list[Parsed]) -> int:
        if not items:
            return 0
        e = EventRow
        keys = sorted({(i.agent, i.message.boot, i.message.seq) for i in items})  # type: ignore[attr-defined]
        stored: dict[tuple[str, str, int], tuple[Any, ...]] = {}
        for chunk in _chunks(keys):
            query = select(
                e.agent, e.boot, e.seq, e.kind, e.severity, e.device, e.text, e.data, e.ts
            ).where(tuple_(e.agent, e.boot, e.seq).in_(chunk))
            for r in self.conn.execute(query):
                body = (r.kind, r.severity, r.device, r.text, r.data, r.ts)
                stored[(r.agent, r.boot, r.seq)] = body
        conflicts = 0
        for item in items:
            msg = item.message
            assert isinstance(msg, Event)
            if stored.get((item.agent, msg.boot, msg.seq)) != _event_body(msg):
                conflicts += 1
        return conflicts

    # --- replies and dead letters ---------------------------------------------------------

    def replies(self, items: list[Parsed]) -> None:
        """Record each reply on its command, if it came from the command's room and device."""
        if not items:
            return
        rows = []
        for item in items:
            msg = item.message
            assert isinstance(msg, CommandReply)
            rows.append(
                {"b_id": msg.id, "b_site": item.topic.site, "b_room": item.topic.room,
                 "b_device": msg.device, "b_code": msg.code, "b_text": msg.text,
                 "b_at": self.now}
            )  # fmt: skip
        stmt = (
            update(CommandLog)
            .where(
                CommandLog.id == bindparam("b_id"),
                CommandLog.site == bindparam("b_site"),
                CommandLog.room == bindparam("b_room"),
                CommandLog.device == bindparam("b_device"),
                CommandLog.reply_code.is_(None),
            )
            .values(
                reply_code=bindparam("b_code"),
                reply_text=bindparam("b_text"),
                reply_at=bindparam("b_at", type_=UtcDateTime()),
            )
        )
        self.conn.execute(stmt, rows)

    def dead_letters(self, items: Sequence[Rejected]) -> int:
        if items:
            self.conn.execute(insert(DeadLetter), [dead_row(d) for d in items])
        return len(items)


def _seq_key(item: Parsed) -> tuple[str, str, int]:
    msg = item.message
    assert isinstance(msg, Telemetry)
    return item.agent, msg.boot, msg.seq


def _telemetry_body(msg: Telemetry) -> tuple[Any, ...]:
    return (msg.device, msg.ts, dict(msg.readings))


def _event_body(msg: Event) -> tuple[Any, ...]:
    return (msg.kind, msg.severity, msg.device, msg.text, msg.data, msg.ts)


def _too_many(agent: str, limit: int) -> str:
    return f"room {agent} would have more than {limit} distinct series"


def dead_row(item: Rejected) -> dict[str, Any]:
    """A dead letter must always be storable, or the ingest would retry it forever."""
    return {
        "topic": safe_text(item.topic, 512),
        "payload": item.payload[:DEAD_LETTER_MAX_BYTES],
        "size": item.size if item.size is not None else len(item.payload),
        "reason": item.reason[:32],
        "detail": safe_text(item.detail, 2000),
        "received_at": item.received_at,
    }


__all__ = ["BatchWriter", "InsertFactory", "StaleBootsError", "dead_row"]
