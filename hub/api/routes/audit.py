"""The audit log, read-only: filtered pages as JSON, and a CSV export."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse

from hub.access import Action, Caller
from hub.api.auth import Allowed
from hub.api.deps import ID_PATTERN, HubDep
from hub.api.responses import error_responses
from hub.api.times import plausible
from hub.audit import PAGE_MAX, AuditFilter, AuditRow
from hub.report_exports import attachment, audit_file_name
from protocol.messages import INT32_MAX

router = APIRouter(prefix="/audit", tags=["audit"])

Reader = Annotated[Caller, Depends(Allowed(Action.AUDIT_READ))]
ERRORS = error_responses(
    {401: "not signed in", 403: "the role may not read the audit log", 422: "a bad filter"}
)


def audit_filter(
    site: Annotated[str | None, Query(pattern=ID_PATTERN)] = None,
    room: Annotated[str | None, Query(pattern=ID_PATTERN)] = None,
    user: Annotated[
        str | None,
        Query(
            min_length=1, max_length=63, description="a user name (or one a failed sign-in tried)"
        ),
    ] = None,
    action: Annotated[str | None, Query(pattern=r"^[a-z_.]{1,40}$")] = None,
    since: Annotated[
        datetime | None, Query(description="ISO 8601, included, 1970 to 2200"), plausible("since")
    ] = None,
    until: Annotated[
        datetime | None, Query(description="ISO 8601, excluded, 1970 to 2200"), plausible("until")
    ] = None,
    after_id: Annotated[  # the ids are 32-bit integers (PostgreSQL refuses a larger one)
        int, Query(ge=0, le=INT32_MAX, description="page on: the last id seen")
    ] = 0,
    before_id: Annotated[
        int | None, Query(ge=1, le=INT32_MAX, description="page back: entries older than this id")
    ] = None,
) -> AuditFilter:
    return AuditFilter(site, room, user, action, since, until, after_id, before_id)


Filter = Annotated[AuditFilter, Depends(audit_filter)]


@router.get("", responses=ERRORS)
def list_audit(
    caller: Reader,
    hub: HubDep,
    f: Filter,
    limit: Annotated[int, Query(ge=1, le=PAGE_MAX)] = 100,
    order: Annotated[Literal["asc", "desc"], Query(description="asc: oldest first")] = "asc",
) -> list[AuditRow]:
    """Entries of the caller's schools matching the filter (for IT also the hub-wide ones:
    sign-ins, tokens), oldest first; page with ``after_id`` (the last id of the page). With
    ``order=desc`` newest first; page back with ``before_id`` (the last id of the page)."""
    scope = caller.scope(Action.AUDIT_READ)
    hub_wide = caller.may(Action.HUB_ADMIN)
    return hub.audit.query(scope, f, limit, hub_wide=hub_wide, newest_first=order == "desc")


@router.get(
    ".csv",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}, "description": "the entries as CSV"}, **ERRORS},
)
def export_audit(caller: Reader, hub: HubDep, f: Filter) -> StreamingResponse:
    """The matching entries as CSV (UTF-8, a header line first), at most 100 000 rows."""
    scope = caller.scope(Action.AUDIT_READ)
    chunks = hub.audit.export_csv(scope, f, hub_wide=caller.may(Action.HUB_ADMIN))
    tz = ZoneInfo(hub.settings.report_timezone)
    name = audit_file_name(f.site, f.room, f.actor, f.since, f.until, tz)
    return StreamingResponse(chunks, media_type="text/csv; charset=utf-8", headers=attachment(name))


__all__ = ["router"]
