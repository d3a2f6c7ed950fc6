"""The hub's schema, kept by Alembic migrations: upgrade to the newest revision (at start and
with ``smartclass hub migrate``), adopting a database made by a hub from before migrations.

One hub migrates at a time: on PostgreSQL the whole upgrade runs in one transaction under an
advisory lock (a second hub waits, then finds nothing to do); on SQLite in one ``BEGIN
IMMEDIATE`` transaction, which also keeps a second writer out of the file.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

# Alembic announces each of its plugins at INFO as it loads: seven lines at every start.
logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)

from alembic import command  # noqa: E402
from alembic.config import Config  # noqa: E402
from alembic.runtime.migration import MigrationContext  # noqa: E402
from alembic.script import ScriptDirectory  # noqa: E402
from alembic.util import CommandError  # noqa: E402
from sqlalchemy import Connection, Engine, inspect, text  # noqa: E402

from hub.migrations import baseline  # noqa: E402

logger = logging.getLogger(__name__)

SCRIPTS = Path(__file__).with_name("migrations")
"""Where the migrations are: package data of the hub, so an installed hub can upgrade."""
BASELINE = "50b813837052"
"""The first revision: the schema of the last hub before migrations."""
MIGRATION_LOCK = 0x5C4B_0001
"""PostgreSQL advisory lock held while a hub migrates (the key the schema lock had before
migrations, so a hub of that release and a newer one never make the schema together)."""
_IN_PROCESS = threading.Lock()
"""Alembic keeps the running migration's context in module globals: one at a time per process."""
FILE_TEMPLATE = "%%(year)d%%(month).2d%%(day).2d_%%(rev)s_%%(slug)s"
"""New revision files sort by date: ``20261201_50b813837052_baseline.py``."""


class MigrationError(RuntimeError):
    """The database cannot be brought to this hub's schema (a revision it does not know)."""


@dataclass(frozen=True, slots=True)
class Revisions:
    """Where a database stands against this hub's migrations."""

    current: str | None
    """Its revision; None: an empty database, or one made by a hub from before migrations."""
    head: str
    """The newest revision this hub knows: its models' schema."""
    legacy: bool = False
    """It holds the tables of a hub from before migrations but no revision."""
    known: bool = True
    """False: its revision is not one of this hub's (a newer hub migrated it)."""

    @property
    def pending(self) -> bool:
        return self.current != self.head


def server_defaults_differ(
    context: MigrationContext,
    inspected_column: object,
    metadata_column: object,
    inspected_default: str | None,
    metadata_default: object,
    rendered_metadata_default: str | None,
) -> bool | None:
    """Alembic's comparison of server defaults, but SQLite's: it reflects ``DEFAULT ''`` as
    ``''`` against the models' empty text and took them for different."""
    if context.dialect.name != "sqlite":
        return None  # Alembic's own

    def bare(value: str | None) -> str | None:
        return None if value is None else value.strip("()").strip("'\"")

    return bare(inspected_default) != bare(rendered_metadata_default)


def alembic_config(
    connection: Connection | None = None, *, extra_versions: Sequence[str] = ()
) -> Config:
    """Alembic's configuration, made in code (no ``alembic.ini``); ``extra_versions`` are more
    folders of revisions (the tests' own)."""
    config = Config()
    config.set_main_option("script_location", str(SCRIPTS))
    locations = [str(SCRIPTS / "versions"), *extra_versions]
    config.set_main_option("path_separator", "newline")
    config.set_main_option("version_locations", "\n".join(locations))
    config.set_main_option("file_template", FILE_TEMPLATE)
    config.attributes["connection"] = connection
    return config


def head(config: Config | None = None) -> str:
    """The newest revision; an error if the revisions have more than one head (two branches
    that each added one, merged without ``alembic merge``)."""
    return _head(ScriptDirectory.from_config(config or alembic_config()))


def _head(script: ScriptDirectory) -> str:
    heads = script.get_heads()
    if len(heads) != 1:
        msg = f"the migrations have {len(heads)} heads ({', '.join(heads)}): merge them"
        raise MigrationError(msg)
    return heads[0]


def revisions(engine: Engine, config: Config | None = None) -> Revisions:
    """Where the database of ``engine`` stands, read without changing anything."""
    with engine.connect() as conn:
        return _revisions(conn, config or alembic_config())


def upgrade(engine: Engine, config: Config | None = None) -> Revisions:
    """Bring the database to the newest revision; returns where it stood before.

    A database of a hub from before migrations (its tables, no ``alembic_version``) is first
    completed to the baseline and stamped with it. Blocking: call it from a worker thread.
    """
    with _IN_PROCESS, engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:  # a batch copies tables: with foreign keys on, dropping one would cascade
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            conn.commit()
        try:
            with conn.begin():
                if sqlite:
                    conn.exec_driver_sql("BEGIN IMMEDIATE")
                elif conn.dialect.name == "postgresql":
                    _lock(conn)
                config = config or alembic_config()
                config.attributes["connection"] = conn
                before = _revisions(conn, config)
                if before.legacy:
                    logger.info("database: made by a hub from before migrations; adopted")
                    baseline.complete(conn)
                    command.stamp(config, BASELINE)
                if before.pending:
                    _upgrade_to_head(config, before)
                if sqlite:
                    _check_foreign_keys(conn)
        finally:
            if sqlite:
                conn.exec_driver_sql("PRAGMA foreign_keys=ON")
                conn.commit()
    return before


def _lock(conn: Connection) -> None:
    """Take the migration lock for this transaction, waiting (and saying so) if it is held."""
    key = {"key": MIGRATION_LOCK}
    if conn.execute(text("SELECT pg_try_advisory_xact_lock(:key)"), key).scalar_one():
        return
    logger.info("database: another hub is migrating it; waiting for it to finish")
    conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), key)


def _revisions(conn: Connection, config: Config) -> Revisions:
    current = MigrationContext.configure(conn).get_current_revision()
    script = ScriptDirectory.from_config(config)
    newest = _head(script)
    if current is None:
        tables = set(inspect(conn).get_table_names())
        return Revisions(None, newest, legacy=bool(tables & set(baseline.metadata.tables)))
    try:
        script.get_revision(current)
    except CommandError:
        return Revisions(current, newest, known=False)
    return Revisions(current, newest)


def _upgrade_to_head(config: Config, before: Revisions) -> None:
    if not before.known:
        msg = (
            f"the database is at revision {before.current}, which this hub does not know"
            " (a newer hub migrated it?): run a hub of that release or a newer one"
        )
        raise MigrationError(msg)
    logger.info("database: upgrading from %s to %s", before.current or "nothing", before.head)
    command.upgrade(config, "head")


def _check_foreign_keys(conn: Connection) -> None:
    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").all()
    if broken:
        msg = f"the migration broke foreign keys: {broken[:5]}"
        raise MigrationError(msg)


__all__ = [
    "BASELINE",
    "MIGRATION_LOCK",
    "MigrationError",
    "Revisions",
    "alembic_config",
    "head",
    "revisions",
    "server_defaults_differ",
    "upgrade",
]
