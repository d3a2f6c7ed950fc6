"""MQTT client settings shared by agent and hub, and a publish that reports the broker's verdict."""

from __future__ import annotations

import asyncio
import logging
import math
import socket
import ssl
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Self, TypeVar

import aiomqtt
import paho.mqtt.client as paho
from aiomqtt.exceptions import MqttConnectError
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from protocol.aio import wait_within

NODELAY: tuple[int, int, int] = (socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
"""Nagle's algorithm against delayed acks costs ~90 ms per request/reply on loopback."""

SOCKET_OPTIONS: tuple[tuple[int, int, int], ...] = (NODELAY,)

DISCONNECT_TIMEOUT_S = 5.0
"""Longest a disconnect waits for the broker before the socket is simply closed."""
UNSUPPORTED_PROTOCOL_VERSION = 0x84
"""MQTT 5 CONNACK reason code; paho also reports a 3.1.1 broker's return code 1 as this."""

logger = logging.getLogger(__name__)
T = TypeVar("T")

Sink = Callable[[str, bytes, int, int, bool], None]
"""``sink(topic, payload, mid, qos, retain)``: takes one received message on the loop thread,
must return at once and never raise."""


class PublishRefused(aiomqtt.MqttError):
    """The broker answered a publish with an MQTT 5 failure reason code (>= 0x80)."""

    def __init__(self, topic: str, reason: ReasonCode) -> None:
        super().__init__(f"broker refused publish to {topic!r}: {reason} ({reason.value:#x})")
        self.topic = topic
        self.reason = reason


class NoConnack(aiomqtt.MqttError):
    """The broker took the TCP connection, then closed it or stayed silent instead of a CONNACK."""


class AckedClient(aiomqtt.Client):
    """aiomqtt client whose ``publish_acked`` reads the PUBACK reason code.

    aiomqtt's own ``publish`` ignores the reason code, so a refusal (0x87, not
    authorised) would look like success and an outbox would delete the message.
    A broker that takes the connection but never answers CONNECT raises
    ``NoConnack`` (aiomqtt would wait out its timeout, or leave the socket open).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("socket_options", SOCKET_OPTIONS)
        super().__init__(*args, **kwargs)
        context = kwargs.get("tls_context")
        if isinstance(context, ssl.SSLContext) and context.check_hostname:
            self._client._ssl_wrap_socket = self._tls_wrapper(context)  # type: ignore[method-assign,assignment]
        self._acks: dict[int, asyncio.Future[ReasonCode | None]] = {}
        self._sink: Sink | None = None
        self.sink_errors = 0
        """Messages the sink raised on, each dropped (a sink must not raise)."""

    def _tls_wrapper(self, context: ssl.SSLContext) -> Callable[[socket.socket], ssl.SSLSocket]:
        """paho's TLS wrapping, closing the socket when the handshake fails (paho leaves it
        open: one file descriptor each time a broker is refused). The context itself checks
        the broker's name (``protocol.tls.client_context``)."""
        paho_client = self._client

        def wrap(tcp: socket.socket) -> ssl.SSLSocket:
            sock = context.wrap_socket(
                tcp, server_hostname=paho_client.host, do_handshake_on_connect=False
            )
            try:
                sock.settimeout(paho_client.connect_timeout)
                sock.do_handshake()
            except BaseException:
                sock.close()
                raise
            return sock

        return wrap

    async def __aenter__(self) -> Self:
        try:
            return await super().__aenter__()
        except aiomqtt.MqttError as exc:
            refused = (MqttConnectError, aiomqtt.MqttReentrantError)
            if self._client.socket() is None or isinstance(exc, refused):
                raise
            # aiomqtt gave up waiting for the CONNACK but leaves the socket open
            self._client._sock_close()
            if isinstance(exc, NoConnack):
                raise
            msg = f"no answer to CONNECT within {self.timeout} s"
            raise NoConnack(msg) from exc

    async def _wait_for(self, fut: Awaitable[T], timeout: float | None) -> T:
        """aiomqtt's wait (subscribe, publish, connect) without ``asyncio.wait_for``, which on
        Python 3.11 swallows a cancellation that meets the broker's answer (``protocol.aio``)."""
        if timeout is None:
            timeout = self.timeout
        try:
            return await wait_within(fut, None if timeout == math.inf else timeout)
        except TimeoutError:
            msg = "Operation timed out"
            raise aiomqtt.MqttError(msg) from None

    async def __aexit__(self, *exc_info: Any) -> None:
        """Disconnect; never wait more than DISCONNECT_TIMEOUT_S for the broker to agree."""
        try:
            async with asyncio.timeout(DISCONNECT_TIMEOUT_S):
                await super().__aexit__(*exc_info)
        except TimeoutError:
            logger.warning(
                "no clean disconnect within %s s; closing the socket", DISCONNECT_TIMEOUT_S
            )
            if not self._disconnected.done():
                self._disconnected.set_result(None)
            if self._lock.locked():
                self._lock.release()
            self._client._sock_close()

    def _on_publish(
        self,
        client: paho.Client,
        userdata: Any,
        mid: int,
        reason_code: ReasonCode,
        properties: Properties,
    ) -> None:
        fut = self._acks.pop(mid, None)
        if fut is not None and not fut.done():
            fut.set_result(reason_code)
        super()._on_publish(client, userdata, mid, reason_code, properties)

    def _on_disconnect(
        self,
        client: paho.Client,
        userdata: Any,
        flags: paho.DisconnectFlags,
        reason_code: ReasonCode,
        properties: Properties | None = None,
    ) -> None:
        pending, self._acks = self._acks, {}
        for fut in pending.values():
            if not fut.done():
                fut.set_exception(
                    aiomqtt.MqttError(f"disconnected before acknowledgement: {reason_code}")
                )
        if self._lock.locked() and not self._connected.done():  # aiomqtt would wait out its timeout
            msg = f"the connection closed before any CONNACK ({reason_code})"
            self._connected.set_exception(NoConnack(msg))
        if self._connected.cancelled():
            # a task cancelled while waiting on it (a stop during a connect): aiomqtt's own
            # handler would raise reading it and never mark the client disconnected, and its
            # __aexit__ would wait for that forever
            self._connected = asyncio.get_running_loop().create_future()
            self._connected.set_result(None)
        super()._on_disconnect(client, userdata, flags, reason_code, properties)
        # aiomqtt stores an unexpected disconnection as the future's exception; whoever owns
        # the connection learns of it through the message iterator or a failed call, so mark
        # it seen here instead of letting asyncio log "Future exception was never retrieved".
        if self._disconnected.done() and not self._disconnected.cancelled():
            self._disconnected.exception()

    async def publish_acked(
        self,
        topic: str,
        payload: bytes,
        qos: int = 1,
        *,
        retain: bool = False,
        timeout: float = 10.0,
        properties: Properties | None = None,
    ) -> None:
        """Publish and wait for the broker's acknowledgement; raise if it did not accept.

        Only MQTT 5 can refuse: a 3.1.1 PUBACK has no reason code, so it always means success.
        ``properties`` (MQTT 5 only) go with the PUBLISH, e.g. a message expiry interval.
        """
        fut: asyncio.Future[ReasonCode | None] = asyncio.get_running_loop().create_future()
        info = self._client.publish(topic, payload, qos, retain, properties)
        if info.rc != paho.MQTT_ERR_SUCCESS:
            raise aiomqtt.MqttCodeError(info.rc, f"could not publish to {topic!r}")
        if info.is_published():
            return
        self._acks[info.mid] = fut
        try:
            reason = await wait_within(fut, timeout)
        except TimeoutError:
            msg = f"no acknowledgement for {topic!r} within {timeout} s"
            raise aiomqtt.MqttError(msg) from None
        finally:
            self._acks.pop(info.mid, None)
        if reason is not None and reason.is_failure:
            raise PublishRefused(topic, reason)

    def deliver_to(self, sink: Sink | None) -> None:
        """Hand every received message straight to ``sink`` as paho reads it, on the loop
        thread: no message object, no queue and no task per message, which is most of what a
        message costs a consumer taking thousands a second (the hub's intake). ``messages``
        stays empty meanwhile; ``until_disconnected`` waits for the end of the connection.
        Set it before connecting, so that nothing (a retained message) arrives before it."""
        self._sink = sink

    async def until_disconnected(self) -> None:
        """Wait for the connection to end; always raises ``MqttError``, as aiomqtt's message
        iterator does (with the cause when the disconnection was unexpected)."""
        await asyncio.wait([self._disconnected])  # a cancelled wait leaves the future alone
        cause = None if self._disconnected.cancelled() else self._disconnected.exception()
        msg = "disconnected"
        raise aiomqtt.MqttError(msg) from cause

    def _on_message(self, client: paho.Client, userdata: Any, message: paho.MQTTMessage) -> None:
        sink = self._sink
        if sink is None:
            super()._on_message(client, userdata, message)
            return
        try:
            topic = message.topic
        except UnicodeDecodeError:  # a broker should refuse it; the sink then rejects it
            topic = bytes(message._topic).decode("utf-8", "replace")
        try:
            sink(topic, bytes(message.payload), message.mid, message.qos, message.retain)
        except Exception:  # paho would end the connection on it; only this message is lost
            self.sink_errors += 1
            logger.exception("a received message could not be taken (mid %s)", message.mid)

    def ack(self, mid: int, qos: int) -> None:
        """Acknowledge a received message (with manual acknowledgement switched on)."""
        self._client.ack(mid, qos)

    def manual_ack(self, on: bool = True) -> None:
        """Acknowledge received QoS 1 messages only when ``ack`` is called, after they are safe."""
        self._client.manual_ack_set(on)


