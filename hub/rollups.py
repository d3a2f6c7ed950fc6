"""Usage rollups kept up to date by the ingest, in the transaction that stores the telemetry.

Each telemetry message the batch stores for the first time (never a redelivery: see
``BatchWriter.telemetry``) adds what it says to the hour it was measured in, whenever it
arrives: a sample stands for the ``interval_s`` before its ``ts`` (contract v3), split at
hour boundaries; what it says of the room at ``ts`` (occupied, the timetable's schedule)
holds for that interval. Samples that do not say their interval (agents before v3) add
nothing. The amounts of a batch are summed in memory, then written with one upsert per
table (``INSERT … ON CONFLICT DO UPDATE`` adding to what is there, on SQLite and PostgreSQL).
"""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Date, Table, bindparam, func, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from hub.parsing import Parsed
from hub.ratings import Ratings
from hub.rawsql import time_binder
from hub.rollup_tables import (
    COUNTS,
    MAXES,
    ROOM_MAXES,
    SUMS,
    usage_daily,
    usage_hourly,
    usage_room_daily,
    usage_site_daily,
)
from protocol import Telemetry
from protocol.bounds import safe_text
from protocol.usage import (
    CO2,
    FILTER_HOURS,
    LAMP_HOURS,
    NOISE,
    OCCUPIED,
    POWER_ON,
    TEMPERATURE,
    zone_of,
)

logger = logging.getLogger(__name__)

CO2_HIGH_PPM = 1000.0
CO2_VERY_HIGH_PPM = 1500.0
"""CO2 above these is counted (``co2_1000_s``, ``co2_1500_s``)."""
HOUR_S = 3600
_KEYS_PER_QUERY = 300

_INDEX = {name: i for i, name in enumerate(SUMS)}
_COVERED, _ON, _EMPTY, _CLOSED, _WASTE, _ENERGY, _WASTE_WH = (
    _INDEX[n]
    for n in ("covered_s", "on_s", "empty_s", "closed_s", "waste_s", "energy_wh", "waste_wh")
)
_OCCUPIED, _CO2_1000, _CO2_1500 = (_INDEX[n] for n in ("occupied_s", "co2_1000_s", "co2_1500_s"))
_TEMP_SUM, _TEMP_N, _NOISE_SUM, _NOISE_N = (
    _INDEX[n] for n in ("temp_sum", "temp_n", "noise_sum", "noise_n")
)

_zone_of = functools.lru_cache(maxsize=4096)(zone_of)
"""Metric names repeat in every sample: each is taken apart once."""

Key = tuple[str, str, str, str, int]
"""(site, room, device, part, hour): ``hour`` counts hours since 1970 (UTC)."""


class Amounts:
    """What one row gains from a batch: the sums, the highest lamp and filter hours."""

    __slots__ = ("filter_h", "kind", "lamp_h", "sums")

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.sums = [0.0] * len(SUMS)
        self.lamp_h: float | None = None
        self.filter_h: float | None = None

    def add(self, other: Amounts) -> None:
        self.sums = [a + b for a, b in zip(self.sums, other.sums, strict=True)]
        self.lamp_h = _highest(self.lamp_h, other.lamp_h)
        self.filter_h = _highest(self.filter_h, other.filter_h)


def _highest(a: float | None, b: float | None) -> float | None:
    if a is None:
        return b
    return a if b is None or a >= b else b


def pieces(end_s: float, seconds: float) -> Iterable[tuple[int, float]]:
    """(hour, seconds) of the interval ``[end_s - seconds, end_s)`` (epoch seconds) cut at
    UTC hour boundaries."""
    start = end_s - seconds
    hour = math.floor(start / HOUR_S)
    while start < end_s:
        stop = min(end_s, (hour + 1) * HOUR_S)
        yield hour, stop - start
        start = stop
        hour += 1


def kind_of(readings: dict[str, float]) -> str:
    """A projector says ``power_on``; a lighting device its zones' levels; the rest senses."""
    if POWER_ON in readings:
        return "projector"
    if any(zone_of(metric) for metric in readings):
        return "lighting"
    return "sensor"


