"""The hub's answer to a room's help request, on the room's retained ``help`` topic.

Each change of a help alert (raised, asked again, acknowledged, resolved, ended) is published
as a ``HelpAck``; only the newest answer per room waits, so the pending work is bounded by the
number of rooms. A failed publish (the broker away) is tried again with a backoff until it
goes through; nothing waits for it but the room.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from hub.alerts.kinds import AlertKind
from hub.alerts.store import AlertRecord, RoomKey
from hub.errors import HubError
from protocol import HelpAck, RoomTopics, encode

logger = logging.getLogger(__name__)

Publish = Callable[..., Awaitable[None]]
"""``publish(topic, payload, *, retain, ack_timeout_s)``: the ingest's QoS 1 publish."""
ACK_TIMEOUT_S = 10.0
RETRY_MIN_S = 0.5
RETRY_MAX_S = 10.0


def help_ack(alert: AlertRecord, hub_id: str) -> HelpAck | None:
    """The answer a help alert gives its room (None if it names no request)."""
    request = alert.data.get("request")
    if not isinstance(request, dict) or not request.get("boot") or not request.get("seq"):
        return None
    if alert.resolved_by:
        by, comment = alert.resolved_by, alert.resolve_comment or ""
    else:
        by, comment = alert.acknowledged_by or "", alert.ack_comment or ""
    return HelpAck(
        sender=f"hub/{hub_id}",
        alert=alert.id,
        state=alert.state.value,
        boot=str(request["boot"]),
        seq=int(request["seq"]),
        reason=str(alert.data.get("reason", "")),
        by=by,
        comment=comment,
    )


class HelpPublisher:
    """Publishes the newest answer of each room's help alert; ``run`` is its sender."""

    def __init__(self, root: str, hub_id: str, publish: Publish) -> None:
        self.root = root
        self.hub_id = hub_id
        self.publish = publish
        self.sent = 0
        self.failures = 0
        self._latest: dict[RoomKey, HelpAck] = {}
        self._wake = asyncio.Event()

    @property
    def pending(self) -> int:
        return len(self._latest)

    def submit(self, alert: AlertRecord) -> None:
        """Queue the answer of a help alert (a newer one for its room replaces it)."""
        if alert.kind != AlertKind.HELP:
            return
        ack = help_ack(alert, self.hub_id)
        if ack is None:
            return
        room = (alert.site, alert.room)
        current = self._latest.get(room)
        if current is not None and current.alert > ack.alert:
            return  # a later request's alert is already waiting
        self._latest[room] = ack
        self._wake.set()

    async def run(self) -> None:
        delay = RETRY_MIN_S
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._latest:
                room, ack = next(iter(self._latest.items()))
                topic = RoomTopics(room[0], room[1], self.root).help
                try:
                    await self.publish(topic, encode(ack), retain=True, ack_timeout_s=ACK_TIMEOUT_S)
                except Exception as exc:  # the broker away (HubError), or refused: again later
                    self.failures += 1
                    log = logger.info if isinstance(exc, HubError) else logger.warning
                    log("help answer for %s/%s not published yet: %r", *room, exc)
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, RETRY_MAX_S)
                    continue
                delay = RETRY_MIN_S
                self.sent += 1
                if self._latest.get(room) is ack:
                    del self._latest[room]


__all__ = ["HelpPublisher", "Publish", "help_ack"]