def session_properties(expiry_s: int) -> Properties:
    """CONNECT properties for a persistent MQTT 5 session that outlives ``expiry_s`` of absence."""
    from paho.mqtt.packettypes import PacketTypes

    props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
    props.SessionExpiryInterval = expiry_s
    return props


def refuses_mqtt5(exc: BaseException) -> bool:
    """Whether a failed MQTT 5 connect was refused for its protocol version."""
    return (
        isinstance(exc, MqttConnectError)
        and isinstance(exc.rc, ReasonCode)
        and exc.rc.value == UNSUPPORTED_PROTOCOL_VERSION
    )


class ProtocolFallback:
    """The MQTT version one client speaks to its broker: 5, or 3.1.1 for a broker without 5.

    After an MQTT 5 connect that the broker refused for its protocol version (a
    3.1.1 broker's CONNACK return code 1) or took without answering
    (``NoConnack``), the next attempt speaks 3.1.1 at once. Once the broker has
    accepted 3.1.1 after an explicit refusal, this object keeps to it (logged
    once). Silence is weaker evidence (a stalled network looks the same), so after
    a fallback on silence MQTT 5 is tried again at the first connect after
    ``probe_after_s``. A failed 3.1.1 attempt sends the next one back to MQTT 5: a
    silent broker may just have been in trouble.
    """

    def __init__(
        self,
        label: str,
        *,
        probe_after_s: float = 600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.label = label
        self.version = aiomqtt.ProtocolVersion.V5
        self.settled = False
        """True once the broker has accepted MQTT 3.1.1 after refusing (or ignoring) 5."""
        self.probe_after_s = probe_after_s
        self._clock = clock
        self._refused = False
        self._probe_at: float | None = None
        self._why = ""

    @property
    def name(self) -> str:
        return "MQTT 5" if self.version is aiomqtt.ProtocolVersion.V5 else "MQTT 3.1.1"

    def session_args(self, expiry_s: int) -> dict[str, Any]:
        """``AckedClient`` arguments for a persistent session in the current version."""
        if self._probe_at is not None and self._clock() >= self._probe_at:
            logger.info("%s: trying MQTT 5 again", self.label)
            self.version, self.settled, self._probe_at = aiomqtt.ProtocolVersion.V5, False, None
        if self.version is aiomqtt.ProtocolVersion.V5:
            props = session_properties(expiry_s)
            return {"protocol": self.version, "clean_start": False, "properties": props}
        return {"protocol": self.version, "clean_session": False}

    def failed(self, exc: BaseException) -> bool:
        """Account for a failed connect; True if the next attempt should follow at once."""
        if self.version is not aiomqtt.ProtocolVersion.V5:
            if not self.settled:
                self.version = aiomqtt.ProtocolVersion.V5
            return False
        if not (refuses_mqtt5(exc) or isinstance(exc, NoConnack)):
            return False
        self.version = aiomqtt.ProtocolVersion.V311
        self._refused = refuses_mqtt5(exc)
        self._why = str(exc)
        logger.info("%s: the broker did not accept MQTT 5 (%s); trying MQTT 3.1.1", self.label, exc)
        return True

    def connected(self) -> None:
        """Account for an accepted connect (logs the first 3.1.1 one)."""
        if self.version is aiomqtt.ProtocolVersion.V311 and not self.settled:
            self.settled = True
            if not self._refused:
                self._probe_at = self._clock() + self.probe_after_s
            until = "until restart" if self._refused else f"for {self.probe_after_s:.0f} s"
            logger.warning(
                "%s: the broker does not speak MQTT 5 (%s); using MQTT 3.1.1 with a persistent "
                "session (clean session off) %s",
                self.label,
                self._why,
                until,
            )


def topics_of(filters: Iterable[str]) -> list[tuple[str, int]]:
    """Subscription list at QoS 1 for the given filters."""
    return [(f, 1) for f in filters]


__all__ = [
    "NODELAY",
    "SOCKET_OPTIONS",
    "UNSUPPORTED_PROTOCOL_VERSION",
    "AckedClient",
    "NoConnack",
    "ProtocolFallback",
    "PublishRefused",
    "refuses_mqtt5",
    "session_properties",
    "topics_of",
]
