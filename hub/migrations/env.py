"""Alembic's environment for the hub: ``hub.migrate`` hands it an open connection (inside the
transaction that holds the migration lock), so there is no ``alembic.ini`` and no URL here."""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from sqlalchemy import Connection

from hub.db import Base, UtcDateTime, load_models
from hub.migrate import server_defaults_differ

load_models()
connection = context.config.attributes.get("connection")
if not isinstance(connection, Connection):
    msg = "the hub's migrations run through hub.migrate (smartclass hub migrate), with a connection"
    raise RuntimeError(msg)  # offline (--sql) mode and a bare ``alembic`` command included


def render_item(kind: str, obj: Any, autogen_context: Any) -> str | Literal[False]:
    """A revision is frozen: it names the database type of the hub's own column types (a
    later change to ``hub.db`` must not change what an old revision did)."""
    if kind == "type" and isinstance(obj, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    return False


context.configure(
    connection=connection,
    render_item=render_item,
    target_metadata=Base.metadata,
    # Batch operations in every revision: SQLite can alter a table only by copying it, and a
    # revision written against PostgreSQL must run on SQLite too (on PostgreSQL a batch is
    # plain ALTER statements).
    render_as_batch=True,
    compare_type=True,
    compare_server_default=server_defaults_differ,
)
with context.begin_transaction():
    context.run_migrations()
