"""The comparison page: a school's rooms, or the schools, side by side, with a bar chart.

It shows ``GET /api/v1/reports/compare`` for the same query (made by the same
``Comparisons.compare``), sorted as asked by a column heading's link, and links to its CSV
in that order.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from hub.access import Action, Caller
from hub.api.auth import Allowed
from hub.api.deps import HubDep
from hub.api.routes.reports import reports_of
from hub.report_compare import (
    SORT_KEYS,
    CompareBy,
    ComparedPublic,
    CompareQuery,
    Comparisons,
    SortKey,
    SortOrder,
)
from hub.report_models import ReportScope
from hub.report_places import schools
from hub.report_range import default_range, range_problem
from hub.web.reports.forms import Problems, month_before, parse_day, problem_text
from hub.web.reports.pages import render, text
from hub.web.reports.places import Place, parse_place, visible_of
from hub.web.reports.usage import PALETTE
from ui.i18n import N_, LocaleCode
from ui.pages import locale_of

__all__ = ["COLUMNS", "router"]

router = APIRouter()

COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("rooms", N_("Rooms with data"), 0),
    ("projector_on_h", N_("Projectors on (h)"), 3),
    ("lighting_on_h", N_("Lights on (zone-hours)"), 3),
    ("occupied_h", N_("Occupied (room-hours)"), 3),
    ("energy_kwh", N_("Energy (kWh)"), 3),
    ("kwh_per_room", N_("Energy per room (kWh)"), 3),
    ("waste_kwh", N_("Wasted (kWh)"), 3),
    ("waste_pct", N_("Wasted (percent of the energy)"), 1),
    ("co2_over_1000_min", N_("CO₂ over 1000 ppm (room-minutes)"), 2),
    ("co2_over_1500_min", N_("CO₂ over 1500 ppm (room-minutes)"), 2),
    ("lesson_temperature_c", N_("Temperature in lessons (°C)"), 2),
    ("lesson_noise_dba", N_("Noise in lessons (dBA)"), 1),
)
"""The columns after the name: (sort key, heading, decimals). The CSV has each (``waste_kwh``
is its ``waste_energy_kwh``)."""
ROOM_COLUMNS = tuple(c for c in COLUMNS if c[0] not in ("rooms", "kwh_per_room"))
"""A room is one room: no count of rooms, no energy per room."""
CSV_NAMES = {"waste_kwh": "waste_energy_kwh"}


def value_of(row: ComparedPublic, key: str) -> float | None:
    """The figure of ``row`` under ``key`` (a sort key)."""
    if key in ("kwh_per_room", "waste_pct"):
        found: float | None = getattr(row, key)
        return found
    if key == "waste_kwh":
        return row.figures.waste.energy_kwh
    figure: float | None = getattr(row.figures, key)
    return figure


def _chart(rows: list[ComparedPublic], key: str, label: str, locale: LocaleCode) -> dict[str, Any]:
    return {
        "id": "compare",
        "title": text(locale, label),
        "unit": text(locale, label),
        "ticks": [r.name for r in rows],
        "series": [{"label": text(locale, label), "style": "bar", "align": 0,
                    "colour": PALETTE[0], "values": [value_of(r, key) for r in rows]}],
    }  # fmt: skip


@router.get("/reports/compare", response_class=HTMLResponse)
def compare_page(
    caller: Annotated[Caller, Depends(Allowed(Action.REPORT_READ))],
    hub: HubDep,
    request: Request,
    by: str | None = None,
    site: str | None = None,
    start: Annotated[str | None, Query(alias="from")] = None,
    end: Annotated[str | None, Query(alias="to")] = None,
    sort: str = "name",
    order: str = "asc",
) -> HTMLResponse:
    """The rooms of a school, or the schools the caller may read, over the chosen days."""
    reports = reports_of(hub)
    locale = locale_of(request)
    visible = visible_of(caller, Action.REPORT_READ)
    with reports.engine.connect() as conn:
        places = schools(conn, visible)
    whole = [s for s in places if s.whole]
    several = caller.scope(Action.REPORT_READ).everything or len(whole) > 1
    chosen_by: CompareBy = "school" if by == "school" or (by is None and several) else "room"
    """Rooms by default for a caller of one school, schools for one of several."""
    if chosen_by == "room":
        school = parse_place(site) if site else Place(whole[0].id if whole else None)
        if school.site is None or school.room is not None:
            school = Place(whole[0].id) if whole else Place()
        school.check(caller, hub, Action.REPORT_READ)
    else:
        school = Place()
    now = reports.clock()
    today = now.astimezone(reports.tz).date()
    problems: Problems = {}
    first = parse_day("from", start, locale, problems)
    last = parse_day("to", end, locale, problems)
    if first is None and last is None and not problems:
        first, last = month_before(today)
    first, last = default_range(first, last, today)
    scope: ReportScope = "school" if chosen_by == "room" else "district"
    most = hub.settings.report_days_max
    if not problems and (problem := range_problem(first, last, scope, "day", most)):
        problems[problem.field] = problem_text(problem, locale)
    sort_key: SortKey = next((k for k in SORT_KEYS if k == sort), "name")
    sort_order: SortOrder = "desc" if order == "desc" else "asc"
    comparison = None
    if not problems and (chosen_by == "school" or school.site is not None):
        query = CompareQuery(chosen_by, first, last, school.site, visible, sort_key, sort_order)
        comparison = Comparisons(reports.engine, reports.tz.key).compare(query, now=now)
    base = {"by": chosen_by, "from": first.isoformat(), "to": last.isoformat()}
    if school.site is not None:
        base["site"] = school.site
    columns = COLUMNS if chosen_by == "school" else ROOM_COLUMNS
    chart_key = sort_key if sort_key != "name" else "energy_kwh"
    chart_label = next(label for key, label, _ in COLUMNS if key == chart_key)

    def sorted_by(key: str) -> str:
        flip = "desc" if key == sort_key and sort_order == "asc" else "asc"
        if key != sort_key and key != "name":
            flip = "desc"  # figures: the largest first
        return "/reports/compare?" + urlencode({**base, "sort": key, "order": flip})

    return render(
        request,
        caller,
        "compare.html",
        tz=reports.tz,
        schools=places,
        by=chosen_by,
        school=school,
        first=first,
        last=last,
        problems=problems,
        comparison=comparison,
        columns=columns,
        csv_names=CSV_NAMES,
        value_of=value_of,
        sort=sort_key,
        order=sort_order,
        sorted_by=sorted_by,
        chart=_chart(comparison.rows, chart_key, chart_label, locale) if comparison else None,
        csv_url="/api/v1/reports/compare?"
        + urlencode({**base, "sort": sort_key, "order": sort_order, "format": "csv"}),
    )
