"""Durable outbox: telemetry and events in SQLite until the hub says it has stored them.

Durability choice: WAL journal with ``synchronous=NORMAL``. Each commit is atomic and
the database cannot be corrupted by a power cut; the last few commits before a power
cut (not a process crash) may be lost, which for telemetry is a gap the hub detects by
sequence number. ``synchronous=FULL`` would fsync every commit, which an SD card pays
for in latency and wear.

A row is deleted only when the hub's retained acknowledgement covers its (boot, seq)
(``delete_acked``), not at the broker's PUBACK: the broker writes its queues to disk
only every ``autosave_interval``, so a broker crash can lose what it acknowledged.

Bounds policy: when more than ``max_messages`` are waiting, the oldest are dropped;
messages older than ``max_age_s`` are dropped. Every drop is recorded, with its boot
and sequence ranges and its reason, in a ``losses`` table the bounds never touch, and
reported to the hub in the agent's health message. A row the broker refuses is retried
with backoff ``max_attempts`` times, then moved aside to ``parked`` (kept, counted and
reported as lost with reason ``refused``), so it never blocks the rows behind it.

The file also keeps the agent's boot counter and the last sequence number it gave
out, so a new boot can tell the hub where the previous one ended.

Every method is a short transaction and blocking: call them from one worker thread
(``edge.storage.Storage``), never from the event loop.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from protocol.ranges import Range, merge, runs

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    topic TEXT NOT NULL,
    payload BLOB NOT NULL,
    qos INTEGER NOT NULL DEFAULT 1,
    retain INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS outbox_created_at ON outbox (created_at);
CREATE TABLE IF NOT EXISTS parked (
    id INTEGER PRIMARY KEY,
    topic TEXT NOT NULL,
    payload BLOB NOT NULL,
    boot TEXT,
    seq INTEGER,
    created_at REAL NOT NULL,
    parked_at REAL NOT NULL,
    reason TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS losses (
    boot TEXT NOT NULL,
    first INTEGER NOT NULL,
    last INTEGER NOT NULL,
    reason TEXT NOT NULL,
    at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS losses_boot ON losses (boot, reason, first);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
_V2_COLUMNS = {
    "boot": "TEXT",
    "seq": "INTEGER",
    "attempts": "INTEGER NOT NULL DEFAULT 0",
    "next_at": "REAL NOT NULL DEFAULT 0",
}
_COLUMNS = "id, topic, payload, boot, seq, attempts, created_at"
PARKED_MAX = 10_000
"""Most parked rows kept; beyond, the oldest go (they are already counted as lost)."""
LOSS_BOOTS_MAX = 64
"""Boots whose losses are kept; older boots' are forgotten."""


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    """One stored message, in the order it was added (``id`` grows)."""

    id: int
    topic: str
    payload: bytes
    boot: str | None
    seq: int | None
    attempts: int
    created_at: float
    qos: int = 1
    retain: bool = False


@dataclass(frozen=True, slots=True)
class Boot:
    """This start of the agent, and where the previous one ended."""

    number: int
    previous: str | None
    previous_last_seq: int


@dataclass(frozen=True, slots=True)
class Loss:
    """Sequence numbers of one boot the agent gave up, and why."""

    boot: str
    ranges: list[Range]
    count: int
    by_reason: dict[str, int]


@dataclass(frozen=True, slots=True)
class OutboxStats:
    backlog: int
    parked: int
    oldest_s: float


