"""How the report pages are rendered: their templates before the hub's, and their formats.

The hub's ``Pages`` knows its own templates and the shared ones; the report pages have a
folder of their own (so the two parts never edit one folder), whose templates extend
``hub_base.html``: their environments look in this folder, then the hub's, then the shared
one. Dates, times and numbers go through Babel in the user's locale and the reports' time
zone (``SMARTCLASS_HUB_REPORT_TIMEZONE``); a figure shows every decimal the API gives, so
the table, the CSV and the JSON say the same number.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime, format_skeleton, format_time
from babel.numbers import format_decimal
from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import ChoiceLoader, FileSystemLoader

from hub.access import Caller
from hub.report_models import ReportGroup
from hub.web.pages import HUB_STATIC_PATH, menu_for
from ui.i18n import LOCALES, N_, Formats, LocaleCode, translations
from ui.pages import TEMPLATES_DIR, Pages, locale_of

__all__ = ["PAGES", "STATIC_DIR", "STATIC_PATH", "ReportFormats", "render", "text"]

HERE: Final = Path(__file__).parent
STATIC_DIR: Final = HERE / "static"
STATIC_PATH: Final = "/static/reports"
HUB_TEMPLATES: Final = HERE.parent / "templates"


def _pages() -> Pages:
    pages = Pages(
        HERE / "templates",
        app_name="hub",
        globals={
            "hub_static": lambda path: f"{HUB_STATIC_PATH}/{path}",
            "reports_static": lambda path: f"{STATIC_PATH}/{path}",
        },
    )
    folders = [HERE / "templates", HUB_TEMPLATES, TEMPLATES_DIR]
    for locale in LOCALES:  # before any template is loaded: nothing is cached yet
        pages.environment(locale).loader = ChoiceLoader([FileSystemLoader(f) for f in folders])
    return pages


PAGES: Final = _pages()


class ReportFormats(Formats):
    """The shared formats, in the reports' time zone, with days, periods and figures."""

    def __init__(self, locale: LocaleCode, tz: ZoneInfo) -> None:
        super().__init__(locale)
        self.tz = tz

    def datetime(self, value: dt.datetime | None, style: str = "medium") -> str:
        if value is None:
            return "—"
        return format_datetime(value, style, tzinfo=self.tz, locale=self.locale)

    def time(self, value: dt.datetime | None, style: str = "short") -> str:
        if value is None:
            return "—"
        return format_time(value, style, tzinfo=self.tz, locale=self.locale)

    def date(self, value: dt.date | None, style: str = "medium") -> str:
        if value is None:
            return "—"
        return format_date(value, style, locale=self.locale)

    def month(self, value: dt.date) -> str:
        """A month in words: ``December 2026``, ``tháng 12 năm 2026``."""
        return format_skeleton("yMMMM", value, locale=self.locale)

    def figure(self, value: float | None, digits: int = 3) -> str:
        """A figure with as many decimals as it has, up to ``digits`` (the API's rounding)."""
        if value is None:
            return "—"
        pattern = "#,##0" + ("." + "#" * digits if digits > 0 else "")
        return format_decimal(value, format=pattern, locale=self.locale)

    def period(self, start: dt.date, label: str, group: ReportGroup) -> str:
        """A period of a report in words: a day, an ISO week, a month, or an hour."""
        if group == "day":
            return format_skeleton("yMMMEd", start, locale=self.locale)
        if group == "month":
            return format_skeleton("yMMMM", start, locale=self.locale)
        if group == "week":
            year, week, _ = start.isocalendar()
            return text(self.locale, N_("Week %(week)s, %(year)s")) % {"week": week, "year": year}
        hour = dt.datetime.fromisoformat(label)
        day = format_skeleton("MMMEd", hour, locale=self.locale)
        return f"{day} {format_time(hour, 'HH:mm', tzinfo=self.tz, locale=self.locale)}"

    def tick(self, start: dt.date, label: str, group: ReportGroup, *, days: int) -> str:
        """A period as a chart's axis says it, in a few characters."""
        if group == "month":
            return format_skeleton("yMMM", start, locale=self.locale)
        if group != "hour":
            return format_skeleton("dM", start, locale=self.locale)
        hour = dt.datetime.fromisoformat(label)
        clock = format_time(hour, "HH:mm", tzinfo=self.tz, locale=self.locale)
        return clock if days == 1 else f"{format_skeleton('dM', hour, locale=self.locale)} {clock}"


def text(locale: LocaleCode, message: str) -> str:
    """One message in a locale, for text made in Python (mark it with ``N_`` where defined)."""
    return translations(locale).gettext(message)


def render(
    request: Request,
    caller: Caller,
    name: str,
    *,
    tz: ZoneInfo,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """The report page ``name`` for ``caller``, in their language and the reports' zone."""
    return PAGES.render(
        request,
        name,
        status_code=status_code,
        caller=caller,
        menu=menu_for(caller),
        fmt=ReportFormats(locale_of(request), tz),
        **context,
    )
