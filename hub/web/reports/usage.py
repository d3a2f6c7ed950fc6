"""The usage page: a school's, a room's or the district's usage over a period, with charts.

It shows the very report ``GET /api/v1/reports/usage`` answers for the same query (made by
the same ``Reports.usage``), in tables whose columns carry the CSV's column names
(``data-key``), and links to that CSV: each figure of a table is in the CSV and the JSON.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from hub.access import Action, Caller
from hub.api.auth import Allowed
from hub.api.deps import HubDep
from hub.api.routes.reports import reports_of
from hub.report_models import ReportGroup, UsageFigures, UsageReportPublic
from hub.report_places import SchoolPlace, schools
from hub.report_range import default_range, range_problem
from hub.reports import ReportQuery
from hub.web.reports.forms import (
    Problems,
    month_before,
    parse_day,
    problem_text,
    school_year_start,
)
from hub.web.reports.pages import ReportFormats, render, text
from hub.web.reports.places import (
    Place,
    all_schools,
    default_place,
    parse_place,
    place_name,
    visible_of,
)
from ui.i18n import N_, LocaleCode
from ui.pages import locale_of

__all__ = ["Column", "router"]

router = APIRouter()

GROUPS: tuple[tuple[ReportGroup, str], ...] = (
    ("day", N_("By day")),
    ("week", N_("By week")),
    ("month", N_("By month")),
    ("hour", N_("By hour")),
)
PALETTE = ("#0b5cad", "#b35900", "#1d6b35", "#a3161b", "#6b3fa0", "#00707a", "#7a4b00", "#4a5866")
"""Chart colours, each at least 4.5:1 on white (the same families as the badges)."""
LIGHT = {"#0b5cad": "#9cc3ea", "#a3161b": "#f2a7a9", "#1d6b35": "#9fd3ae", "#b35900": "#f3c08f"}
"""A paler shade, for a whole drawn behind its part (time covered behind time occupied)."""


@dataclass(frozen=True)
class Column:
    """A column of a table: the CSV's column name, its heading, decimals, and its figure."""

    key: str
    label: str
    digits: int
    value: Callable[[UsageFigures], float | None]


def _figure(name: str) -> Callable[[UsageFigures], float | None]:
    return lambda f: getattr(f, name)


def _waste(name: str) -> Callable[[UsageFigures], float | None]:
    return lambda f: getattr(f.waste, name)


def _col(key: str, label: str, digits: int = 3) -> Column:
    if key.startswith("waste_"):
        return Column(key, label, digits, _waste(key.removeprefix("waste_")))
    return Column(key, label, digits, _figure(key))


TABLES: tuple[tuple[str, str, tuple[Column, ...]], ...] = (
    ("use", N_("Use of the rooms"), (
        _col("rooms", N_("Rooms with data"), 0),
        _col("covered_h", N_("Hours with data (room-hours)")),
        _col("occupied_h", N_("Occupied (room-hours)")),
        _col("projector_on_h", N_("Projectors on (h)")),
        _col("lighting_on_h", N_("Lights on (zone-hours)")),
    )),
    ("energy", N_("Energy and waste"), (
        _col("energy_kwh", N_("Energy (kWh)")),
        _col("projector_kwh", N_("Projectors (kWh)")),
        _col("lighting_kwh", N_("Lights (kWh)")),
        _col("waste_energy_kwh", N_("Wasted (kWh)")),
        _col("waste_projector_h", N_("Projectors wasted (h)")),
        _col("waste_lighting_h", N_("Lights wasted (zone-hours)")),
        _col("waste_empty_room_h", N_("On in an empty room (h)")),
        _col("waste_outside_timetable_h", N_("On outside the timetable (h)")),
    )),
    ("air", N_("Air and comfort in lessons"), (
        _col("co2_over_1000_min", N_("CO₂ over 1000 ppm (room-minutes)"), 2),
        _col("co2_over_1500_min", N_("CO₂ over 1500 ppm (room-minutes)"), 2),
        _col("lesson_temperature_c", N_("Temperature in lessons (°C)"), 2),
        _col("lesson_noise_dba", N_("Noise in lessons (dBA)"), 1),
    )),
)  # fmt: skip
"""The tables under the charts; each column is one of the CSV's (``hub.report_csv``)."""
ZONE_PREFIX = "lighting_h:"


