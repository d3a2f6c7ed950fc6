"""Back up the hub's database into one file and restore it: SQLite through its online backup
API (the hub may be running), PostgreSQL through ``pg_dump --format=custom`` and
``pg_restore``.

A backup is written beside its final name and renamed into place once complete and synced,
so a file of that name is always a whole backup. A restore goes only into an empty database
(unless forced), then runs the migrations, so a backup of an older hub comes up to this
release's schema.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import make_url, text
from sqlalchemy.engine import URL

from hub.db import CONNECT_TIMEOUT_S, make_engine
from hub.migrate import Revisions, upgrade

SQLITE_MAGIC = b"SQLite format 3\0"
PGDUMP_MAGIC = b"PGDMP"
HUB_TABLES = frozenset({"alembic_version", "rooms", "sites"})
"""A database holding ``alembic_version``, or ``rooms`` and ``sites``, is a hub's."""
PG_BIN = Path("/usr/lib/postgresql")

Say = Callable[[str], None]


class BackupError(RuntimeError):
    """A backup or a restore failed (exit status 1)."""


class BackupRefusedError(BackupError, ValueError):
    """A restore or backup refused before anything changed (exit status 2): not a backup,
    a database that is not empty, a backup of the other kind of database."""


@dataclass(frozen=True, slots=True)
class Backup:
    """What a backup file is: ``sqlite`` or ``postgresql``, and the PostgreSQL schema it holds."""

    kind: str
    schema: str | None = None


def backup(url: str, out: Path, *, say: Say = print, pg_bin: Path | None = None) -> int:
    """Write a backup of the database of ``url`` to ``out``; its size in bytes."""
    parsed = make_url(url)
    out = out.expanduser()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.partial")
    started = time.monotonic()
    try:
        if parsed.get_backend_name() == "sqlite":
            _backup_sqlite(_sqlite_path(parsed), tmp, say)
        else:
            _backup_postgres(url, tmp, say, pg_bin)
        _sync(tmp)
        os.replace(tmp, out)
        _sync(out.parent)
    finally:
        tmp.unlink(missing_ok=True)
    size = out.stat().st_size
    say(f"backup written: {out} ({size / 1e6:.1f} MB in {time.monotonic() - started:.1f} s)")
    return size


def inspect_backup(path: Path, *, pg_bin: Path | None = None) -> Backup:
    """What kind of hub backup ``path`` is; ``BackupRefusedError`` if it is none."""
    try:
        with path.open("rb") as f:
            head = f.read(len(SQLITE_MAGIC))
    except OSError as exc:
        raise BackupRefusedError(f"{path}: cannot be read: {exc.strerror or exc}") from exc
    if head.startswith(SQLITE_MAGIC):
        tables = _sqlite_tables(path, read_only=True)
        if not _is_hub(tables):
            raise BackupRefusedError(
                f"{path}: a SQLite database, but not a hub's (no hub tables in it)"
            )
        return Backup("sqlite")
    if head.startswith(PGDUMP_MAGIC):
        listing = _run([_tool("pg_restore", pg_bin), "--list", str(path)], what="pg_restore")
        schemas = dict(_toc_tables(listing))
        if not _is_hub(set(schemas)):
            raise BackupRefusedError(
                f"{path}: a PostgreSQL dump, but not of a hub (no hub tables in it)"
            )
        return Backup("postgresql", schema=schemas.get("rooms") or schemas["alembic_version"])
    raise BackupRefusedError(
        f"{path}: not a hub backup (neither a SQLite database nor a pg_dump archive)"
    )


def restore(
    source: Path, url: str, *, force: bool = False, say: Say = print, pg_bin: Path | None = None
) -> Revisions:
    """Restore the backup ``source`` into the database of ``url``, then migrate it to this
    release's schema; where it stood before migrating."""
    found = inspect_backup(source, pg_bin=pg_bin)
    parsed = make_url(url)
    kind = "sqlite" if parsed.get_backend_name() == "sqlite" else "postgresql"
    if found.kind != kind:
        msg = f"{source}: a {found.kind} backup cannot be restored into a {kind} database"
        raise BackupRefusedError(msg)
    say(f"restoring {source} ({found.kind} backup)")
    if kind == "sqlite":
        _restore_sqlite(source, _sqlite_path(parsed), force=force, say=say)
    else:
        _restore_postgres(source, url, found, force=force, say=say, pg_bin=pg_bin)
    say("migrating the restored database to this release's schema")
    engine = make_engine(url)
    try:
        before = upgrade(engine)
    finally:
        engine.dispose()
    if before.pending:
        was = before.current or "a hub from before migrations"
        say(f"restored, and migrated from {was} to {before.head} (head)")
    else:
        say(f"restored at {before.head} (head): nothing to migrate")
    return before


