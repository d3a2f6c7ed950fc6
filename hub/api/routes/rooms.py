"""Rooms: list, detail and telemetry history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, status
from fastapi.exceptions import RequestValidationError

from hub.access import Action, Caller
from hub.api.auth import Allowed, RoomAllowed, RoomRef
from hub.api.deps import StoreDep
from hub.api.details import room_extras
from hub.api.models import (
    ConfigStatusPublic,
    DevicePublic,
    EventPublic,
    RoomDetailPublic,
    RoomPublic,
    TelemetryHistoryPublic,
    TelemetryPointPublic,
)
from hub.api.responses import error_responses
from hub.api.times import plausible

router = APIRouter(prefix="/rooms", tags=["rooms"])

Metric = Annotated[str, Query(pattern=r"^[a-z][a-z0-9_]{0,62}$", examples=["co2_ppm"])]

UNKNOWN_ROOM = {404: "unknown room"}


@router.get("")
def list_rooms(
    caller: Annotated[Caller, Depends(Allowed(Action.ROOM_READ))], store: StoreDep
) -> list[RoomPublic]:
    """The rooms the caller may see, with their availability and latest readings."""
    scope = caller.scope(Action.ROOM_READ)
    return [
        RoomPublic.model_validate(r, from_attributes=True)
        for r in store.list_rooms()
        if scope.allows(r.site, r.room)
    ]


@router.get(
    "/{site}/{room}", responses=error_responses({**UNKNOWN_ROOM, 422: "a bad id or `events`"})
)
def get_room(
    ref: Annotated[RoomRef, Depends(RoomAllowed(Action.ROOM_READ))],
    store: StoreDep,
    events: int = Query(20, ge=0, le=500),
) -> RoomDetailPublic:
    """One room: devices and their state, configuration versions, readings, recent events."""
    site, room = ref.site, ref.room
    view = store.get_room(site, room)
    if view is None:  # removed in between
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"unknown room {site}/{room}")
    base = RoomPublic.model_validate(view, from_attributes=True)
    return RoomDetailPublic(
        **base.model_dump(),
        boot=view.boot,
        keepalive=view.keepalive,
        agent_version=view.agent_version,
        devices=[DevicePublic.model_validate(d) for d in store.devices(site, room)],
        config=ConfigStatusPublic(
            pushed=view.config_version_pushed,
            applied=view.config_version_applied,
            applied_ok=view.config_applied_ok,
            applied_text=view.config_applied_text,
            settings=view.config_settings,
        ),
        events=[EventPublic.model_validate(e) for e in store.recent_events(site, room, events)],
        **room_extras(store, view),
    )


@router.get(
    "/{site}/{room}/telemetry",
    responses=error_responses(
        {**UNKNOWN_ROOM, 422: "a bad id or query: `start`, `end` outside 1970..2200, not in order"}
    ),
)
def get_telemetry(
    ref: Annotated[RoomRef, Depends(RoomAllowed(Action.ROOM_READ))],
    store: StoreDep,
    metric: Metric,
    start: Annotated[
        datetime | None,
        Query(description="ISO 8601, 1970 to 2200; default: an hour before end"),
        plausible("start"),
    ] = None,
    end: Annotated[
        datetime | None,
        Query(description="ISO 8601, excluded, 1970 to 2200; default: now"),
        plausible("end"),
    ] = None,
    interval_s: Annotated[
        int | None, Query(ge=1, le=86_400, description="average per bucket")
    ] = None,
    device: Annotated[str | None, Query(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")] = None,
    limit: Annotated[int, Query(ge=1, le=100_000)] = 10_000,
) -> TelemetryHistoryPublic:
    """History of one metric, raw or averaged per ``interval_s`` bucket (naive times: UTC)."""
    site, room = ref.site, ref.room
    end = end or datetime.now(UTC)  # both validated: aware, UTC, far from datetime's ends
    start = start or end - timedelta(hours=1)
    if start >= end:
        problem = {"type": "value_error", "loc": ("query", "start"), "input": start.isoformat()}
        raise RequestValidationError([{**problem, "msg": "start must be before end"}])
    if interval_s is None:
        raw = store.telemetry(site, room, metric, start, end, device=device, limit=limit)
        points = [TelemetryPointPublic.model_validate(p) for p in raw]
    else:
        buckets = store.telemetry_buckets(
            site, room, metric, start, end, interval_s, device=device, limit=limit
        )
        points = [TelemetryPointPublic.model_validate(b) for b in buckets]
    return TelemetryHistoryPublic(
        site=site,
        room=room,
        metric=metric,
        start=start,
        end=end,
        interval_s=interval_s,
        points=points,
    )


__all__ = ["router"]
