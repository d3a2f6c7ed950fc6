"""Alerts: the fleet's list and one alert with its history (IT, admins, the district), a room's
own alerts (whoever may read the room), and IT's acknowledgement and resolution."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query, status
from pydantic import BaseModel, ConfigDict, Field, field_validator

from hub.access import Action, Caller, Scope
from hub.alerts.kinds import AlertKind, AlertState, Severity
from hub.alerts.service import AlertService
from hub.alerts.store import PAGE_MAX, AlertConflict, AlertNotFound, AlertQuery, AlertRecord
from hub.alerts.tables import AlertRow
from hub.alerts.views import AlertDetailPublic, AlertPublic, alert_detail, alert_public
from hub.api.auth import Allowed, RoomAllowed, RoomRef, require
from hub.api.deps import ID_PATTERN, HubDep
from hub.api.responses import error_responses
from hub.api.routes.commands import UNREADABLE_BODY
from hub.api.times import plausible
from protocol.bounds import check_text
from protocol.messages import INT32_MAX, TEXT_MAX

router = APIRouter(prefix="/alerts", tags=["alerts"])
room_router = APIRouter(prefix="/rooms", tags=["alerts"])

AlertId = Annotated[int, Path(ge=1, le=INT32_MAX, description="alert id", examples=[17])]
Reader = Annotated[Caller, Depends(Allowed(Action.FLEET_READ))]
Operator = Annotated[Caller, Depends(Allowed(Action.FLEET_OPERATE))]
LIST_ERRORS = error_responses({422: "a bad filter: an id, kind, severity, state or time"})
ROOM_ERRORS = error_responses(
    {404: "unknown room", 422: "a bad id or filter: a kind, severity, state or time"}
)
ONE_ERRORS = error_responses(
    {403: "the alert is outside the caller's schools", 404: "no such alert", 422: "a bad id"}
)
CHANGE_ERRORS = error_responses(
    {
        400: UNREADABLE_BODY,
        403: "the role may not operate the fleet, or the alert is outside its schools",
        404: "no such alert",
        409: "the alert is not in a state that allows it (acknowledged, resolved or ended already)",
        422: "a bad id or comment",
        503: "the hub's alerts are not running",
    }
)


class AlertCommentCreate(BaseModel):
    """What IT says when acknowledging or resolving an alert."""

    model_config = ConfigDict(extra="forbid")

    comment: str = Field(min_length=1, max_length=TEXT_MAX, examples=["on my way to 6A1"])

    @field_validator("comment")
    @classmethod
    def _plain(cls, value: str) -> str:
        check_text(value)  # no NUL, no lone surrogate: every database takes it
        if not value.strip():
            msg = "the comment is blank"
            raise ValueError(msg)
        return value.strip()


class AlertPagePublic(BaseModel):
    """Alerts, newest first."""

    alerts: list[AlertPublic]
    next_before: int | None
    """Pass as ``before`` for the next page; null: this was the last."""


def _filters(
    kind: AlertKind | None = None,
    severity: Severity | None = None,
    state: Annotated[list[AlertState] | None, Query(description="repeat for several")] = None,
    since: Annotated[
        datetime | None,
        Query(description="started at or after; ISO 8601, 1970 to 2200"),
        plausible("since"),
    ] = None,
    until: Annotated[
        datetime | None,
        Query(description="started before; ISO 8601, 1970 to 2200"),
        plausible("until"),
    ] = None,
    before: Annotated[
        int | None, Query(ge=1, le=INT32_MAX, description="page on: the `next_before` given")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=PAGE_MAX)] = 100,
) -> AlertQuery:
    states = frozenset(s.value for s in state or ())
    return AlertQuery(None, None, kind, severity, states, since, until, before, limit)


Filters = Annotated[AlertQuery, Depends(_filters)]


def _fleet_filters(
    base: Filters,
    site: Annotated[str | None, Query(pattern=ID_PATTERN)] = None,
    room: Annotated[str | None, Query(pattern=ID_PATTERN)] = None,
) -> AlertQuery:
    return replace(base, site=site, room=room)


FleetFilters = Annotated[AlertQuery, Depends(_fleet_filters)]


def _page(hub: HubDep, query: AlertQuery, scope: Scope) -> AlertPagePublic:
    within = None if scope.everything else scope.where(AlertRow.site, AlertRow.room)
    found = _service(hub).store.alerts(query, within)
    last = found[-1].id if len(found) == query.limit else None
    return AlertPagePublic(alerts=[alert_public(a) for a in found], next_before=last)


def _service(hub: HubDep) -> AlertService:
    if hub.alerts is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "the hub's alerts are not running")
    return hub.alerts


def _visible(hub: HubDep, caller: Caller, action: Action, alert_id: int) -> AlertRecord:
    alert = _service(hub).store.get(alert_id)
    if alert is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no alert {alert_id}")
    require(caller, action, alert.site, alert.room)
    return alert


@router.get("", responses=LIST_ERRORS)
def list_alerts(caller: Reader, hub: HubDep, query: FleetFilters) -> AlertPagePublic:
    """Alerts of the caller's schools matching the filter, newest first, at most ``limit``."""
    return _page(hub, query, caller.scope(Action.FLEET_READ))


