"""Drains the outbox to the broker, and forgets a message only once the hub has stored it.

The broker's PUBACK is flow control: up to ``window`` messages are in flight, oldest
first. A message stays in the outbox until the hub's retained acknowledgement covers
its (boot, seq). If the hub is online and has not stored a message ``resend_after_s``
after it was sent (or after the hub or the link came back, whichever is later), it is
sent again: the broker may have lost it (a crash between two autosaves). Duplicates
are harmless, the hub stores each (boot, seq) once.

A message the broker refuses (an ACL) is retried with backoff and finally parked by
the outbox; it never blocks the messages behind it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable

import aiomqtt

from edge.link import Link
from edge.outbox import OutboxMessage
from edge.storage import Storage
from protocol.client import AckedClient, PublishRefused
from protocol.messages import StoredAck

logger = logging.getLogger(__name__)

SEND_WINDOW = 100
"""Messages in flight at once; paho writes them to the socket in order."""
SEND_BATCH = 500
"""Rows read per batch."""
PUBLISH_TIMEOUT_S = 10.0
RESEND_AFTER_S = 30.0
"""How long a sent message may wait for the hub's acknowledgement before it is sent again."""
RESEND_MAX_S = 600.0
"""The wait doubles with each resend that brings no acknowledgement, up to this."""


class OutboxSender:
    """Publishes the outbox through ``link`` until cancelled."""

    def __init__(
        self,
        storage: Storage,
        link: Link,
        *,
        retry_s: float,
        resend_after_s: float = RESEND_AFTER_S,
        window: int = SEND_WINDOW,
        batch: int = SEND_BATCH,
        label: str = "",
        on_parked: Callable[[], None] = lambda: None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.storage = storage
        self.link = link
        self.retry_s = retry_s
        self.resend_after_s = resend_after_s
        self.window = window
        self.batch = batch
        self.label = label
        self.on_parked = on_parked
        self._clock = clock
        self._changed = asyncio.Event()
        self.cursor = 0
        """Highest row id sent (acknowledged by the broker) since the last resend."""
        self._sent: deque[tuple[int, float]] = deque()
        """(last row id of a batch, when it was sent), oldest first."""
        self._retry: dict[int, float] = {}
        """Refused rows and when (wall clock) to try them again."""
        self._hub_since: float | None = None
        """Since when a hub is online (None: no hub is)."""
        self._link_since = 0.0
        self.resends = 0
        """How many times unacknowledged messages were sent again."""
        self._resend_wait = resend_after_s
        """Grows while resends bring no acknowledgement (a hub that will not store them)."""
        self.acked = 0
        """Rows forgotten because the hub stored them."""

    async def unsent(self) -> int:
        """Messages not yet taken by the broker (the rest wait for the hub's acknowledgement)."""
        await self.storage.flush()
        cursor = self.cursor
        return await self.storage.run(lambda: self.storage.outbox.count_after(cursor))

    def notify(self) -> None:
        """Tell the sender there are new rows (or a new connection)."""
        self._changed.set()

    def hub_online(self, online: bool) -> None:
        """A hub came online (or none is now): the resend timer starts again from here."""
        if online and self._hub_since is None:
            self._hub_since = self._clock()
        elif not online:
            self._hub_since = None
        self.notify()

    async def on_ack(self, ack: StoredAck) -> None:
        """The hub's acknowledgement: forget every message it covers."""
        forgotten = 0
        for boot, ranges in ack.boots.items():
            forgotten += await self.storage.delete_acked(boot, [(lo, hi) for lo, hi in ranges])
        if forgotten:
            self.acked += forgotten
            self._resend_wait = self.resend_after_s  # the hub stores again
        self.notify()

    async def run(self) -> None:
        while True:
            client, generation = await self.link.wait_client()
            self._link_since = self._clock()
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
            await self._resend_if_stale()
            rows = await self._due_retries()
            rows += await self.storage.peek(self.batch, after_id=self.cursor)
            if not rows:
                self._changed.clear()
                try:
                    async with asyncio.timeout(self._idle_s()):
                        await self._changed.wait()
                except TimeoutError:
                    pass
                continue
            await self._send_batch(client, rows)

    def _idle_s(self) -> float:
        """How long to wait for news before checking for stale or due messages again."""
        wait = max(0.2, self.resend_after_s / 4)
        if self._retry:
            wait = min(wait, max(0.05, min(self._retry.values()) - time.time()))
        return wait

    async def _due_retries(self) -> list[OutboxMessage]:
        now = time.time()
        due = [row_id for row_id, at in self._retry.items() if at <= now]
        if not due:
            return []
        for row_id in due:
            del self._retry[row_id]
        return await self.storage.rows(due)

    async def _resend_if_stale(self) -> None:
        """Rewind to the oldest message the hub has not stored, once it has waited too long."""
        if self._hub_since is None or not self._sent:
            return
        first = await self.storage.first_id()
        while self._sent and (first is None or self._sent[0][0] < first):
            self._sent.popleft()  # batches the hub has stored in full
        if first is None or first > self.cursor or not self._sent or self._hub_since is None:
            return  # (the hub may have gone offline while the outbox was read)
        since = max(self._sent[0][1], self._hub_since, self._link_since)
        if self._clock() - since < self._resend_wait:
            return
        logger.warning(
            "%s: the hub has not stored messages sent %.0f s ago; sending again from row %d",
            self.label, self._clock() - self._sent[0][1], first,
        )  # fmt: skip
        self.resends += 1
        self.cursor = first - 1
        self._sent.clear()
        # if this brings no acknowledgement either, wait twice as long before the next one
        self._resend_wait = min(self._resend_wait * 2, RESEND_MAX_S)

    async def _send_batch(self, client: AckedClient, rows: list[OutboxMessage]) -> None:
        window = asyncio.Semaphore(self.window)
        refused: list[tuple[OutboxMessage, PublishRefused]] = []

        async def send(row: OutboxMessage) -> None:
            try:
                await client.publish_acked(
                    row.topic, row.payload, 1, retain=False, timeout=PUBLISH_TIMEOUT_S
                )
            except PublishRefused as exc:
                refused.append((row, exc))
            finally:
                window.release()

        try:
            async with asyncio.TaskGroup() as tg:
                for row in rows:
                    await window.acquire()
                    tg.create_task(send(row))
        finally:
            for row, exc in refused:
                await self._refused(row, exc)
        newest = max(row.id for row in rows)
        if newest > self.cursor:
            self.cursor = newest
            self._sent.append((newest, self._clock()))

    async def _refused(self, row: OutboxMessage, exc: PublishRefused) -> None:
        retry_at = await self.storage.refused(row.id, str(exc))
        if retry_at is None:
            logger.error("%s: the broker refused %s seq %s %d times; parked: %s",
                         self.label, row.topic, row.seq, row.attempts + 1, exc)  # fmt: skip
            self.on_parked()
        else:
            logger.warning("%s: the broker refused %s seq %s (%s); trying again in %.0f s",
                           self.label, row.topic, row.seq, exc, retry_at - time.time())  # fmt: skip
            self._retry[row.id] = retry_at


__all__ = ["PUBLISH_TIMEOUT_S", "RESEND_AFTER_S", "SEND_BATCH", "SEND_WINDOW", "OutboxSender"]
