"""Publications outside the outbox (state, status, replies, health) that survive a lost link.

A publish that fails, or finds no connection, is kept and sent again after the next
connect: for a retained topic the latest message wins (an older state is never sent
after a newer one); replies are kept in order, a bounded number of them. Nothing here
ever raises to the caller because of the link.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Callable

import aiomqtt

from protocol.client import AckedClient

logger = logging.getLogger(__name__)

PUBLISH_TIMEOUT_S = 10.0
PENDING_MAX = 1000
"""Most publications kept while the link is down; beyond, the oldest are dropped."""


class Publisher:
    """Publishes at QoS 1 on the current connection, keeping what could not be sent."""

    def __init__(self, client: Callable[[], AckedClient | None], *, label: str) -> None:
        self._client = client
        self.label = label
        self._pending: OrderedDict[str, tuple[str, bytes, bool]] = OrderedDict()
        """key → (topic, payload, retain): a retained topic's key is the topic."""
        self.dropped = 0
        """Publications given up because too many waited."""
        self._flushing = asyncio.Lock()

    @property
    def pending(self) -> int:
        return len(self._pending)

    async def publish(
        self, topic: str, payload: bytes, *, retain: bool, key: str | None = None
    ) -> bool:
        """Publish now if possible; else keep it for the next connect. True if it went out."""
        key = key or topic
        client = self._client()
        if client is not None:
            try:
                await client.publish_acked(
                    topic, payload, 1, retain=retain, timeout=PUBLISH_TIMEOUT_S
                )
            except aiomqtt.MqttError as exc:
                logger.info("%s: %s not published (%s); kept for the next connect",
                            self.label, topic, exc)  # fmt: skip
            else:
                self._pending.pop(key, None)  # a newer one went out: the kept one is stale
                return True
        self._keep(key, topic, payload, retain)
        return False

    def _keep(self, key: str, topic: str, payload: bytes, retain: bool) -> None:
        self._pending.pop(key, None)
        self._pending[key] = (topic, payload, retain)
        while len(self._pending) > PENDING_MAX:
            self._pending.popitem(last=False)
            self.dropped += 1

    async def flush(self, client: AckedClient) -> None:
        """Send what was kept, oldest first; raise MqttError if the link fails again."""
        async with self._flushing:
            while self._pending:
                key, (topic, payload, retain) = next(iter(self._pending.items()))
                await client.publish_acked(
                    topic, payload, 1, retain=retain, timeout=PUBLISH_TIMEOUT_S
                )
                if self._pending.get(key) == (topic, payload, retain):
                    del self._pending[key]


__all__ = ["PENDING_MAX", "Publisher"]
