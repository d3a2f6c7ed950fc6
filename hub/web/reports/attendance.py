"""The attendance report page: each class's attendance rate per class, period or week.

It shows ``GET /api/v1/sites/{site}/attendance/rates`` for the same school, days and grouping
(the same ``AttendanceBook.rates`` makes both) and links to its CSV. Counts only: no student
is named on this page, so reading it is not a read of personal data.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from hub.access import Action, Caller
from hub.api.auth import Allowed
from hub.api.deps import HubDep
from hub.api.routes.reports import reports_of
from hub.attendance import DAYS_MAX, RATE_GROUPS, AttendanceBook, Rate, RateGroup
from hub.report_places import SchoolPlace, schools
from hub.web.reports.forms import ORDER, Problems, parse_day
from hub.web.reports.pages import ReportFormats, render, text
from hub.web.reports.places import Place, default_place, parse_place, visible_of
from ui.i18n import N_, LocaleCode
from ui.pages import locale_of

__all__ = ["GROUPS", "key_label", "router"]

router = APIRouter()

GROUPS: list[tuple[RateGroup, str]] = [
    ("class", N_("By class")),
    ("period", N_("By period")),
    ("week", N_("By week")),
]
TOO_LONG = N_("At most %(limit)s days at once; this range has %(days)s.")
PERIOD = N_("Period %(n)s")
DEFAULT_DAYS = 27
"""By default the four weeks up to today."""


def key_label(rate: Rate, group: RateGroup, locale: LocaleCode, fmt: ReportFormats) -> str:
    """What a row of the table is about, in the user's words."""
    if group == "period":
        return text(locale, PERIOD) % {"n": rate.key}
    if group == "week":
        monday = date.fromisoformat(rate.key)
        return fmt.period(monday, rate.key, "week")
    return rate.class_id


@router.get("/reports/attendance", response_class=HTMLResponse)
def attendance_page(
    caller: Annotated[Caller, Depends(Allowed(Action.REPORT_READ))],
    hub: HubDep,
    request: Request,
    place: str | None = None,
    start: Annotated[str | None, Query(alias="from")] = None,
    end: Annotated[str | None, Query(alias="to")] = None,
    group: str = "class",
) -> HTMLResponse:
    """Attendance rates of the chosen school's classes over the chosen days."""
    reports = reports_of(hub)
    locale = locale_of(request)
    fmt = ReportFormats(locale, reports.tz)
    visible = visible_of(caller, Action.REPORT_READ)
    with reports.engine.connect() as conn:
        places: list[SchoolPlace] = [s for s in schools(conn, visible) if s.whole]
    if place:
        chosen = Place(parse_place(place).site)
    else:
        chosen = default_place(caller, Action.REPORT_READ, places)
        if chosen.site is None and places:
            chosen = Place(places[0].id)
    chosen.check(caller, hub, Action.REPORT_READ)
    today = reports.clock().astimezone(reports.tz).date()
    problems: Problems = {}
    grouping: RateGroup = next((g for g in RATE_GROUPS if g == group), "class")
    first = parse_day("from", start, locale, problems)
    last = parse_day("to", end, locale, problems) or today
    first = first or last - timedelta(days=DEFAULT_DAYS)
    if not problems and first > last:
        problems["from"] = text(locale, ORDER)
    days = (last - first).days + 1
    if not problems and days > DAYS_MAX:
        problems["from"] = text(locale, TOO_LONG) % {"limit": DAYS_MAX, "days": days}
    rates: list[Rate] = []
    if not problems and chosen.site is not None:
        rates = AttendanceBook(hub.store.engine).rates(chosen.site, first, last, grouping)
    api = {"group": grouping, "from": first.isoformat(), "to": last.isoformat()}
    names = {s.id: s.name for s in places}
    return render(
        request,
        caller,
        "attendance.html",
        tz=reports.tz,
        schools=places,
        place=chosen,
        school_name=names.get(chosen.site or "", chosen.site or ""),
        first=first,
        last=last,
        group=grouping,
        groups=GROUPS,
        problems=problems,
        rates=rates,
        label=lambda r: key_label(r, grouping, locale, fmt),
        csv_url=(
            f"/api/v1/sites/{chosen.site}/attendance/rates.csv?{urlencode(api)}"
            if chosen.site
            else None
        ),
    )
