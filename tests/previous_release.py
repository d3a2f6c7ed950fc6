"""The hub database of the previous release (``tests/data``, made by
``scripts/previous_release_db.py``): loaded into a test's database, and read back whole."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, MetaData, Table, make_url, select

from hub.db import make_engine

DATA = Path(__file__).parent / "data"
SITE = "thcs-nguyen-chi-thanh"
ROOM = "6a1"
AGENT = f"{SITE}/{ROOM}"
USAGE_ROOM = "9a1"
"""The room whose contract-v3 samples the release rolled up (local day 2025-03-03)."""
TABLES = (
    "agent_health", "alert_transitions", "alerts", "api_tokens", "audit_log", "boots",
    "commands", "dead_letters", "device_state", "events", "latest_readings",
    "room_config_versions", "rooms", "site_config_versions", "sites", "telemetry",
    "usage_daily", "usage_hourly", "usage_room_daily", "usage_site_daily", "user_rooms",
    "user_sites", "users", "web_sessions",
)  # fmt: skip
"""The tables of the previous release."""
ROWS = {
    "agent_health": 1, "alert_transitions": 4, "alerts": 2, "api_tokens": 1, "audit_log": 3,
    "boots": 4, "commands": 1, "dead_letters": 3, "device_state": 1, "events": 2,
    "latest_readings": 13, "room_config_versions": 4, "rooms": 4, "site_config_versions": 1,
    "sites": 2, "telemetry": 135, "usage_daily": 6, "usage_hourly": 11, "usage_room_daily": 1,
    "usage_site_daily": 6, "user_rooms": 1, "user_sites": 1, "users": 2, "web_sessions": 1,
}  # fmt: skip
"""How many rows each table of the dump holds."""


def load_previous_release(url: str) -> None:
    """Load the previous release's database into the empty database (or schema) of ``url``."""
    parsed = make_url(url)
    dialect = parsed.get_backend_name()
    dump = (DATA / f"previous-release.{dialect}.sql").read_text(encoding="utf-8")
    if dialect == "sqlite":
        assert parsed.database
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        with sqlite3.connect(parsed.database) as conn:
            conn.executescript(dump)
        return
    engine = make_engine(url)
    try:
        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute(dump)  # no parameters: psycopg sends it as one simple query
            cursor.close()
            raw.commit()
        finally:
            raw.close()
    finally:
        engine.dispose()


def snapshot(engine: Engine, tables: tuple[str, ...] = TABLES) -> dict[str, list[dict[str, Any]]]:
    """Every row of ``tables``, as the database gives them back, in primary key order."""
    metadata = MetaData()
    rows: dict[str, list[dict[str, Any]]] = {}
    with engine.connect() as conn:
        for name in tables:
            table = Table(name, metadata, autoload_with=conn)
            query = select(table).order_by(*table.primary_key.columns)
            rows[name] = [dict(row._mapping) for row in conn.execute(query)]
    return rows


__all__ = [
    "AGENT",
    "DATA",
    "ROOM",
    "ROWS",
    "SITE",
    "TABLES",
    "USAGE_ROOM",
    "load_previous_release",
    "snapshot",
]
