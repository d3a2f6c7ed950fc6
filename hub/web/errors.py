"""Errors of page routes as pages: no session sends the browser to sign in; a refusal says so.

The API keeps its JSON errors (``{"detail": …}``); only routes outside ``/api``, the
metrics and the health check are pages.
"""

from __future__ import annotations

from typing import Final
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from hub.web.pages import render

__all__ = ["NOT_PAGES", "install_page_errors", "is_page"]

NOT_PAGES: Final = ("/api/", "/healthz", "/metrics", "/openapi.json", "/static/")


def is_page(request: Request) -> bool:
    path = request.url.path
    return not any(path == p.rstrip("/") or path.startswith(p) for p in NOT_PAGES)


async def _page_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if not is_page(request):
        return await http_exception_handler(request, exc)
    if exc.status_code == 401:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
    # the language links go back to the start page: a refusal repeats nothing of the address
    return render(
        request, None, "error.html", status_code=exc.status_code, status=exc.status_code,
        lang_next="/",
    )  # fmt: skip


def install_page_errors(app: FastAPI) -> None:
    app.add_exception_handler(StarletteHTTPException, _page_error)
