"""The hub's PostgreSQL schema into a backup file and back: ``pg_dump --format=custom`` and
``pg_restore``, in one transaction."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from sqlalchemy import make_url, text
from sqlalchemy.engine import URL

from hub.backup.errors import BackupError, BackupRefusedError, Say, refuse_unless_empty
from hub.db import CONNECT_TIMEOUT_S, make_engine

MAGIC = b"PGDMP"
"""How a pg_dump archive (custom format) begins."""
PG_BIN = Path("/usr/lib/postgresql")
"""Debian's folder of PostgreSQL versions, each with its ``bin``."""


def backup_postgres(url: str, tmp: Path, say: Say, pg_bin: Path | None) -> None:
    schema = _schema_of(url)
    say(f"backing up schema {schema} of {make_url(url).render_as_string()} (pg_dump)")
    conninfo, env = _libpq(make_url(url))
    args = [
        tool("pg_dump", pg_bin), "--format=custom", "--verbose", f"--schema={_pattern(schema)}",
        f"--file={tmp}", f"--dbname={conninfo}",
    ]  # fmt: skip
    run(args, what="pg_dump", env=env, say=say, progress="dumping contents of table")


def restore_postgres(
    source: Path, url: str, schema: str, *, force: bool, say: Say, pg_bin: Path | None
) -> None:
    target = _schema_of(url)
    if target != schema:
        msg = (
            f"{source} holds schema {schema!r}, but the database URL selects {target!r}:"
            f" restore into a database whose search_path selects {schema!r}"
        )
        raise BackupRefusedError(msg)
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            tables = conn.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = :s"), {"s": target}
            ).scalars()
            refuse_unless_empty(set(tables), f"schema {target}", force=force)
            if force:
                say(f"dropping everything in schema {target} (--force)")
                conn.execute(text(f"DROP SCHEMA IF EXISTS {_pattern(target)} CASCADE"))
            exists = conn.execute(
                text("SELECT count(*) FROM pg_namespace WHERE nspname = :s"), {"s": target}
            ).scalar_one()
    finally:
        engine.dispose()
    conninfo, env = _libpq(make_url(url))
    restore_tool = tool("pg_restore", pg_bin)
    args = [
        restore_tool, "--verbose", "--no-owner", "--no-acl", "--single-transaction",
        "--exit-on-error", f"--dbname={conninfo}",
    ]  # fmt: skip
    if exists:  # its schema is there already (public): restore what it holds, not the schema
        own = (f" SCHEMA - {target} ", f" COMMENT - SCHEMA {target} ")
        lines = listing(source, pg_bin).splitlines()
        keep = [line for line in lines if not any(entry in line for entry in own)]
        fd, name = tempfile.mkstemp(prefix="smartclass-restore-", suffix=".list")
        toc: Path | None = Path(name)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write("\n".join(keep) + "\n")
        args.append(f"--use-list={toc}")
    else:
        toc = None
    try:
        say(f"restoring into schema {target} (pg_restore, one transaction)")
        run([*args, str(source)], what="pg_restore", env=env, say=say,
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
    """``name`` quoted: a pg_dump pattern matching exactly it, and an SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def listing(path: Path, pg_bin: Path | None) -> str:
    """The table of contents of a pg_dump archive (``pg_restore --list``)."""
    try:
        return run([tool("pg_restore", pg_bin), "--list", str(path)], what="pg_restore")
    except BackupError as exc:
        raise BackupRefusedError(f"{path}: a damaged or unreadable pg_dump archive: {exc}") from exc


def toc_tables(listing: str) -> list[tuple[str, str]]:
    """(table, schema) of each ``TABLE`` entry of a ``pg_restore --list``."""
    found = []
    for line in listing.splitlines():
        parts = line.split()
        # "215; 1259 16385 TABLE public rooms postgres"
        if len(parts) >= 6 and not line.startswith(";") and parts[3] == "TABLE":
            found.append((parts[5], parts[4]))
    return found


def tool(name: str, pg_bin: Path | None) -> str:
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


def run(
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


__all__ = ["MAGIC", "backup_postgres", "listing", "restore_postgres", "run", "toc_tables", "tool"]
