"""The MQTT consumer: persistent session, batched writes, acknowledgement after commit."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import random
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Literal

import aiomqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from hub.acks import AckPublisher
from hub.batches import BatchStorer, Received
from hub.errors import NotConnected, PublishFailed
from hub.metrics import HubMetrics
from hub.parsing import Classifier, Ignored, Parsed, Rejected
from hub.settings import HubSettings
from hub.stats import IngestStats
from hub.store import BatchResult, Store
from protocol import CommandReply, HubStatus, encode, hub_status_topic, hub_subscriptions
from protocol.aio import wait_within
from protocol.client import AckedClient, ProtocolFallback, topics_of
from protocol.tls import tls_failure

logger = logging.getLogger(__name__)

INLINE_BYTES = 8 * 1024
"""Payloads larger than this are read at once, so the queue never holds their bytes."""

BatchObserver = Callable[[Sequence[Parsed]], None]
"""Given the valid messages of each batch once committed (QoS 1 redeliveries included), on
the event loop: it must return at once (queue any slow work, e.g. a webhook or InfluxDB)."""
OnReply = Callable[[CommandReply, str, str], bool]
"""Hand a reply from (site, room) to the command waiting for it; False if none is."""


class Ingest:
    """Owns the hub's MQTT connection; stores what arrives and acks it once committed."""

    def __init__(
        self,
        settings: HubSettings,
        store: Store,
        *,
        on_reply: OnReply | None = None,
        metrics: HubMetrics | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.on_reply = on_reply
        self.metrics = metrics or HubMetrics()
        self.stats = IngestStats()
        self.boot = uuid.uuid4().hex[:12]
        self._client: AckedClient | None = None
        self._ready = False
        self._pending: list[Received] = []
        self._pending_max = max(settings.ingest_batch_max * 20, 1000)
        self._first_at = 0.0
        self._in_flight = 0
        self._wakeup = asyncio.Event()
        self._full = asyncio.Event()
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="hub-ingest")
        self._tls = settings.tls_context()
        self.protocol = ProtocolFallback(f"hub {settings.hub_id}")
        self.classify = Classifier(
            settings.topic_root,
            store.roster,
            hub_id=settings.hub_id,
            max_payload_bytes=settings.max_payload_bytes,
            clock_skew_max_s=settings.clock_skew_max_s,
        )
        self.batches = BatchStorer(
            store,
            lambda topic, payload, retain: self.classify(topic, payload, retained=retain),
            self.stats,
            self._executor,
        )
        self.acks = AckPublisher(
            settings.topic_root,
            settings.hub_id,
            self._send_ack,
            interval_s=settings.ack_interval_ms / 1000,
            stats=self.stats,
        )
        self.on_batch: Callable[[BatchResult], None] | None = None
        """Called after each committed batch (the dead-letter pruner counts them)."""
        self.observers: list[BatchObserver] = []
        """Each is given the messages of every committed batch (see ``BatchObserver``)."""

    @property
    def connected(self) -> bool:
        """Connected, subscribed and announced online."""
        return self._ready

    @property
    def pending(self) -> int:
        """Messages received and not yet stored (queued or being written)."""
        return len(self._pending) + self._in_flight

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
            tls_context=self._tls,
            **self.protocol.session_args(s.session_expiry_s),
        )
        client.manual_ack()  # before connecting: nothing may be acknowledged before it is stored
        client.deliver_to(
            lambda topic, payload, mid, qos, retain: self.receive(
                client, topic, payload, mid, qos, retain=retain
            )
        )
        return client

    async def run(self) -> None:
        """Consume until cancelled, reconnecting with a capped, jittered backoff."""
        async with asyncio.TaskGroup() as tg:
            tg.create_task(self._flush_loop())
            tg.create_task(self.acks.run())
            await self._connection_loop()

    def subscriptions(self) -> list[str]:
        s = self.settings
        return hub_subscriptions(s.topic_root, s.share_group, s.hub_id)

    async def _connection_loop(self) -> None:
        s = self.settings
        delay = s.reconnect_min_s
        while True:
            client = self.make_client()
            try:
                async with client:
                    self._client = client
                    self.protocol.connected()
                    await client.subscribe(topics_of(self.subscriptions()))
                    await client.publish_acked(
                        hub_status_topic(s.topic_root, s.hub_id),
                        self._hub_status("online"),
                        retain=True,
                    )
                    self._ready = True
                    self.stats.connects += 1
                    self.acks.reconnected()
                    delay = s.reconnect_min_s
                    logger.info("hub %s: connected to %s:%s (%s)",
                                s.hub_id, s.mqtt_host, s.mqtt_port, self.protocol.name)  # fmt: skip
                    await client.until_disconnected()  # messages go to receive meanwhile
            except aiomqtt.MqttError as exc:
                if self.protocol.failed(exc):
                    continue  # at once, in MQTT 3.1.1
                refused = tls_failure(exc)
                if refused is not None:
                    logger.error("hub %s: refusing the broker %s:%s: %s; retrying in %.1f s",
                                 s.hub_id, s.mqtt_host, s.mqtt_port, refused, delay)  # fmt: skip
                else:
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
        self,
        client: AckedClient | None,
        topic: str,
        payload: bytes,
        mid: int,
        qos: int,
        *,
        retain: bool = False,
    ) -> None:
        """Queue one message for the next batch (on the loop thread); never raises.

        A reply is read and routed at once; a large payload is read at once so that only
        what is kept of it waits in the queue.
        """
        self.stats.received += 1
        item = Received(client, mid, qos, topic, payload, retain)
        try:
            if qos == 0 and len(self._pending) >= self._pending_max:
                self.stats.overload_dropped += 1
                return
            if len(payload) > INLINE_BYTES or _is_reply(topic):
                item.parsed = self.classify(topic, payload, retained=retain)
                item.payload = b""
                self._route_reply(item.parsed)
        except Exception:  # nothing received may stop ingest
            logger.exception("hub %s: unexpected error receiving on %s", self.settings.hub_id,
                             topic[:200])  # fmt: skip
        self._pending.append(item)
        if len(self._pending) == 1:
            self._first_at = time.monotonic()
            self._wakeup.set()
        if len(self._pending) >= self.settings.ingest_batch_max:
            self._full.set()

    def _route_reply(self, parsed: Parsed | Rejected | Ignored) -> None:
        if not isinstance(parsed, Parsed) or not isinstance(parsed.message, CommandReply):
            return
        if self.on_reply is None:
            return
        try:
            if self.on_reply(parsed.message, parsed.topic.site, parsed.topic.room):
                self.stats.replies += 1
        except Exception:  # a waiting command's trouble must not stop ingest
            logger.exception("hub %s: routing reply %s failed", self.settings.hub_id,
                             parsed.message.id)  # fmt: skip

    async def _flush_loop(self) -> None:
        batch_max = self.settings.ingest_batch_max
        flush_s = self.settings.ingest_flush_ms / 1000
        while True:
            await self._wakeup.wait()
            remaining = self._first_at + flush_s - time.monotonic()
            if len(self._pending) < batch_max and remaining > 0:
                with contextlib.suppress(TimeoutError):
                    await wait_within(self._full.wait(), remaining)
            batch = self._pending[:batch_max]
            del self._pending[:batch_max]
            if not self._pending:
                self._wakeup.clear()
            if len(self._pending) < batch_max:
                self._full.clear()
            await self.flush(batch)

    async def flush(self, batch: Sequence[Received]) -> BatchResult:
        """Store a batch (retrying while the database is unavailable), then acknowledge it
        and hand its agents' acknowledgements to the publisher."""
        started = time.perf_counter()
        self._in_flight += len(batch)
        try:
            result = await self.batches.store_batch(batch)
        finally:
            self._in_flight -= len(batch)
        self._count(result, batch)
        self.metrics.batch_size.observe(len(batch))
        self.metrics.store_seconds.observe(time.perf_counter() - started)
        current = self._client
        for item in batch:
            if current is not None and item.client is current and item.qos > 0:
                try:
                    current.ack(item.mid, item.qos)
                except Exception:  # a lost link: the broker sends it again
                    logger.debug("ack of %s failed; the broker will send it again", item.mid)
        self.acks.submit(result.acks)
        if self.on_batch is not None:
            self.on_batch(result)
        self._observe(batch)
        self.stats.last_batch_ms = (time.perf_counter() - started) * 1000
        return result

    def _observe(self, batch: Sequence[Received]) -> None:
        if not self.observers:
            return
        stored = [r.parsed for r in batch if isinstance(r.parsed, Parsed)]
        for observer in self.observers:
            try:
                observer(stored)
            except Exception:  # an observer's bug never stops ingest
                self.stats.observer_errors += 1
                logger.exception("hub %s: batch observer %r failed", self.settings.hub_id, observer)

    def _count(self, result: BatchResult, batch: Sequence[Received]) -> None:
        st = self.stats
        st.batches += 1
        st.stored += result.messages
        st.points += result.points
        st.events += result.events
        st.duplicates += max(result.duplicates, 0)
        st.conflicts += result.conflicts
        st.dead_letters += result.dead_letters
        for reason, n in result.dead_letters_by_reason.items():
            st.dead_letters_by_reason[reason] = st.dead_letters_by_reason.get(reason, 0) + n
        st.clock_suspects += result.clock_suspects + sum(
            1 for r in batch if isinstance(r.parsed, Parsed) and r.parsed.skew_s is not None
        )

    async def publish(
        self,
        topic: str,
        payload: bytes,
        *,
        retain: bool,
        ack_timeout_s: float,
        expiry_s: float | None = None,
    ) -> None:
        """Publish at QoS 1 on the current connection and wait for the broker's PUBACK.

        With ``expiry_s`` under MQTT 5 the broker drops the message once that many seconds
        (rounded up) have passed undelivered; MQTT 3.1.1 has no such property.
        """
        client = self._client
        if client is None or not self._ready:
            msg = "the hub is not connected to the MQTT broker"
            raise NotConnected(msg)
        properties = None
        if expiry_s is not None and self.protocol.version is aiomqtt.ProtocolVersion.V5:
            properties = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
            properties.MessageExpiryInterval = max(1, math.ceil(expiry_s))
        try:
            await client.publish_acked(
                topic, payload, 1, retain=retain, timeout=ack_timeout_s, properties=properties
            )
        except aiomqtt.MqttError as exc:
            msg = f"publish to {topic} failed: {exc}"
            raise PublishFailed(msg) from exc

    async def _send_ack(self, topic: str, payload: bytes) -> None:
        await self.publish(topic, payload, retain=True, ack_timeout_s=10)

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


def _is_reply(topic: str) -> bool:
    """``{root}/{site}/{room}/reply`` or ``…/reply/{hub}``."""
    parts = topic.split("/", 4)
    return len(parts) >= 4 and parts[3] == "reply"


__all__ = ["BatchObserver", "INLINE_BYTES", "Ingest", "IngestStats", "OnReply", "Received"]
