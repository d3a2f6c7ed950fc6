"""The fleet view: every room's agent, the rooms that need attention first."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from hub.access import Action, Caller
from hub.api.auth import Allowed
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


class FleetDevicePublic(BaseModel):
    device: str
    family: str
    available: bool
    lamp_hours: float | None
    filter_hours: float | None
    faults: list[str]


class FleetRoomPublic(BaseModel):
    site: str
    room: str
    name: str
    online: bool
    last_seen: datetime | None
    agent_version: str | None
    boot: str | None
    started_at: datetime | None
    uptime_s: float | None
    config_pushed: int
    config_applied: int | None
    config_ok: bool | None
    """False: the agent refused the configuration (``config_text`` says why)."""
    config_text: str | None
    backlog: int | None
    """Messages waiting in the agent's outbox (from its last health report)."""
    parked: int | None
    oldest_s: float | None
    storage_ok: bool | None
    dropped: int
    missing: int
    clock_offset_s: float | None
    devices: list[FleetDevicePublic]
    problems: list[Problem]
    """Worst first."""
    attention: int
    """The sum of the problems' weights: the fleet is sorted by it, highest first."""


def _public(v: FleetRoom) -> FleetRoomPublic:
    return FleetRoomPublic(
        **{k: getattr(v, k) for k in FleetRoomPublic.model_fields if k not in ("devices",)},
        devices=[FleetDevicePublic.model_validate(d, from_attributes=True) for d in v.devices],
    )


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
) -> list[FleetRoomPublic]:
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
    return [_public(r) for r in rooms[:limit]]


__all__ = ["router"]
