"""``smartclass bench report``: the time of usage reports over a year of rollups.

A year of hourly rollups for a fleet of rooms is written through the hub's own rollup writer
(hourly rows, and the daily ones it derives), from a plausible school year: lessons on the
timetable's hours from Monday to Saturday, holidays, projectors used in some lessons, lights
sometimes left on after school. Then a school's report over the whole year (by day) and the
district's (by month) are timed, several runs each, with their forecasts.
"""

from __future__ import annotations

import random
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, delete, select

from hub.db import create_schema, make_engine
from hub.ratings import Ratings
from hub.reports import ReportQuery, Reports
from hub.rollup_tables import SUMS, usage_daily, usage_hourly
from hub.rollups import HOUR_S, Amounts, Key, UsageRollups

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
SCHOOL_TARGET_MS = 200.0
"""A school's report over a year should take less than this (median)."""
LESSON_HOURS = (7, 8, 9, 10, 13, 14, 15)
"""Local hours with lessons on a school day (tiết 1-5 in the morning, 6-8 after noon)."""
ZONES = ("front", "middle", "back")
HOLIDAYS = {(1, 1), (4, 30), (5, 1), (9, 2)} | {(2, d) for d in range(14, 23)}
"""(month, day) without lessons: Tết, reunification, labour and national days."""
_I = {name: i for i, name in enumerate(SUMS)}


def _school_day(day: date) -> bool:
    return day.weekday() < 6 and (day.month, day.day) not in HOLIDAYS and day.month not in (6, 7)


class Fleet:
    """Plausible hourly usage of ``rooms`` rooms in ``schools`` schools."""

    def __init__(self, rooms: int, schools: int, seed: int = 12) -> None:
        self.rooms = [(f"school-{i % schools:02d}", f"room-{i:03d}") for i in range(rooms)]
        self.random = random.Random(seed)
        self.lamp = dict.fromkeys(self.rooms, 1000.0)

    def day(self, day: date) -> dict[Key, Amounts]:
        """The hourly amounts of every room on one local day."""
        out: dict[Key, Amounts] = {}
        rnd = self.random
        lessons = _school_day(day)
        for site, room in self.rooms:
            for local_hour in range(24):
                start = datetime.combine(day, clock_time(local_hour), TZ).astimezone(UTC)
                hour = int(start.timestamp()) // HOUR_S

                def row(device: str, kind: str, part: str = "", hour: int = hour) -> Amounts:
                    a = out[(site, room, device, part, hour)] = Amounts(kind)  # noqa: B023
                    a.sums[_I["covered_s"]] = 0.0 if part else 3600.0
                    return a

                lesson = lessons and local_hour in LESSON_HOURS
                env = row("env", "sensor").sums
                if lesson:
                    above = rnd.uniform(0, 1800)
                    env[_I["co2_1000_s"]] = above
                    env[_I["co2_1500_s"]] = above * rnd.uniform(0, 0.3)
                    env[_I["temp_sum"]] = 6 * rnd.uniform(28, 33)
                    env[_I["temp_n"]] = 6
                presence = row("presence", "sensor").sums
                presence[_I["occupied_s"]] = rnd.uniform(2700, 3600) if lesson else 0.0
                projector = row("projector", "projector")
                used = rnd.uniform(1200, 3600) if lesson and rnd.random() < 0.4 else 0.0
                if not lesson and rnd.random() < 0.01:
                    used = 3600.0  # left on in an empty room
                if used:
                    self._on(projector.sums, used, 250.0, wasted=not lesson)
                    self.lamp[(site, room)] += used / 3600
                projector.lamp_h = round(self.lamp[(site, room)], 1)
                projector.filter_h = round(self.lamp[(site, room)] / 4, 1)
                row("lights", "lighting")
                for zone in ZONES:
                    if lesson or rnd.random() < 0.03:  # lit for lessons, or forgotten
                        zone_row = row("lights", "lighting", zone)
                        self._on(zone_row.sums, 3600.0, 60.0, wasted=not lesson)
        return out

    @staticmethod
    def _on(sums: list[float], seconds: float, watts: float, *, wasted: bool) -> None:
        sums[_I["on_s"]] = seconds
        sums[_I["energy_wh"]] = watts * seconds / HOUR_S
        if wasted:
            sums[_I["closed_s"]] = sums[_I["empty_s"]] = sums[_I["waste_s"]] = seconds
            sums[_I["waste_wh"]] = sums[_I["energy_wh"]]


