"""The live stream: server-sent events of the rooms the caller may read."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException, Query, status
from fastapi.responses import StreamingResponse

from hub.access import Action, Caller
from hub.api.auth import Allowed
from hub.api.deps import HubDep
from hub.api.responses import error_responses
from ui.live import last_event_id

router = APIRouter(tags=["stream"])

STREAM_DOC = {
    200: {
        "description": "An endless `text/event-stream`: numbered events (`room`, `state`,"
        " `telemetry`, `help`, `alert`, `config`, `health`; `resync` when what was missed is no"
        " longer kept), each a JSON object with `site` and `room`",
        "content": {"text/event-stream": {"schema": {"type": "string"}}},
    },
    **error_responses({503: "as many pages follow the stream as the hub allows; see Retry-After"}),
}


@router.get("/stream", response_class=StreamingResponse, responses=STREAM_DOC)
async def live_stream(
    caller: Annotated[Caller, Depends(Allowed(Action.ROOM_READ))],
    hub: HubDep,
    last_event: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
    after: Annotated[
        str | None, Query(max_length=20, description="the last event id seen (first load)")
    ] = None,
) -> StreamingResponse:
    """What happens in the caller's rooms as it happens: a room online or offline, a device's
    new state, telemetry (throttled per room), help requests, alerts raised, acknowledged,
    resolved or ended, configuration applied or refused. A browser that reconnects with
    ``Last-Event-ID`` (or ``?after=``) gets what it missed, or ``resync``."""
    if hub.live is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "the live stream is not running")
    return hub.live.response(caller.scope(Action.ROOM_READ), last_event_id(last_event, after))


__all__ = ["router"]
