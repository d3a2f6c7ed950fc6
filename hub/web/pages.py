"""How the hub renders a page: the shared look, the caller's menu, their CSRF token."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

from fastapi import Request
from fastapi.responses import HTMLResponse

from hub.access import Action, Caller
from ui.pages import Pages

__all__ = ["HUB_STATIC_DIR", "HUB_STATIC_PATH", "MENU", "PAGES", "add_menu", "menu_for", "render"]

HUB_STATIC_DIR: Final = Path(__file__).parent / "static"
HUB_STATIC_PATH: Final = "/static/hub"
PAGES: Final = Pages(
    Path(__file__).parent / "templates",
    app_name="hub",
    globals={"hub_static": lambda path: f"{HUB_STATIC_PATH}/{path}"},
)
MENU: Final[list[tuple[int, str, str, Action]]] = []
"""The menu: (order, path, label msgid, the action a caller needs to see it)."""


def add_menu(order: int, path: str, label: str, action: Action) -> None:
    """Put a part's page in the menu (``label`` marked with ``N_`` for the translations)."""
    MENU.append((order, path, label, action))
    MENU.sort()


def menu_for(caller: Caller) -> list[tuple[str, str]]:
    """The menu items this caller may open."""
    return [(path, label) for _, path, label, action in MENU if caller.may(action)]


def render(
    request: Request, caller: Caller | None, name: str, status_code: int = 200, **context: Any
) -> HTMLResponse:
    """The page ``name`` for ``caller`` (None on the sign-in page), in their language."""
    return PAGES.render(
        request,
        name,
        status_code=status_code,
        caller=caller,
        menu=menu_for(caller) if caller is not None else [],
        **context,
    )