class Outbox:
    """A bounded FIFO of sequenced MQTT messages in one SQLite file."""

    def __init__(
        self,
        path: str | Path,
        *,
        max_messages: int = 100_000,
        max_age_s: float = 168 * 3600,
        max_attempts: int = 5,
        retry_min_s: float = 1.0,
        retry_max_s: float = 300.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = Path(path)
        self.max_messages = max_messages
        self.max_age_s = max_age_s
        self.max_attempts = max_attempts
        self.retry_min_s = retry_min_s
        self.retry_max_s = retry_max_s
        self._clock = clock
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db: sqlite3.Connection | None = sqlite3.connect(
            str(path), isolation_level=None, check_same_thread=False
        )
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
            self._migrate()
            self._count: int = self._conn.execute("SELECT count(*) FROM outbox").fetchone()[0]
            with self._tx() as conn:
                self._count -= self._enforce_bounds(conn, self._count)
        except BaseException:
            self.close()
            raise

    def _migrate(self) -> None:
        """Add the columns of this version to an outbox made by an older one."""
        conn = self._conn
        have = {row[1] for row in conn.execute("PRAGMA table_info(outbox)")}
        for name, decl in _V2_COLUMNS.items():
            if name not in have:
                conn.execute(f"ALTER TABLE outbox ADD COLUMN {name} {decl}")
        conn.execute("CREATE INDEX IF NOT EXISTS outbox_boot_seq ON outbox (boot, seq)")
        old = conn.execute("SELECT id, payload FROM outbox WHERE boot IS NULL").fetchall()
        for row_id, payload in old:  # rows of an older version: the envelope says
            try:
                body = json.loads(payload)
                boot, seq = str(body["boot"]), int(body["seq"])
            except (ValueError, KeyError, TypeError):
                continue
            conn.execute("UPDATE outbox SET boot = ?, seq = ? WHERE id = ?", (boot, seq, row_id))

    @property
    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            msg = f"outbox {self.path} is closed"
            raise sqlite3.ProgrammingError(msg)
        return self._db

    def _tx(self) -> _Transaction:
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        return _Transaction(conn)

    @property
    def journal_mode(self) -> str:
        mode: str = self._conn.execute("PRAGMA journal_mode").fetchone()[0]
        return mode

    def __len__(self) -> int:
        return self._count

    # --- boots and sequence ------------------------------------------------------------

    def _meta(self, conn: sqlite3.Connection, key: str) -> str | None:
        row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def begin_boot(self, boot: str) -> Boot:
        """Count a new start with id ``boot``; return its number and the previous boot's end."""
        with self._tx() as conn:
            number = int(self._meta(conn, "boot_no") or 0) + 1
            previous = self._meta(conn, "boot")
            last = int(self._meta(conn, "last_seq") or 0)
            conn.executemany(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                [("boot_no", str(number)), ("boot", boot), ("last_seq", "0")],
            )
        return Boot(number, previous, last if previous else 0)

    # --- adding and sending ---------------------------------------------------------------

    def add(
        self, topic: str, payload: bytes, boot: str | None = None, seq: int | None = None
    ) -> int:
        """Store one message; return its id."""
        return self.add_many([(topic, payload, boot, seq)])[0]

    def add_many(self, messages: Iterable[tuple[str, bytes, str | None, int | None]]) -> list[int]:
        """Store messages in one transaction, in order; return their ids.

        The highest ``seq`` given is kept as the boot's last sequence number.
        """
        now = self._clock()
        ids: list[int] = []
        last_seq = 0
        with self._tx() as conn:
            for topic, payload, boot, seq in messages:
                cur = conn.execute(
                    "INSERT INTO outbox (topic, payload, boot, seq, created_at)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (topic, payload, boot, seq, now),
                )
                assert cur.lastrowid is not None
                ids.append(cur.lastrowid)
                last_seq = max(last_seq, seq or 0)
            if last_seq:
                conn.execute(
                    "INSERT INTO meta (key, value) VALUES ('last_seq', ?) ON CONFLICT (key)"
                    " DO UPDATE SET value = excluded.value"
                    " WHERE CAST(meta.value AS INTEGER) < CAST(excluded.value AS INTEGER)",
                    (str(last_seq),),
                )
            dropped = self._enforce_bounds(conn, self._count + len(ids))
        self._count += len(ids) - dropped
        return ids

    def peek(self, n: int, after_id: int = 0, now: float | None = None) -> list[OutboxMessage]:
        """Up to ``n`` oldest messages with an id above ``after_id`` that are due
        (a refused one waits out its backoff)."""
        now = self._clock() if now is None else now
        rows = self._conn.execute(
            "SELECT id, topic, payload, boot, seq, attempts, created_at FROM outbox"
            " WHERE id > ? AND next_at <= ? ORDER BY id LIMIT ?",
            (after_id, now, n),
        ).fetchall()
        return [OutboxMessage(r[0], r[1], bytes(r[2]), r[3], r[4], r[5], r[6]) for r in rows]

    def count_after(self, row_id: int) -> int:
        """How many messages wait with an id above ``row_id``."""
        return int(
            self._conn.execute("SELECT count(*) FROM outbox WHERE id > ?", (row_id,)).fetchone()[0]
        )

    def first_id(self) -> int | None:
        """Id of the oldest waiting message, due or not."""
        row = self._conn.execute("SELECT min(id) FROM outbox").fetchone()
        return None if row[0] is None else int(row[0])

    def rows(self, ids: Iterable[int]) -> list[OutboxMessage]:
        """The rows with these ids that are still waiting, oldest first."""
        id_list = sorted(set(ids))[:500]
        if not id_list:
            return []
        marks = ",".join("?" * len(id_list))
        sql = f"SELECT {_COLUMNS} FROM outbox WHERE id IN ({marks}) ORDER BY id"  # noqa: S608
        rows = self._conn.execute(
            sql,
            id_list,
        ).fetchall()
        return [OutboxMessage(r[0], r[1], bytes(r[2]), r[3], r[4], r[5], r[6]) for r in rows]

    def refused(self, row_id: int, reason: str) -> float | None:
        """The broker refused a row: back it off, or park it after ``max_attempts``.

        Return when to try it again, or None if it was parked (and counted as lost with
        reason ``refused``) or is gone.
        """
        now = self._clock()
        with self._tx() as conn:
            row = conn.execute(
                "SELECT topic, payload, boot, seq, created_at, attempts FROM outbox WHERE id = ?",
                (row_id,),
            ).fetchone()
            if row is None:
                return None
            attempts = int(row[5]) + 1
            if attempts < self.max_attempts:
                delay = min(self.retry_max_s, self.retry_min_s * 2 ** (attempts - 1))
                conn.execute(
                    "UPDATE outbox SET attempts = ?, next_at = ? WHERE id = ?",
                    (attempts, now + delay, row_id),
                )
                return float(now + delay)
            conn.execute(
                "INSERT OR REPLACE INTO parked"
                " (id, topic, payload, boot, seq, created_at, parked_at, reason)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (row_id, row[0], row[1], row[2], row[3], row[4], now, reason[:500]),
            )
            conn.execute("DELETE FROM outbox WHERE id = ?", (row_id,))
            if row[2] is not None and row[3] is not None:
                self._record_losses(conn, [(row[2], row[3])], "refused")
            conn.execute(
                "DELETE FROM parked WHERE id NOT IN"
                " (SELECT id FROM parked ORDER BY id DESC LIMIT ?)",
                (PARKED_MAX,),
            )
        self._count -= 1
        return None

    def delete_acked(self, boot: str, ranges: Sequence[Range]) -> int:
        """Forget the messages of ``boot`` whose seq the hub's acknowledgement covers."""
        deleted = 0
        with self._tx() as conn:
            for lo, hi in ranges:
                deleted += conn.execute(
                    "DELETE FROM outbox WHERE boot = ? AND seq BETWEEN ? AND ?", (boot, lo, hi)
                ).rowcount
        self._count -= deleted
        return deleted

    def delete(self, ids: Iterable[int]) -> int:
        """Remove rows by id (rows that carry no sequence number); return how many."""
        id_list = list(ids)
        deleted = 0
        with self._tx() as conn:
            for start in range(0, len(id_list), 500):
                chunk = id_list[start : start + 500]
                marks = ",".join("?" * len(chunk))
                sql = f"DELETE FROM outbox WHERE id IN ({marks})"  # noqa: S608 - placeholders only
                deleted += conn.execute(sql, chunk).rowcount
        self._count -= deleted
        return deleted

    # --- bounds and losses ----------------------------------------------------------------

    def _enforce_bounds(self, conn: sqlite3.Connection, count: int) -> int:
        """Drop what is too old, then the oldest beyond the size bound; record them as lost."""
        cutoff = self._clock() - self.max_age_s
        old = conn.execute(
            "SELECT boot, seq FROM outbox WHERE created_at < ? AND boot IS NOT NULL", (cutoff,)
        ).fetchall()
        expired = conn.execute("DELETE FROM outbox WHERE created_at < ?", (cutoff,)).rowcount
        self._record_losses(conn, old, "max_age")
        excess = max(0, count - expired - self.max_messages)
        if excess:
            victims = conn.execute(
                "SELECT id, boot, seq FROM outbox ORDER BY id LIMIT ?", (excess,)
            ).fetchall()
            conn.execute(
                "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox ORDER BY id LIMIT ?)",
                (excess,),
            )
            self._record_losses(
                conn, [(b, s) for _, b, s in victims if b is not None], "max_messages"
            )
        return int(expired + excess)

    def add_losses(self, rows: Iterable[tuple[str, int]], reason: str) -> None:
        """Record (boot, seq) pairs lost before they reached the outbox (a full disk)."""
        with self._tx() as conn:
            self._record_losses(conn, rows, reason)

    def _record_losses(
        self, conn: sqlite3.Connection, rows: Iterable[tuple[str, int]], reason: str
    ) -> None:
        by_boot: dict[str, list[int]] = {}
        for boot, seq in rows:
            if boot is not None and seq is not None:
                by_boot.setdefault(boot, []).append(int(seq))
        now = self._clock()
        for boot, seqs in by_boot.items():
            for lo, hi in runs(seqs):
                joined = conn.execute(  # most drops extend the last range of their boot
                    "UPDATE losses SET last = ?, at = ? WHERE rowid = (SELECT rowid FROM losses"
                    " WHERE boot = ? AND reason = ? AND last = ? LIMIT 1)",
                    (hi, now, boot, reason, lo - 1),
                ).rowcount
                if not joined:
                    conn.execute(
                        "INSERT INTO losses (boot, first, last, reason, at) VALUES (?, ?, ?, ?, ?)",
                        (boot, lo, hi, reason, now),
                    )
        if by_boot:
            conn.execute(
                "DELETE FROM losses WHERE boot NOT IN (SELECT boot FROM losses GROUP BY boot"
                " ORDER BY max(at) DESC, max(rowid) DESC LIMIT ?)",
                (LOSS_BOOTS_MAX,),
            )

    def losses(self, boots: int = 8, ranges: int = 64) -> list[Loss]:
        """What was lost of the most recent ``boots`` boots (ranges: the newest ``ranges``)."""
        rows = self._conn.execute(
            "SELECT boot, first, last, reason FROM losses WHERE boot IN (SELECT boot FROM losses"
            " GROUP BY boot ORDER BY max(at) DESC, max(rowid) DESC LIMIT ?) ORDER BY rowid",
            (boots,),
        ).fetchall()
        per_boot: dict[str, list[tuple[int, int, str]]] = {}
        for boot, lo, hi, reason in rows:
            per_boot.setdefault(boot, []).append((int(lo), int(hi), str(reason)))
        out = []
        for boot, items in per_boot.items():
            merged = merge((lo, hi) for lo, hi, _ in items)
            by_reason: dict[str, int] = {}
            for lo, hi, reason in items:
                by_reason[reason] = by_reason.get(reason, 0) + hi - lo + 1
            out.append(Loss(boot, merged[-ranges:], sum(by_reason.values()), by_reason))
        return out

    def stats(self) -> OutboxStats:
        """Backlog, parked rows and the age of the oldest waiting message."""
        oldest = self._conn.execute("SELECT min(created_at) FROM outbox").fetchone()[0]
        parked = self._conn.execute("SELECT count(*) FROM parked").fetchone()[0]
        age = max(0.0, self._clock() - oldest) if oldest is not None else 0.0
        return OutboxStats(self._count, int(parked), age)

    def close(self) -> None:
        """Close the database; safe to call twice."""
        if self._db is not None:
            self._db.close()
            self._db = None

    def __enter__(self) -> Outbox:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class _Transaction:
    """Commit on success, roll back on error, around a BEGIN already issued."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> sqlite3.Connection:
        return self.conn

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.conn.execute("COMMIT")
        elif self.conn.in_transaction:  # SQLite ends it by itself on some errors (disk full)
            self.conn.execute("ROLLBACK")


__all__ = ["Boot", "Loss", "Outbox", "OutboxMessage", "OutboxStats"]
