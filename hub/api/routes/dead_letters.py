"""Dead letters: recent messages the hub could not read, with their reasons."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from hub.access import Action
from hub.api.auth import Allowed
from hub.api.deps import StoreDep
from hub.api.models import DeadLetterPublic
from hub.api.responses import error_responses

router = APIRouter(prefix="/dead-letters", tags=["dead letters"])

PREVIEW_BYTES = 1024


@router.get("", responses=error_responses({422: "a bad `limit`"}))
def list_dead_letters(
    _: Annotated[object, Depends(Allowed(Action.HUB_ADMIN))],
    store: StoreDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[DeadLetterPublic]:
    """The most recent dead letters, newest first."""
    return [
        DeadLetterPublic(
            id=d.id,
            topic=d.topic,
            reason=d.reason,
            detail=d.detail,
            size=d.size,
            payload_preview=d.payload[:PREVIEW_BYTES].decode("utf-8", errors="replace"),
            received_at=d.received_at,
        )
        for d in store.dead_letters(limit)
    ]


__all__ = ["router"]
