"""The room's local automation: runs the timetable and the rules on the agent's devices."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import aiomqtt

from devices.base import Device
from edge.clock import Clock, SystemClock
from edge.device_faults import DeviceFaults
from edge.dispatch import run_command
from edge.rules import Outcome, RuleEngine, RulesConfig
from edge.timetable import (
    Targets,
    TimetableConfig,
    Transition,
    next_transition,
    schedule_at,
    state_at,
)
from protocol.messages import Command, Telemetry
from protocol.usage import Schedule

logger = logging.getLogger(__name__)

STATE_TIMEOUT_S = 5.0
"""Longest a device's state may take to read before that device is skipped this time."""
QUEUE_SIZE = 1000
"""Observations waiting for the rules; beyond it new ones are dropped (and logged)."""
WATCHED = ("occupancy", "lighting", "projector")
"""Families whose state the rules follow; read after every telemetry sample."""
HEARTBEAT = timedelta(days=1)
"""Longest sleep: the plan is made again at least this often."""

Observation = tuple[str, Mapping[str, Any] | None, Mapping[str, Any] | None]
"""(device, readings, state); an empty device asks for the watched states to be read."""


class EventRecorder(Protocol):
    """Where events go (the agent's Recorder: into the outbox, sent when the link is up)."""

    def emit_event(self, kind: str, **fields: Any) -> object: ...