@dataclass
class Row:
    key: str
    """The period as the CSV writes it (``2026-11-03``, ``2026-W45``, ``total``)."""
    label: str
    figures: UsageFigures


@dataclass
class Table:
    id: str
    title: str
    columns: list[Column]
    rows: list[Row]
    total: Row


def _zone_value(zone: str) -> Callable[[UsageFigures], float | None]:
    return lambda f: f.lighting_zones_h.get(zone, 0.0)


def tables(report: UsageReportPublic, locale: LocaleCode, fmt: ReportFormats) -> list[Table]:
    """The report's tables, each with a line per period and the total."""
    rows = [Row(p.period, fmt.period(p.start, p.period, report.group), p) for p in report.periods]
    total = Row("total", text(locale, N_("Total")), report.total)
    out = [
        Table(id_, text(locale, title), [_translated(c, locale) for c in cols], rows, total)
        for id_, title, cols in TABLES
    ]
    zones = sorted({z for p in report.periods for z in p.lighting_zones_h})
    if zones:
        columns = [Column(ZONE_PREFIX + z, z, 3, _zone_value(z)) for z in zones]
        title = text(locale, N_("Lights on by zone (h)"))
        out.append(Table("zones", title, columns, rows, total))
    return out


def _translated(column: Column, locale: LocaleCode) -> Column:
    return Column(column.key, text(locale, column.label), column.digits, column.value)


def _series(
    locale: LocaleCode,
    label: str,
    values: list[float | None],
    colour: str,
    *,
    style: str = "bar",
    align: int = 0,
) -> dict[str, Any]:
    return {"label": text(locale, label), "values": values, "colour": colour, "style": style,
            "align": align}  # fmt: skip


def charts(
    report: UsageReportPublic, locale: LocaleCode, fmt: ReportFormats
) -> list[dict[str, Any]]:
    """What each chart draws (read by ``static/reports.js``), with its translated labels."""
    p = report.periods
    days = (report.to - report.from_).days + 1
    ticks = [fmt.tick(x.start, x.period, report.group, days=days) for x in p]
    blue, orange, green, red = PALETTE[:4]

    def chart(id_: str, title: str, unit: str, *series: dict[str, Any]) -> dict[str, Any]:
        return {"id": id_, "title": text(locale, title), "unit": text(locale, unit),
                "ticks": ticks, "series": list(series)}  # fmt: skip

    out = [
        chart("hours", N_("Projector and lighting hours"), N_("hours"),
              _series(locale, N_("Projectors on (h)"), [x.projector_on_h for x in p], blue,
                      align=-1),
              _series(locale, N_("Lights on (zone-hours)"), [x.lighting_on_h for x in p], orange,
                      align=1)),
        chart("occupancy", N_("Occupancy"), N_("room-hours"),
              _series(locale, N_("Hours with data (room-hours)"), [x.covered_h for x in p],
                      LIGHT[green]),
              _series(locale, N_("Occupied (room-hours)"), [x.occupied_h for x in p], green)),
        chart("energy", N_("Energy and waste"), "kWh",
              _series(locale, N_("Energy (kWh)"), [x.energy_kwh for x in p], LIGHT[blue]),
              _series(locale, N_("Wasted (kWh)"), [x.waste.energy_kwh for x in p], red)),
        chart("air", N_("Air quality: CO₂ over the thresholds"), N_("room-minutes"),
              _series(locale, N_("CO₂ over 1000 ppm (room-minutes)"),
                      [x.co2_over_1000_min for x in p], LIGHT[orange]),
              _series(locale, N_("CO₂ over 1500 ppm (room-minutes)"),
                      [x.co2_over_1500_min for x in p], red)),
    ]  # fmt: skip
    zones = sorted({z for x in p for z in x.lighting_zones_h})
    if zones:
        out.append(
            chart("zones", N_("Lights on by zone (h)"), N_("hours"), *(
                {"label": zone, "style": "line", "align": 0,
                 "colour": PALETTE[i % len(PALETTE)],
                 "values": [x.lighting_zones_h.get(zone, 0.0) for x in p]}
                for i, zone in enumerate(zones)
            ))
        )  # fmt: skip
    return out


