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
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import make_url

from hub.backup import postgres, sqlite
from hub.backup.errors import BackupError, BackupRefusedError, Say, is_hub
from hub.db import make_engine
from hub.migrate import Revisions, upgrade


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
        # Readable by its owner only: it holds password hashes, tokens' digests and pupils'
        # attendance. Made empty first, so SQLite and pg_dump write into it, mode kept.
        os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))
        if parsed.get_backend_name() == "sqlite":
            sqlite.backup_sqlite(sqlite.sqlite_path(parsed), tmp, say)
        else:
            postgres.backup_postgres(url, tmp, say, pg_bin)
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
            head = f.read(len(sqlite.MAGIC))
    except OSError as exc:
        raise BackupRefusedError(f"{path}: cannot be read: {exc.strerror or exc}") from exc
    if head.startswith(sqlite.MAGIC):
        tables = sqlite.sqlite_tables(path, read_only=True)
        if not is_hub(tables):
            raise BackupRefusedError(
                f"{path}: a SQLite database, but not a hub's (no hub tables in it)"
            )
        return Backup("sqlite")
    if head.startswith(postgres.MAGIC):
        schemas = dict(postgres.toc_tables(postgres.listing(path, pg_bin)))
        if not is_hub(set(schemas)):
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
        sqlite.restore_sqlite(source, sqlite.sqlite_path(parsed), force=force, say=say)
    else:
        assert found.schema is not None
        postgres.restore_postgres(source, url, found.schema, force=force, say=say, pg_bin=pg_bin)
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


def _sync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


__all__ = ["Backup", "BackupError", "BackupRefusedError", "backup", "inspect_backup", "restore"]
