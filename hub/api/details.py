"""What a room's detail shows beyond its state: its clock, its boots and losses, its health."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hub.api.models import AgentHealthPublic, BootPublic
from hub.queries import RoomView
from hub.store import Store
from protocol import utcnow

CLOCK_WINDOW = timedelta(hours=1)
"""A room is flagged ``clock_suspect`` this long after a time far from the hub's clock."""


def room_extras(store: Store, view: RoomView) -> dict[str, Any]:
    """The fields of ``RoomDetailPublic`` about the agent's clock, boots and health."""
    health = store.agent_health(view.site, view.room)
    suspect_at = view.clock_suspect_at
    return {
        "clock_suspect": suspect_at is not None and utcnow() - suspect_at < CLOCK_WINDOW,
        "clock_suspects": view.clock_suspects,
        "clock_skew_s": view.clock_skew_s,
        "clock_suspect_at": suspect_at,
        "clock_offset_s": health.clock_offset_s if health else None,
        "boots": [
            BootPublic(
                boot=b.boot,
                boot_no=b.boot_no,
                era=b.era,
                first_seen=b.first_seen,
                last_seen=b.last_seen,
                highest=b.highest,
                end=b.end_seq,
                missing=b.missing,
                missing_count=b.missing_count,
                dropped_count=b.dropped_count,
            )
            for b in store.boots(view.site, view.room)
        ],
        "agent_health": health
        and AgentHealthPublic(
            boot=health.boot,
            received_at=health.received_at,
            outbox=health.report.get("outbox", {}),
            last_seq=int(health.report.get("last_seq", 0)),
            clock_offset_s=health.clock_offset_s,
        ),
    }


__all__ = ["room_extras"]
