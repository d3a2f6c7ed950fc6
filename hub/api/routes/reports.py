"""Usage reports of a room, a school or the district, as JSON or CSV."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Response, status
from fastapi.exceptions import RequestValidationError

from hub.access import Action, Caller
from hub.api.auth import Allowed, require
from hub.api.deps import ID_PATTERN, HubDep, HubState
from hub.api.responses import error_responses
from hub.report_csv import usage_csv
from hub.report_exports import attachment, file_name, period_name
from hub.report_models import ReportGroup, ReportScope, UsageReportPublic
from hub.report_range import RangeProblem, default_range, out_of_bounds, range_problem
from hub.reports import ReportQuery, Reports, Visible

router = APIRouter(prefix="/reports", tags=["reports"])
CSV_TYPE = "text/csv; charset=utf-8"


def refuse(field: str, value: Any, message: str) -> RequestValidationError:
    """A 422 in FastAPI's shape, naming the query field."""
    problem = {"type": "value_error", "loc": ("query", field), "msg": message}
    return RequestValidationError([{**problem, "input": value}])


def _refused(problem: RangeProblem | None) -> None:
    if problem is not None:
        raise refuse(problem.field, problem.value, problem.message)


def reports_of(hub: HubState) -> Reports:
    """The hub's reports, or 503 (the app always makes them; a bare HubState may not)."""
    if hub.reports is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "reports are not set up")
    return hub.reports


def report_range(
    hub: HubState,
    now: datetime,
    start: date | None,
    end: date | None,
    scope: ReportScope,
    group: ReportGroup,
) -> tuple[date, date]:
    """The range asked for, its defaults filled in (today in the report's zone), or 422."""
    reports = reports_of(hub)
    _refused(out_of_bounds("to", end))
    _refused(out_of_bounds("from", start))
    today = now.astimezone(reports.tz).date()
    start, end = default_range(start, end, today)
    _refused(range_problem(start, end, scope, group, hub.settings.report_days_max))
    return start, end


def readable_query(
    caller: Caller,
    hub: HubState,
    scope: ReportScope,
    site: str | None,
    room: str | None,
    start: date,
    end: date,
    group: ReportGroup,
) -> ReportQuery:
    """The report the caller may have, or 422 (a bad combination), 403, 404."""
    if scope == "room" and (site is None or room is None):
        missing = "site" if site is None else "room"
        raise refuse(missing, None, "a room report needs site and room")
    if scope == "school" and site is None:
        raise refuse("site", None, "a school report needs site")
    if scope != "room" and room is not None:
        raise refuse("room", room, f"a {scope} report takes no room (ask scope=room)")
    if scope == "district" and site is not None:
        raise refuse("site", site, "a district report takes no site (ask scope=school)")
    if site is not None:
        require(caller, Action.REPORT_READ, site, room)  # 403 first: it tells nothing of the room
        known = hub.store.room_exists(site, room) if room else hub.store.site_exists(site)
        if not known:
            what = f"room {site}/{room}" if room else f"site {site}"
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"unknown {what}")
    reach = caller.scope(Action.REPORT_READ)
    visible = None if reach.everything else Visible(reach.sites, reach.rooms)
    return ReportQuery(scope, start, end, group, site=site, room=room, visible=visible)


@router.get(
    "/usage",
    response_model=UsageReportPublic,
    responses={
        200: {"content": {"text/csv": {}}, "description": "the report (JSON, or CSV)"},
        **error_responses(
            {403: "the caller may not read this room's or school's reports",
             404: "unknown room or site",
             422: "a bad query: the field is named (scope without its site or room, from after "
                  "to, a range too long)"}
        ),
    },
)  # fmt: skip
def usage_report(
    caller: Annotated[Caller, Depends(Allowed(Action.REPORT_READ))],
    hub: HubDep,
    scope: Annotated[ReportScope, Query(description="room, school (a site) or district")] = (
        "district"
    ),
    site: Annotated[str | None, Query(pattern=ID_PATTERN)] = None,
    room: Annotated[str | None, Query(pattern=ID_PATTERN)] = None,
    start: Annotated[
        date | None, Query(alias="from", description="first day (local); default: to - 29 days")
    ] = None,
    end: Annotated[
        date | None, Query(alias="to", description="last day (local), included; default: today")
    ] = None,
    group: Annotated[ReportGroup, Query(description="periods: hour, day, week or month")] = "day",
    format: Annotated[Literal["json", "csv"], Query(description="json or csv")] = "json",
) -> UsageReportPublic | Response:
    """Usage over a range of days from the hourly rollups (never from telemetry): projector
    and lighting hours, occupancy, energy, CO2 time, lesson means and waste per period, and
    forecasts (lamps and filters due, the coming month's energy). A district report covers
    the schools the caller may read."""
    reports = reports_of(hub)
    now = reports.clock()
    start, end = report_range(hub, now, start, end, scope, group)
    query = readable_query(caller, hub, scope, site, room, start, end, group)
    report = reports.usage(query, now=now)
    if format == "json":
        return report
    name = file_name("usage", site, room, period=period_name(start, end), group=group)
    return Response(usage_csv(report), media_type=CSV_TYPE, headers=attachment(name))


__all__ = ["CSV_TYPE", "readable_query", "refuse", "report_range", "reports_of", "router"]
