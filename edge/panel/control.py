"""What a tap does: device actions, starting and ending the lesson, asking IT for help.

Each tap becomes an ordinary command run by the agent's own dispatch (``Agent.local_command``),
never a message through the broker, so the room works with the hub or the broker gone; the
new state is published to the hub as usual. The panel takes only the actions a teacher
needs, and refuses a projector tap while it warms up, cools down or switches input (HTTP 409,
nothing sent to the projector): the classic panel invites tapping again and again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from edge.help import PANEL_ID
from edge.panel.room import RoomView
from protocol.help import HELP_TOPICS, HelpTopic, help_reason
from protocol.messages import CommandReply

if TYPE_CHECKING:
    from edge.agent import Agent

logger = logging.getLogger(__name__)

ACTIONS: dict[str, frozenset[str]] = {
    "lighting": frozenset({"on", "off", "set", "scene"}),
    "projector": frozenset({"on", "off", "input", "mute", "unmute"}),
    "attendance": frozenset({"mark"}),
}
"""What the panel may ask of each family (not the projector's refresh, nor the panel's pairing)."""
HELP_REASONS = HELP_TOPICS
"""The reasons a teacher picks from (``protocol.help``)."""
STATUS: dict[str, int] = {
    "ok": 200,
    "unknown_device": 404,
    "unknown_action": 404,
    "bad_params": 422,
    "bad_request": 400,
    "expired": 409,
    "device_unavailable": 503,
    "device_error": 502,
}
"""The HTTP status of each reply code (as the hub maps them)."""
WARM_MARGIN_S = 30.0
"""How much longer than its ``warmup_s`` a projector is waited for before its input is set."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a tap came to: an HTTP status and a JSON body."""

    status: int
    body: dict[str, Any] = field(default_factory=dict)


def _result(reply: CommandReply) -> dict[str, Any]:
    return {"device": reply.device, "code": reply.code, "text": reply.text}


