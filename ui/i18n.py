"""Translations and locale formatting shared by the teacher's panel and the hub's pages.

Messages are written in English in the code and the templates (the gettext ``msgid``) and
translated in ``ui/translations/*.vi.po``, one file per part of the product (``common``,
``panel``, ``dashboard``, ``reports``), so that work on one page never touches another's
file. The files are read at start with Babel and compiled in memory: a school runs no build
step, and nothing but the ``.po`` files is kept in the repository. Vietnamese is the
default; English is the ``msgid`` itself. ``scripts/translations.py`` brings the files up to
date with the strings in the code, and the suite fails on a string without a translation.

Dates and times are shown in the school's time zone (Asia/Ho_Chi_Minh) and, with numbers,
in the user's locale through Babel.
"""

from __future__ import annotations

import datetime as dt
import gettext
import io
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Final, Literal
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_datetime, format_time
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent

__all__ = [
    "DEFAULT_LOCALE",
    "LOCALES",
    "SCHOOL_TZ",
    "TRANSLATIONS_DIR",
    "Formats",
    "LocaleCode",
    "N_",
    "catalog",
    "negotiate",
    "translations",
]

LocaleCode = Literal["vi", "en"]
LOCALES: Final[tuple[LocaleCode, ...]] = ("vi", "en")
DEFAULT_LOCALE: Final[LocaleCode] = "vi"
SCHOOL_TZ: Final = ZoneInfo("Asia/Ho_Chi_Minh")
TRANSLATIONS_DIR: Final = Path(__file__).parent / "translations"


def N_(message: str) -> str:  # noqa: N802 (the gettext convention)
    """Mark a string for translation where it is defined; it is translated when shown."""
    return message


def catalog(locale: str, directory: Path = TRANSLATIONS_DIR) -> Catalog:
    """Every ``{domain}.{locale}.po`` of the directory as one catalog (later files add)."""
    merged = Catalog(locale=locale)
    for path in sorted(directory.glob(f"*.{locale}.po")):
        with path.open("rb") as fh:
            for message in read_po(fh, locale=locale):
                if message.id and message.string and not message.fuzzy:
                    merged.add(message.id, message.string)
    return merged


@cache
def translations(locale: LocaleCode) -> gettext.NullTranslations:
    """The gettext translations of a locale; English is the code's own text."""
    if locale == "en":
        return gettext.NullTranslations()
    buffer = io.BytesIO()
    write_mo(buffer, catalog(locale))
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def negotiate(chosen: str | None, accept_language: str | None) -> LocaleCode:
    """The locale a user chose (a cookie), else the browser's first we have, else Vietnamese."""
    if chosen in LOCALES:
        return chosen
    for tag in _languages(accept_language or ""):
        primary = tag.split("-")[0].lower()
        if primary in LOCALES:
            return primary
    return DEFAULT_LOCALE


def _languages(header: str) -> Iterable[str]:
    """Language tags of an Accept-Language header, best first (q=0 left out)."""
    weighted: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag and quality > 0:
            weighted.append((-quality, index, tag))
    return [tag for _, _, tag in sorted(weighted)]


class Formats:
    """Locale-aware formatting of the values pages show, in the school's time zone."""

    def __init__(self, locale: LocaleCode) -> None:
        self.locale = locale
        self._babel = Locale.parse(locale)

    def datetime(self, value: dt.datetime | None, style: str = "medium") -> str:
        if value is None:
            return "—"
        return format_datetime(value, style, tzinfo=SCHOOL_TZ, locale=self._babel)

    def time(self, value: dt.datetime | None, style: str = "short") -> str:
        if value is None:
            return "—"
        return format_time(value, style, tzinfo=SCHOOL_TZ, locale=self._babel)

    def number(self, value: float | None, digits: int = 1) -> str:
        if value is None:
            return "—"
        pattern = "#,##0" + ("." + "0" * digits if digits > 0 else "")
        return format_decimal(value, format=pattern, locale=self._babel)

    def percent(self, value: float | None) -> str:
        if value is None:
            return "—"
        return format_percent(value, locale=self._babel)
