"""The hub's SQLite file into a backup file and back, through SQLite's online backup API."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from urllib.parse import quote

from sqlalchemy.engine import URL

from hub.backup.errors import BackupError, BackupRefusedError, Say, refuse_unless_empty

MAGIC = b"SQLite format 3\0"
"""How a SQLite database file begins."""


def sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:" or url.database.startswith("file:"):
        raise BackupRefusedError(f"{url.render_as_string()}: not a SQLite file")
    return Path(url.database).expanduser()


def sqlite_tables(path: Path, *, read_only: bool) -> set[str]:
    try:
        conn = sqlite_read_only(path) if read_only else sqlite3.connect(path, timeout=30)
        with closing(conn):
            rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    except sqlite3.DatabaseError as exc:
        raise BackupRefusedError(f"{path}: not a readable SQLite database: {exc}") from exc
    return {str(name) for (name,) in rows if not str(name).startswith("sqlite_")}


def sqlite_read_only(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{quote(str(path.resolve()))}?mode=ro", uri=True, timeout=30)


def backup_sqlite(path: Path, tmp: Path, say: Say) -> None:
    if not path.is_file():
        raise BackupRefusedError(f"{path}: no such database file")
    say(f"backing up {path} (SQLite, online backup)")
    with closing(sqlite3.connect(path, timeout=30)) as src, closing(sqlite3.connect(tmp)) as dst:
        pages = src.execute("PRAGMA page_count").fetchone()[0]
        say(f"copying {pages} pages")
        # One step: a snapshot read in one transaction, so the hub's writes meanwhile neither
        # tear it nor make it start again (they go on in the WAL; readers do not block them).
        src.backup(dst, pages=-1)
        dst.execute("PRAGMA journal_mode=DELETE")  # the backup is one self-contained file
        check = dst.execute("PRAGMA quick_check").fetchone()[0]
        if check != "ok":
            raise BackupError(f"the backup of {path} fails its check: {check}")
        _say_rows(dst, say)


def restore_sqlite(source: Path, target: Path, *, force: bool, say: Say) -> None:
    if target.exists():
        tables = sqlite_tables(target, read_only=False)
        refuse_unless_empty(tables, f"{target}", force=force)
    target.parent.mkdir(parents=True, exist_ok=True)
    with (
        closing(sqlite_read_only(source)) as src,
        closing(sqlite3.connect(target, timeout=30)) as dst,
    ):
        pages = src.execute("PRAGMA page_count").fetchone()[0]
        say(f"copying {pages} pages into {target}")
        src.backup(dst, pages=-1)  # replaces the whole target, in one transaction
        _say_rows(dst, say)


def _say_rows(conn: sqlite3.Connection, say: Say) -> None:
    names = sorted(
        str(n)
        for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        if not str(n).startswith("sqlite_")
    )
    total = 0
    for name in names:
        quoted = '"' + name.replace('"', '""') + '"'
        total += conn.execute(f"SELECT count(*) FROM {quoted}").fetchone()[0]  # noqa: S608
    say(f"{len(names)} tables, {total} rows")


__all__ = ["MAGIC", "backup_sqlite", "restore_sqlite", "sqlite_path", "sqlite_tables"]
