"""Usage reports over a range of days, read from the rollups only (never from telemetry).

Two grouped queries per report: one per (period, device, part) for what adds up over rooms
(projector and lighting hours, energy, waste, lesson sums), one per (period, room) for what
a room has once however many sensors it has (occupied time, CO2 time, the hours covered:
the room's sensor that saw most). Days, weeks and months read ``usage_daily``, hours
``usage_hourly``; the periods are folded in Python (a school's year is a few thousand rows).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Connection, Engine, Table, func, select

from hub.forecasts import Forecaster
from hub.ratings import Ratings
from hub.report_models import (
    ReportGroup,
    ReportScope,
    UsageFigures,
    UsagePeriodPublic,
    UsageReportPublic,
    WastePublic,
)
from hub.rollup_tables import usage_daily, usage_hourly

HOUR_DAYS_MAX = 31
"""Longest range of a report grouped by hour."""

Allowed = Callable[[Any, Any], ColumnElement[bool]]
"""``allowed(site_column, room_column)``: the rows the caller may read (an access scope)."""


@dataclass(frozen=True)
class ReportQuery:
    """What a report covers: a room, a school or the district, days ``start``..``end``."""

    scope: ReportScope
    start: date
    end: date
    """Last day, included."""
    group: ReportGroup = "day"
    site: str | None = None
    room: str | None = None
    allowed: Allowed | None = None
    """Access filter (None: everything the scope names)."""

    def filters(self, table: Table) -> list[ColumnElement[bool]]:
        """The clauses that keep the rows of the report's rooms."""
        c = table.c
        out: list[ColumnElement[bool]] = []
        if self.site is not None:
            out.append(c.site == self.site)
        if self.room is not None:
            out.append(c.room == self.room)
        if self.allowed is not None:
            out.append(self.allowed(c.site, c.room))
        return out


def period_of(day: date, group: ReportGroup) -> date:
    """The first day of the day's week (ISO, from Monday) or month; the day itself otherwise."""
    if group == "week":
        return day - timedelta(days=day.weekday())
    if group == "month":
        return day.replace(day=1)
    return day


def label_of(start: date, group: ReportGroup) -> str:
    if group == "week":
        year, week, _ = start.isocalendar()
        return f"{year}-W{week:02d}"
    if group == "month":
        return f"{start:%Y-%m}"
    return start.isoformat()


