"""``GET /metrics``: the hub's metrics for Prometheus (scraped with an IT user's token)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response
from prometheus_client import CONTENT_TYPE_LATEST

from hub.access import Action, Caller
from hub.api.auth import Allowed
from hub.api.deps import HubDep
from hub.api.responses import AUTH_ERRORS, BODY_TOO_LARGE

metrics_router = APIRouter(tags=["health"])


@metrics_router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {
            "content": {CONTENT_TYPE_LATEST.split(";")[0]: {}},
            "description": "Prometheus text format: ingest rates, batch sizes, store latency,"
            " commands and their outcomes, and what the hub's parts report",
        },
        **AUTH_ERRORS,
        **BODY_TOO_LARGE,
    },
)
def metrics(_: Annotated[Caller, Depends(Allowed(Action.HUB_ADMIN))], hub: HubDep) -> Response:
    """Every metric of this hub process (Prometheus: ``authorization: {credentials: TOKEN}``)."""
    return Response(hub.metrics.render(), media_type=CONTENT_TYPE_LATEST)


__all__ = ["metrics_router"]
