"""Statements compiled once per dialect and run with values already in the driver's form.

On the ingest's hot path SQLAlchemy's per-row, per-column bind processing cost more than the
SQL itself; these functions convert a value once (a time, a JSON document) and hand the rows
to the driver as they are.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import JSON, Connection

from hub.db import UtcDateTime

_COMPILED: dict[tuple[str, str], Any] = {}
_BINDERS: dict[tuple[str, str], Callable[[Any], Any]] = {}


def _binder(dialect: Any, kind: str, make: Callable[[], Any]) -> Callable[[Any], Any]:
    key = (dialect.name, kind)
    binder = _BINDERS.get(key)
    if binder is None:
        processor = make().dialect_impl(dialect).bind_processor(dialect)
        binder = _BINDERS[key] = processor or (lambda value: value)
    return binder


def time_binder(dialect: Any) -> Callable[[Any], Any]:
    """A UTC datetime as the driver takes it for a ``UtcDateTime`` column."""
    return _binder(dialect, "time", UtcDateTime)


def json_binder(dialect: Any) -> Callable[[Any], Any]:
    """A JSON document as the driver takes it for a ``JSON`` column."""
    return _binder(dialect, "json", JSON)


def run(conn: Connection, key: str, build: Callable[[], Any], rows: list[dict[str, Any]]) -> int:
    """Run the statement ``build()`` (compiled once per dialect under ``key``) for ``rows``
    of driver values keyed by bind name; return the rows it touched."""
    if not rows:
        return 0
    dialect = conn.dialect
    compiled = _COMPILED.get((dialect.name, key))
    if compiled is None:
        compiled = build().compile(dialect=dialect, column_keys=list(rows[0]))
        _COMPILED[(dialect.name, key)] = compiled
    params: list[Any] = rows
    if compiled.positional:
        names = compiled.positiontup or ()
        params = [tuple(row[n] for n in names) for row in rows]
    result = conn.exec_driver_sql(compiled.string, params, {"preserve_rowcount": True})
    return int(result.rowcount or 0)


__all__ = ["json_binder", "run", "time_binder"]