class UsageRollups:
    """Adds newly stored telemetry to ``usage_hourly`` and ``usage_daily``."""

    def __init__(self, ratings: Ratings, tz: ZoneInfo) -> None:
        self.ratings = ratings
        self.tz = tz
        self._days: dict[int, date] = {}
        """Local day of each hour seen lately (the zone's offset is whole hours)."""
        self.samples = 0
        """Samples added since the hub started."""
        self.rows = 0
        """Hourly rows written (one per device, part and hour of each batch)."""
        self.errors = 0
        """Batches whose rollups failed (their usage is lost, their telemetry stored)."""
        self.last_error: str | None = None

    def day_of(self, hour: int) -> date:
        """The local date of a UTC hour (counted since 1970)."""
        day = self._days.get(hour)
        if day is None:
            if len(self._days) > 100_000:
                self._days.clear()
            day = self._days[hour] = datetime.fromtimestamp(hour * HOUR_S, self.tz).date()
        return day

    # --- what a batch adds ----------------------------------------------------------------

    def amounts(self, items: Iterable[Parsed]) -> dict[Key, Amounts]:
        """The hourly amounts of some telemetry, summed per row."""
        rows: dict[Key, Amounts] = {}
        for item in items:
            msg = item.message
            assert isinstance(msg, Telemetry)
            if msg.interval_s is not None:
                self._sample(rows, item.topic.site, item.topic.room, msg, msg.interval_s)
        return rows

    def _sample(
        self, rows: dict[Key, Amounts], site: str, room: str, msg: Telemetry, interval: float
    ) -> None:
        r = msg.readings
        device = msg.device
        end = msg.ts.timestamp()
        last = math.floor(end / HOUR_S)  # the hour of ts: what was read at ts counts there
        if end - interval >= last * HOUR_S:  # the usual case: within the hour of ts
            spans: tuple[tuple[int, float], ...] = ((last, interval),) if interval > 0 else ()
        else:
            spans = tuple(pieces(end, interval))
        zones: list[tuple[str, float]] = []
        if POWER_ON in r:
            kind = "projector"
        else:
            zones = [(zone, v) for m, v in r.items() if (zone := _zone_of(m)) is not None]
            kind = "lighting" if zones else "sensor"

        def row(part: str, hour: int) -> Amounts:
            key = (site, room, device, part, hour)
            found = rows.get(key)
            if found is None:
                found = rows[key] = Amounts(kind)
            return found

        occupied = r.get(OCCUPIED, 0.0) >= 0.5
        co2 = r.get(CO2, 0.0)
        for hour, seconds in spans:
            s = row("", hour).sums
            s[_COVERED] += seconds
            if occupied:
                s[_OCCUPIED] += seconds
            if co2 > CO2_HIGH_PPM:
                s[_CO2_1000] += seconds
                if co2 > CO2_VERY_HIGH_PPM:
                    s[_CO2_1500] += seconds
        if msg.schedule == "lesson" and (TEMPERATURE in r or NOISE in r):
            s = row("", last).sums
            if TEMPERATURE in r:
                s[_TEMP_SUM] += r[TEMPERATURE]
                s[_TEMP_N] += 1
            if NOISE in r:
                s[_NOISE_SUM] += r[NOISE]
                s[_NOISE_N] += 1
        lit: list[tuple[str, float]] = []
        """(part, watts) of what was on: the projector's lamp, the zones with light."""
        if kind == "projector":
            at = row("", last)
            at.lamp_h = _highest(at.lamp_h, r.get(LAMP_HOURS))
            at.filter_h = _highest(at.filter_h, r.get(FILTER_HOURS))
            if r[POWER_ON] >= 0.5:
                lit.append(("", self.ratings.projector(site, room, device)))
        else:
            lit = [(zone, self.ratings.zone(site, room, device, zone, len(zones)))
                   for zone, level in zones if level > 0]  # fmt: skip
        if not lit:
            return
        # what the room was at ts holds for the interval
        empty = msg.occupied is False
        waste = empty or msg.schedule == "closed"
        for part, watts in lit:
            for hour, seconds in spans:
                s = row(part, hour).sums
                s[_ON] += seconds
                s[_ENERGY] += watts * seconds / HOUR_S
                if waste:
                    if empty:
                        s[_EMPTY] += seconds
                    if msg.schedule == "closed":
                        s[_CLOSED] += seconds
                    s[_WASTE] += seconds
                    s[_WASTE_WH] += watts * seconds / HOUR_S

    # --- writing --------------------------------------------------------------------------

    def add(self, conn: Connection, items: Sequence[Parsed]) -> int:
        """Add the usage of newly stored telemetry, in the caller's transaction; return the
        hourly rows touched.

        Within a savepoint: should the rollups fail for another reason than the database
        going away (which the ingest retries whole), only they are undone. The telemetry is
        stored all the same, the batch's usage is lost, and the error logged and counted:
        a fault here must never turn a room's telemetry into dead letters.
        """
        if not items:
            return 0
        try:
            with conn.begin_nested():
                rows = self.write(conn, self.amounts(items))
        except Exception as exc:
            if _transient(exc):
                raise
            self.errors += 1
            self.last_error = safe_text(exc, 300)
            logger.exception("usage rollups of %d samples failed; the samples are stored, "
                             "their usage is not counted", len(items))  # fmt: skip
            return 0
        self.samples += len(items)
        self.rows += rows
        return rows

    def write(self, conn: Connection, hourly: dict[Key, Amounts]) -> int:
        """Add hourly amounts to the hourly table, their sums by local day to the daily one
        and to the site's, and bring the rooms' daily maxima up to date; return the hourly
        rows touched. Rows go in sorted order: one lock order for every hub. The amounts are
        used up (the daily sums are added into them)."""
        if not hourly:
            return 0
        to_time = time_binder(conn.dialect)
        to_date = _date_binder(conn.dialect)
        upsert(conn, usage_hourly, [
            (site, to_time(_hour_start(h)), room, device, part, *_values(a))
            for (site, room, device, part, h), a in sorted(hourly.items())
        ])  # fmt: skip
        # each sum below reuses the first of its parts, written already: no copies
        daily: dict[tuple[str, str, str, str, date], Amounts] = {}
        for (site, room, device, part, hour), amounts in hourly.items():
            _merge(daily, (site, room, device, part, self.day_of(hour)), amounts)
        upsert(conn, usage_daily, [
            (site, to_date(day), room, device, part, *_values(a))
            for (site, room, device, part, day), a in sorted(daily.items())
        ])  # fmt: skip
        rooms = sorted({(site, day, room) for site, room, _d, _p, day in daily})
        by_site: dict[tuple[str, date, str, str, str], Amounts] = {}
        for (site, _room, device, part, day), amounts in daily.items():
            _merge(by_site, (site, day, amounts.kind, device, part), amounts)
        upsert(conn, usage_site_daily, [
            (site, to_date(day), kind, device, part, *_values(a, lamps=False))
            for (site, day, kind, device, part), a in sorted(by_site.items())
        ])  # fmt: skip
        _room_maxima(conn, rooms)
        return len(hourly)


