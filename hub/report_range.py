"""The range of days a report may cover: one set of rules for the API and the report pages.

The API turns a problem into a 422 naming the query field (English); the pages show it next
to the field, in the user's language, from its ``kind`` and numbers. Both read the same
checks, so a range the page accepts is one the API accepts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from hub.report_models import ReportGroup, ReportScope
from hub.reports import HOUR_DAYS_MAX

EARLIEST = date(1970, 1, 1)
LATEST = date(2199, 12, 31)
DEFAULT_DAYS = 30
"""Without ``from``, a report covers the 30 days up to ``to`` (default: today)."""

ProblemKind = Literal["bounds", "order", "hours", "length"]


@dataclass(frozen=True, slots=True)
class RangeProblem:
    """Why a range is refused, and which field to blame."""

    field: Literal["from", "to", "group"]
    kind: ProblemKind
    """``bounds``: a day outside 1970..2199; ``order``: from after to; ``hours``: too long to
    group by hour; ``length``: longer than the hub allows."""
    value: str
    limit: int = 0
    """The most days allowed (``hours``, ``length``)."""
    days: int = 0
    """The days asked for (``hours``, ``length``)."""
    scope: str = ""

    @property
    def message(self) -> str:
        """The problem in English, as the API says it."""
        if self.kind == "bounds":
            return f"{self.field} must be within 1970-01-01..2199-12-31"
        if self.kind == "order":
            return "from must not be after to"
        if self.kind == "hours":
            return (
                f"a {self.scope} report by hour covers at most {self.limit} days, not {self.days}"
            )
        return f"a report covers at most {self.limit} days, not {self.days}"


def out_of_bounds(name: Literal["from", "to"], value: date | None) -> RangeProblem | None:
    """A day no report can reach (the arithmetic on it would overflow near date.max)."""
    if value is not None and not EARLIEST <= value <= LATEST:
        return RangeProblem(name, "bounds", value.isoformat())
    return None


def default_range(start: date | None, end: date | None, today: date) -> tuple[date, date]:
    """``to`` defaults to today, ``from`` to the DEFAULT_DAYS days up to ``to``."""
    end = end or today
    return start or max(EARLIEST, end - timedelta(days=DEFAULT_DAYS - 1)), end


def range_problem(
    start: date, end: date, scope: ReportScope, group: ReportGroup, most: int
) -> RangeProblem | None:
    """What is wrong with ``start``..``end`` for this report, if anything."""
    if start > end:
        return RangeProblem("from", "order", start.isoformat())
    days = (end - start).days + 1
    if group == "hour" and days > HOUR_DAYS_MAX[scope]:
        return RangeProblem("group", "hours", group, HOUR_DAYS_MAX[scope], days, scope)
    if days > most:
        return RangeProblem("to", "length", end.isoformat(), most, days)
    return None


__all__ = [
    "DEFAULT_DAYS",
    "EARLIEST",
    "LATEST",
    "RangeProblem",
    "default_range",
    "out_of_bounds",
    "range_problem",
]
