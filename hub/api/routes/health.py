"""Health of the hub: MQTT link, ingest counters, dead letters."""

from __future__ import annotations

from fastapi import APIRouter

from hub.api.deps import HubDep
from hub.api.models import HealthPublic, IngestCountersPublic

router = APIRouter(tags=["health"])


@router.get("/health")
def health(hub: HubDep) -> HealthPublic:
    """Always 200 while the process serves; read ``mqtt_connected`` for the link."""
    ingest = hub.ingest
    return HealthPublic(
        hub_id=hub.settings.hub_id,
        mqtt_connected=bool(ingest and ingest.connected),
        ingest_pending=ingest.pending if ingest else 0,
        commands_waiting=hub.commander.waiting,
        counters=IngestCountersPublic.model_validate(ingest.stats) if ingest else None,
        dead_letters_stored=hub.store.dead_letter_counts(),
    )


__all__ = ["router"]