def _transient(exc: BaseException) -> bool:
    """The database went away or is locked: the ingest retries the batch (as
    ``hub.batches.transient``, which cannot be imported here: it needs the store)."""
    return isinstance(exc, OperationalError | InterfaceError) or (
        isinstance(exc, DBAPIError) and exc.connection_invalidated
    )


def _merge(rows: dict[Any, Amounts], key: Any, amounts: Amounts) -> None:
    """Add ``amounts`` to the row of ``key``; the first amounts of a key become its row."""
    found = rows.get(key)
    if found is None:
        rows[key] = amounts
    else:
        found.add(amounts)


_ROOM_MAXIMA: dict[str, Any] = {}
"""The statement of ``_room_maxima``, per dialect (the rooms are an expanding parameter)."""


def _room_maxima(conn: Connection, rooms: list[tuple[str, date, str]]) -> None:
    """Set each room's daily maxima (ROOM_MAXES) from its devices' daily rows, which the
    same transaction has just brought up to date (a few rows per room and day)."""
    stmt = _ROOM_MAXIMA.get(conn.dialect.name)
    if stmt is None:
        d = usage_daily.c
        maxima = (
            select(d.site, d.day, d.room, *(func.max(d[n]).label(n) for n in ROOM_MAXES))
            .where(tuple_(d.site, d.day, d.room).in_(bindparam("rooms", expanding=True)))
            .group_by(d.site, d.day, d.room)
        )
        pg = conn.dialect.name == "postgresql"
        insert = (postgresql.insert if pg else sqlite.insert)(usage_room_daily).from_select(
            ["site", "day", "room", *ROOM_MAXES], maxima
        )
        stmt = _ROOM_MAXIMA[conn.dialect.name] = insert.on_conflict_do_update(
            index_elements=["site", "day", "room"],
            set_={n: insert.excluded[n] for n in ROOM_MAXES},
        )
    for i in range(0, len(rooms), _KEYS_PER_QUERY):
        conn.execute(stmt, {"rooms": rooms[i : i + _KEYS_PER_QUERY]})


