"""Pairing the room's tablet: a one-time code for IT to type on it, and revoking every tablet.

Both are ordinary commands to the room's ``panel`` device through the commander (expiry,
the agent's reply, 504 when it does not answer), so they work and fail like any other. The
hub keeps neither the code nor its hash: the command log and the audit log record only that
a code was asked for (see ``hub/pairing.py``).
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, status
from pydantic import BaseModel

from hub.access import Action
from hub.api.auth import RoomAllowed, RoomRef
from hub.api.deps import CommanderDep, HubDep
from hub.api.responses import error_responses
from hub.api.routes.commands import REPLY_STATUS, raise_for_link
from hub.errors import HubError
from hub.pairing import PAIRING_TTL_S, code_sha256, new_code
from protocol import utcnow

router = APIRouter(prefix="/rooms", tags=["pairing"])

PANEL = "panel"
"""The help panel's device id in every room (``edge/help.py``)."""
PATH = "/{site}/{room}/panel/pairing"
ERRORS = error_responses(
    {
        404: "unknown room; or the agent replied `unknown_device` or `unknown_action` (an agent"
        " too old to pair tablets)",
        409: "the agent got the command after its expiry",
        422: "a bad id, or the agent replied `bad_params`",
        502: "the agent replied `device_error`",
        503: "the hub is not connected to the broker, or the broker refused the publish",
        504: "the agent did not answer in time",
    }
)

Operator = Annotated[RoomRef, Depends(RoomAllowed(Action.FLEET_OPERATE))]


class PairingCodePublic(BaseModel):
    """A code for the room's tablet, shown this once."""

    code: str
    """8 characters of ``23456789ABCDEFGHJKMNPQRSTUVWXYZ``: type it on the panel's ``/pair``
    page (or open ``/pair?code=…``); it pairs one tablet, once."""
    expires_at: datetime
    """Until when the agent takes it (10 minutes, by the agent's clock)."""


async def _panel(
    ref: RoomRef,
    commander: CommanderDep,
    hub: HubDep,
    action: str,
    params: dict[str, Any],
    *,
    audit_action: str,
    audit_detail: dict[str, Any],
) -> None:
    """Send the panel ``action``; an error reply or a failed link becomes the HTTP error of a
    command. Audited with ``audit_detail`` (never the params: they may hold a secret)."""
    site, room, caller = ref.site, ref.room, ref.caller
    started = time.perf_counter()

    async def audit(outcome: str, **more: Any) -> None:
        await hub.audit.record(
            caller, audit_action, site=site, room=room, device=PANEL,
            detail={**audit_detail, **more}, outcome=outcome,
            duration_ms=(time.perf_counter() - started) * 1000,
        )  # fmt: skip

    try:
        reply = await commander.send(
            site, room, PANEL, action, params, issuer=f"user:{caller.username}",
            logged_params=audit_detail,
        )  # fmt: skip
    except HubError as exc:
        await audit(type(exc).__name__)
        raise_for_link(exc)
    await audit("ok" if reply.ok else reply.code, reply=reply.code, text=reply.text)
    if not reply.ok:
        detail = f"{reply.code}: {reply.text}" if reply.text else reply.code
        raise HTTPException(REPLY_STATUS.get(reply.code, status.HTTP_502_BAD_GATEWAY), detail)


@router.post(PATH, status_code=status.HTTP_201_CREATED, responses=ERRORS)
async def make_pairing_code(
    ref: Operator, commander: CommanderDep, hub: HubDep
) -> PairingCodePublic:
    """A new one-time code for the room's tablet, once the room's agent has taken its hash
    (it keeps at most 5 codes waiting, each usable once, for 10 minutes)."""
    code = new_code()
    expires_at = utcnow() + timedelta(seconds=PAIRING_TTL_S)
    params = {"code_sha256": code_sha256(code), "expires_in_s": PAIRING_TTL_S}
    await _panel(
        ref, commander, hub, "pair", params, audit_action="panel_pairing",
        audit_detail={"expires_in_s": PAIRING_TTL_S},
    )  # fmt: skip
    return PairingCodePublic(code=code, expires_at=expires_at)


@router.delete(PATH, status_code=status.HTTP_204_NO_CONTENT, responses=ERRORS)
async def unpair_tablets(ref: Operator, commander: CommanderDep, hub: HubDep) -> None:
    """The room's agent forgets every tablet paired to it (and every code waiting): each
    must be paired again."""
    await _panel(ref, commander, hub, "unpair", {}, audit_action="panel_unpair", audit_detail={})


__all__ = ["PANEL", "PairingCodePublic", "router"]
