"""The ``/api/v1`` router: every resource's router together."""

from __future__ import annotations

from fastapi import APIRouter

from hub.api.responses import AUTH_ERRORS, BODY_TOO_LARGE
from hub.api.routes import (
    alerts,
    attendance,
    audit,
    auth,
    commands,
    config,
    config_preview,
    dead_letters,
    enrolment,
    fleet,
    health,
    pairing,
    report_tables,
    reports,
    rooms,
    stream,
    users,
)

api_router = APIRouter(prefix="/api/v1", responses={**BODY_TOO_LARGE, **AUTH_ERRORS})
api_router.include_router(auth.router)
api_router.include_router(health.router)
api_router.include_router(rooms.router)
api_router.include_router(commands.router)
api_router.include_router(config.router)
api_router.include_router(config_preview.router)
api_router.include_router(dead_letters.router)
api_router.include_router(audit.router)
api_router.include_router(fleet.router)
api_router.include_router(alerts.router)
api_router.include_router(alerts.room_router)
api_router.include_router(reports.router)
api_router.include_router(report_tables.router)
api_router.include_router(stream.router)
api_router.include_router(pairing.router)
api_router.include_router(users.router)
api_router.include_router(attendance.rooms)
api_router.include_router(attendance.sites)
api_router.include_router(enrolment.router)

__all__ = ["api_router"]
