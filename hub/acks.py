"""The end-to-end acknowledgement: a retained ``StoredAck`` per agent after each committed batch.

Throttled per agent: at most one every ``interval_s``, and the newest always goes out within
that interval. Submitting never waits (the ingest hands over what it committed and goes
on); sending happens in this publisher's own task. An ack that could not be sent (the link
was down) is sent again after the next connect.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping

from hub.boots import AckBoots
from hub.stats import IngestStats
from protocol import RoomTopics, StoredAck, encode
from protocol.aio import wait_within

logger = logging.getLogger(__name__)

Send = Callable[[str, bytes], Awaitable[None]]
"""Publish a retained QoS 1 payload on a topic and wait for the broker's acknowledgement."""


class AckPublisher:
    """Sends each agent's newest acknowledgement, throttled, from its own task."""

    def __init__(
        self,
        root: str,
        hub_id: str,
        send: Send,
        *,
        interval_s: float = 0.25,
        stats: IngestStats | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.root = root
        self.sender = f"hub/{hub_id}"
        self.send = send
        self.interval_s = interval_s
        self.stats = stats or IngestStats()
        self.clock = clock
        self._pending: dict[str, AckBoots] = {}
        """Agent → its newest acknowledgement not sent yet."""
        self._unconfirmed: dict[str, AckBoots] = {}
        """Agent → the acknowledgement sent last, until the broker confirms it."""
        self._last_sent: dict[str, float] = {}
        self._wake = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def pending(self) -> int:
        return len(self._pending)

    def submit(self, acks: Mapping[str, AckBoots]) -> None:
        """Take the acknowledgements a committed batch owes (never blocks)."""
        if not acks:
            return
        self._pending.update(acks)
        self._wake.set()

    def reconnected(self) -> None:
        """Send again what the broker did not confirm before the link went down."""
        for agent, boots in self._unconfirmed.items():
            self._pending.setdefault(agent, boots)
        self._last_sent.clear()
        if self._pending:
            self._wake.set()

    def _payload(self, boots: AckBoots) -> bytes:
        return encode(StoredAck(sender=self.sender, boots=boots))

    async def _send_one(self, agent: str, boots: AckBoots) -> None:
        site, room = agent.split("/", 1)
        topic = RoomTopics(site, room, self.root).ack
        try:
            await self.send(topic, self._payload(boots))
        except Exception as exc:  # a failed ack is sent again, never fatal
            self.stats.acks_failed += 1
            logger.debug("ack for %s not sent (%s); again after the next connect", agent, exc)
            return
        self.stats.acks_sent += 1
        if self._unconfirmed.get(agent) is boots:
            del self._unconfirmed[agent]

    def _start(self, agent: str, boots: AckBoots) -> None:
        self._unconfirmed[agent] = boots
        task = asyncio.create_task(self._send_one(agent, boots), name=f"ack-{agent}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def run(self) -> None:
        """Send what is due, then sleep until the next one is (or something new comes)."""
        try:
            while True:
                self._wake.clear()
                now = self.clock()
                wait: float | None = None
                for agent in list(self._pending):
                    due = self._last_sent.get(agent, float("-inf")) + self.interval_s
                    if due <= now:
                        self._last_sent[agent] = now
                        self._start(agent, self._pending.pop(agent))
                    else:
                        wait = due - now if wait is None else min(wait, due - now)
                if wait is None:
                    await self._wake.wait()
                else:
                    with contextlib.suppress(TimeoutError):
                        await wait_within(self._wake.wait(), wait)
        finally:
            for task in list(self._tasks):
                task.cancel()


__all__ = ["AckPublisher", "Send"]