def periods(start: date, end: date, group: ReportGroup) -> list[tuple[date, date, date]]:
    """(key, first day, last day) of each period of ``start``..``end``, clipped to the range
    (for ``hour`` the days: its hours are made from them)."""
    out: list[tuple[date, date, date]] = []
    day = start
    while day <= end:
        key = period_of(day, group)
        if group == "week":
            last = key + timedelta(days=6)
        elif group == "month":
            last = (key + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        else:
            last = day
        last = min(last, end)
        out.append((key, day, last))
        day = last + timedelta(days=1)
    return out


@dataclass
class _Sums:
    """One period's raw sums (seconds, watt-hours), before rounding into UsageFigures."""

    rooms: set[tuple[str, str]] = field(default_factory=set)
    covered_s: float = 0.0
    projector_on_s: float = 0.0
    lighting_on_s: float = 0.0
    zones_s: dict[str, float] = field(default_factory=dict)
    occupied_s: float = 0.0
    projector_wh: float = 0.0
    lighting_wh: float = 0.0
    co2_1000_s: float = 0.0
    co2_1500_s: float = 0.0
    temp_sum: float = 0.0
    temp_n: int = 0
    noise_sum: float = 0.0
    noise_n: int = 0
    waste_projector_s: float = 0.0
    waste_lighting_s: float = 0.0
    empty_s: float = 0.0
    closed_s: float = 0.0
    waste_wh: float = 0.0

    def device(self, row: Any) -> None:
        """A (period, kind, device, part) row of the first query."""
        if row.kind == "projector":
            self.projector_on_s += row.on_s
            self.projector_wh += row.energy_wh
            self.waste_projector_s += row.waste_s
        elif row.kind == "lighting" and row.part:
            self.lighting_on_s += row.on_s
            self.lighting_wh += row.energy_wh
            self.waste_lighting_s += row.waste_s
            name = f"{row.device}/{row.part}"
            self.zones_s[name] = self.zones_s.get(name, 0.0) + row.on_s
        self.empty_s += row.empty_s
        self.closed_s += row.closed_s
        self.waste_wh += row.waste_wh
        self.temp_sum += row.temp_sum
        self.temp_n += int(row.temp_n)
        self.noise_sum += row.noise_sum
        self.noise_n += int(row.noise_n)

    def room(self, row: Any) -> None:
        """A (period, site, room) row of the second query."""
        self.rooms.add((row.site, row.room))
        self.covered_s += row.covered_s
        self.occupied_s += row.occupied_s
        self.co2_1000_s += row.co2_1000_s
        self.co2_1500_s += row.co2_1500_s

    def add(self, other: _Sums) -> None:
        for name, value in vars(other).items():
            if name == "rooms":
                self.rooms |= value
            elif name == "zones_s":
                for zone, seconds in value.items():
                    self.zones_s[zone] = self.zones_s.get(zone, 0.0) + seconds
            else:
                setattr(self, name, getattr(self, name) + value)

    def figures(self) -> dict[str, Any]:
        h = _hours
        return {
            "rooms": len(self.rooms),
            "covered_h": h(self.covered_s),
            "projector_on_h": h(self.projector_on_s),
            "lighting_on_h": h(self.lighting_on_s),
            "lighting_zones_h": {z: h(s) for z, s in sorted(self.zones_s.items())},
            "occupied_h": h(self.occupied_s),
            "energy_kwh": _kwh(self.projector_wh + self.lighting_wh),
            "projector_kwh": _kwh(self.projector_wh),
            "lighting_kwh": _kwh(self.lighting_wh),
            "co2_over_1000_min": round(self.co2_1000_s / 60, 2),
            "co2_over_1500_min": round(self.co2_1500_s / 60, 2),
            "lesson_temperature_c": _mean(self.temp_sum, self.temp_n, 2),
            "lesson_temperature_samples": self.temp_n,
            "lesson_noise_dba": _mean(self.noise_sum, self.noise_n, 1),
            "lesson_noise_samples": self.noise_n,
            "waste": WastePublic(
                projector_h=h(self.waste_projector_s),
                lighting_h=h(self.waste_lighting_s),
                empty_room_h=h(self.empty_s),
                outside_timetable_h=h(self.closed_s),
                energy_kwh=_kwh(self.waste_wh),
            ),
        }


def _hours(seconds: float) -> float:
    return round(seconds / 3600, 3)


def _kwh(wh: float) -> float:
    return round(wh / 1000, 3)


def _mean(total: float, n: int, digits: int) -> float | None:
    return round(total / n, digits) if n else None


_DEVICE_SUMS = (
    "on_s", "energy_wh", "waste_s", "empty_s", "closed_s", "waste_wh",
    "temp_sum", "temp_n", "noise_sum", "noise_n",
)  # fmt: skip
_ROOM_MAXES = ("covered_s", "occupied_s", "co2_1000_s", "co2_1500_s")


class Reports:
    """Usage reports and their forecasts, from the rollup tables."""

    def __init__(self, engine: Engine, ratings: Ratings, tz: ZoneInfo) -> None:
        self.engine = engine
        self.tz = tz
        self.forecaster = Forecaster(ratings)

    def usage(self, query: ReportQuery, *, now: datetime) -> UsageReportPublic:
        """The report; ``now`` (the hub's clock) decides today for the forecasts."""
        hourly = query.group == "hour"
        table = usage_hourly if hourly else usage_daily
        with self.engine.connect() as conn:
            if hourly:
                start = datetime.combine(query.start, time(), self.tz).astimezone(UTC)
                end = datetime.combine(query.end + timedelta(days=1), time(), self.tz)
                within = [table.c.hour >= start, table.c.hour < end.astimezone(UTC)]
            else:
                within = [table.c.day >= query.start, table.c.day <= query.end]
            where = [*query.filters(table), *within]
            sums = self._sums(conn, table, where, query.group)
            today = now.astimezone(self.tz).date()
            forecasts = self.forecaster.forecasts(conn, query, today)
        out: list[UsagePeriodPublic] = []
        total = _Sums()
        for key, first, last in self._periods(query):
            found = sums.get(key, _Sums())
            total.add(found)
            label = key.isoformat() if isinstance(key, datetime) else label_of(key, query.group)
            out.append(UsagePeriodPublic(period=label, start=first, end=last, **found.figures()))
        return UsageReportPublic(
            scope=query.scope,
            site=query.site,
            room=query.room,
            **{"from": query.start},
            to=query.end,
            group=query.group,
            timezone=self.tz.key,
            generated_at=now.astimezone(UTC).isoformat(),
            sites=sorted({site for site, _ in total.rooms}),
            periods=out,
            total=UsageFigures(**total.figures()),
            forecasts=forecasts,
        )

    def _periods(self, query: ReportQuery) -> Iterable[tuple[date | datetime, date, date]]:
        if query.group != "hour":
            yield from periods(query.start, query.end, query.group)
            return
        day = query.start
        while day <= query.end:
            start = datetime.combine(day, time(), self.tz)
            for i in range(24):  # whole-hour offsets: a local day is 24 UTC hours, or 23/25
                local = (start.astimezone(UTC) + timedelta(hours=i)).astimezone(self.tz)
                if local.date() == day:
                    yield local, day, day
            day += timedelta(days=1)

    def _sums(
        self, conn: Connection, table: Table, where: list[ColumnElement[bool]], group: ReportGroup
    ) -> dict[Any, _Sums]:
        c = table.c
        when = c.hour if group == "hour" else c.day
        by_device = (
            select(when.label("at"), c.kind, c.device, c.part,
                   *(func.sum(c[n]).label(n) for n in _DEVICE_SUMS))
            .where(*where)
            .group_by(when, c.kind, c.device, c.part)
        )  # fmt: skip
        by_room = (
            select(
                when.label("at"), c.site, c.room, *(func.max(c[n]).label(n) for n in _ROOM_MAXES)
            )
            .where(*where)
            .group_by(when, c.site, c.room)
        )
        out: dict[Any, _Sums] = {}

        def of(at: Any) -> _Sums:
            key = at.astimezone(self.tz) if group == "hour" else period_of(at, group)
            found = out.get(key)
            if found is None:
                found = out[key] = _Sums()
            return found

        for row in conn.execute(by_device):
            of(row.at).device(row)
        for row in conn.execute(by_room):
            of(row.at).room(row)
        return out


__all__ = [
    "HOUR_DAYS_MAX",
    "Allowed",
    "ReportQuery",
    "Reports",
    "label_of",
    "period_of",
    "periods",
]
