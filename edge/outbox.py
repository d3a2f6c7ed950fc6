"""Durable outbox: messages are stored in SQLite before publishing and deleted once acknowledged.

Durability choice: WAL journal with ``synchronous=NORMAL``. Each commit is atomic
and the database cannot be corrupted by a power cut; the last few commits before
a power cut (not a process crash) may be lost, which for telemetry is a gap the
hub detects by sequence number. ``synchronous=FULL`` would fsync every commit,
which an SD card pays for in latency and wear.

Bounds policy: when more than ``max_messages`` are waiting, the oldest are
dropped; messages older than ``max_age_s`` are dropped. Every drop is counted
and handed out once by ``take_dropped`` so the agent can report it as an event.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    topic TEXT NOT NULL,
    payload BLOB NOT NULL,
    qos INTEGER NOT NULL,
    retain INTEGER NOT NULL,
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS outbox_created_at ON outbox (created_at);
"""


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    """One stored message, in the order it was added (``id`` grows)."""

    id: int
    topic: str
    payload: bytes
    qos: int
    retain: bool
    created_at: float


class Outbox:
    """A bounded FIFO of MQTT messages in one SQLite file; every call is one short transaction."""

    def __init__(
        self,
        path: str | Path,
        *,
        max_messages: int = 100_000,
        max_age_s: float = 168 * 3600,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = Path(path)
        self.max_messages = max_messages
        self.max_age_s = max_age_s
        self._clock = clock
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db: sqlite3.Connection | None = sqlite3.connect(self.path, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._count: int = self._conn.execute("SELECT count(*) FROM outbox").fetchone()[0]
        self._dropped = 0
        with self._tx() as conn:
            dropped = self._enforce_bounds(conn, self._count)
        self._count -= dropped
        self._dropped += dropped

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

    def add(self, topic: str, payload: bytes, *, qos: int = 1, retain: bool = False) -> int:
        """Store one message; return its id."""
        return self.add_many([(topic, payload)], qos=qos, retain=retain)[0]

    def add_many(
        self, messages: Iterable[tuple[str, bytes]], *, qos: int = 1, retain: bool = False
    ) -> list[int]:
        """Store several messages in one transaction, in order; return their ids."""
        now = self._clock()
        ids: list[int] = []
        with self._tx() as conn:
            for topic, payload in messages:
                cur = conn.execute(
                    "INSERT INTO outbox (topic, payload, qos, retain, created_at)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (topic, payload, qos, int(retain), now),
                )
                assert cur.lastrowid is not None
                ids.append(cur.lastrowid)
            dropped = self._enforce_bounds(conn, self._count + len(ids))
        self._count += len(ids) - dropped
        self._dropped += dropped
        return ids

    def peek(self, n: int, after_id: int = 0) -> list[OutboxMessage]:
        """Up to ``n`` oldest messages with an id above ``after_id``."""
        rows = self._conn.execute(
            "SELECT id, topic, payload, qos, retain, created_at FROM outbox"
            " WHERE id > ? ORDER BY id LIMIT ?",
            (after_id, n),
        ).fetchall()
        return [OutboxMessage(r[0], r[1], bytes(r[2]), r[3], bool(r[4]), r[5]) for r in rows]

    def delete(self, ids: Iterable[int]) -> int:
        """Remove acknowledged messages; return how many were still there."""
        id_list = list(ids)
        if not id_list:
            return 0
        deleted = 0
        with self._tx() as conn:
            for start in range(0, len(id_list), 500):
                chunk = id_list[start : start + 500]
                marks = ",".join("?" * len(chunk))
                sql = f"DELETE FROM outbox WHERE id IN ({marks})"  # noqa: S608 - placeholders only
                deleted += conn.execute(sql, chunk).rowcount
        self._count -= deleted
        return deleted

    def _enforce_bounds(self, conn: sqlite3.Connection, count: int) -> int:
        """Drop what is too old, then the oldest beyond the size bound; return how many."""
        expired = conn.execute(
            "DELETE FROM outbox WHERE created_at < ?", (self._clock() - self.max_age_s,)
        ).rowcount
        excess = max(0, count - expired - self.max_messages)
        if excess:
            conn.execute(
                "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox ORDER BY id LIMIT ?)",
                (excess,),
            )
        return int(expired + excess)

    def take_dropped(self) -> int:
        """How many messages the bounds dropped since the last call (then reset to 0)."""
        dropped, self._dropped = self._dropped, 0
        return dropped

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
        self.conn.execute("ROLLBACK" if exc_type else "COMMIT")


__all__ = ["Outbox", "OutboxMessage"]
