"""How the dashboard renders its pages: its own templates in front of the hub's and the shared
ones, with the caller's menu, in their language."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import ChoiceLoader, FileSystemLoader

from hub.access import Caller
from hub.web.dashboard.labels import LABELS, UNITS
from hub.web.pages import HUB_STATIC_PATH, menu_for
from protocol.help import split_help_reason
from ui.i18n import LOCALES
from ui.pages import TEMPLATES_DIR, Pages

__all__ = ["DASHBOARD_STATIC_DIR", "DASHBOARD_STATIC_PATH", "PAGES", "render"]

HERE: Final = Path(__file__).parent
HUB_TEMPLATES: Final = HERE.parent / "templates"
DASHBOARD_STATIC_DIR: Final = HERE / "static"
DASHBOARD_STATIC_PATH: Final = "/static/dashboard"

PAGES: Final = Pages(
    HERE / "templates",
    app_name="hub",
    globals={
        "hub_static": lambda path: f"{HUB_STATIC_PATH}/{path}",
        "dashboard_static": lambda path: f"{DASHBOARD_STATIC_PATH}/{path}",
        "labels": LABELS,
        "units": UNITS,
        "split_help_reason": split_help_reason,
    },
)
for _locale in LOCALES:  # the hub's layout (hub_base.html) sits between ours and the shared one
    PAGES.environment(_locale).loader = ChoiceLoader(
        [FileSystemLoader(HERE / "templates"), FileSystemLoader(HUB_TEMPLATES),
         FileSystemLoader(TEMPLATES_DIR)]
    )  # fmt: skip


def render(request: Request, caller: Caller, name: str, **context: Any) -> HTMLResponse:
    """The page (or a part of it) ``name`` for ``caller``, in their language."""
    return PAGES.render(request, name, caller=caller, menu=menu_for(caller), **context)