def fill(engine: Engine, fleet: Fleet, first: date, days: int) -> int:
    """Write ``days`` days of the fleet's rollups from ``first``; print progress; return the
    hourly rows written."""
    rollups = UsageRollups(Ratings(), TZ)
    rows = 0
    started = time.perf_counter()
    for i in range(days):
        with engine.begin() as conn:
            rows += rollups.write(conn, fleet.day(first + timedelta(days=i)))
        if (i + 1) % 30 == 0 or i + 1 == days:
            print(f"  filled {i + 1:3d}/{days} days: {rows} hourly rows "
                  f"({time.perf_counter() - started:.1f} s)", flush=True)  # fmt: skip
    return rows


def _timed(reports: Reports, query: ReportQuery, now: datetime, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        report = reports.usage(query, now=now)
        report.model_dump_json()  # what the API sends: serialised too
        times.append((time.perf_counter() - start) * 1000)
    return times


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def run_report_bench(
    *, rooms: int, schools: int, days: int, runs: int, database_url: str | None
) -> int:
    """Fill, time, print; exit 1 if a school's year took ``SCHOOL_TARGET_MS`` or more."""
    with tempfile.TemporaryDirectory(prefix="smartclass-bench-") as tmp:
        url = database_url or f"sqlite:///{Path(tmp) / 'report.sqlite'}"
        engine = make_engine(url)
        try:
            create_schema(engine)
            with engine.connect() as conn:
                if conn.execute(select(usage_daily).limit(1)).first() is not None:
                    print(f"bench report: {engine.url.render_as_string()} already holds usage "
                          "rollups; give it a database of its own")  # fmt: skip
                    return 2
            now = datetime.now(UTC)
            today = now.astimezone(TZ).date()
            first = today - timedelta(days=days)
            backend = engine.dialect.name
            print(f"bench report on {backend}: {rooms} rooms in {schools} schools, {days} days "
                  f"from {first} (hourly rollups and the daily ones derived)")  # fmt: skip
            fleet = Fleet(rooms, schools)
            fill(engine, fleet, first, days)
            reports = Reports(engine, Ratings(), TZ)
            last = today - timedelta(days=1)
            site = fleet.rooms[0][0]
            school = ReportQuery("school", first, last, group="day", site=site)
            district = ReportQuery("district", first, last, group="month")
            _timed(reports, school, now, 1)  # warm the caches, as a running hub's are
            school_ms = _timed(reports, school, now, runs)
            district_ms = _timed(reports, district, now, runs)
            in_school = sum(1 for s, _ in fleet.rooms if s == site)
            print()
            for name, values in (
                (f"school ({in_school} rooms), a year by day", school_ms),
                (f"district ({rooms} rooms), a year by month", district_ms),
            ):
                print(f"{name:42} median {statistics.median(values):7.1f} ms, "
                      f"p95 {_p95(values):7.1f} ms ({runs} runs)")  # fmt: skip
            met = statistics.median(school_ms) < SCHOOL_TARGET_MS
            print(f"target: a school's year under {SCHOOL_TARGET_MS:.0f} ms: "
                  f"{'met' if met else 'NOT met'}")  # fmt: skip
            return 0 if met else 1
        finally:
            if database_url is not None:  # leave the database as it was found
                with engine.begin() as conn:
                    conn.execute(delete(usage_hourly))
                    conn.execute(delete(usage_daily))
            engine.dispose()


__all__ = ["SCHOOL_TARGET_MS", "Fleet", "fill", "run_report_bench"]
