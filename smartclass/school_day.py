"""The demo's school day: rooms that live by the timetable, a day run fast, simulated teachers.

Each demo room gets a class that comes in for the lessons and goes out at the long breaks
(its simulated occupancy's schedule, made from the timetable), lessons that use the
projector every school day, and a ventilation of its own, so that some rooms get stuffy
and others do not. With ``--fast-day`` the agents run on a school clock of their own
(``edge.clock.ScaledClock``) from the next school day's morning; simulated teachers ask IT
for help now and then (``edge.teacher``). The agents learn all this from one setting,
``SMARTCLASS_EDGE_SIMULATED_DAY`` (``edge.simulated_day.SimulatedDay``).
"""

from __future__ import annotations

import argparse
import random
import zlib
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from edge.simulated_day import HELP_PER_DAY_MAX, SPEED_MAX, SimulatedDay
from protocol.timetable import WEEKDAYS, Period, TimetableConfig

DEFAULT_SPEED = 60.0
"""The fast day's speed: a school day of some 9 hours in some 9 minutes."""
DEFAULT_START = time(6, 45)
"""Where a fast day starts: before the lights come on for the first period."""
HELP_PER_DAY = 0.5
"""Help requests per room and school day, on average: a few an hour in a demo of six rooms
on a fast day, none to speak of in real time."""
LONG_BREAK_MIN = 10
"""The class goes out for a break this long or longer (ra chơi), and stays in for a shorter."""
BACK_BEFORE_MIN = 3
"""The class is back this long before the period after a long break."""
VENTILATION = (2.0, 3.0, 5.0)
"""Air changes per hour a demo room may have: stuffy by the second period, by the end of
the morning, or never."""
SUBJECTS = (
    "Toán", "Ngữ văn", "Tiếng Anh", "Khoa học tự nhiên", "Lịch sử và Địa lí", "Tin học",
    "Công nghệ", "Giáo dục công dân",
)  # fmt: skip
"""Subjects of the lessons that use the projector."""


@dataclass(frozen=True, slots=True)
class DayOptions:
    """The school day the demo's command line asks for."""

    fast: bool = False
    speed: float = DEFAULT_SPEED
    start: time = DEFAULT_START
    seed: int = 0
    help_per_day: float = HELP_PER_DAY


def add_arguments(demo: argparse.ArgumentParser) -> None:
    """The school day's options of ``smartclass demo``."""
    demo.add_argument(
        "--fast-day",
        action="store_true",
        help="run the school day fast, on a school clock of its own from the next school "
        "day's morning (messages keep the real time)",
    )
    demo.add_argument(
        "--speed",
        type=float,
        metavar="N",
        help=f"with --fast-day: school seconds per real second (default {DEFAULT_SPEED:g}: "
        f"a 9-hour school day in 9 minutes; at most {SPEED_MAX:g})",
    )
    demo.add_argument(
        "--start",
        type=_hhmm,
        metavar="HH:MM",
        help=f"with --fast-day: the school time to start at, on the next school day "
        f"(default {DEFAULT_START:%H:%M}, before the first period)",
    )
    demo.add_argument(
        "--seed",
        type=int,
        default=0,
        help="seed of the simulated teachers: the same seed, the same help requests (default 0)",
    )
    demo.add_argument(
        "--help-rate",
        type=float,
        default=HELP_PER_DAY,
        metavar="R",
        help=f"help requests per room and school day, on average, at most one a period "
        f"(default {HELP_PER_DAY:g}; 0: none)",
    )


def _hhmm(text: str) -> time:
    try:
        hours, minutes = text.split(":")
        return time(int(hours), int(minutes))
    except ValueError:
        msg = f"not a time of day as HH:MM: {text!r}"
        raise argparse.ArgumentTypeError(msg) from None


def options(args: argparse.Namespace) -> DayOptions:
    """The options given, checked; a ValueError names the option that does not fit."""
    if not args.fast_day:
        for given, name in ((args.speed, "--speed"), (args.start, "--start")):
            if given is not None:
                msg = f"{name} needs --fast-day"
                raise ValueError(msg)
    speed = DEFAULT_SPEED if args.speed is None else args.speed
    if not 0 < speed <= SPEED_MAX:
        msg = f"--speed must be above 0 and at most {SPEED_MAX:g}, not {speed:g}"
        raise ValueError(msg)
    if not 0 <= args.help_rate <= HELP_PER_DAY_MAX:
        msg = f"--help-rate must be between 0 and {HELP_PER_DAY_MAX:g}, not {args.help_rate:g}"
        raise ValueError(msg)
    return DayOptions(
        fast=args.fast_day,
        speed=speed,
        start=args.start or DEFAULT_START,
        seed=args.seed,
        help_per_day=args.help_rate,
    )


def next_school_morning(
    timetable: TimetableConfig, at: time, now: datetime, tz: ZoneInfo
) -> datetime:
    """``at`` on the next school day: today's if today is one and ``at`` is still to come."""
    day = now.astimezone(tz).date()
    for _ in range(400):
        moment = datetime.combine(day, at, tzinfo=tz)
        if moment > now and timetable.is_school_day(day):
            return moment
        day += timedelta(days=1)
    msg = "the timetable has no school day within a year"
    raise ValueError(msg)