# --- SQLite -----------------------------------------------------------------------------


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:" or url.database.startswith("file:"):
        raise BackupRefusedError(f"{url.render_as_string()}: not a SQLite file")
    return Path(url.database).expanduser()


def _sqlite_tables(path: Path, *, read_only: bool) -> set[str]:
    try:
        conn = _sqlite_read_only(path) if read_only else sqlite3.connect(path, timeout=30)
        with closing(conn):
            rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    except sqlite3.DatabaseError as exc:
        raise BackupRefusedError(f"{path}: not a readable SQLite database: {exc}") from exc
    return {str(name) for (name,) in rows if not str(name).startswith("sqlite_")}


def _sqlite_read_only(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{quote(str(path.resolve()))}?mode=ro", uri=True, timeout=30)


def _backup_sqlite(path: Path, tmp: Path, say: Say) -> None:
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


def _restore_sqlite(source: Path, target: Path, *, force: bool, say: Say) -> None:
    if target.exists():
        tables = _sqlite_tables(target, read_only=False)
        _refuse_unless_empty(tables, f"{target}", force=force)
    target.parent.mkdir(parents=True, exist_ok=True)
    with (
        closing(_sqlite_read_only(source)) as src,
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


# --- PostgreSQL -------------------------------------------------------------------------


def _backup_postgres(url: str, tmp: Path, say: Say, pg_bin: Path | None) -> None:
    schema = _schema_of(url)
    say(f"backing up schema {schema} of {make_url(url).render_as_string()} (pg_dump)")
    conninfo, env = _libpq(make_url(url))
    args = [
        _tool("pg_dump", pg_bin), "--format=custom", "--verbose", f"--schema={_pattern(schema)}",
        f"--file={tmp}", f"--dbname={conninfo}",
    ]  # fmt: skip
    _run(args, what="pg_dump", env=env, say=say, progress="dumping contents of table")


def _restore_postgres(
    source: Path, url: str, found: Backup, *, force: bool, say: Say, pg_bin: Path | None
) -> None:
    assert found.schema is not None
    target = _schema_of(url)
    if target != found.schema:
        msg = (
            f"{source} holds schema {found.schema!r}, but the database URL selects {target!r}:"
            f" restore into a database whose search_path selects {found.schema!r}"
        )
        raise BackupRefusedError(msg)
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            tables = conn.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = :s"), {"s": target}
            ).scalars()
            _refuse_unless_empty(set(tables), f"schema {target}", force=force)
            if force:
                say(f"dropping everything in schema {target} (--force)")
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{target}" CASCADE'))
            exists = conn.execute(
                text("SELECT count(*) FROM pg_namespace WHERE nspname = :s"), {"s": target}
            ).scalar_one()
    finally:
        engine.dispose()
    conninfo, env = _libpq(make_url(url))
    restore_tool = _tool("pg_restore", pg_bin)
    args = [
        restore_tool, "--verbose", "--no-owner", "--no-acl", "--single-transaction",
        "--exit-on-error", f"--dbname={conninfo}",
    ]  # fmt: skip
    if exists:  # its schema is there already (public): restore what it holds, not the schema
        listing = _run([restore_tool, "--list", str(source)], what="pg_restore")
        keep = [line for line in listing.splitlines() if f" SCHEMA - {target} " not in line
                and f" COMMENT - SCHEMA {target} " not in line]  # fmt: skip
        toc = source.with_name(f".{source.name}.{os.getpid()}.list")
        toc.write_text("\n".join(keep) + "\n", encoding="utf-8")
        args.append(f"--use-list={toc}")
    else:
        toc = None
    try:
        say(f"restoring into schema {target} (pg_restore, one transaction)")
        _run([*args, str(source)], what="pg_restore", env=env, say=say,
             progress="processing data for table")  # fmt: skip
    finally:
        if toc is not None:
            toc.unlink(missing_ok=True)


def _schema_of(url: str) -> str:
    """The schema the hub's tables are in: the first of the search path (which may not exist
    yet in a new database)."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            current = conn.execute(text("SELECT current_schema()")).scalar()
            if current:
                return str(current)
            path = str(conn.execute(text("SHOW search_path")).scalar_one())
    finally:
        engine.dispose()
    names = [p.strip().strip('"') for p in path.split(",") if p.strip() != '"$user"']
    if not names or not names[0]:
        raise BackupRefusedError(
            f"{make_url(url).render_as_string()}: its search_path names no schema"
        )
    return names[0]


def _libpq(url: URL) -> tuple[str, dict[str, str]]:
    """A libpq connection string for the URL, and the environment carrying its password
    (never on a command line, where any local user could read it)."""
    fields: dict[str, str] = {}
    if url.host:
        fields["host"] = url.host
    if url.port:
        fields["port"] = str(url.port)
    if url.username:
        fields["user"] = url.username
    if url.database:
        fields["dbname"] = url.database
    fields["connect_timeout"] = str(CONNECT_TIMEOUT_S)
    for key, value in url.query.items():
        fields[key] = value if isinstance(value, str) else value[-1]
    conninfo = " ".join(f"{k}='{_escape(v)}'" for k, v in fields.items())
    env = {"PGPASSWORD": url.password} if url.password else {}
    return conninfo, env


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("'", "\\'")


def _pattern(name: str) -> str:
    """A pg_dump pattern matching exactly ``name``."""
    return '"' + name.replace('"', '""') + '"'


def _toc_tables(listing: str) -> list[tuple[str, str]]:
    """(table, schema) of each ``TABLE`` entry of a ``pg_restore --list``."""
    found = []
    for line in listing.splitlines():
        parts = line.split()
        # "215; 1259 16385 TABLE public rooms postgres"
        if len(parts) >= 6 and not line.startswith(";") and parts[3] == "TABLE":
            found.append((parts[5], parts[4]))
    return found


def _tool(name: str, pg_bin: Path | None) -> str:
    """A PostgreSQL client program: from ``pg_bin``, Debian's newest version, or PATH."""
    if pg_bin is not None:
        return str(pg_bin / name)
    versions = sorted(
        PG_BIN.glob(f"*/bin/{name}"),
        key=lambda p: int(p.parents[1].name) if p.parents[1].name.isdigit() else 0,
    )
    found = str(versions[-1]) if versions else shutil.which(name)
    if found is None:
        msg = f"{name} not found: install the PostgreSQL client (apt-get install postgresql-client)"
        raise BackupError(msg)
    return found


def _run(
    args: list[str],
    *,
    what: str,
    env: dict[str, str] | None = None,
    say: Say | None = None,
    progress: str = "",
) -> str:
    """Run a PostgreSQL program; its standard output (none when ``say`` is given: then the
    lines of its log that contain ``progress`` are said as they come)."""
    full_env = {**os.environ, **(env or {})}
    if say is None:
        done = subprocess.run(
            args, capture_output=True, text=True, env=full_env, stdin=subprocess.DEVNULL,
            check=False,
        )  # fmt: skip
        if done.returncode != 0:
            raise BackupError(f"{what} failed ({done.returncode}): {done.stderr.strip()[-500:]}")
        return done.stdout
    errors: list[str] = []
    with subprocess.Popen(
        args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
        env=full_env, text=True,
    ) as proc:  # fmt: skip
        assert proc.stderr is not None
        for raw in proc.stderr:
            line = raw.rstrip()
            if progress and progress in line:
                say("  " + line.split(": ", 1)[-1])
            elif "error" in line.lower() or "fatal" in line.lower():
                errors.append(line)
    if proc.returncode != 0:
        raise BackupError(f"{what} failed ({proc.returncode}): {' '.join(errors[-3:])}")
    return ""


# --- both -------------------------------------------------------------------------------


def _is_hub(tables: set[str]) -> bool:
    return "alembic_version" in tables or {"rooms", "sites"} <= tables


def _refuse_unless_empty(tables: set[str], where: str, *, force: bool) -> None:
    if tables and not force:
        msg = (
            f"{where} is not empty ({len(tables)} tables): a backup is restored only into an"
            " empty database; give --force to replace what it holds"
        )
        raise BackupRefusedError(msg)


def _sync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


__all__ = ["Backup", "BackupError", "BackupRefusedError", "backup", "inspect_backup", "restore"]
