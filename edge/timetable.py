"""The school timetable (periods, school days, holidays, lesson plan) and its switching times."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from protocol.usage import Schedule

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SESSIONS = ("morning", "afternoon")
SceneRef = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")]


def _clock_time(value: object) -> object:
    if isinstance(value, int | float):  # YAML 1.1 reads an unquoted 13:00 as 780 (base 60)
        msg = 'write times as quoted "HH:MM" strings (unquoted, YAML reads 13:00 as the number 780)'
        raise ValueError(msg)
    return value


ClockTime = Annotated[time, BeforeValidator(_clock_time)]


class Period(BaseModel):
    """One period (tiết): its number in the day and its local start and end."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    period: int = Field(ge=1, le=20, description="Period number in the day (tiết 1, 2, ...).")
    start: ClockTime = Field(description='Local start time, "HH:MM".')
    end: ClockTime = Field(description='Local end time, "HH:MM", after start.')

    @model_validator(mode="after")
    def _ordered(self) -> Period:
        if self.end <= self.start:
            msg = f"period {self.period} ends at {self.end:%H:%M}, not after its start"
            raise ValueError(msg)
        return self


def _holiday(value: object) -> object:
    return {"start": value} if isinstance(value, date | str) else value


class Holiday(BaseModel):
    """A day or a range of days (both ends included) without lessons."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    start: date = Field(description="First day off (YYYY-MM-DD).")
    end: date | None = Field(default=None, description="Last day off; omitted: one day.")
    name: str = Field(default="", max_length=100, description="E.g. 'Tết Nguyên đán'.")

    @model_validator(mode="after")
    def _ordered(self) -> Holiday:
        if self.end is not None and self.end < self.start:
            msg = f"holiday {self.name or self.start} ends before it starts"
            raise ValueError(msg)
        return self

    def covers(self, day: date) -> bool:
        return self.start <= day <= (self.end or self.start)


class PlannedPeriod(BaseModel):
    """What one period of the week needs: the projector, another lighting scene."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    subject: str = Field(default="", max_length=100, description="Subject, for people reading.")
    projector: bool = Field(default=False, description="The lesson uses the projector.")
    scene: SceneRef | None = Field(
        default=None,
        description="Lighting scene during the period; default: the projection scene if the "
        "projector is used, else the lesson scene.",
    )


class TimetableConfig(BaseModel):
    """The room's school day: sessions of periods, school days, holidays and the lesson plan."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    morning: list[Period] = Field(default_factory=list, description="Morning periods, in order.")
    afternoon: list[Period] = Field(default_factory=list, description="Afternoon periods.")
    school_days: list[Weekday] = Field(
        default=["mon", "tue", "wed", "thu", "fri", "sat"], description="Days with lessons."
    )
    holidays: list[Annotated[Holiday, BeforeValidator(_holiday)]] = Field(
        default_factory=list, description="Days off: a date, or {start, end, name}."
    )
    lead_min: int = Field(
        default=5, ge=0, le=180, description="Minutes before a session's first period to prepare."
    )
    after_min: int = Field(
        default=10, ge=0, le=180, description="Minutes after a session's last period to close."
    )
    max_late_min: int = Field(
        default=15,
        ge=1,
        le=1440,
        description="A switching time noticed later than this (agent down, clock jump) is skipped.",
    )
    lesson_plan: dict[Weekday, dict[int, PlannedPeriod]] = Field(
        default_factory=dict, description="Weekday to period number to what the lesson needs."
    )
    lesson_scene: SceneRef = Field(default="lesson", description="Scene for lessons and breaks.")
    projection_scene: SceneRef = Field(default="projection", description="Scene for projection.")
    closed_scene: SceneRef = Field(default="off", description="Scene after the session.")
    lights: list[str] | None = Field(
        default=None, description="Lighting device ids to switch; omitted: every one."
    )
    projectors: list[str] | None = Field(
        default=None, description="Projector device ids to switch; omitted: every one."
    )

    @model_validator(mode="after")
    def _consistent(self) -> TimetableConfig:
        seen: set[int] = set()
        for name, periods in self.sessions():
            for before, after in pairwise(periods):
                if after.start < before.end:
                    msg = f"{name}: period {after.period} starts before period {before.period} ends"
                    raise ValueError(msg)
            for p in periods:
                if p.period in seen:
                    msg = f"period number {p.period} is used twice"
                    raise ValueError(msg)
                seen.add(p.period)
        if not seen:
            raise ValueError("the timetable has no periods (give morning and/or afternoon)")
        if self.morning and self.afternoon:
            close = _plus(self.morning[-1].end, self.after_min)
            prepare = _plus(self.afternoon[0].start, -self.lead_min)
            if close > prepare:
                msg = (
                    f"morning closes at {close:%H:%M}, after afternoon prepares at {prepare:%H:%M}"
                )
                raise ValueError(msg)
        for day, plan in self.lesson_plan.items():
            if day not in self.school_days:
                msg = f"lesson_plan: {day} is not a school day"
                raise ValueError(msg)
            if unknown := sorted(set(plan) - seen):
                msg = f"lesson_plan.{day}: no period {unknown[0]} in the timetable"
                raise ValueError(msg)
        return self

    def sessions(self) -> list[tuple[str, list[Period]]]:
        """(name, periods) of each session that has periods."""
        return [
            (n, ps) for n, ps in (("morning", self.morning), ("afternoon", self.afternoon)) if ps
        ]

    def scene_names(self) -> set[str]:
        """Every lighting scene the timetable may ask for."""
        names = {self.lesson_scene, self.projection_scene, self.closed_scene}
        names.update(
            p.scene for plan in self.lesson_plan.values() for p in plan.values() if p.scene
        )
        return names

    def device_refs(self) -> list[tuple[str, str, str | None]]:
        """(key path, device id, family it must have) for every device named."""
        refs: list[tuple[str, str, str | None]] = [
            ("lights", d, "lighting") for d in self.lights or ()
        ]
        return refs + [("projectors", d, "projector") for d in self.projectors or ()]

    def is_school_day(self, day: date) -> bool:
        return WEEKDAYS[day.weekday()] in self.school_days and not any(
            h.covers(day) for h in self.holidays
        )


def _plus(t: time, minutes: int) -> time:
    return (datetime.combine(date(2000, 1, 3), t) + timedelta(minutes=minutes)).time()


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
