"""Usage reports over a range of days, read from the rollups only (never from telemetry).

Two queries per report: one per (day, device, part) for what adds up over rooms (projector
and lighting hours, energy, waste, lesson sums), one per (day, room) for what a room has once
however many sensors it has (occupied time, CO2 time, the hours covered). Days, weeks and
months of a school or the district read the site totals (``usage_site_daily``) and the
rooms' maxima (``usage_room_daily``); a room's report reads its devices' days, an hourly
report their hours. The periods are folded in Python (a school's year: some 11 000 rows).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Connection,
    Date,
    Engine,
    Table,
    cast,
    distinct,
    false,
    func,
    or_,
    select,
    tuple_,
    type_coerce,
)

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
from hub.rollup_tables import (
    ROOM_MAXES,
    usage_daily,
    usage_hourly,
    usage_room_daily,
    usage_site_daily,
)
from protocol import utcnow

HOUR_DAYS_MAX = {"room": 31, "school": 7, "district": 7}
"""Longest range of a report grouped by hour, by scope (hours read the devices' own rows)."""


@dataclass(frozen=True)
class Visible:
    """What a caller may read: whole sites, and rooms one by one."""

    sites: frozenset[str] = frozenset()
    rooms: frozenset[tuple[str, str]] = frozenset()


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
    visible: Visible | None = None
    """What the caller may read (None: everything)."""

    def loose_rooms(self) -> list[tuple[str, str]]:
        """The visible rooms whose whole site is not (in this report's site, if it has one)."""
        if self.visible is None:
            return []
        return sorted(
            (site, room)
            for site, room in self.visible.rooms
            if site not in self.visible.sites and self.site in (None, site)
        )

    def room_filter(self, table: Table) -> list[ColumnElement[bool]]:
        """The clauses that keep the rows of the report's rooms (a table with both columns)."""
        c = table.c
        out: list[ColumnElement[bool]] = []
        if self.site is not None:
            out.append(c.site == self.site)
        if self.room is not None:
            out.append(c.room == self.room)
        if self.visible is not None:
            parts: list[ColumnElement[bool]] = []
            if self.visible.sites:
                parts.append(c.site.in_(sorted(self.visible.sites)))
            if loose := self.loose_rooms():
                parts.append(tuple_(c.site, c.room).in_(loose))
            out.append(or_(*parts) if parts else false())
        return out

    def sources(self) -> list[tuple[Table, list[ColumnElement[bool]]]]:
        """Where the day sums come from: the site's own total for a site wholly in the
        report, the devices' rows of the rooms otherwise."""
        if self.scope == "room":
            return [(usage_daily, self.room_filter(usage_daily))]
        s = usage_site_daily.c
        if self.visible is None:
            return [(usage_site_daily, [s.site == self.site] if self.site is not None else [])]
        out: list[tuple[Table, list[ColumnElement[bool]]]] = []
        whole = self.visible.sites if self.site is None else self.visible.sites & {self.site}
        if whole:
            out.append((usage_site_daily, [s.site.in_(sorted(whole))]))
        if loose := self.loose_rooms():
            d = usage_daily.c
            out.append((usage_daily, [tuple_(d.site, d.room).in_(loose)]))
        return out


def period_of(day: date, group: ReportGroup) -> date:
    """The first day of the day's week (ISO, from Monday) or month; the day itself otherwise."""
    if group == "week":
        return day - timedelta(days=day.weekday())
    if group == "month":
        return day.replace(day=1)
    return day


def period_key(day: Any, group: ReportGroup, dialect: str) -> ColumnElement[date]:
    """``period_of`` in SQL, for a date column."""
    if group == "day":
        return type_coerce(day, Date())
    if dialect == "postgresql":
        return cast(func.date_trunc(group, day), Date())
    if group == "week":  # SQLite: the Sunday ending the ISO week, then its Monday
        return type_coerce(func.date(day, "weekday 0", "-6 days"), Date())
    return type_coerce(func.date(day, "start of month"), Date())


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

    rooms: int = 0
    """Rooms with data (for the whole report: set once, never added up)."""
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

    def device(self, kind: str, device: str, part: str, *sums: Any) -> None:
        """A (period, kind, device, part) row of the first query: its _DEVICE_SUMS."""
        on_s, energy_wh, waste_s, empty_s, closed_s, waste_wh, t_sum, t_n, n_sum, n_n = sums
        if kind == "projector":
            self.projector_on_s += on_s
            self.projector_wh += energy_wh
            self.waste_projector_s += waste_s
        elif kind == "lighting" and part:
            self.lighting_on_s += on_s
            self.lighting_wh += energy_wh
            self.waste_lighting_s += waste_s
            name = f"{device}/{part}"
            self.zones_s[name] = self.zones_s.get(name, 0.0) + on_s
        self.empty_s += empty_s
        self.closed_s += closed_s
        self.waste_wh += waste_wh
        self.temp_sum += t_sum
        self.temp_n += int(t_n)
        self.noise_sum += n_sum
        self.noise_n += int(n_n)

    def room(
        self, covered_s: float, occupied_s: float, co2_1000_s: float, co2_1500_s: float
    ) -> None:
        """A row of the second query: its rooms' maxima (ROOM_MAXES), added up."""
        self.covered_s += covered_s
        self.occupied_s += occupied_s
        self.co2_1000_s += co2_1000_s
        self.co2_1500_s += co2_1500_s

    def add(self, other: _Sums) -> None:
        for name, value in vars(other).items():
            if name == "rooms":
                continue
            if name == "zones_s":
                for zone, seconds in value.items():
                    self.zones_s[zone] = self.zones_s.get(zone, 0.0) + seconds
            else:
                setattr(self, name, getattr(self, name) + value)

    def figures(self) -> dict[str, Any]:
        h = _hours
        return {
            "rooms": self.rooms,
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


class Reports:
    """Usage reports and their forecasts, from the rollup tables."""

    def __init__(
        self,
        engine: Engine,
        ratings: Ratings,
        tz: ZoneInfo,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.engine = engine
        self.tz = tz
        self.forecaster = Forecaster(ratings)
        self.clock = clock
        """The hub's clock: today, for the API's default range and the forecasts."""

    def usage(self, query: ReportQuery, *, now: datetime) -> UsageReportPublic:
        """The report; ``now`` (the hub's clock) decides today for the forecasts."""
        spans = list(self._periods(query))
        with self.engine.connect() as conn:
            hourly = query.group == "hour"
            sums, rooms = self._hours(conn, query) if hourly else self._days(conn, query)
            out: list[UsagePeriodPublic] = []
            total = _Sums(rooms=len(rooms))
            for key, first, last in spans:
                found = sums.get(key, _Sums())
                total.add(found)
                label = key.isoformat() if isinstance(key, datetime) else label_of(key, query.group)
                out.append(
                    UsagePeriodPublic(period=label, start=first, end=last, **found.figures())
                )
            sites = sorted({site for site, _ in rooms})
            today = now.astimezone(self.tz).date()
            forecasts = self.forecaster.forecasts(conn, query, today, sites)
        return UsageReportPublic(
            scope=query.scope,
            site=query.site,
            room=query.room,
            **{"from": query.start},
            to=query.end,
            group=query.group,
            timezone=self.tz.key,
            generated_at=now.astimezone(UTC).isoformat(),
            sites=sites,
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

    def _days(
        self, conn: Connection, query: ReportQuery
    ) -> tuple[dict[Any, _Sums], list[tuple[str, str]]]:
        """Each period's sums (by its first day) and the rooms with data."""
        out: dict[Any, _Sums] = {}

        def of(day: date) -> _Sums:
            key = period_of(day, query.group)
            found = out.get(key)
            if found is None:
                found = out[key] = _Sums()
            return found

        for table, where in query.sources():
            c = table.c
            by_device = (
                select(c.day, c.kind, c.device, c.part,
                       *(func.sum(c[n]).label(n) for n in _DEVICE_SUMS))
                .where(*where, c.day >= query.start, c.day <= query.end)
                .group_by(c.day, c.kind, c.device, c.part)
            )  # fmt: skip
            for day, kind, device, part, *sums in conn.execute(by_device).all():
                of(day).device(kind, device, part, *sums)
        r = usage_room_daily.c
        where = [*query.room_filter(usage_room_daily), r.day >= query.start, r.day <= query.end]
        by_day = (
            select(r.day, *(func.sum(r[n]).label(n) for n in ROOM_MAXES))
            .where(*where)
            .group_by(r.day)
        )
        for day, *maxima in conn.execute(by_day).all():
            of(day).room(*maxima)
        period = period_key(r.day, query.group, conn.dialect.name)
        counted = (  # rooms with data per period, counted in SQL
            select(period.label("key"), func.count(distinct(r.site + "/" + r.room)).label("n"))
            .where(*where)
            .group_by(period)
        )
        for key, n in conn.execute(counted).all():
            of(key).rooms = int(n)
        rooms = conn.execute(select(r.site, r.room).where(*where).distinct()).all()
        return out, [(x.site, x.room) for x in rooms]

    def _hours(
        self, conn: Connection, query: ReportQuery
    ) -> tuple[dict[Any, _Sums], list[tuple[str, str]]]:
        """Each hour's sums (by its local start) and the rooms with data."""
        c = usage_hourly.c
        start = datetime.combine(query.start, time(), self.tz).astimezone(UTC)
        end = datetime.combine(query.end + timedelta(days=1), time(), self.tz).astimezone(UTC)
        where = [*query.room_filter(usage_hourly), c.hour >= start, c.hour < end]
        by_device = (
            select(c.hour, c.kind, c.device, c.part,
                   *(func.sum(c[n]).label(n) for n in _DEVICE_SUMS))
            .where(*where)
            .group_by(c.hour, c.kind, c.device, c.part)
        )  # fmt: skip
        per_room = (
            select(c.hour, c.site, c.room, *(func.max(c[n]).label(n) for n in ROOM_MAXES))
            .where(*where)
            .group_by(c.hour, c.site, c.room)
            .subquery()
        )
        m = per_room.c
        by_hour = select(
            m.hour, func.count().label("rooms"), *(func.sum(m[n]).label(n) for n in ROOM_MAXES)
        ).group_by(m.hour)
        out: dict[Any, _Sums] = {}

        def of(hour: datetime) -> _Sums:
            key = hour.astimezone(self.tz)
            found = out.get(key)
            if found is None:
                found = out[key] = _Sums()
            return found

        for hour, kind, device, part, *sums in conn.execute(by_device).all():
            of(hour).device(kind, device, part, *sums)
        for hour, rooms, *maxima in conn.execute(by_hour).all():
            found = of(hour)
            found.room(*maxima)
            found.rooms = int(rooms)
        rooms = conn.execute(select(c.site, c.room).where(*where).distinct()).all()
        return out, [(x.site, x.room) for x in rooms]


__all__ = [
    "HOUR_DAYS_MAX",
    "ReportQuery",
    "Reports",
    "Visible",
    "label_of",
    "period_of",
    "periods",
]
