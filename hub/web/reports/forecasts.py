"""The forecasts page: when each projector's lamp and filter are due, and next month's energy.

It shows ``GET /api/v1/reports/forecasts`` for the same place (made by the same
``forecast_report``) and links to its two CSVs. How an energy figure was estimated is said
in the user's words from the forecast's method and counts (the API's ``basis`` is English).
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from hub.access import Action, Caller
from hub.api.auth import Allowed
from hub.api.deps import HubDep
from hub.api.routes.reports import reports_of
from hub.forecasts import RATE_WINDOW_DAYS, next_month
from hub.report_forecast import forecast_report
from hub.report_models import EnergyForecastPublic
from hub.report_places import schools
from hub.reports import ReportQuery
from hub.web.reports.pages import render as render_page
from hub.web.reports.pages import text
from hub.web.reports.places import (
    all_schools,
    default_place,
    parse_place,
    place_name,
    visible_of,
)
from ui.i18n import N_, LocaleCode
from ui.pages import locale_of

__all__ = ["basis", "router"]

router = APIRouter()

SAME_WEEKS = N_(
    "The mean of %(n)s past years (%(years)s) over the same weeks, each scaled to the whole "
    "month: %(have)s of %(wanted)s days with data."
)
RECENT = N_(
    "No past year has data for these weeks: the daily mean of the last %(window)s days "
    "(%(have)s with data) times the days of the month."
)
NONE = N_("No data to estimate from, in past years or in the last weeks.")


def basis(forecast: EnergyForecastPublic, locale: LocaleCode) -> str:
    """How the month's energy was estimated, in the user's words."""
    if forecast.method == "same_weeks":
        years = ", ".join(map(str, forecast.years))
        numbers = {"n": len(forecast.years), "years": years, "have": forecast.days_with_data,
                   "wanted": forecast.days_wanted}  # fmt: skip
        return text(locale, SAME_WEEKS) % numbers
    if forecast.method == "recent":
        numbers = {"window": forecast.days_wanted, "have": forecast.days_with_data}
        return text(locale, RECENT) % numbers
    return text(locale, NONE)


@router.get("/reports/forecasts", response_class=HTMLResponse)
def forecasts_page(
    caller: Annotated[Caller, Depends(Allowed(Action.REPORT_READ))],
    hub: HubDep,
    request: Request,
    place: str | None = None,
) -> HTMLResponse:
    """The forecasts of the chosen school, room or every school the caller may read."""
    reports = reports_of(hub)
    locale = locale_of(request)
    visible = visible_of(caller, Action.REPORT_READ)
    with reports.engine.connect() as conn:
        places = schools(conn, visible)
    chosen = (
        parse_place(place)
        if place is not None
        else default_place(caller, Action.REPORT_READ, places)
    )
    chosen.check(caller, hub, Action.REPORT_READ)
    now = reports.clock()
    today = now.astimezone(reports.tz).date()
    query = ReportQuery(
        chosen.scope, today, today, site=chosen.site, room=chosen.room, visible=visible
    )
    report = forecast_report(reports, query, now=now)
    api: dict[str, str] = {"scope": chosen.scope}
    if chosen.site is not None:
        api["site"] = chosen.site
    if chosen.room is not None:
        api["room"] = chosen.room
    names = {s.id: s for s in places}
    everyone = all_schools(caller, Action.REPORT_READ, places)
    return render_page(
        request,
        caller,
        "forecasts.html",
        tz=reports.tz,
        schools=places,
        place=chosen,
        place_name=place_name(chosen, places, locale, everyone),
        all_label=text(locale, everyone) if everyone else None,
        report=report,
        month=next_month(today)[0],
        school_name=lambda site: names[site].name if site in names else site,
        room_name=lambda site, room: (
            dict(names[site].rooms).get(room, room) if site in names else room
        ),
        basis=lambda f: basis(f, locale),
        window_days=RATE_WINDOW_DAYS,
        lamps_csv="/api/v1/reports/forecasts/lamps.csv?" + urlencode(api),
        energy_csv="/api/v1/reports/forecasts/energy.csv?" + urlencode(api),
    )