class Controls:
    """The taps of one room's panel."""

    def __init__(self, agent: Agent, view: RoomView) -> None:
        self.agent = agent
        self.view = view
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        """One tap at a time per device (the hub's commands and the timetable have their own
        order; the devices take concurrent actions safely)."""
        self._routine: asyncio.Task[None] | None = None

    async def _run(self, device_id: str, action: str, params: dict[str, Any]) -> CommandReply:
        async with self._locks[device_id]:
            reply = await self.agent.local_command(device_id, action, params, issuer="panel")
        device = self.agent.devices.get(device_id)
        if reply.ok and reply.state is not None and device is not None:
            self.view.device_state(device, reply.state)  # at once; the publish follows
        return reply

    def _busy(self, device_id: str) -> Outcome | None:
        busy = self.view.progress.busy(device_id)
        if busy is None:
            return None
        text = f"the projector is busy ({busy.what}); try again when it is done"
        body = {"code": "busy", "what": busy.what, "remaining_s": round(busy.remaining_s, 1),
                "text": text}  # fmt: skip
        return Outcome(409, body)

    async def act(self, device_id: str, action: str, params: dict[str, Any]) -> Outcome:
        """One device action from a tap."""
        device = self.agent.devices.get(device_id)
        if device is None or device.family not in ACTIONS:
            return Outcome(404, {"code": "unknown_device", "text": f"no device {device_id!r}"})
        if action not in ACTIONS[device.family]:
            known = ", ".join(sorted(ACTIONS[device.family]))
            text = f"the panel has no action {action!r} for {device_id!r} (it has {known})"
            return Outcome(404, {"code": "unknown_action", "text": text})
        if device.family == "projector":
            if (busy := self._busy(device_id)) is not None:
                return busy
            if action == "input":
                return await self._input(device_id, params)
        reply = await self._run(device_id, action, params)
        return Outcome(STATUS.get(reply.code, 502), _result(reply))

    async def _input(self, device_id: str, params: dict[str, Any]) -> Outcome:
        seconds = float(getattr(self.view.projector_config(device_id), "input_switch_s", 0.0))
        self.view.progress.input_started(device_id, seconds)
        try:
            reply = await self._run(device_id, "input", params)
        finally:
            left = self.view.progress.input_done(device_id)
            self.view.refresh_busy(device_id)
            if left > 0:
                self.view.hold_input(device_id, left)
        return Outcome(STATUS.get(reply.code, 502), _result(reply))

    # --- the lesson ------------------------------------------------------------------

    @property
    def routine_running(self) -> bool:
        return self._routine is not None and not self._routine.done()

    async def start_lesson(self) -> Outcome:
        """Lights to the lesson scene, projectors on; each projector's default input once it
        is warm (in the background: the tap is answered at once)."""
        if self.routine_running or any(
            self.view.progress.busy(p) for p in self.view.targets("projector")
        ):
            return Outcome(409, {"code": "busy", "text": "the room is still switching"})
        results: list[dict[str, Any]] = []
        self.view.set_routine("starting")
        try:
            for light in self.view.targets("lighting"):
                reply = await self._run(light, "scene", {"name": self.view.lesson_scene})
                results.append(_result(reply))
            warming: list[tuple[str, str]] = []
            for projector in self.view.targets("projector"):
                config = self.view.projector_config(projector)
                current = self.view.devices.get(projector, {})
                if current.get("power") not in ("on", "warming"):
                    reply = await self._run(projector, "on", {})
                    results.append(_result(reply))
                    if not reply.ok:
                        continue
                default = getattr(config, "default_input", None)
                if default is not None:
                    warming.append((projector, default))
        except BaseException:
            self.view.set_routine(None)
            raise
        if warming:
            self._routine = asyncio.create_task(self._inputs_when_warm(warming))
        else:
            self.view.set_routine(None)
        done = ", ".join(f"{r['device']} {r['code']}" for r in results) or "nothing to do"
        logger.info("%s: panel: lesson started (%s)", self.agent.label, done)
        return Outcome(200, {"results": results})

    async def _inputs_when_warm(self, projectors: list[tuple[str, str]]) -> None:
        try:
            for projector, source in projectors:
                config = self.view.projector_config(projector)
                limit = float(getattr(config, "warmup_s", 0.0)) + WARM_MARGIN_S

                def ready(device: str = projector) -> bool:
                    return self.view.devices.get(device, {}).get("power") in ("on", "unavailable")

                if not await self.view.wait_for(ready, limit):
                    logger.warning("%s: panel: %s still not on after %.0f s; input left as is",
                                   self.agent.label, projector, limit)  # fmt: skip
                    continue
                view = self.view.devices.get(projector, {})
                if view.get("power") == "on" and view.get("input") != source:
                    outcome = await self._input(projector, {"source": source})
                    if outcome.status != 200:
                        logger.warning("%s: panel: %s input %s: %s", self.agent.label,
                                       projector, source, outcome.body)  # fmt: skip
        finally:
            self.view.set_routine(None)

    async def end_lesson(self) -> Outcome:
        """Projectors off, lights to the closed scene (the page asks the teacher first)."""
        if any(self.view.progress.busy(p) for p in self.view.targets("projector")):
            return Outcome(409, {"code": "busy", "text": "a projector is still switching"})
        if self._routine is not None and not self._routine.done():
            self._routine.cancel()  # an input still to set: not now
            with contextlib.suppress(asyncio.CancelledError):
                await self._routine
        results: list[dict[str, Any]] = []
        self.view.set_routine("ending")
        try:
            for projector in self.view.targets("projector"):
                if self.view.devices.get(projector, {}).get("power") in ("on",):
                    results.append(_result(await self._run(projector, "off", {})))
            for light in self.view.targets("lighting"):
                reply = await self._run(light, "scene", {"name": self.view.end_scene})
                results.append(_result(reply))
        finally:
            self.view.set_routine(None)
        logger.info("%s: panel: lesson ended", self.agent.label)
        return Outcome(200, {"results": results})

    # --- help ------------------------------------------------------------------------

    async def ask_help(self, reason: HelpTopic, text: str) -> Outcome:
        """Ask IT for help: the panel device's ``help`` (an event through the outbox, so it
        reaches the hub even after the link was down)."""
        reply = await self._run(PANEL_ID, "help", {"reason": help_reason(reason, text)})
        return Outcome(STATUS.get(reply.code, 502), _result(reply))

    async def cancel_help(self) -> Outcome:
        reply = await self._run(PANEL_ID, "cancel", {})
        return Outcome(STATUS.get(reply.code, 502), _result(reply))

    def close(self) -> None:
        if self._routine is not None:
            self._routine.cancel()


__all__ = ["ACTIONS", "HELP_REASONS", "STATUS", "Controls", "Outcome"]
