"""The room's help panel: the teacher asks IT for help and sees what became of the request.

Every agent has this device (id ``panel``, family ``panel``). Its ``help`` action records a
``help`` event through the outbox, so a request made while the link is down reaches the hub
when it returns; ``cancel`` withdraws it (a ``help_cancelled`` event). The hub answers on
the room's retained ``help`` topic (``protocol.HelpAck``): open (the hub raised the alert),
acknowledged (IT has seen it, with who and a comment), then resolved or ended, which clears
the panel. An answer older than the teacher's latest request is not shown: the new request
stays ``requested`` until the hub has counted it. The state keeps how the last request ended
(``outcome``: resolved or ended) until the next one, so the room can say "resolved".

The device also pairs the room's tablets with its panel (``edge.panel.pairing``): ``pair``
takes the SHA-256 of a one-time code IT made (never the code) and how long it may wait;
``unpair`` forgets every paired tablet at once. The state says how many tablets are paired
and whether a code waits, never a code or a token.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from devices.base import Action, Device, DeviceError, parse_params
from edge.panel.pairing import EXPIRY_MAX_S, Pairing
from protocol.messages import Event, HelpAck, utcnow

PANEL_ID = "panel"
"""The device id of the help panel in every room (a room file cannot use it)."""
REASON_MAX = 200
"""Longest reason a teacher can give."""
HELP_EVENT = "help"
CANCEL_EVENT = "help_cancelled"

Emit = Callable[..., Event]
"""``emit(kind, severity=…, text=…, data=…)``: an event stored in the outbox (the Recorder's)."""
Request = Literal["none", "requested", "open", "acknowledged"]
Outcome = Literal["resolved", "ended"]


class _HelpParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(default="", max_length=REASON_MAX)


class _NoParams(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _PairParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    expires_in_s: int = Field(ge=1, le=EXPIRY_MAX_S)


class HelpPanel(Device):
    """The help request of one room and the hub's answer to it, as a device state."""

    family = "panel"

    def __init__(
        self,
        emit: Emit,
        device_id: str = PANEL_ID,
        *,
        now: Callable[[], datetime] = utcnow,
        pairing: Pairing | None = None,
    ) -> None:
        super().__init__(device_id)
        self._emit = emit
        self._now = now
        self.pairing = pairing
        """The room's tablets and codes; None: the room serves no panel (pairing refused)."""
        self._latest: tuple[str, int] | None = None
        """(boot, seq) of this boot's latest request or withdrawal: older answers are stale."""
        self._request: Request = "none"
        self._reason: str | None = None
        self._asked_at: datetime | None = None
        self._alert: int | None = None
        self._by: str | None = None
        self._comment: str | None = None
        self._outcome: Outcome | None = None
        self._actions: dict[str, Action] = {
            "help": self._help,
            "cancel": self._cancel,
            "pair": self._pair,
            "unpair": self._unpair,
        }

    @property
    def actions(self) -> Mapping[str, Action]:
        return self._actions

    @property
    def request(self) -> Request:
        """Where the help request stands, as the room shows it."""
        return self._request

    async def state(self) -> dict[str, Any]:
        return {
            "request": self._request,
            "reason": self._reason,
            "asked_at": self._asked_at.isoformat() if self._asked_at else None,
            "alert": self._alert,
            "by": self._by,
            "comment": self._comment,
            "outcome": self._outcome,
            "paired_tablets": self.pairing.tablets if self.pairing else 0,
            "code_pending": self.pairing.code_pending if self.pairing else False,
        }

    async def _help(self, params: dict[str, Any]) -> dict[str, Any]:
        reason = parse_params(_HelpParams, params).reason.strip()
        event = self._emit(
            HELP_EVENT, severity="critical", text=reason, data={"reason": reason}, device=self.id
        )
        self._latest = (event.boot, event.seq)
        if self._request == "none":
            self._alert = self._by = self._comment = None
        self._request, self._outcome = "requested", None
        self._reason = reason
        self._asked_at = self._now()
        return await self.state()

    async def _cancel(self, params: dict[str, Any]) -> dict[str, Any]:
        parse_params(_NoParams, params)
        if self._request != "none":
            event = self._emit(CANCEL_EVENT, severity="info", text="withdrawn", device=self.id)
            self._latest = (event.boot, event.seq)
            self._clear()
            self._outcome = None
        return await self.state()

    def _pairing(self) -> Pairing:
        if self.pairing is None:
            msg = "this room serves no tablet panel (panel.enabled is false in its room file)"
            raise DeviceError(msg)
        return self.pairing

    async def _pair(self, params: dict[str, Any]) -> dict[str, Any]:
        p = parse_params(_PairParams, params)
        pairing = self._pairing()
        try:
            await asyncio.to_thread(pairing.add_code, p.code_sha256, p.expires_in_s)
        except OSError as exc:
            raise DeviceError(f"the pairing code cannot be saved: {exc}") from exc
        return await self.state()

    async def _unpair(self, params: dict[str, Any]) -> dict[str, Any]:
        parse_params(_NoParams, params)
        pairing = self._pairing()
        try:
            await asyncio.to_thread(pairing.revoke_all)
        except OSError as exc:  # forgotten until a restart, which would read the file again
            raise DeviceError(f"the tablets are unpaired but not saved: {exc}") from exc
        return await self.state()

    def show(self, ack: HelpAck) -> bool:
        """Take the hub's answer; True if the panel changed (its state is to be published)."""
        if self._latest is not None:
            boot, seq = self._latest
            if ack.boot != boot or ack.seq < seq:
                return False  # about an earlier request (or one withdrawn since)
        fields = ("_request", "_alert", "_by", "_comment", "_reason", "_outcome")
        before = tuple(getattr(self, f) for f in fields)
        if ack.state in ("resolved", "ended"):
            was_asked = self._request != "none"
            self._clear()
            if was_asked:
                self._outcome = "resolved" if ack.state == "resolved" else "ended"
        else:
            self._request = "open" if ack.state == "open" else "acknowledged"
            self._alert = ack.alert
            self._by = ack.by or None
            self._comment = ack.comment or None
            self._reason = ack.reason or self._reason
            self._outcome = None
        return before != tuple(getattr(self, f) for f in fields)

    def _clear(self) -> None:
        self._request = "none"
        self._reason = self._asked_at = self._alert = self._by = self._comment = None


__all__ = [
    "CANCEL_EVENT",
    "HELP_EVENT",
    "PANEL_ID",
    "REASON_MAX",
    "HelpPanel",
    "Outcome",
    "Request",
]
