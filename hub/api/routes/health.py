"""Health of the hub: ``/api/v1/health`` in detail, ``/healthz`` for probes."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, status
from fastapi.responses import JSONResponse

from hub.access import Action
from hub.api.auth import Allowed, Public
from hub.api.deps import HubDep, HubState
from hub.api.models import (
    HealthPublic,
    HealthzPublic,
    InfluxExportPublic,
    IngestCountersPublic,
    LossTotalsPublic,
)
from hub.api.responses import BODY_TOO_LARGE
from hub.health import problems, warnings
from protocol import utcnow
from protocol.bounds import safe_text

router = APIRouter(tags=["health"])
healthz_router = APIRouter(tags=["health"], responses=BODY_TOO_LARGE)

CLOCK_WINDOW = timedelta(hours=1)


def _problems(hub: HubState, database_error: str | None) -> list[str]:
    return problems(hub.ingest, hub.supervisor, database_error=database_error, alerts=hub.alerts)


def _warnings(hub: HubState) -> list[str]:
    """What IT should see but a probe must not act on: the optional InfluxDB export failing
    makes no restart of the hub help, and the hub stores everything meanwhile."""
    return warnings(hub.alerts) + (hub.influx.problems() if hub.influx else [])


@router.get("/health")
def health(_: Annotated[object, Depends(Allowed(Action.HUB_ADMIN))], hub: HubDep) -> HealthPublic:
    """Always 200 while the process serves: read ``ok`` and ``problems`` (or use ``/healthz``)."""
    ingest = hub.ingest
    store = hub.store
    database_error = None
    dead: dict[str, int] = {}
    losses = None
    clock_rooms = 0
    alerts = None
    try:
        if hub.alerts is not None:
            alerts = hub.alerts.health(hub.alerts.store.active_counts())
        dead = store.dead_letter_counts()
        totals = store.loss_totals()
        losses = LossTotalsPublic.model_validate(totals, from_attributes=True)
        clock_rooms = store.clock_suspect_rooms(utcnow() - CLOCK_WINDOW)
    except Exception as exc:  # health reports the database, it must not fail on it
        database_error = safe_text(exc, 300)
    found = _problems(hub, database_error)
    supervisor = hub.supervisor
    pusher = hub.config_pusher
    return HealthPublic(
        hub_id=hub.settings.hub_id,
        ok=not found,
        problems=found,
        ingest_running=bool(supervisor and supervisor.running),
        mqtt_connected=bool(ingest and ingest.connected),
        ingest_pending=ingest.pending if ingest else 0,
        ingest_restarts=supervisor.restarts if supervisor else 0,
        commands_waiting=hub.commander.waiting,
        forged_replies=hub.commander.forged_replies,
        acks_pending=ingest.acks.pending if ingest else 0,
        counters=IngestCountersPublic.model_validate(ingest.stats) if ingest else None,
        dead_letters_stored=dead,
        dead_letters_pruned=hub.pruner.pruned if hub.pruner else 0,
        losses=losses,
        clock_suspect_rooms=clock_rooms,
        config_pushes_pending=len(pusher.pending) if pusher else 0,
        config_pushes_failed=pusher.failed if pusher else 0,
        warnings=_warnings(hub),
        alerts=alerts,
        influx=InfluxExportPublic.model_validate(hub.influx.snapshot()) if hub.influx else None,
    )


@healthz_router.get(
    "/healthz",
    response_model=HealthzPublic,
    responses={
        status.HTTP_200_OK: {"description": "The hub is well: ingest running, MQTT connected."},
        status.HTTP_503_SERVICE_UNAVAILABLE: {
            "model": HealthzPublic,
            "description": "Something is wrong; ``problems`` says what (ingest not running, "
            "MQTT not connected, database errors, a recent restart of the ingest).",
        },
    },
)
def healthz(_: Annotated[None, Depends(Public())], hub: HubDep) -> JSONResponse:
    """For load balancers and service managers; no authentication, no detail beyond problems."""
    database_error = None
    try:
        hub.store.ping()
    except Exception as exc:  # the probe reports the database, it must not fail on it
        database_error = safe_text(exc, 300)
    found = _problems(hub, database_error)
    if found:
        body = HealthzPublic(status="unhealthy", problems=found)
        return JSONResponse(body.model_dump(), status_code=status.HTTP_503_SERVICE_UNAVAILABLE)
    return JSONResponse(HealthzPublic(status="ok").model_dump(exclude={"problems"}))


__all__ = ["healthz_router", "router"]