def api_query(place: Place, start: date, end: date, group: ReportGroup) -> dict[str, str]:
    """The query of ``GET /api/v1/reports/usage`` for the same report."""
    query = {"scope": place.scope, "from": start.isoformat(), "to": end.isoformat(),
             "group": group}  # fmt: skip
    if place.site is not None:
        query["site"] = place.site
    if place.room is not None:
        query["room"] = place.room
    return query


def presets(today: date) -> list[tuple[str, date, date, ReportGroup]]:
    """Periods one tap away: (label msgid, first day, last day, grouping)."""
    first, last = month_before(today)
    return [
        (N_("Today by hour"), today, today, "hour"),
        (N_("Last 7 days"), today - timedelta(days=6), today, "day"),
        (N_("This month"), today.replace(day=1), today, "day"),
        (N_("Last month"), first, last, "day"),
        (N_("This school year"), school_year_start(today), today, "month"),
    ]


def _usage_link(base: dict[str, str], first: date, last: date, group: ReportGroup) -> str:
    range_ = {"from": first.isoformat(), "to": last.isoformat(), "group": group}
    return "/reports?" + urlencode({**base, **range_})


@router.get("/reports", response_class=HTMLResponse)
def usage_page(
    caller: Annotated[Caller, Depends(Allowed(Action.REPORT_READ))],
    hub: HubDep,
    request: Request,
    place: str | None = None,
    start: Annotated[str | None, Query(alias="from")] = None,
    end: Annotated[str | None, Query(alias="to")] = None,
    group: str = "day",
) -> HTMLResponse:
    """Usage of the chosen school, room or district over the chosen days."""
    reports = reports_of(hub)
    locale = locale_of(request)
    fmt = ReportFormats(locale, reports.tz)
    visible = visible_of(caller, Action.REPORT_READ)
    with reports.engine.connect() as conn:
        places: list[SchoolPlace] = schools(conn, visible)
    chosen = (
        parse_place(place)
        if place is not None
        else default_place(caller, Action.REPORT_READ, places)
    )
    chosen.check(caller, hub, Action.REPORT_READ)
    now = reports.clock()
    today = now.astimezone(reports.tz).date()
    problems: Problems = {}
    grouping: ReportGroup = next((g for g, _ in GROUPS if g == group), "day")
    first = parse_day("from", start, locale, problems)
    last = parse_day("to", end, locale, problems)
    first, last = default_range(first, last, today)
    report = None
    if not problems:
        problem = range_problem(first, last, chosen.scope, grouping, hub.settings.report_days_max)
        if problem is not None:
            problems[problem.field] = problem_text(problem, locale)
    if not problems:
        query = ReportQuery(
            chosen.scope, first, last, grouping, site=chosen.site, room=chosen.room,
            visible=visible,
        )  # fmt: skip
        report = reports.usage(query, now=now)
    api = api_query(chosen, first, last, grouping)
    everyone = all_schools(caller, Action.REPORT_READ, places)
    base = {"place": chosen.value}
    return render(
        request,
        caller,
        "usage.html",
        tz=reports.tz,
        schools=places,
        place=chosen,
        place_name=place_name(chosen, places, locale, everyone),
        all_label=text(locale, everyone) if everyone else None,
        first=first,
        last=last,
        group=grouping,
        groups=GROUPS,
        problems=problems,
        report=report,
        tables=tables(report, locale, fmt) if report else [],
        charts=charts(report, locale, fmt) if report else [],
        csv_url="/api/v1/reports/usage?" + urlencode({**api, "format": "csv"}),
        presets=[(label, _usage_link(base, a, b, g)) for label, a, b, g in presets(today)],
    )
