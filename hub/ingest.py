"""The MQTT consumer: persistent session, batched writes, acknowledgement after commit."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal

import aiomqtt
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError

from hub.errors import NotConnected, PublishFailed
from hub.parsing import Ignored, Parsed, Rejected, classify
from hub.settings import HubSettings
from hub.store import BatchResult, Store
from protocol import CommandReply, HubStatus, encode, hub_status_topic, hub_subscriptions, utcnow
from protocol.client import AckedClient, ProtocolFallback, topics_of
from protocol.topics import HUB_SEGMENT

logger = logging.getLogger(__name__)


@dataclass
class IngestStats:
    """Counters since the hub started, for the health endpoint."""

    received: int = 0
    stored: int = 0
    """Valid messages written (duplicates included)."""
    points: int = 0
    events: int = 0
    duplicates: int = 0
    """Telemetry points and events that were already stored (QoS 1 redeliveries)."""
    dead_letters: int = 0
    dead_letters_by_reason: dict[str, int] = field(default_factory=dict)
    replies: int = 0
    """Replies handed to a waiting command."""
    batches: int = 0
    last_batch_ms: float = 0.0
    write_errors: int = 0
    connects: int = 0


@dataclass(slots=True)
class Received:
    """A message not yet stored, with what is needed to acknowledge it afterwards."""

    client: AckedClient | None
    mid: int
    qos: int
    topic: str
    payload: bytes
    parsed: Parsed | Rejected | Ignored | None = None


class Ingest:
    """Owns the hub's MQTT connection; stores what arrives and acks it once committed."""

    def __init__(
        self,
        settings: HubSettings,
        store: Store,
        *,
        on_reply: Callable[[CommandReply], bool] | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.on_reply = on_reply
        self.stats = IngestStats()
        self.boot = uuid.uuid4().hex[:12]
        self._client: AckedClient | None = None
        self._ready = False
        self._pending: list[Received] = []
        self._first_at = 0.0
        self._wakeup = asyncio.Event()
        self._full = asyncio.Event()
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="hub-ingest")
        self.protocol = ProtocolFallback(f"hub {settings.hub_id}")
        self._hub_prefix = f"{settings.topic_root}/{HUB_SEGMENT}/"

    @property
    def connected(self) -> bool:
        """Connected, subscribed and announced online."""
        return self._ready

    @property
    def pending(self) -> int:
        return len(self._pending)

    def _hub_status(self, state: Literal["online", "offline"]) -> bytes:
        sender = f"hub/{self.settings.hub_id}"
        return encode(HubStatus(sender=sender, state=state, boot=self.boot))

    def make_client(self) -> AckedClient:
        """A client for one connection: persistent session (MQTT 5 or 3.1.1), manual acks, will."""
        s = self.settings
        will = aiomqtt.Will(
            hub_status_topic(s.topic_root, s.hub_id),
            self._hub_status("offline"),
            qos=1,
            retain=True,
        )
        client = AckedClient(
            s.mqtt_host,
            s.mqtt_port,
            username=s.mqtt_username.get_secret_value() if s.mqtt_username else None,
            password=s.mqtt_password.get_secret_value() if s.mqtt_password else None,
            identifier=s.hub_id,
            will=will,
            keepalive=s.keepalive_s,
            **self.protocol.session_args(s.session_expiry_s),
        )
        client.manual_ack()  # before connecting: nothing may be acknowledged before it is stored
        return client

    async def run(self) -> None:
        """Consume until cancelled, reconnecting with a capped, jittered backoff."""
        async with asyncio.TaskGroup() as tg:
            tg.create_task(self._flush_loop())
            await self._connection_loop()

    async def _connection_loop(self) -> None:
        s = self.settings
        delay = s.reconnect_min_s
        while True:
            client = self.make_client()
            try:
                async with client:
                    self._client = client
                    self.protocol.connected()
                    await client.subscribe(topics_of(hub_subscriptions(s.topic_root)))
                    await client.publish_acked(
                        hub_status_topic(s.topic_root, s.hub_id),
                        self._hub_status("online"),
                        retain=True,
                    )
                    self._ready = True
                    self.stats.connects += 1
                    delay = s.reconnect_min_s
                    logger.info("hub %s: connected to %s:%s (%s)",
                                s.hub_id, s.mqtt_host, s.mqtt_port, self.protocol.name)  # fmt: skip
                    async for message in client.messages:
                        payload = message.payload
                        raw = payload if isinstance(payload, bytes) else str(payload).encode()
                        self.receive(client, message.topic.value, raw, message.mid, message.qos)
            except aiomqtt.MqttError as exc:
                if self.protocol.failed(exc):
                    continue  # at once, in MQTT 3.1.1
                logger.warning(
                    "hub %s: MQTT connection to %s:%s failed or lost (%s); retrying in %.1f s",
                    s.hub_id, s.mqtt_host, s.mqtt_port, exc, delay,
                )  # fmt: skip
            finally:
                self._ready = False
                self._client = None
            await asyncio.sleep(delay * random.uniform(0.8, 1.2))
            delay = min(delay * 2, s.reconnect_max_s)

    def receive(
        self, client: AckedClient | None, topic: str, payload: bytes, mid: int, qos: int
    ) -> None:
        """Queue one message for the next batch; route a reply at once (on the loop thread)."""
        self.stats.received += 1
        item = Received(client, mid, qos, topic, payload)
        if topic.startswith(self._hub_prefix):  # hubs' own statuses match sc/+/+/status
            item.parsed = Ignored(topic)
        elif "/reply" in topic:
            item.parsed = classify(topic, payload, self.settings.topic_root)
            message = item.parsed.message if isinstance(item.parsed, Parsed) else None
            if isinstance(message, CommandReply) and self.on_reply and self.on_reply(message):
                self.stats.replies += 1
        self._pending.append(item)
        if len(self._pending) == 1:
            self._first_at = time.monotonic()
            self._wakeup.set()
        if len(self._pending) >= self.settings.ingest_batch_max:
            self._full.set()

    async def _flush_loop(self) -> None:
        batch_max = self.settings.ingest_batch_max
        flush_s = self.settings.ingest_flush_ms / 1000
        while True:
            await self._wakeup.wait()
            remaining = self._first_at + flush_s - time.monotonic()
            if len(self._pending) < batch_max and remaining > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._full.wait(), remaining)
            batch = self._pending[:batch_max]
            del self._pending[:batch_max]
            if not self._pending:
                self._wakeup.clear()
            if len(self._pending) < batch_max:
                self._full.clear()
            await self.flush(batch)

    async def flush(self, batch: Sequence[Received]) -> BatchResult:
        """Store a batch (retrying while the database is unavailable), then acknowledge it."""
        loop = asyncio.get_running_loop()
        started = time.perf_counter()
        delay, one_by_one = 0.1, False
        while True:
            try:
                result = await loop.run_in_executor(self._executor, self._store, batch, one_by_one)
                break
            except SQLAlchemyError as exc:
                if not _transient(exc) and not one_by_one:
                    logger.error("the database refused a batch of %d (%s); storing one by one",
                                 len(batch), exc)  # fmt: skip
                    one_by_one = True
                    continue
                self.stats.write_errors += 1
                logger.error("database unavailable (%s); retrying the batch in %.1f s", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
        self._count(result, batch)
        current = self._client
        for item in batch:
            if item.client is not None and item.client is current:
                item.client.ack(item.mid, item.qos)
        self.stats.last_batch_ms = (time.perf_counter() - started) * 1000
        return result

    def _store(self, batch: Sequence[Received], one_by_one: bool) -> BatchResult:
        """Parse and write (worker thread)."""
        root = self.settings.topic_root
        items = [r.parsed or classify(r.topic, r.payload, root) for r in batch]
        for r, parsed in zip(batch, items, strict=True):
            r.parsed = parsed
            if isinstance(parsed, Rejected):
                logger.warning(
                    "dead letter on %s: %s: %s", parsed.topic, parsed.reason, parsed.detail
                )
        if not one_by_one:
            return self.store.write_batch([i for i in items if not isinstance(i, Ignored)])
        total = BatchResult()
        for r in batch:
            if r.parsed is None or isinstance(r.parsed, Ignored):
                continue
            try:
                part = self.store.write_batch([r.parsed])
            except SQLAlchemyError as exc:
                if _transient(exc):
                    raise
                logger.warning("dead letter on %s: the database refused it: %s", r.topic, exc)
                r.parsed = Rejected(r.topic, r.payload, "store_error", str(exc)[:500], utcnow())
                part = self.store.write_batch([r.parsed])
            for name in ("messages", "points", "events", "duplicates", "dead_letters"):
                setattr(total, name, getattr(total, name) + getattr(part, name))
        return total

    def _count(self, result: BatchResult, batch: Sequence[Received]) -> None:
        st = self.stats
        st.batches += 1
        st.stored += result.messages
        st.points += result.points
        st.events += result.events
        st.duplicates += max(result.duplicates, 0)
        st.dead_letters += result.dead_letters
        for r in batch:
            if isinstance(r.parsed, Rejected):
                reason = r.parsed.reason
                st.dead_letters_by_reason[reason] = st.dead_letters_by_reason.get(reason, 0) + 1

    async def publish(
        self, topic: str, payload: bytes, *, retain: bool, ack_timeout_s: float
    ) -> None:
        """Publish at QoS 1 on the current connection and wait for the broker's PUBACK."""
        client = self._client
        if client is None or not self._ready:
            msg = "the hub is not connected to the MQTT broker"
            raise NotConnected(msg)
        try:
            await client.publish_acked(topic, payload, 1, retain=retain, timeout=ack_timeout_s)
        except aiomqtt.MqttError as exc:
            msg = f"publish to {topic} failed: {exc}"
            raise PublishFailed(msg) from exc

    async def stop(self, task: asyncio.Task[Any] | None = None) -> None:
        """Announce offline (a clean disconnect sends no will), stop consuming, finish writes."""
        client = self._client
        if client is not None and self._ready:
            try:
                status = self._hub_status("offline")
                await client.publish_acked(
                    hub_status_topic(self.settings.topic_root, self.settings.hub_id),
                    status,
                    retain=True,
                    timeout=2,
                )
            except aiomqtt.MqttError as exc:
                logger.warning("hub %s: could not announce offline: %s", self.settings.hub_id, exc)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await asyncio.to_thread(self._executor.shutdown, wait=True)


def _transient(exc: SQLAlchemyError) -> bool:
    """Worth retrying: a lost connection, a locked database, a server going away."""
    return isinstance(exc, OperationalError) or (
        isinstance(exc, DBAPIError) and exc.connection_invalidated
    )


__all__ = ["Ingest", "IngestStats", "Received"]
