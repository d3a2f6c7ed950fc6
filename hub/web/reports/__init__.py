"""The admin's report pages: usage, comparisons, forecasts, attendance, and the audit log.

Every page shows what the JSON API answers for the same query (the same functions make
both), and links to the CSV of each table it shows. Pages read; nothing here changes
anything. The menu has "Reports" (``report.read``) and "Audit log" (``audit.read``); each
page filters by the caller's schools, and a school or room outside them is a 403 page.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles

from hub.access import Action
from hub.web.pages import add_menu
from hub.web.reports.attendance import router as attendance_router
from hub.web.reports.audit import router as audit_router
from hub.web.reports.compare import router as compare_router
from hub.web.reports.forecasts import router as forecasts_router
from hub.web.reports.pages import STATIC_DIR, STATIC_PATH
from hub.web.reports.usage import router as usage_router
from ui.i18n import N_

__all__ = ["mount_reports_static", "reports_router"]

add_menu(60, "/reports", N_("Reports"), Action.REPORT_READ)
add_menu(70, "/audit", N_("Audit log"), Action.AUDIT_READ)


def reports_router() -> APIRouter:
    """The report pages."""
    router = APIRouter(include_in_schema=False)
    for part in (usage_router, compare_router, forecasts_router, attendance_router, audit_router):
        router.include_router(part)
    return router


def mount_reports_static(app: FastAPI) -> None:
    """Serve the report pages' script and stylesheet."""
    app.mount(STATIC_PATH, StaticFiles(directory=STATIC_DIR), name="reports-static")
