"""The school day's switching times, computed from the timetable (``protocol.timetable``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from protocol.timetable import (
    WEEKDAYS,
    Holiday,
    Period,
    PlannedPeriod,
    TimetableConfig,
    Weekday,
)
from protocol.usage import Schedule


@dataclass(frozen=True)
class Step:
    """One device action."""

    device: str
    action: str
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Targets:
    """The devices the timetable switches."""

    lights: tuple[str, ...] = ()
    projectors: tuple[str, ...] = ()


@dataclass(frozen=True)
class Transition:
    """What to do at one instant: ``at`` (UTC), why (``name``), and the steps, in order."""

    at: datetime
    name: str
    steps: tuple[Step, ...]


def day_transitions(
    config: TimetableConfig, day: date, tz: ZoneInfo, targets: Targets
) -> list[Transition]:
    """The switching of one local date, in time order; none on a holiday or a day off."""
    if not config.is_school_day(day):
        return []

    def at(t: time, minutes: int = 0) -> datetime:
        return datetime.combine(day, t, tzinfo=tz).astimezone(UTC) + timedelta(minutes=minutes)

    def scene(name: str) -> tuple[Step, ...]:
        return tuple(Step(d, "scene", {"name": name}) for d in targets.lights)

    def projector(action: str) -> tuple[Step, ...]:
        return tuple(Step(d, action) for d in targets.projectors)

    plan = config.lesson_plan.get(WEEKDAYS[day.weekday()], {})
    out: list[Transition] = []
    for session, periods in config.sessions():
        planned = [plan.get(p.period, PlannedPeriod()) for p in periods]
        scenes = [
            pp.scene or (config.projection_scene if pp.projector else config.lesson_scene)
            for pp in planned
        ]
        first, last = periods[0], periods[-1]
        prepare = scene(config.lesson_scene) + (projector("on") if planned[0].projector else ())
        out.append(Transition(at(first.start, -config.lead_min), f"{session} prepare", prepare))
        for i, p in enumerate(periods):
            uses, used_before = planned[i].projector, i > 0 and planned[i - 1].projector
            start = projector("on") if uses and not used_before and i > 0 else ()
            if scenes[i] != config.lesson_scene:
                start += scene(scenes[i])
            out.append(Transition(at(p.start), f"period {p.period} start", start))
            uses_next = i + 1 < len(periods) and planned[i + 1].projector
            end = scene(config.lesson_scene) if scenes[i] != config.lesson_scene else ()
            end += projector("off") if uses and not uses_next else ()
            out.append(Transition(at(p.end), f"period {p.period} end", end))
        close = scene(config.closed_scene) + projector("off")
        out.append(Transition(at(last.end, config.after_min), f"{session} close", close))
    merged: list[Transition] = []
    for t in (t for t in out if t.steps):
        if merged and merged[-1].at == t.at:  # a period ends as the next starts
            prev = merged.pop()
            t = Transition(t.at, f"{prev.name}, {t.name}", prev.steps + t.steps)
        merged.append(t)
    return merged


def schedule_at(config: TimetableConfig, instant: datetime, tz: ZoneInfo) -> Schedule:
    """What the timetable says at ``instant``: ``lesson`` inside a period, ``break`` elsewhere
    inside a session (from its preparation ``lead_min`` before the first period to its
    closing ``after_min`` after the last), ``closed`` outside sessions and on days off.

    Telemetry carries it, so the hub can tell lesson means and usage outside the timetable.
    """
    local = instant.astimezone(tz)
    day = local.date()
    if not config.is_school_day(day):
        return "closed"

    def at(t: time) -> datetime:
        return datetime.combine(day, t, tzinfo=tz)

    for _, periods in config.sessions():
        if any(at(p.start) <= local < at(p.end) for p in periods):
            return "lesson"
        opens = at(periods[0].start) - timedelta(minutes=config.lead_min)
        closes = at(periods[-1].end) + timedelta(minutes=config.after_min)
        if opens <= local < closes:
            return "break"
    return "closed"


def state_at(
    config: TimetableConfig, instant: datetime, tz: ZoneInfo, targets: Targets
) -> Transition | None:
    """What the room should look like at ``instant`` if it is inside a session, else None.

    The day's transitions up to ``instant`` are replayed and the last step per device kept,
    so an agent that starts in the middle of a lesson (after a power cut, say) can put the
    room back; outside sessions the room is closed, as a freshly started agent leaves it.
    Only switching on is replayed: a projector someone switched on outside the plan stays on
    until the session closes.
    """
    passed = [
        t
        for t in day_transitions(config, instant.astimezone(tz).date(), tz, targets)
        if t.at <= instant
    ]
    if not passed or passed[-1].name.endswith("close"):
        return None
    last: dict[str, Step] = {}
    for transition in passed:
        for step in transition.steps:
            last[step.device] = step
    steps = tuple(step for step in last.values() if step.action != "off")
    return Transition(passed[-1].at, f"catch-up after '{passed[-1].name}'", steps)


def next_transition(
    config: TimetableConfig,
    after: datetime,
    tz: ZoneInfo,
    targets: Targets,
    *,
    horizon_days: int = 400,
) -> Transition | None:
    """The first transition strictly after ``after`` (aware), looking ``horizon_days`` ahead."""
    day = after.astimezone(tz).date() - timedelta(days=1)
    for _ in range(horizon_days + 1):
        for transition in day_transitions(config, day, tz, targets):
            if transition.at > after:
                return transition
        day += timedelta(days=1)
    return None


__all__ = [
    "WEEKDAYS",
    "Holiday",
    "Period",
    "PlannedPeriod",
    "Step",
    "Targets",
    "TimetableConfig",
    "Transition",
    "Weekday",
    "day_transitions",
    "next_transition",
    "schedule_at",
    "state_at",
]
