"""The audit log, read-only: filtered pages as JSON, and a CSV export."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from hub.access import Action, Caller
from hub.api.auth import Allowed
from hub.api.deps import ID_PATTERN, HubDep
from hub.api.responses import error_responses
from hub.api.times import plausible
from hub.audit import PAGE_MAX, AuditFilter
from hub.users import USERNAME_PATTERN

router = APIRouter(prefix="/audit", tags=["audit"])

Reader = Annotated[Caller, Depends(Allowed(Action.AUDIT_READ))]
ERRORS = error_responses(
    {401: "not signed in", 403: "the role may not read the audit log", 422: "a bad filter"}
)


class AuditEntryPublic(BaseModel):
    id: int
    at: datetime
    actor: str
    """User name; empty for the hub itself."""
    role: str
    via: str
    """``session`` or ``token``."""
    address: str
    action: str
    site: str | None
    room: str | None
    device: str | None
    outcome: str
    duration_ms: float | None
    detail: dict[str, Any]


def audit_filter(
    site: Annotated[str | None, Query(pattern=ID_PATTERN)] = None,
    room: Annotated[str | None, Query(pattern=ID_PATTERN)] = None,
    user: Annotated[str | None, Query(pattern=USERNAME_PATTERN)] = None,
    action: Annotated[str | None, Query(pattern=r"^[a-z_.]{1,40}$")] = None,
    since: Annotated[
        datetime | None, Query(description="ISO 8601, included, 1970 to 2200"), plausible("since")
    ] = None,
    until: Annotated[
        datetime | None, Query(description="ISO 8601, excluded, 1970 to 2200"), plausible("until")
    ] = None,
    after_id: Annotated[int, Query(ge=0, le=2**53, description="page on: the last id seen")] = 0,
) -> AuditFilter:
    return AuditFilter(site, room, user, action, since, until, after_id)


Filter = Annotated[AuditFilter, Depends(audit_filter)]


@router.get("", responses=ERRORS)
def list_audit(
    caller: Reader,
    hub: HubDep,
    f: Filter,
    limit: Annotated[int, Query(ge=1, le=PAGE_MAX)] = 100,
) -> list[AuditEntryPublic]:
    """Entries of the caller's schools matching the filter, oldest first; page with
    ``after_id`` (the last id of the previous page)."""
    rows = hub.audit.query(caller.scope(Action.AUDIT_READ), f, limit)
    return [AuditEntryPublic.model_validate(r, from_attributes=True) for r in rows]


@router.get(
    ".csv",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}, "description": "the entries as CSV"}, **ERRORS},
)
def export_audit(caller: Reader, hub: HubDep, f: Filter) -> StreamingResponse:
    """The matching entries as CSV (UTF-8, a header line first), at most 100 000 rows."""
    chunks = hub.audit.export_csv(caller.scope(Action.AUDIT_READ), f)
    return StreamingResponse(
        chunks,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="smartclass-audit.csv"'},
    )


__all__ = ["router"]
