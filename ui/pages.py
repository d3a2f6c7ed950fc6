"""Server-rendered pages: Jinja2 templates in the user's language, one look for every app.

An app (the teacher's panel on the agent, the hub's dashboard and reports) makes one
:class:`Pages` with its own template folder; the shared layout (``base.html``) and macros
come from ``ui/templates``. Each locale has its own Jinja2 environment with the gettext
translations installed, so ``{{ _("Lights") }}`` and ``{% trans %}`` blocks are translated
when rendered, and ``fmt`` formats dates, times and numbers for the same locale.

The chosen language is a cookie (``sc_lang``) set by ``GET /lang/{code}`` (see
:func:`language_routes`) and kept a year; without one the browser's ``Accept-Language``
decides, and Vietnamese is the default.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, select_autoescape

from ui.i18n import LOCALES, Formats, LocaleCode, negotiate, translations

__all__ = [
    "LANG_COOKIE",
    "STATIC_DIR",
    "STATIC_PATH",
    "TEMPLATES_DIR",
    "Pages",
    "language_routes",
    "locale_of",
    "mount_static",
    "safe_next",
]

LANG_COOKIE: Final = "sc_lang"
TEMPLATES_DIR: Final = Path(__file__).parent / "templates"
STATIC_DIR: Final = Path(__file__).parent / "static"
STATIC_PATH: Final = "/static/ui"
"""Where every app serves the shared assets (CSS, scripts, vendored libraries)."""
_YEAR_S: Final = 365 * 24 * 3600


def locale_of(request: Request) -> LocaleCode:
    """The language of the page for this request."""
    return negotiate(request.cookies.get(LANG_COOKIE), request.headers.get("accept-language"))


class Pages:
    """Renders an app's templates, with the shared ones behind them, in the caller's language."""

    def __init__(self, templates: Path, *, app_name: str, globals: Mapping[str, Any] = {}) -> None:
        loader = ChoiceLoader([FileSystemLoader(templates), FileSystemLoader(TEMPLATES_DIR)])
        self._environments: dict[LocaleCode, Environment] = {}
        for locale in LOCALES:
            env = Environment(
                loader=loader,
                autoescape=select_autoescape(("html", "xml")),
                undefined=StrictUndefined,
                extensions=["jinja2.ext.i18n"],
                trim_blocks=True,
                lstrip_blocks=True,
            )
            env.policies["ext.i18n.trimmed"] = True  # as the strings are extracted
            env.install_gettext_translations(translations(locale), newstyle=True)  # type: ignore[attr-defined]
            env.globals.update(
                globals, app_name=app_name, locale=locale, locales=LOCALES, fmt=Formats(locale)
            )
            env.globals["static"] = _static_url
            self._environments[locale] = env

    def environment(self, locale: LocaleCode) -> Environment:
        return self._environments[locale]

    def render(
        self, request: Request, name: str, status_code: int = 200, **context: Any
    ) -> HTMLResponse:
        """The page ``name`` for this request, in its language."""
        locale = locale_of(request)
        html = self._environments[locale].get_template(name).render(request=request, **context)
        return HTMLResponse(
            html,
            status_code=status_code,
            headers={"Content-Language": locale, "Cache-Control": "no-store", "Vary": "Cookie"},
        )

    def text(self, locale: LocaleCode, message: str) -> str:
        """One message in a locale, for text made outside a template (a flash, an error)."""
        return translations(locale).gettext(message)


def _static_url(path: str) -> str:
    return f"{STATIC_PATH}/{path}"


def mount_static(app: Any) -> None:
    """Serve the shared assets under :data:`STATIC_PATH` (no resource from the internet)."""
    app.mount(STATIC_PATH, StaticFiles(directory=STATIC_DIR), name="ui-static")


def language_routes(dependencies: Sequence[Any] = ()) -> APIRouter:
    """``GET /lang/{code}?next=/path``: remember the language and go back to the page.

    ``dependencies`` are the app's access rule for it (anyone may choose a language)."""
    router = APIRouter(include_in_schema=False, dependencies=list(dependencies))

    @router.get("/lang/{code}")
    async def choose_language(code: str, next: str = "/") -> RedirectResponse:
        target = safe_next(next)
        response = RedirectResponse(target, status_code=303)
        if code in LOCALES:
            response.set_cookie(
                LANG_COOKIE, code, max_age=_YEAR_S, httponly=True, samesite="strict", path="/"
            )
        return response

    return router


def safe_next(target: str) -> str:
    """``target`` if it is a path on this site, else ``/``: never an open redirect."""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    if "\\" in target or any(ord(c) < 0x20 for c in target):
        return "/"
    return target