class Automation:
    """Switches the room on the timetable and evaluates the rules on samples and states.

    Actions run through the same dispatch as commands (issuer ``schedule`` or
    ``rule:<name>``); every action and rule event is recorded as an event with
    ``stamp``'s time (the automation clock's by default). Nothing here needs the MQTT link.
    """

    def __init__(
        self,
        devices: Mapping[str, Device],
        recorder: EventRecorder,
        *,
        sender: str,
        timetable: TimetableConfig | None = None,
        rules: RulesConfig | None = None,
        tz: ZoneInfo | None = None,
        clock: Clock | None = None,
        stamp: Callable[[], datetime] | None = None,
        publish_state: Callable[[Device], Awaitable[None]] | None = None,
        label: str = "",
        faults: DeviceFaults | None = None,
    ) -> None:
        self.devices = devices
        self.recorder = recorder
        self.sender = sender
        self.timetable = timetable
        self.tz = tz or ZoneInfo("Asia/Ho_Chi_Minh")
        self.clock: Clock = clock or SystemClock()
        self.stamp = stamp or self.clock.now
        """The time events are stamped with: the clock's, unless that is a school clock of
        its own (the demo's fast day), whose events keep the real time."""
        self.publish_state = publish_state
        self.label = label or sender
        self.faults = faults or DeviceFaults(self.label)
        """Where a state that cannot be read is recorded (the agent's: reported once)."""
        self._families = {d.id: d.family for d in devices.values()}
        self.rules = RuleEngine(rules or RulesConfig(), self._families)
        self.targets = self._targets(timetable)
        self._resume_at: datetime | None = None
        """Set by ``reconfigure``: the timetable runs on from this instant."""
        self._queue: asyncio.Queue[Observation] = asyncio.Queue(maxsize=QUEUE_SIZE)
        self._sleeper: tuple[datetime, asyncio.Future[None]] | None = None
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._unjudged: set[str] = set()
        """Devices whose last observation the rules failed on (logged once until one works)."""
        self.idle = asyncio.Event()
        """Set while waiting with nothing to do; cleared by new input (tests wait on it)."""

    def _targets(self, timetable: TimetableConfig | None) -> Targets:
        def ids(given: list[str] | None, family: str) -> tuple[str, ...]:
            return tuple(
                given
                if given is not None
                else (d for d, f in self._families.items() if f == family)
            )

        return Targets(
            lights=ids(timetable.lights if timetable else None, "lighting"),
            projectors=ids(timetable.projectors if timetable else None, "projector"),
        )

    def reconfigure(self, timetable: TimetableConfig | None, rules: RulesConfig) -> None:
        """Switch to another timetable and rules at once, without a restart.

        The new timetable runs from now on: what it would have switched before now is not
        replayed (the room is in use; the next switching time puts it in line). The rules
        start afresh and read the watched states again.
        """
        self.timetable = timetable
        self.targets = self._targets(timetable)
        self.rules = RuleEngine(rules, self._families)
        self._resume_at = self.clock.now()
        self._put(("", None, None))  # wakes the loop, which reads the states for the rules

    def schedule(self) -> Schedule | None:
        """What the timetable says now on the automation's clock (None: no timetable)."""
        if self.timetable is None:
            return None
        return schedule_at(self.timetable, self.clock.now(), self.tz)

    # --- input -----------------------------------------------------------------

    def feed_sample(self, batch: Iterable[Telemetry]) -> None:
        """Hand over a telemetry sample; the watched devices' states are read after it."""
        for telemetry in batch:
            self._put((telemetry.device, telemetry.readings, None))
        self._put(("", None, None))  # then poll the watched states

    def notify_state(self, device: str, state: Mapping[str, Any]) -> None:
        """Hand over a device's new state (e.g. from an occupancy sensor's change callback)."""
        self._put((device, None, state))

    def _put(self, item: Observation) -> None:
        self.idle.clear()
        try:
            self._queue.put_nowait(item)
        except asyncio.QueueFull:
            logger.warning(
                "%s: rules are behind; an observation of %r dropped", self.label, item[0]
            )

    # --- the loop --------------------------------------------------------------

    async def run(self) -> None:
        """Run the timetable and the rules until cancelled."""
        await self._poll_states()
        last = self.clock.now()
        await self._catch_up(last)
        try:
            while True:
                now = self.clock.now()
                if self._resume_at is not None:
                    last, self._resume_at = max(last, self._resume_at), None
                if self.timetable is not None:
                    while (t := self._next(last)) is not None and t.at <= now:
                        await self._run_transition(t, now)
                        last = t.at
                await self._apply(self.rules.tick(now))
                if self._queue.empty():
                    item = await self._wait(self._deadline(last, now))
                else:
                    item = self._queue.get_nowait()
                if item is not None:
                    await self._observe(*item)
        finally:
            if self._sleeper is not None:
                self._sleeper[1].cancel()

    def _next(self, after: datetime) -> Transition | None:
        if self.timetable is None:
            return None
        return next_transition(self.timetable, after, self.tz, self.targets)

    def _deadline(self, last: datetime, now: datetime) -> datetime:
        deadlines = [now + HEARTBEAT]
        if (upcoming := self._next(max(last, now))) is not None:
            deadlines.append(upcoming.at)
        if (rules := self.rules.next_deadline()) is not None:
            deadlines.append(rules)
        return min(deadlines)

    async def _wait(self, deadline: datetime) -> Observation | None:
        """The next observation, or None at ``deadline``; meanwhile ``idle`` is set."""
        if self._sleeper is None or self._sleeper[0] != deadline or self._sleeper[1].done():
            if self._sleeper is not None:
                self._sleeper[1].cancel()
            self._sleeper = (deadline, asyncio.ensure_future(self.clock.sleep_until(deadline)))
        getter: asyncio.Future[Any] = asyncio.ensure_future(self._queue.get())
        self.idle.set()
        try:
            await asyncio.wait([getter, self._sleeper[1]], return_when=asyncio.FIRST_COMPLETED)
        finally:
            self.idle.clear()
            getter.cancel()
        return getter.result() if getter.done() and not getter.cancelled() else None

    async def _observe(
        self, device: str, readings: Mapping[str, Any] | None, state: Mapping[str, Any] | None
    ) -> None:
        if not device:
            await self._poll_states()
            return
        await self._apply(self._judge(device, readings=readings, state=state))

    def _judge(
        self,
        device: str,
        *,
        readings: Mapping[str, Any] | None = None,
        state: Mapping[str, Any] | None = None,
    ) -> Outcome:
        """The rules' outcome of one observation; one they fail on (a device's state of an
        unforeseen shape, a bug) is dropped and logged once, and the rules go on with the
        others."""
        try:
            outcome = self.rules.observe(self.clock.now(), device, readings=readings, state=state)
        except Exception:
            if device not in self._unjudged:
                self._unjudged.add(device)
                logger.exception("%s: the rules failed on what %s reported; skipped until "
                                 "they work on it again", self.label, device)  # fmt: skip
            return Outcome()
        if device in self._unjudged:
            self._unjudged.discard(device)
            logger.warning("%s: the rules work again on what %s reports", self.label, device)
        return outcome

    async def _poll_states(self) -> None:
        for device in [d for d in self.devices.values() if d.family in WATCHED]:
            with self.faults.attempt(device.id, "state") as attempt:
                async with asyncio.timeout(STATE_TIMEOUT_S):
                    state = await device.state()
            if not attempt.failed:
                await self._apply(self._judge(device.id, state=state))

    # --- output ----------------------------------------------------------------

    async def _catch_up(self, now: datetime) -> None:
        """Starting inside a session (after a power cut, say): put the room as it should be."""
        if self.timetable is None:
            return
        current = state_at(self.timetable, now, self.tz, self.targets)
        if current is None:
            return
        logger.info("%s: timetable: %s", self.label, current.name)
        context = {"transition": current.name, "at": current.at.isoformat(), "catch_up": True}
        for step in current.steps:
            await self._execute(step.device, step.action, step.params, "schedule", context)

    async def _run_transition(self, transition: Transition, now: datetime) -> None:
        assert self.timetable is not None
        late = now - transition.at
        context = {"transition": transition.name, "at": transition.at.isoformat()}
        if late > timedelta(minutes=self.timetable.max_late_min):
            text = f"skipped '{transition.name}': noticed {late} late"
            logger.warning("%s: %s", self.label, text)
            self._record("schedule_skipped", "warning", None, text, context)
            return
        logger.info("%s: timetable: %s", self.label, transition.name)
        for step in transition.steps:
            await self._execute(step.device, step.action, step.params, "schedule", context)

    async def _apply(self, outcome: Outcome) -> None:
        for event in outcome.events:
            data = {"rule": event.rule, **event.data}
            logger.info("%s: rule %s: %s", self.label, event.rule, event.text)
            self._record(event.kind, event.severity, event.device, event.text, data)
        for action in outcome.actions:
            context = {"rule": action.rule}
            await self._execute(
                action.device, action.action, action.params, f"rule:{action.rule}", context
            )

    async def _execute(
        self,
        device: str,
        action: str,
        params: Mapping[str, Any],
        issuer: str,
        context: dict[str, Any],
    ) -> None:
        now = self.clock.now()
        command = Command(
            ts=now,
            sender=self.sender,
            id=f"auto-{uuid.uuid4().hex[:16]}",
            device=device,
            action=action,
            params=dict(params),
            issuer=issuer,
            expires=now + timedelta(minutes=1),
        )
        async with self._locks[device]:
            reply = await run_command(self.devices, command, sender=self.sender, now=now)
        what = f"{device}.{action}{' ' + str(dict(params)) if params else ''}"
        data = {
            **context,
            "issuer": issuer,
            "command": command.id,
            "action": action,
            "params": dict(params),
            "code": reply.code,
        }
        kind = "schedule" if issuer == "schedule" else "rule_action"
        severity = "info" if reply.ok else "warning"
        text = what if reply.ok else f"{what} failed: {reply.code} {reply.text}"
        (logger.info if reply.ok else logger.warning)("%s: %s: %s", self.label, issuer, text)
        self._record(kind, severity, device, text, data)
        if reply.ok and reply.state is not None:
            self.notify_state(device, reply.state)
            if self.publish_state is not None and device in self.devices:
                try:
                    await self.publish_state(self.devices[device])
                except (aiomqtt.MqttError, TimeoutError) as exc:
                    logger.info("%s: state of %s not published: %s", self.label, device, exc)

    def _record(
        self,
        kind: str,
        severity: str,
        device: str | None,
        text: str,
        data: dict[str, Any],
    ) -> None:
        self.recorder.emit_event(
            kind, ts=self.stamp(), severity=severity, device=device, text=text, data=data
        )


__all__ = [
    "HEARTBEAT",
    "QUEUE_SIZE",
    "STATE_TIMEOUT_S",
    "WATCHED",
    "Automation",
    "EventRecorder",
    "Observation",
]
