"""The usage rollup tables: what each device did, per UTC hour and per local day.

One row per (site, room, device, part) and hour (``usage_hourly``) or day of the report
time zone (``usage_daily``); ``part`` is a lighting zone, ``""`` for the device itself. They
are sums kept up to date by the ingest (``hub.rollups``), so any range of hours or days adds
up without touching telemetry. Two more daily tables spare reports of many rooms from
reading every device's row: ``usage_site_daily`` adds the rooms of a site up per device
name, and ``usage_room_daily`` holds what a room has once whatever its number of sensors
(occupied time, CO2 time, the time covered: the room's device that counts most). A school's
year is then some 2 500 + 9 000 rows instead of 60 000. New measures are new columns with a
server default (a migration in ``hub/migrations`` adds them to the table), e.g. attendance.
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
    """The kind and measure columns of a usage table (a new list each time: a column
    belongs to one table)."""
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

usage_site_daily = Table(
    "usage_site_daily",
    Base.metadata,
    Column("site", String(63), nullable=False),
    Column("day", Date(), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("device", String(63), nullable=False),
    Column("part", String(63), nullable=False),
    *(c for c in _measures() if c.name in SUMS),
    PrimaryKeyConstraint("site", "day", "kind", "device", "part"),
    sqlite_with_rowid=False,
)
"""``usage_daily`` added up over the rooms of a site, per kind, device name and part."""

ROOM_MAXES: tuple[str, ...] = ("covered_s", "occupied_s", "co2_1000_s", "co2_1500_s")
"""What a room has once: per room and day, the highest of its devices' daily amounts."""

usage_room_daily = Table(
    "usage_room_daily",
    Base.metadata,
    Column("site", String(63), nullable=False),
    Column("day", Date(), nullable=False),
    Column("room", String(63), nullable=False),
    *(Column(name, Float(), nullable=False, server_default="0") for name in ROOM_MAXES),
    PrimaryKeyConstraint("site", "day", "room"),
    sqlite_with_rowid=False,
)
"""Per room and day, the most any of its devices counted of ROOM_MAXES (a room with two
occupancy sensors is occupied as long as the one that saw it longer says)."""

__all__ = [
    "COUNTS",
    "KINDS",
    "MAXES",
    "ROOM_MAXES",
    "SUMS",
    "usage_daily",
    "usage_hourly",
    "usage_room_daily",
    "usage_site_daily",
]
