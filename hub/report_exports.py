"""Downloads of the reports: CSV of comparisons and forecasts, and every download's name.

A file is named for what it holds, so a folder of downloads reads as a list:
``usage-thcs-nguyen-chi-thanh-2026-11.csv`` (a school's November),
``usage-thcs-nguyen-chi-thanh-6a1-2026-W45-by-day.csv``, ``compare-rooms-…``,
``lamps-district-2026-11-15.csv`` (as of that day). Ids are ASCII by the contract, so the
name needs no encoding in ``Content-Disposition``.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hub.report_compare import ComparisonPublic
from hub.report_csv import FIGURES, WASTE
from hub.report_forecast import ForecastReportPublic
from hub.report_models import LimitForecastPublic, ReportGroup, UsageFigures
from hub.users import USERNAME_PATTERN


def period_name(start: date, end: date) -> str:
    """``2026-11-03`` (a day), ``2026-W45`` (an ISO week), ``2026-11`` (a month), ``2026`` (a
    year), else ``2026-11-03_2026-11-20``."""
    if start == end:
        return start.isoformat()
    if start.weekday() == 0 and end == start + timedelta(days=6):
        year, week, _ = start.isocalendar()
        return f"{year}-W{week:02d}"
    month_end = (start.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    if start.day == 1 and end == month_end:
        return f"{start:%Y-%m}"
    if (start.month, start.day, end.month, end.day) == (1, 1, 12, 31) and start.year == end.year:
        return f"{start.year}"
    return f"{start.isoformat()}_{end.isoformat()}"


def file_name(kind: str, *place: str | None, period: str, group: ReportGroup = "day") -> str:
    """``{kind}-{place…}-{period}[-by-{group}].csv``; no place: the district."""
    parts = [kind, *(p for p in place if p)] if any(place) else [kind, "district"]
    parts.append(period)
    if group != "day":
        parts.append(f"by-{group}")
    return "-".join(parts) + ".csv"


def audit_file_name(
    site: str | None,
    room: str | None,
    user: str | None,
    since: datetime | None,
    until: datetime | None,
    tz: ZoneInfo,
) -> str:
    """``audit-{site}-{room}-{user}-{period}.csv``: the local days of ``since``..``until``
    (excluded); a user name only if it is one the hub could have made (it is free text)."""
    first = since.astimezone(tz).date() if since is not None else None
    last = (until.astimezone(tz) - timedelta(microseconds=1)).date() if until is not None else None
    if first is not None and last is not None and first <= last:
        period = period_name(first, last)
    elif first is not None:
        period = f"from-{first.isoformat()}"
    elif last is not None:
        period = f"to-{last.isoformat()}"
    else:
        period = "all"
    named = user if user is not None and re.fullmatch(USERNAME_PATTERN, user) else None
    parts = ["audit", *(p for p in (site, room, named) if p), period]
    return "-".join(parts) + ".csv"


def attachment(name: str) -> dict[str, str]:
    """The header that makes a browser save the answer as ``name``."""
    return {"Content-Disposition": f'attachment; filename="{name}"'}


def _text(rows: Iterable[list[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerows(rows)
    return out.getvalue()


def _blank(value: Any) -> Any:
    """None as an empty cell, a flag as in JSON (``true``), anything else as it is."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else value


def _figures(f: UsageFigures) -> list[Any]:
    return [_blank(getattr(f, name)) for name in FIGURES] + [getattr(f.waste, n) for n in WASTE]


def comparison_csv(comparison: ComparisonPublic) -> str:
    """One line per room or school, in the comparison's order (a header line first)."""
    head = ["site", "room", "name", *FIGURES, *(f"waste_{n}" for n in WASTE)]
    head += ["kwh_per_room", "waste_pct"]
    lines: list[list[Any]] = [head]
    for row in comparison.rows:
        lines.append(
            [row.site, _blank(row.room), row.name, *_figures(row.figures),
             _blank(row.kwh_per_room), _blank(row.waste_pct)]
        )  # fmt: skip
    return _text(lines)


LAMP_COLUMNS = (
    "site", "room", "device", "reported_on", "rate_h_per_day", "window_days", "days_with_data",
    "lamp_hours", "lamp_limit_h", "lamp_due", "lamp_reached",
    "filter_hours", "filter_limit_h", "filter_due", "filter_reached",
)  # fmt: skip
ENERGY_COLUMNS = (
    "site", "room", "month", "kwh", "method", "years", "days_with_data", "days_wanted", "basis",
)  # fmt: skip


def _limit(f: LimitForecastPublic) -> list[Any]:
    return [_blank(f.hours), f.limit_h, _blank(f.due), _blank(f.reached)]


def lamps_csv(report: ForecastReportPublic) -> str:
    """One line per projector: its rate of use, its lamp's and filter's hours and due days."""
    lines: list[list[Any]] = [list(LAMP_COLUMNS)]
    for f in report.lamps:
        lines.append(
            [f.site, f.room, f.device, _blank(f.reported_on), f.rate_h_per_day, f.window_days,
             f.days_with_data, *_limit(f.lamp), *_limit(f.filter)]
        )  # fmt: skip
    return _text(lines)


def energy_csv(report: ForecastReportPublic) -> str:
    """One line per school (or the room): the coming month's energy and how it was estimated."""
    lines: list[list[Any]] = [list(ENERGY_COLUMNS)]
    for f in report.energy:
        lines.append(
            [f.site, _blank(f.room), f.month, _blank(f.kwh), f.method,
             " ".join(map(str, f.years)), f.days_with_data, f.days_wanted, f.basis]
        )  # fmt: skip
    return _text(lines)


__all__ = [
    "ENERGY_COLUMNS",
    "LAMP_COLUMNS",
    "attachment",
    "audit_file_name",
    "comparison_csv",
    "energy_csv",
    "file_name",
    "lamps_csv",
    "period_name",
]