def _hour_start(hour: int) -> datetime:
    return datetime.fromtimestamp(hour * HOUR_S, UTC)


_COUNTS = [i for i, name in enumerate(SUMS) if name in COUNTS]


def _values(a: Amounts, *, lamps: bool = True) -> tuple[Any, ...]:
    """A row's values after its key (``_columns``): its kind, its sums (counts as integers),
    its lamp and filter hours (not in the site table)."""
    sums: list[Any] = list(a.sums)
    for i in _COUNTS:
        sums[i] = int(sums[i])
    if lamps:
        return (a.kind, *sums, a.lamp_h, a.filter_h)
    return tuple(sums)  # the site table: its kind is in the key


def _columns(table: Table) -> tuple[str, ...]:
    """The columns of a row of ``upsert``: the key in the key's order, then the values."""
    key = tuple(c.name for c in table.primary_key.columns)
    rest = ("kind",) if "kind" not in key else ()
    maxes = tuple(n for n in MAXES if n in table.c)
    return (*key, *rest, *SUMS, *maxes)


_DATE_BINDERS: dict[str, Callable[[Any], Any]] = {}


def _date_binder(dialect: Any) -> Callable[[Any], Any]:
    binder = _DATE_BINDERS.get(dialect.name)
    if binder is None:
        processor = Date().dialect_impl(dialect).bind_processor(dialect)
        binder = _DATE_BINDERS[dialect.name] = processor or (lambda value: value)
    return binder


_UPSERTS: dict[tuple[str, str], tuple[str, list[int] | None]] = {}
"""Compiled upserts per (dialect, table): the SQL and, for a positional driver, the order of
a row's values in it."""


def upsert(conn: Connection, table: Table, rows: list[tuple[Any, ...]]) -> None:
    """Insert rows of driver values (in ``_columns`` order), or add them to the rows already
    there (the highest of lamp and filter hours). The statement is compiled once per dialect
    and table and the rows go to the driver as they are: SQLAlchemy's per-row bind
    processing would cost more than the SQL (as for the telemetry insert)."""
    if not rows:
        return
    dialect = conn.dialect
    columns = _columns(table)
    found = _UPSERTS.get((dialect.name, table.name))
    if found is None:
        pg = dialect.name == "postgresql"
        stmt = (postgresql.insert if pg else sqlite.insert)(table)
        new = stmt.excluded
        current = table.c
        values: dict[str, Any] = {n: current[n] + new[n] for n in SUMS}
        for name in MAXES:
            if name not in current:
                continue
            if pg:  # GREATEST ignores NULLs
                values[name] = func.greatest(current[name], new[name])
            else:  # SQLite's max() of several values is NULL if one is
                values[name] = func.max(
                    func.coalesce(current[name], new[name]), func.coalesce(new[name], current[name])
                )
        key = list(table.primary_key.columns)
        compiled = stmt.on_conflict_do_update(index_elements=key, set_=values).compile(
            dialect=dialect, column_keys=list(columns)
        )
        order = (
            [columns.index(n) for n in compiled.positiontup or ()] if compiled.positional else None
        )
        found = _UPSERTS[(dialect.name, table.name)] = (compiled.string, order)
    sql, order = found
    params: list[Any]
    if order is None:
        params = [dict(zip(columns, row, strict=True)) for row in rows]
    elif order == list(range(len(columns))):
        params = rows
    else:
        params = [tuple(row[i] for i in order) for row in rows]
    conn.exec_driver_sql(sql, params)


__all__ = [
    "CO2_HIGH_PPM",
    "CO2_VERY_HIGH_PPM",
    "Amounts",
    "Key",
    "UsageRollups",
    "kind_of",
    "pieces",
    "upsert",
]
