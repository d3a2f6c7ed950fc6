"""Usage reports of a room, a school or the district, as JSON or CSV."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Response, status
from fastapi.exceptions import RequestValidationError

from hub.access import Action, Caller
from hub.api.auth import Allowed, require
from hub.api.deps import ID_PATTERN, HubDep, HubState
from hub.api.responses import error_responses
from hub.report_csv import usage_csv
from hub.report_models import ReportGroup, ReportScope, UsageReportPublic
from hub.reports import HOUR_DAYS_MAX, ReportQuery, Visible

router = APIRouter(prefix="/reports", tags=["reports"])

EARLIEST = date(1970, 1, 1)
LATEST = date(2199, 12, 31)
DEFAULT_DAYS = 30
"""Without ``from``, a report covers the 30 days up to ``to`` (default: today)."""


def _refuse(field: str, value: Any, message: str) -> RequestValidationError:
    """A 422 in FastAPI's shape, naming the query field."""
    problem = {"type": "value_error", "loc": ("query", field), "msg": message}
    return RequestValidationError([{**problem, "input": value}])


def _plausible(name: str, value: date | None) -> date | None:
    if value is not None and not EARLIEST <= value <= LATEST:
        raise _refuse(name, value.isoformat(), f"{name} must be within 1970-01-01..2199-12-31")
    return value


def _check_range(start: date, end: date, scope: ReportScope, group: ReportGroup, most: int) -> None:
    if start > end:
        raise _refuse("from", start.isoformat(), "from must not be after to")
    days = (end - start).days + 1
    if group == "hour" and days > HOUR_DAYS_MAX[scope]:
        limit = HOUR_DAYS_MAX[scope]
        msg = f"a {scope} report by hour covers at most {limit} days, not {days}"
        raise _refuse("group", group, msg)
    if days > most:
        raise _refuse("to", end.isoformat(), f"a report covers at most {most} days, not {days}")


def _query(
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
        raise _refuse(missing, None, "a room report needs site and room")
    if scope == "school" and site is None:
        raise _refuse("site", None, "a school report needs site")
    if scope != "room" and room is not None:
        raise _refuse("room", room, f"a {scope} report takes no room (ask scope=room)")
    if scope == "district" and site is not None:
        raise _refuse("site", site, "a district report takes no site (ask scope=school)")
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
    reports = hub.reports
    if reports is None:  # the app always makes one; a bare HubState in a test may not
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "reports are not set up")
    now = reports.clock()
    today = now.astimezone(reports.tz).date()
    end = _plausible("to", end) or today
    start = _plausible("from", start) or max(EARLIEST, end - timedelta(days=DEFAULT_DAYS - 1))
    _check_range(start, end, scope, group, hub.settings.report_days_max)
    query = _query(caller, hub, scope, site, room, start, end, group)
    report = reports.usage(query, now=now)
    if format == "json":
        return report
    name = "-".join(x for x in ("usage", scope, site, room, f"{start}", f"{end}") if x)
    return Response(
        usage_csv(report),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="smartclass-{name}.csv"'},
    )


__all__ = ["router"]
