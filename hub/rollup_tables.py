"""The usage rollup tables: what each device did, per UTC hour and per local day.

One row per (site, room, device, part) and hour (``usage_hourly``) or day of the report
time zone (``usage_daily``); ``part`` is a lighting zone, ``""`` for the device itself. Both
are sums kept up to date by the ingest (``hub.rollups``), so any range of hours or days adds
up without touching telemetry. The daily table is the hourly one summed by local day: a
school's year is 24 times fewer rows to read. New measures are new columns with a server
default (``hub.db.create_schema`` adds them to an older table), e.g. attendance later.
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Date,
    Float,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
)

from hub.db import Base, UtcDateTime

SUMS: tuple[str, ...] = (
    "covered_s",
    "on_s",
    "empty_s",
    "closed_s",
    "waste_s",
    "energy_wh",
    "waste_wh",
    "occupied_s",
    "co2_1000_s",
    "co2_1500_s",
    "temp_sum",
    "temp_n",
    "noise_sum",
    "noise_n",
)
"""Measures that add up (an upsert adds the new amounts to what is there):

- ``covered_s``: seconds the device's samples cover (how much data there is);
- ``on_s``: a projector's lamp or a lighting zone lit; ``empty_s`` of it in an unoccupied
  room, ``closed_s`` outside the timetable's sessions, ``waste_s`` either;
- ``energy_wh``, ``waste_wh``: the watts of the device (or zone) times ``on_s``, ``waste_s``;
- ``occupied_s``: an occupancy sensor seeing the room occupied;
- ``co2_1000_s``, ``co2_1500_s``: CO2 above 1000 and above 1500 ppm;
- ``temp_sum``/``temp_n``, ``noise_sum``/``noise_n``: readings taken during lessons, so a
  mean over any range is sum over count.
"""
MAXES: tuple[str, ...] = ("lamp_h", "filter_h")
"""Projector lamp and filter hours: the highest reported in the hour or day."""
COUNTS = frozenset({"temp_n", "noise_n"})
"""Sums that are counts (integers)."""
KINDS = ("projector", "lighting", "sensor")
"""What a row is about: a projector, a lighting device or one of its zones, or a sensor."""


def _measures() -> list[Column[object]]:
    columns: list[Column[object]] = [Column("kind", String(16), nullable=False)]
    for name in SUMS:
        kind = Integer if name in COUNTS else Float
        columns.append(Column(name, kind(), nullable=False, server_default="0"))
    columns += [Column(name, Float(), nullable=True) for name in MAXES]
    return columns


def _key(period: str) -> PrimaryKeyConstraint:
    # a site's days (or hours) together: a school's report reads one range of the key
    return PrimaryKeyConstraint("site", period, "room", "device", "part")


usage_hourly = Table(
    "usage_hourly",
    Base.metadata,
    Column("site", String(63), nullable=False),
    Column("hour", UtcDateTime(), nullable=False),
    Column("room", String(63), nullable=False),
    Column("device", String(63), nullable=False),
    Column("part", String(63), nullable=False),
    *_measures(),
    _key("hour"),
    Index("ix_usage_hourly_hour", "hour"),
    sqlite_with_rowid=False,
)
"""Usage per device (and zone) and UTC hour (``hour``: its start)."""

usage_daily = Table(
    "usage_daily",
    Base.metadata,
    Column("site", String(63), nullable=False),
    Column("day", Date(), nullable=False),
    Column("room", String(63), nullable=False),
    Column("device", String(63), nullable=False),
    Column("part", String(63), nullable=False),
    *_measures(),
    _key("day"),
    Index("ix_usage_daily_day", "day"),
    sqlite_with_rowid=False,
)
"""Usage per device (and zone) and day of the report time zone."""

__all__ = ["COUNTS", "KINDS", "MAXES", "SUMS", "usage_daily", "usage_hourly"]
