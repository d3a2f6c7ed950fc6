"""The fleet view: every room's agent, the rooms that need attention first."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, status

from hub.access import Action, Caller
from hub.api.auth import Allowed, RoomAllowed, RoomRef
from hub.api.deps import ID_PATTERN, HubDep
from hub.api.responses import error_responses
from hub.fleet import WEIGHTS, FleetRoom, fleet

router = APIRouter(prefix="/fleet", tags=["fleet"])

Problem = Literal[
    "offline",
    "config_refused",
    "storage_fault",
    "device_unavailable",
    "device_fault",
    "dropped",
    "gaps",
    "clock_offset",
    "backlog",
    "parked",
    "config_pending",
    "lamp_hours",
]
assert set(Problem.__args__) == set(WEIGHTS)  # type: ignore[attr-defined]


@router.get("", responses=error_responses({422: "a bad filter"}))
def list_fleet(
    caller: Annotated[Caller, Depends(Allowed(Action.FLEET_READ))],
    hub: HubDep,
    site: Annotated[str | None, Query(pattern=ID_PATTERN)] = None,
    online: bool | None = None,
    problem: Annotated[Problem | None, Query(description="only rooms with this problem")] = None,
    attention: Annotated[bool, Query(description="only rooms with a problem")] = False,
    sort: Annotated[
        Literal["attention", "room", "last_seen"],
        Query(description="attention: worst first; last_seen: longest unseen first"),
    ] = "attention",
    limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
) -> list[FleetRoom]:
    """The rooms of the caller's schools with their agent's state, worst first."""
    rooms = fleet(hub.store.engine, caller.scope(Action.FLEET_READ))
    if site is not None:
        rooms = [r for r in rooms if r.site == site]
    if online is not None:
        rooms = [r for r in rooms if r.online == online]
    if problem is not None:
        rooms = [r for r in rooms if problem in r.problems]
    if attention:
        rooms = [r for r in rooms if r.problems]
    if sort == "room":
        rooms.sort(key=lambda r: (r.site, r.room))
    elif sort == "last_seen":
        rooms.sort(key=lambda r: (r.last_seen is not None, r.last_seen or datetime.min))
    return rooms[:limit]


@router.get("/{site}/{room}", responses=error_responses({404: "unknown room", 422: "a bad id"}))
def get_fleet_room(
    ref: Annotated[RoomRef, Depends(RoomAllowed(Action.FLEET_READ))], hub: HubDep
) -> FleetRoom:
    """One room's agent as the fleet shows it: what a rolling update waits for after each
    restart (online, its version, a new boot, its configuration applied)."""
    scope = ref.caller.scope(Action.FLEET_READ)
    for view in fleet(hub.store.engine, scope):
        if (view.site, view.room) == (ref.site, ref.room):
            return view
    raise HTTPException(status.HTTP_404_NOT_FOUND, f"unknown room {ref.site}/{ref.room}")


__all__ = ["router"]