def simulated_day(
    opts: DayOptions, timetable: TimetableConfig, tz: ZoneInfo, now: datetime
) -> SimulatedDay:
    """The agents' setting: the school clock from now (fast, if asked) and the teachers."""
    start = next_school_morning(timetable, opts.start, now, tz) if opts.fast else None
    return SimulatedDay(
        start=start,
        started_at=now,
        speed=opts.speed if opts.fast else 1.0,
        seed=opts.seed,
        help_per_day=opts.help_per_day,
    )


def day_lines(day: SimulatedDay, timetable: TimetableConfig, tz: ZoneInfo) -> list[str]:
    """What the demo prints about its school day."""
    teachers = (
        f"{day.help_per_day:g} per room and school day (seed {day.seed})"
        if day.help_per_day > 0
        else "none"
    )
    if day.start is None:
        clock = f"real time ({tz.key})"
    else:
        start = day.start.astimezone(tz)
        first, last = _day_span(timetable)
        length = (_on(last) - _on(first)) / day.speed
        clock = (
            f"fast, {day.speed:g} times real time, from {start:%a %Y-%m-%d %H:%M} "
            f"(lessons {first:%H:%M}-{last:%H:%M} take {_minutes(length)})"
        )
    return [f"  school day:          {clock}", f"  help requests:       {teachers}"]


def _day_span(timetable: TimetableConfig) -> tuple[time, time]:
    periods = [p for _, session in timetable.sessions() for p in session]
    return periods[0].start, periods[-1].end


def _minutes(span: timedelta) -> str:
    seconds = round(span.total_seconds())
    return f"{seconds // 60} min {seconds % 60} s" if seconds >= 60 else f"{seconds} s"


# --- the rooms' files --------------------------------------------------------------------


def follow_school_day(config: dict[str, Any], key: str) -> None:
    """Make a demo room's file live by its timetable: the class in its simulated occupancy's
    schedule, the projector in its lesson plan on every school day, its own ventilation."""
    timetable = TimetableConfig.model_validate(config["timetable"])
    air = VENTILATION[zlib.crc32(f"{key}/air".encode()) % len(VENTILATION)]
    for device in config.get("devices", {}).values():
        if device.get("backend") != "sim":
            continue
        if device.get("family") == "occupancy":
            device["schedule"] = presence(timetable)
        elif device.get("family") == "environment":
            device["air_changes_per_h"] = air
    plan = projector_lessons(timetable, key)
    for weekday, periods in config["timetable"].get("lesson_plan", {}).items():
        plan.setdefault(weekday, {}).update(periods)  # the room file's own plan comes first
    config["timetable"]["lesson_plan"] = plan


def presence(timetable: TimetableConfig) -> list[dict[str, Any]]:
    """When the class is in the room: from the session's preparation (``lead_min`` before
    its first period) to its last period's end, out for each long break in between."""
    days = sorted(WEEKDAYS.index(d) + 1 for d in timetable.school_days)
    spans = []
    for _, periods in timetable.sessions():
        comes = _minus(periods[0].start, timetable.lead_min)
        for before, after in zip(periods, [*periods[1:], None], strict=True):
            if after is None or _gap_min(before, after) >= LONG_BREAK_MIN:
                spans.append({"start": _hh_mm(comes), "end": _hh_mm(before.end), "days": days})
                if after is not None:
                    comes = _minus(after.start, BACK_BEFORE_MIN)
    return spans


def projector_lessons(timetable: TimetableConfig, key: str) -> dict[str, dict[int, Any]]:
    """Each school day, two periods in a row of each session use the projector, starting at
    one of its first three periods (drawn for the room and the weekday)."""
    plan: dict[str, dict[int, Any]] = {}
    for weekday in timetable.school_days:
        rng = random.Random(f"{key}/{weekday}")  # a simulation, not a secret
        lessons: dict[int, Any] = {}
        for _, periods in timetable.sessions():
            first = rng.randrange(min(3, max(1, len(periods) - 1)))
            subject = rng.choice(SUBJECTS)
            for period in periods[first : first + 2]:
                lessons[period.period] = {"subject": subject, "projector": True}
        plan[weekday] = lessons
    return plan


def _gap_min(before: Period, after: Period) -> float:
    return (_on(after.start) - _on(before.end)).total_seconds() / 60


def _minus(at: time, minutes: int) -> time:
    return (_on(at) - timedelta(minutes=minutes)).time()


def _on(at: time) -> datetime:
    return datetime.combine(date(2000, 1, 1), at)


def _hh_mm(at: time) -> str:
    return f"{at:%H:%M}"


__all__ = [
    "DEFAULT_SPEED",
    "DEFAULT_START",
    "HELP_PER_DAY",
    "DayOptions",
    "add_arguments",
    "day_lines",
    "follow_school_day",
    "next_school_morning",
    "options",
    "presence",
    "projector_lessons",
    "simulated_day",
]
