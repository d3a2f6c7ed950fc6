"""Forecasts of a usage report, from the daily rollups: when each projector's lamp and filter
reach their limits, and the energy of the coming month."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import date, timedelta
from typing import TYPE_CHECKING, Literal

from sqlalchemy import Connection, func, select

from hub.ratings import Ratings
from hub.report_models import (
    EnergyForecastPublic,
    ForecastsPublic,
    LampForecastPublic,
    LimitForecastPublic,
)
from hub.rollup_tables import usage_daily

if TYPE_CHECKING:
    from hub.reports import ReportQuery

RATE_WINDOW_DAYS = 28
"""A projector's recent rate of use: its hours on over the last four weeks (days with data)."""
PAST_YEARS = 3
"""The coming month is estimated from the same weeks of at most this many past years."""
YEAR_OF_WEEKS = timedelta(weeks=52)
"""One step back to the same weeks of the year before, on the same weekdays."""


def next_month(today: date) -> tuple[date, date]:
    """First and last day of the calendar month after ``today``'s."""
    first = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    return first, last


def due_date(today: date, hours: float | None, limit: float, rate: float) -> LimitForecastPublic:
    """When ``hours`` reach ``limit`` at ``rate`` hours a day (whole days, rounded down)."""
    if hours is None:
        return LimitForecastPublic(hours=None, limit_h=limit, due=None)
    if hours >= limit:
        return LimitForecastPublic(hours=hours, limit_h=limit, due=today, reached=True)
    if rate <= 0:
        return LimitForecastPublic(hours=hours, limit_h=limit, due=None)
    days = math.floor((limit - hours) / rate)
    due = today + timedelta(days=days) if days < (date.max - today).days else None
    return LimitForecastPublic(hours=hours, limit_h=limit, due=due)


class Forecaster:
    """Lamp, filter and energy forecasts for the rooms of a report."""

    def __init__(self, ratings: Ratings) -> None:
        self.ratings = ratings

    def forecasts(
        self, conn: Connection, query: ReportQuery, today: date, sites: list[str]
    ) -> ForecastsPublic:
        """Forecasts for the report's rooms; the energy of each of ``sites`` (those with data
        in the report) for a district."""
        return ForecastsPublic(
            lamps=self.lamps(conn, query, today), energy=self.energy(conn, query, today, sites)
        )

    # --- lamps and filters ------------------------------------------------------------------

    def lamps(self, conn: Connection, query: ReportQuery, today: date) -> list[LampForecastPublic]:
        """Each projector of the report's rooms used or reporting its hours lately: one read
        of their last RATE_WINDOW_DAYS days (some 700 rows for a school). The hours are the
        last reported in that window."""
        d = usage_daily.c
        rows = conn.execute(
            select(d.site, d.room, d.device, d.day, d.on_s, d.covered_s, d.lamp_h, d.filter_h)
            .where(
                *query.room_filter(usage_daily),
                d.kind == "projector",
                d.part == "",
                d.day > today - timedelta(days=RATE_WINDOW_DAYS),
                d.day <= today,
            )
        )  # fmt: skip
        used: dict[tuple[str, str, str], list[float]] = {}
        """On seconds and days with data in the rate window."""
        last: dict[tuple[str, str, str], tuple[date, float | None, float | None]] = {}
        for site, room, device, day, on_s, covered_s, lamp_h, filter_h in rows.all():
            key = (site, room, device)
            if covered_s > 0:
                seen = used.setdefault(key, [0.0, 0])
                seen[0] += on_s
                seen[1] += 1
            if (lamp_h is not None or filter_h is not None) and (
                key not in last or last[key][0] < day
            ):
                last[key] = (day, lamp_h, filter_h)
        out = []
        for key in sorted(set(used) | set(last)):
            on_s, days = used.get(key, (0.0, 0))
            rate = on_s / 3600 / days if days else 0.0
            day, lamp, filt = last.get(key, (None, None, None))
            site, room, device = key
            out.append(
                LampForecastPublic(
                    site=site,
                    room=room,
                    device=device,
                    reported_on=day,
                    rate_h_per_day=round(rate, 3),
                    window_days=RATE_WINDOW_DAYS,
                    days_with_data=int(days),
                    lamp=due_date(today, lamp, self.ratings.lamp_limit(*key), rate),
                    filter=due_date(today, filt, self.ratings.filter_limit(*key), rate),
                )
            )
        return out

    # --- energy ---------------------------------------------------------------------------

    def energy(
        self, conn: Connection, query: ReportQuery, today: date, sites: list[str]
    ) -> list[EnergyForecastPublic]:
        """The coming month's energy of each school of the report (of the room, for a room)."""
        first, last = next_month(today)
        if query.scope != "district":
            sites = [query.site] if query.site is not None else []
        return [self._energy(conn, replace(query, site=site), first, last, today) for site in sites]

    def _window(
        self, conn: Connection, query: ReportQuery, first: date, last: date
    ) -> tuple[float, int]:
        """Watt-hours and days with data of the query's site (or room) over ``first``..``last``."""
        wh = 0.0
        days: set[date] = set()
        for table, where in query.sources():
            c = table.c
            within = [*where, c.day >= first, c.day <= last]
            wh += conn.execute(
                select(func.coalesce(func.sum(c.energy_wh), 0.0)).where(*within)
            ).scalar_one()
            days.update(
                conn.execute(select(c.day).where(*within, c.covered_s > 0).distinct()).scalars()
            )
        return wh, len(days)

    def _energy(
        self, conn: Connection, query: ReportQuery, first: date, last: date, today: date
    ) -> EnergyForecastPublic:
        assert query.site is not None
        site = query.site
        days = (last - first).days + 1
        room = query.room if query.scope == "room" else None
        month = f"{first:%Y-%m}"
        estimates: list[float] = []
        years: list[int] = []
        have = wanted = 0
        for k in range(1, PAST_YEARS + 1):
            start, end = first - k * YEAR_OF_WEEKS, last - k * YEAR_OF_WEEKS
            wh, with_data = self._window(conn, query, start, end)
            if with_data:
                estimates.append(wh / with_data * days)
                years.append(start.year)
                have += with_data
                wanted += days
        method: Literal["same_weeks", "recent", "none"]
        if estimates:
            method = "same_weeks"
            kwh: float | None = sum(estimates) / len(estimates) / 1000
            basis = (
                f"mean of {len(estimates)} past year(s) ({', '.join(map(str, years))}) over the "
                f"same weeks as {month} (52-week steps, weekdays aligned), each scaled from its "
                f"days with data to the month's {days} days: {have} of {wanted} days with data"
            )
        else:
            start = today - timedelta(days=RATE_WINDOW_DAYS)
            wh, have = self._window(conn, query, start, today - timedelta(days=1))
            wanted = RATE_WINDOW_DAYS
            if have:
                method, kwh = "recent", wh / have * days / 1000
                basis = (
                    f"no past year has data for the weeks of {month}: the daily mean of the last "
                    f"{RATE_WINDOW_DAYS} days ({have} with data) times the month's {days} days"
                )
            else:
                method, kwh = "none", None
                basis = f"no data for the weeks of {month} in past years, nor in the last weeks"
        return EnergyForecastPublic(
            site=site,
            room=room,
            month=month,
            kwh=None if kwh is None else round(kwh, 3),
            method=method,
            basis=basis,
            years=years,
            days_with_data=have,
            days_wanted=wanted,
        )


__all__ = [
    "PAST_YEARS",
    "RATE_WINDOW_DAYS",
    "YEAR_OF_WEEKS",
    "Forecaster",
    "due_date",
    "next_month",
]
