"""Commands to devices: send one and return the agent's reply, mapped to an HTTP status."""

from __future__ import annotations

import time
from typing import Annotated, NoReturn

from fastapi import APIRouter, Depends, HTTPException, status

from hub.access import Action
from hub.api.auth import RoomAllowed, RoomRef
from hub.api.deps import CommanderDep, DeviceId, HubDep
from hub.api.models import CommandCreate, CommandResultPublic, ErrorPublic, ValidationErrorPublic
from hub.api.responses import error_responses
from hub.errors import CommandTimeout, HubError, NotConnected, PublishFailed, UnknownRoom
from protocol.attendance import DEVICE as ATTENDANCE

router = APIRouter(prefix="/rooms", tags=["commands"])

REPLY_STATUS: dict[str, int] = {
    "unknown_device": status.HTTP_404_NOT_FOUND,
    "unknown_action": status.HTTP_404_NOT_FOUND,
    "bad_params": status.HTTP_422_UNPROCESSABLE_CONTENT,
    "expired": status.HTTP_409_CONFLICT,
    "device_unavailable": status.HTTP_503_SERVICE_UNAVAILABLE,
    "device_error": status.HTTP_502_BAD_GATEWAY,
}
"""HTTP status of each error code a device can reply with."""

LINK_STATUS: dict[type[HubError], int] = {
    NotConnected: status.HTTP_503_SERVICE_UNAVAILABLE,
    PublishFailed: status.HTTP_503_SERVICE_UNAVAILABLE,
    UnknownRoom: status.HTTP_404_NOT_FOUND,
    CommandTimeout: status.HTTP_504_GATEWAY_TIMEOUT,
}


def raise_for_link(exc: HubError) -> NoReturn:
    """Turn a hub error into the matching HTTP error; one without a match (new) is a 503."""
    found = (LINK_STATUS[kind] for kind in type(exc).__mro__ if kind in LINK_STATUS)
    raise HTTPException(next(found, status.HTTP_503_SERVICE_UNAVAILABLE), str(exc)) from exc


ATTENDANCE_ROUTES: dict[str, str] = {
    "consent": "consent", "withdraw": "withdraw", "roster": "roster", "enrol": "enrol",
    "enrol_templates": "enrol",
}  # fmt: skip
"""Attendance actions that change students' consent or templates: only through their own
routes (``consent.manage``, audited without templates), never as a plain command."""

UNREADABLE_BODY = "the body cannot be read as JSON (not UTF-8, nested past the parser's limit)"
"""FastAPI's own 400, for a body that fails before validation."""


@router.post(
    "/{site}/{room}/devices/{device}/commands",
    responses=error_responses(
        {
            400: UNREADABLE_BODY,
            404: "unknown room; or the device replied `unknown_device` or `unknown_action`",
            409: "the device replied `expired`: it got the command after its expiry",
            422: "the body does not fit (a list of problems), or the device replied `bad_params`",
            502: "the device replied `device_error`",
            503: "the hub is not connected to the broker, the broker refused the publish,"
            " or the device replied `device_unavailable`",
            504: "no reply within `timeout_s`",
        },
        models={422: ValidationErrorPublic | ErrorPublic},
    ),
)
async def send_command(
    ref: Annotated[RoomRef, Depends(RoomAllowed(Action.ROOM_CONTROL))],
    device: DeviceId,
    body: CommandCreate,
    commander: CommanderDep,
    hub: HubDep,
) -> CommandResultPublic:
    """Send a command and wait for the reply; an error reply becomes a 4xx/5xx status.
    Every command is in the audit log: who, where, what, the reply and how long it took."""
    site, room, caller = ref.site, ref.room, ref.caller
    if device == ATTENDANCE and body.action in ATTENDANCE_ROUTES:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            f"{ATTENDANCE} {body.action}: use POST .../attendance/"
            f"{ATTENDANCE_ROUTES[body.action]} ({Action.CONSENT_MANAGE.value})",
        )
    started = time.perf_counter()
    what = {"action": body.action, "params": body.params}
    try:
        reply = await commander.send(
            site,
            room,
            device,
            body.action,
            body.params,
            issuer=f"user:{caller.username}",
            timeout_s=body.timeout_s,
        )
    except HubError as exc:
        await hub.audit.record(
            caller, "command", site=site, room=room, device=device, detail=what,
            outcome=type(exc).__name__, duration_ms=(time.perf_counter() - started) * 1000,
        )  # fmt: skip
        raise_for_link(exc)
    await hub.audit.record(
        caller, "command", site=site, room=room, device=device,
        detail={**what, "reply": reply.code, "text": reply.text},
        outcome="ok" if reply.ok else reply.code,
        duration_ms=(time.perf_counter() - started) * 1000,
    )  # fmt: skip
    if not reply.ok:
        detail = f"{reply.code}: {reply.text}" if reply.text else reply.code
        raise HTTPException(REPLY_STATUS.get(reply.code, status.HTTP_502_BAD_GATEWAY), detail)
    return CommandResultPublic(
        id=reply.id, device=reply.device, code=reply.code, text=reply.text, state=reply.state
    )


__all__ = ["LINK_STATUS", "REPLY_STATUS", "UNREADABLE_BODY", "raise_for_link", "router"]
