"""The agent's MQTT connection: persistent session (MQTT 5 or 3.1.1), will, resubscribe, backoff."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import aiomqtt

from edge.config import MqttConfig
from protocol.client import AckedClient, ProtocolFallback, topics_of
from protocol.tls import tls_failure

logger = logging.getLogger(__name__)

GOODBYE_TIMEOUT_S = 2.0
"""How long a clean shutdown waits for the broker to take the retained offline status."""
STABLE_S = 10.0
"""A connection that lived this long resets the reconnect backoff; a broker that accepts
and drops a client at once is retried with a growing delay, not every half second."""


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where the broker is and who we are to it (the password never appears in a repr)."""

    host: str
    port: int
    client_id: str
    username: str | None = None
    password: str | None = None
    tls_context: ssl.SSLContext | None = None
    """TLS to the broker, verified (``EdgeSettings.tls_context``); None: plain TCP."""

    def __repr__(self) -> str:
        tls = ", tls" if self.tls_context is not None else ""
        return f"Endpoint({self.host}:{self.port}, client_id={self.client_id!r}{tls})"


class Link:
    """Keeps one MQTT session alive for an agent, reconnecting with capped exponential backoff.

    After every (re)connect it subscribes to ``subscriptions`` and awaits
    ``on_connect(client)`` (status, retained states) before ``connected`` is
    set; then it hands every received message to ``on_message``. When its task
    is cancelled it publishes ``goodbye()`` (topic, payload; retained) and
    disconnects cleanly, so the last will is not sent. It speaks MQTT 5, or
    3.1.1 to a broker that does not (see ``ProtocolFallback``).
    """

    def __init__(
        self,
        endpoint: Endpoint,
        mqtt: MqttConfig,
        *,
        will: Callable[[int], aiomqtt.Will],
        subscriptions: list[str],
        on_connect: Callable[[AckedClient], Awaitable[None]],
        on_message: Callable[[aiomqtt.Message], Awaitable[None]],
        goodbye: Callable[[], tuple[str, bytes]] | None = None,
        label: str = "",
        max_inflight: int = 100,
        on_change: Callable[[bool], None] | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.mqtt = mqtt
        self.will = will
        self.subscriptions = subscriptions
        self.on_connect = on_connect
        self.on_message = on_message
        self.goodbye = goodbye
        self.on_change = on_change
        """Told True once connected (``on_connect`` done), False when the session is lost."""
        self.label = label or endpoint.client_id
        self.max_inflight = max_inflight
        self.connected = asyncio.Event()
        """Set while a session is up and ``on_connect`` has completed."""
        self.client: AckedClient | None = None
        self.generation = 0
        """Incremented at each successful connect."""
        self.conn = 0
        """Incremented at each connect attempt: the will and the online status carry it."""
        self._changed = asyncio.Condition()
        self.protocol = ProtocolFallback(self.label)
        self.stable_s = STABLE_S
        """A connection that lived this long resets the reconnect backoff."""
        """The MQTT version spoken: 5 until the broker shows it has only 3.1.1."""

    def backoff(self, attempt: int) -> float:
        """Delay before reconnect attempt ``attempt`` (0-based): doubling, capped, jittered."""
        cap = min(self.mqtt.reconnect_max_s, self.mqtt.reconnect_min_s * 2 ** min(attempt, 30))
        return random.uniform(cap / 2, cap)

    async def wait_client(self) -> tuple[AckedClient, int]:
        """The connected client and its generation, once there is one."""
        while True:
            await self.connected.wait()
            if self.client is not None:
                return self.client, self.generation

    async def wait_reconnect(self, generation: int, within_s: float) -> None:
        """Return when a connection newer than ``generation`` is up, or after ``within_s``."""
        async with self._changed:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(within_s):
                    await self._changed.wait_for(
                        lambda: self.generation > generation and self.connected.is_set()
                    )

    def _make_client(self) -> AckedClient:
        ep = self.endpoint
        self.conn += 1
        return AckedClient(
            ep.host,
            ep.port,
            username=ep.username,
            password=ep.password,
            identifier=ep.client_id,
            will=self.will(self.conn),
            keepalive=self.mqtt.keepalive_s,
            timeout=10,
            max_inflight_messages=self.max_inflight,
            tls_context=ep.tls_context,
            **self.protocol.session_args(self.mqtt.session_expiry_s),
        )

    async def run(self) -> None:
        """Connect, serve and reconnect until cancelled."""
        attempt = 0
        loop = asyncio.get_running_loop()
        while True:
            connected_at: float | None = None
            try:
                async with self._make_client() as client:
                    connected_at = loop.time()
                    await self._serve(client)
            except aiomqtt.MqttError as exc:
                if self.protocol.failed(exc):
                    continue  # at once, in MQTT 3.1.1
                log = logger.warning if attempt == 0 else logger.info
                ep = self.endpoint
                refused = tls_failure(exc)
                if refused is not None:  # an error each time: nothing gets better by itself
                    logger.error("%s: refusing the broker %s:%s: %s", self.label, ep.host,
                                 ep.port, refused)  # fmt: skip
                    log = logger.debug
                log(
                    "%s: MQTT connection to %s:%s lost or refused: %s",
                    self.label,
                    ep.host,
                    ep.port,
                    exc,
                )
            finally:
                await self._set_down()
            if connected_at is not None and loop.time() - connected_at >= self.stable_s:
                attempt = 0
            delay = self.backoff(attempt)
            attempt += 1
            logger.info("%s: reconnecting in %.1f s", self.label, delay)
            await asyncio.sleep(delay)

    async def _serve(self, client: AckedClient) -> None:
        try:
            await self._serve_until_lost(client)
        except asyncio.CancelledError:  # a stop at any point: say offline, or leave the will
            await self._say_goodbye(client)
            raise

    async def _serve_until_lost(self, client: AckedClient) -> None:
        granted = await client.subscribe(topics_of(self.subscriptions))
        refused = [
            f
            for f, code in zip(self.subscriptions, granted, strict=False)
            if getattr(code, "is_failure", False)
        ]
        if refused:
            logger.error("%s: broker refused subscriptions to %s", self.label, refused)
        self.client = client
        self.protocol.connected()
        await self.on_connect(client)
        async with self._changed:
            self.generation += 1
            self.connected.set()
            self._changed.notify_all()
        self._tell(True)
        logger.info(
            "%s: connected to %s:%s as %s (%s)",
            self.label,
            self.endpoint.host,
            self.endpoint.port,
            self.endpoint.client_id,
            self.protocol.name,
        )
        async for message in client.messages:
            try:
                await self.on_message(message)
            except aiomqtt.MqttError:
                raise
            except Exception:
                logger.exception(
                    "%s: error handling a message on %s", self.label, message.topic.value
                )

    async def _say_goodbye(self, client: AckedClient) -> None:
        if self.goodbye is None:
            return
        topic, payload = self.goodbye()
        try:
            async with asyncio.timeout(GOODBYE_TIMEOUT_S + 0.5):
                await client.publish_acked(
                    topic, payload, 1, retain=True, timeout=GOODBYE_TIMEOUT_S
                )
        except (aiomqtt.MqttError, TimeoutError) as exc:
            logger.warning("%s: could not publish the offline status: %s", self.label, exc)

    async def _set_down(self) -> None:
        was_up = self.connected.is_set()
        self.connected.clear()
        self.client = None
        if was_up:
            self._tell(False)

    def _tell(self, up: bool) -> None:
        if self.on_change is None:
            return
        try:
            self.on_change(up)
        except Exception:  # a listener's fault must not cost the link
            logger.exception("%s: link change listener failed", self.label)


__all__ = ["GOODBYE_TIMEOUT_S", "Endpoint", "Link"]
