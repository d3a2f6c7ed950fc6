"""Drains the outbox to the broker: oldest first, a window in flight, delete only after PUBACK."""

from __future__ import annotations

import asyncio
import logging

import aiomqtt

from edge.link import Link
from edge.outbox import Outbox, OutboxMessage
from protocol.client import AckedClient

logger = logging.getLogger(__name__)

SEND_WINDOW = 100
"""Messages in flight at once; paho writes them to the socket in order."""
SEND_BATCH = 500
"""Rows read per batch; their acknowledgements are deleted in one transaction."""
PUBLISH_TIMEOUT_S = 10.0


class OutboxSender:
    """Publishes the outbox through ``link`` until cancelled.

    After a failed publish (disconnect, refusal or timeout) it waits for the
    next connection (or ``retry_s``) and resends from the oldest unacknowledged
    row: the broker may see a message twice, the hub dedupes by boot and seq.
    """

    def __init__(
        self,
        outbox: Outbox,
        link: Link,
        *,
        retry_s: float,
        window: int = SEND_WINDOW,
        batch: int = SEND_BATCH,
        label: str = "",
    ) -> None:
        self.outbox = outbox
        self.link = link
        self.retry_s = retry_s
        self.window = window
        self.batch = batch
        self.label = label
        self._changed = asyncio.Event()

    def notify(self) -> None:
        """Tell the sender there are new rows (or a new connection)."""
        self._changed.set()

    async def run(self) -> None:
        while True:
            client, generation = await self.link.wait_client()
            failed = False
            try:
                await self._drain(client)
            except* aiomqtt.MqttError as group:
                failed = True
                logger.warning("%s: outbox send interrupted: %s", self.label, group.exceptions[0])
            if failed:
                await self.link.wait_reconnect(generation, self.retry_s)

    async def _drain(self, client: AckedClient) -> None:
        """Publish oldest first until ``client`` is no longer the link's; raise on failure."""
        while self.link.client is client:
            rows = self.outbox.peek(self.batch)
            if not rows:
                self._changed.clear()
                await self._changed.wait()
                continue
            acked: list[int] = []
            try:
                await self._send_batch(client, rows, acked)
            finally:
                self.outbox.delete(acked)

    async def _send_batch(
        self, client: AckedClient, rows: list[OutboxMessage], acked: list[int]
    ) -> None:
        window = asyncio.Semaphore(self.window)

        async def send(row: OutboxMessage) -> None:
            try:
                await client.publish_acked(
                    row.topic, row.payload, row.qos, retain=row.retain, timeout=PUBLISH_TIMEOUT_S
                )
                acked.append(row.id)
            finally:
                window.release()

        async with asyncio.TaskGroup() as tg:
            for row in rows:
                await window.acquire()
                tg.create_task(send(row))


__all__ = ["PUBLISH_TIMEOUT_S", "SEND_BATCH", "SEND_WINDOW", "OutboxSender"]
