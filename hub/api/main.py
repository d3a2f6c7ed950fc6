"""The ``/api/v1`` router: every resource's router together."""

from __future__ import annotations

from fastapi import APIRouter

from hub.api.responses import BODY_TOO_LARGE
from hub.api.routes import commands, dead_letters, health, rooms

api_router = APIRouter(prefix="/api/v1", responses=BODY_TOO_LARGE)
api_router.include_router(health.router)
api_router.include_router(rooms.router)
api_router.include_router(commands.router)
api_router.include_router(dead_letters.router)

__all__ = ["api_router"]