@router.get("/{alert_id}", responses=ONE_ERRORS)
def get_alert(caller: Reader, hub: HubDep, alert_id: AlertId) -> AlertDetailPublic:
    """One alert with its history: raised, repeated (a help request asked again),
    acknowledged, resolved or ended, with who and their comment."""
    alert = _visible(hub, caller, Action.FLEET_READ, alert_id)
    return alert_detail(alert, _service(hub).store.transitions(alert.id))


@router.post("/{alert_id}/ack", responses=CHANGE_ERRORS)
async def acknowledge_alert(
    caller: Operator, hub: HubDep, alert_id: AlertId, body: AlertCommentCreate
) -> AlertPublic:
    """IT has seen it: an open alert becomes acknowledged (a help request's room shows it)."""
    return await _change(hub, caller, alert_id, body.comment, resolve=False)


@router.post("/{alert_id}/resolve", responses=CHANGE_ERRORS)
async def resolve_alert(
    caller: Operator, hub: HubDep, alert_id: AlertId, body: AlertCommentCreate
) -> AlertPublic:
    """IT has dealt with it: an open or acknowledged alert becomes resolved. A condition that
    still holds raises no new alert until it clears (or grows worse)."""
    return await _change(hub, caller, alert_id, body.comment, resolve=True)


async def _change(
    hub: HubDep, caller: Caller, alert_id: int, comment: str, *, resolve: bool
) -> AlertPublic:
    service = _service(hub)
    alert = _visible(hub, caller, Action.FLEET_OPERATE, alert_id)
    action = "alert_resolve" if resolve else "alert_ack"
    detail = {"alert": alert.id, "kind": alert.kind, "comment": comment}
    where = {"site": alert.site, "room": alert.room, "device": alert.device or None}
    change = service.resolve if resolve else service.acknowledge
    try:
        changed = await change(alert.id, caller.username, comment)
    except AlertNotFound as exc:  # deleted in between
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc
    except AlertConflict as exc:
        await hub.audit.record(caller, action, **where, detail=detail, outcome="conflict")
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
    await hub.audit.record(caller, action, **where, detail=detail)
    return alert_public(changed)


@room_router.get("/{site}/{room}/alerts", responses=ROOM_ERRORS)
def list_room_alerts(
    ref: Annotated[RoomRef, Depends(RoomAllowed(Action.ROOM_READ))],
    hub: HubDep,
    query: Filters,
) -> AlertPagePublic:
    """The room's alerts, newest first: a teacher sees their room's help request here."""
    return _page(hub, replace(query, site=ref.site, room=ref.room), Scope(everything=True))


__all__ = ["AlertCommentCreate", "AlertPagePublic", "room_router", "router"]
