"""The pages every user meets: signing in, and the way to their own home page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from hub.access import Caller
from hub.api.auth import Authenticated, Public
from hub.web.pages import menu_for, render
from ui.pages import safe_next

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


@router.get("/login", response_class=HTMLResponse)
def login_page(
    _: Annotated[None, Depends(Public())], request: Request, next: str = "/"
) -> HTMLResponse:
    """The sign-in form; it signs in through ``POST /api/v1/auth/login``, then opens ``next``."""
    return render(request, None, "login.html", next=safe_next(next))


@router.get("/")
def home(caller: Annotated[Caller, Depends(Authenticated())], request: Request) -> Response:
    """A user's first page: the first of the menu they may open."""
    menu = menu_for(caller)
    if menu:
        return RedirectResponse(menu[0][0], status_code=303)
    return render(request, caller, "home.html")
