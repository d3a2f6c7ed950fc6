"""The hub's web pages: the IT dashboard and the admin's reports, on the hub's own API.

Pages are rendered on the server (``ui.pages``) for the signed-in user and in their
language; what a page changes goes through the JSON API (``/api/v1/...``) with the session
cookie and its CSRF token (``static/hub.js``), so every change is checked, limited and
audited in one place. Each page route has exactly one access rule, as every API route
does; a page asked for without a session sends the browser to the sign-in page, and a
refusal is a page that says what is refused (``errors.py``).

Parts add their routers to :func:`web_router`: the dashboard (``hub.web.dashboard``) and
the reports (``hub.web.reports``).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, FastAPI
from fastapi.staticfiles import StaticFiles

from hub.api.auth import Public
from hub.web.dashboard import router as dashboard_router
from hub.web.errors import install_page_errors
from hub.web.pages import HUB_STATIC_DIR, HUB_STATIC_PATH
from hub.web.reports import mount_reports_static, reports_router
from hub.web.shell import router as shell_router
from ui.pages import language_routes, mount_static

__all__ = ["install_web", "web_router"]


def web_router() -> APIRouter:
    """Every page of the hub."""
    router = APIRouter(include_in_schema=False)
    router.include_router(shell_router)
    router.include_router(dashboard_router)
    router.include_router(reports_router())
    return router


def install_web(app: FastAPI) -> None:
    """Serve the pages, their assets and the language switch on ``app``."""
    mount_static(app)
    app.mount(HUB_STATIC_PATH, StaticFiles(directory=HUB_STATIC_DIR), name="hub-static")
    mount_reports_static(app)
    app.include_router(language_routes([Depends(Public())]))
    app.include_router(web_router())
    install_page_errors(app)
