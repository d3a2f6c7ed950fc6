"""The report pages' other tables as JSON and CSV: comparisons, and forecasts on their own.

The pages show exactly these answers, and their CSV links lead here, so a figure in a table,
in its CSV and in the JSON is one figure.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response

from hub.access import Action, Caller
from hub.api.auth import Allowed
from hub.api.deps import ID_PATTERN, HubDep
from hub.api.responses import Responses, error_responses
from hub.api.routes.reports import CSV_TYPE, readable_query, refuse, report_range, reports_of
from hub.forecasts import next_month
from hub.report_compare import (
    CompareBy,
    CompareQuery,
    ComparisonPublic,
    Comparisons,
    SortKey,
    SortOrder,
)
from hub.report_exports import (
    attachment,
    comparison_csv,
    energy_csv,
    file_name,
    lamps_csv,
    period_name,
)
from hub.report_forecast import ForecastReportPublic, forecast_report
from hub.report_models import ReportScope

router = APIRouter(prefix="/reports", tags=["reports"])

Reader = Annotated[Caller, Depends(Allowed(Action.REPORT_READ))]
CSV_OK: Responses = {200: {"content": {"text/csv": {}}, "description": "the table as CSV"}}
ERRORS = error_responses(
    {403: "the caller may not read this room's or school's reports",
     404: "unknown room or site",
     422: "a bad query: the field is named"}
)  # fmt: skip
Site = Annotated[str | None, Query(pattern=ID_PATTERN)]
Room = Annotated[str | None, Query(pattern=ID_PATTERN)]
From = Annotated[
    date | None, Query(alias="from", description="first day (local); default: to - 29 days")
]
To = Annotated[
    date | None, Query(alias="to", description="last day (local), included; default: today")
]


@router.get(
    "/compare",
    response_model=ComparisonPublic,
    responses={
        200: {"content": {"text/csv": {}}, "description": "the comparison (JSON, or CSV)"},
        **ERRORS,
    },
)
def compare(
    caller: Reader,
    hub: HubDep,
    by: Annotated[CompareBy, Query(description="room (a school's rooms) or school")] = "room",
    site: Site = None,
    start: From = None,
    end: To = None,
    sort: Annotated[SortKey, Query(description="the figure rows are ordered by")] = "name",
    order: Annotated[SortOrder, Query(description="asc or desc (no data: last)")] = "asc",
    format: Annotated[Literal["json", "csv"], Query(description="json or csv")] = "json",
) -> ComparisonPublic | Response:
    """The rooms of a school (``by=room``, with ``site``), or the schools the caller may read
    (``by=school``), side by side: each row the total of its own usage report over the same
    days (the rollups only), with the energy per room and the share of it wasted. Rooms and
    schools without data are listed with empty figures."""
    if by == "room" and site is None:
        raise refuse("site", None, "a comparison of rooms needs site (their school)")
    if by == "school" and site is not None:
        raise refuse("site", site, "schools are compared across the district: no site")
    reports = reports_of(hub)
    now = reports.clock()
    scope: ReportScope = "school" if by == "room" else "district"
    start, end = report_range(hub, now, start, end, scope, "day")
    visible = readable_query(caller, hub, scope, site, None, start, end, "day").visible
    query = CompareQuery(by, start, end, site, visible, sort, order)
    comparison = Comparisons(reports.engine, reports.tz.key).compare(query, now=now)
    if format == "json":
        return comparison
    name = file_name(f"compare-{by}s", site, period=period_name(start, end))
    return Response(comparison_csv(comparison), media_type=CSV_TYPE, headers=attachment(name))


def _forecasts(
    caller: Reader,
    hub: HubDep,
    scope: Annotated[ReportScope, Query(description="room, school (a site) or district")] = (
        "district"
    ),
    site: Site = None,
    room: Room = None,
) -> ForecastReportPublic:
    reports = reports_of(hub)
    now = reports.clock()
    today = now.astimezone(reports.tz).date()
    query = readable_query(caller, hub, scope, site, room, today, today, "day")
    return forecast_report(reports, query, now=now)


Forecasts = Annotated[ForecastReportPublic, Depends(_forecasts)]


@router.get("/forecasts", responses=ERRORS)
def forecasts(report: Forecasts) -> ForecastReportPublic:
    """When each projector's lamp and filter reach their limits at its recent rate of use,
    and the coming month's energy of the room, the school, or each school the caller may read
    (see the usage report for the methods)."""
    return report


@router.get("/forecasts/lamps.csv", response_class=Response, responses={**CSV_OK, **ERRORS})
def lamps_table(report: Forecasts) -> Response:
    """The projectors' forecasts as CSV: one line per projector."""
    name = file_name("lamps", report.site, report.room, period=report.today.isoformat())
    return Response(lamps_csv(report), media_type=CSV_TYPE, headers=attachment(name))


@router.get("/forecasts/energy.csv", response_class=Response, responses={**CSV_OK, **ERRORS})
def energy_table(report: Forecasts) -> Response:
    """The coming month's energy as CSV: one line per school (or the room)."""
    month = f"{next_month(report.today)[0]:%Y-%m}"
    name = file_name("energy-forecast", report.site, report.room, period=month)
    return Response(energy_csv(report), media_type=CSV_TYPE, headers=attachment(name))


__all__ = ["router"]
