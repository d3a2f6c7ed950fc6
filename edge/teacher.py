"""A simulated teacher: now and then, during a lesson, the room asks IT for help.

It presses the room's help button (the ``panel`` device's ``help`` action, as the tablet
does) with a reason from the panel's list, so the demo shows help requests arriving on the
IT dashboard without anyone in the room. When and why is a pure function of a seed, the
room and the school date (``plan_day``): the same seed makes the same requests, whatever the
speed of the school clock and however often the agent restarts.
"""

from __future__ import annotations

import logging
import random
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from devices.base import Device
from edge.clock import Clock
from edge.help import HelpPanel
from protocol.timetable import TimetableConfig

logger = logging.getLogger(__name__)

HELP_REASONS: tuple[str, ...] = ("projector", "sound", "network", "other")
"""The reasons of the panel's help list."""
HORIZON_DAYS = 14
"""How far ahead the next request is looked for: longer than the Tết holiday."""
ASKED_KEPT = 100
"""The latest requests made, kept for tests and logs."""
IDLE = timedelta(days=1)
"""With no request within the horizon, the plan is looked at again this much later."""


@dataclass(frozen=True, slots=True)
class HelpCall:
    """One request the teacher makes: when (UTC, on the school clock), why, in which period."""

    at: datetime
    reason: str
    period: int


def plan_day(
    timetable: TimetableConfig, day: date, tz: ZoneInfo, *, seed: int, room: str, per_day: float
) -> list[HelpCall]:
    """The requests of ``room`` on the local date ``day``, in time order.

    Each period of a school day gets one with the chance ``per_day`` / periods (so a day
    has ``per_day`` on average, at most one a period), at a moment inside the period and
    with a reason drawn whether or not it is asked: a higher ``per_day`` keeps the requests
    of a lower one, and adds to them.
    """
    if per_day <= 0 or not timetable.is_school_day(day):
        return []
    periods = [p for _, session in timetable.sessions() for p in session]
    chance = min(1.0, per_day / len(periods))
    rng = random.Random(f"{seed}/{room}/{day.isoformat()}")  # a simulation, not a secret
    calls = []
    for period in periods:
        asked, into, reason = rng.random() < chance, rng.uniform(0.1, 0.8), rng.choice(HELP_REASONS)
        if asked:
            start = datetime.combine(day, period.start, tzinfo=tz)
            end = datetime.combine(day, period.end, tzinfo=tz)
            at = (start + (end - start) * into).astimezone(UTC)
            calls.append(HelpCall(at, reason, period.period))
    return calls


def next_call(
    timetable: TimetableConfig, after: datetime, tz: ZoneInfo, *, seed: int, room: str,
    per_day: float,
) -> HelpCall | None:  # fmt: skip
    """The first request strictly after ``after``, within HORIZON_DAYS."""
    day = after.astimezone(tz).date()
    for _ in range(HORIZON_DAYS + 1):
        for call in plan_day(timetable, day, tz, seed=seed, room=room, per_day=per_day):
            if call.at > after:
                return call
        day += timedelta(days=1)
    return None


class SimulatedTeacher:
    """Asks for help on the room's school clock as ``plan_day`` says (one part of the agent).

    A teacher whose previous request is still open (IT has not resolved it) waits for it
    rather than asking again. The timetable is read at each request, so one the hub pushes
    takes effect from the next.
    """

    def __init__(
        self,
        room: str,
        panel: HelpPanel,
        publish: Callable[[Device], Awaitable[None]],
        *,
        clock: Clock,
        timetable: Callable[[], TimetableConfig | None],
        tz: ZoneInfo,
        seed: int,
        per_day: float,
    ) -> None:
        self.room = room
        self.panel = panel
        self.publish = publish
        self.clock = clock
        self.timetable = timetable
        self.tz = tz
        self.seed = seed
        self.per_day = per_day
        self.asked: deque[HelpCall] = deque(maxlen=ASKED_KEPT)
        """The latest requests made (not those skipped while one was open)."""

    def next_call(self, after: datetime) -> HelpCall | None:
        timetable = self.timetable()
        if timetable is None:
            return None
        return next_call(
            timetable, after, self.tz, seed=self.seed, room=self.room, per_day=self.per_day
        )

    async def run(self) -> None:
        """Ask for help at each planned moment, until cancelled."""
        cursor = self.clock.now()
        while True:
            call = self.next_call(cursor)
            if call is None:
                cursor += IDLE
                await self.clock.sleep_until(cursor)
                continue
            await self.clock.sleep_until(call.at)
            if self.next_call(cursor) == call:  # still planned (the timetable may have changed)
                await self.ask(call)
            cursor = call.at

    async def ask(self, call: HelpCall) -> None:
        """Press the help button with the call's reason, unless a request is still open."""
        if self.panel.request != "none":
            logger.info("%s: simulated teacher: help still %s, not asking again (%s)",
                        self.room, self.panel.request, call.reason)  # fmt: skip
            return
        await self.panel.execute("help", {"reason": call.reason})
        self.asked.append(call)
        logger.info("%s: simulated teacher asks for help in period %d: %s",
                    self.room, call.period, call.reason)  # fmt: skip
        await self.publish(self.panel)


__all__ = [
    "ASKED_KEPT",
    "HELP_REASONS",
    "HORIZON_DAYS",
    "HelpCall",
    "SimulatedTeacher",
    "next_call",
    "plan_day",
]
