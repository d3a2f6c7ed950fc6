"""The school timetable as data: periods, school days, holidays and the lesson plan.

The agent runs it (``edge.timetable`` computes the switching times); the hub validates the
timetables it manages with the same models before it pushes them.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from itertools import pairwise
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    model_validator,
)

from protocol.bounds import check_text
from protocol.topics import validate_id

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SceneRef = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")]
DeviceRef = Annotated[str, AfterValidator(lambda v: validate_id(v, "device id"))]
"""A device of the room, by id (whether the room has it, its agent checks)."""


def _clock_time(value: object) -> object:
    if isinstance(value, int | float):  # YAML 1.1 reads an unquoted 13:00 as 780 (base 60)
        msg = 'write times as quoted "HH:MM" strings (unquoted, YAML reads 13:00 as the number 780)'
        raise ValueError(msg)
    return value


def _hhmm(value: time) -> str:
    return value.strftime("%H:%M") if not (value.second or value.microsecond) else value.isoformat()


ClockTime = Annotated[
    time, BeforeValidator(_clock_time), PlainSerializer(_hhmm, return_type=str, when_used="json")
]
"""A local time of day, written "HH:MM" (as in the room file) when sent as JSON."""
Label = Annotated[str, Field(max_length=100), AfterValidator(check_text)]
"""A name for people (a holiday, a subject): no NUL, no lone surrogate (PostgreSQL refuses both)."""


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
    name: Label = Field(default="", description="E.g. 'Tết Nguyên đán'.")

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

    subject: Label = Field(default="", description="Subject, for people reading.")
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
    lights: list[DeviceRef] | None = Field(
        default=None, description="Lighting device ids to switch; omitted: every one."
    )
    projectors: list[DeviceRef] | None = Field(
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


__all__ = [
    "WEEKDAYS",
    "ClockTime",
    "DeviceRef",
    "Holiday",
    "Period",
    "PlannedPeriod",
    "SceneRef",
    "TimetableConfig",
    "Weekday",
]
