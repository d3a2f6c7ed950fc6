"""The report pages' filters: days read from the address, and problems said next to the field.

A filter comes as text (a bookmarked address, a browser without a date picker): a day that
is not one is a problem of its field, never a 422 page. The range rules are the API's
(``hub.report_range``), said in the user's language.
"""

from __future__ import annotations

from datetime import date, timedelta

from hub.report_range import RangeProblem, out_of_bounds
from hub.web.reports.pages import text
from ui.i18n import N_, LocaleCode

__all__ = ["Problems", "month_before", "parse_day", "problem_text", "school_year_start"]

Problems = dict[str, str]
"""Field name (``from``, ``to``, ``group``…) → what is wrong with it, in the user's words."""

NOT_A_DAY = N_("Choose a day from the calendar (year-month-day).")
BOUNDS = N_("Choose a day between 1970 and 2199.")
ORDER = N_("The first day must not be after the last day.")
HOURS = N_("By hour, a report covers at most %(limit)s days; this range has %(days)s.")
LENGTH = N_("A report covers at most %(limit)s days; this range has %(days)s.")


def parse_day(name: str, value: str | None, locale: LocaleCode, problems: Problems) -> date | None:
    """The day written in ``value`` (ISO), None if empty; a problem noted if it is no day."""
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        problems[name] = text(locale, NOT_A_DAY)
        return None
    if out_of_bounds("from", day) is not None:
        problems[name] = text(locale, BOUNDS)
        return None
    return day


def problem_text(problem: RangeProblem, locale: LocaleCode) -> str:
    """The range rule broken, in the user's words."""
    numbers = {"limit": problem.limit, "days": problem.days}
    if problem.kind == "bounds":
        return text(locale, BOUNDS)
    if problem.kind == "order":
        return text(locale, ORDER)
    return text(locale, HOURS if problem.kind == "hours" else LENGTH) % numbers


def month_before(day: date) -> tuple[date, date]:
    """The first and last day of the month before ``day``'s."""
    last = day.replace(day=1) - timedelta(days=1)
    return last.replace(day=1), last


def school_year_start(day: date) -> date:
    """1 September of the school year ``day`` is in (a Vietnamese school year starts in
    September and ends in May; the summer belongs to the year that ended)."""
    year = day.year if day.month >= 9 else day.year - 1
    return date(year, 9, 1)
