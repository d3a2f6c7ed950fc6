"""MQTT client settings shared by agent and hub, and a publish that reports the broker's verdict."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterable
from typing import Any

import aiomqtt
import paho.mqtt.client as paho
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

NODELAY: tuple[int, int, int] = (socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
"""Nagle's algorithm against delayed acks costs ~90 ms per request/reply on loopback."""

SOCKET_OPTIONS: tuple[tuple[int, int, int], ...] = (NODELAY,)


class PublishRefused(aiomqtt.MqttError):
    """The broker answered a publish with an MQTT 5 failure reason code (>= 0x80)."""

    def __init__(self, topic: str, reason: ReasonCode) -> None:
        super().__init__(f"broker refused publish to {topic!r}: {reason} ({reason.value:#x})")
        self.topic = topic
        self.reason = reason


class AckedClient(aiomqtt.Client):
    """aiomqtt client whose ``publish_acked`` reads the PUBACK reason code.

    aiomqtt's own ``publish`` ignores the reason code, so a refusal (0x87, not
    authorised) would look like success and an outbox would delete the message.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("socket_options", SOCKET_OPTIONS)
        super().__init__(*args, **kwargs)
        self._acks: dict[int, asyncio.Future[ReasonCode | None]] = {}

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
    ) -> None:
        """Publish and wait for the broker's acknowledgement; raise if it did not accept."""
        fut: asyncio.Future[ReasonCode | None] = asyncio.get_running_loop().create_future()
        info = self._client.publish(topic, payload, qos, retain)
        if info.rc != paho.MQTT_ERR_SUCCESS:
            raise aiomqtt.MqttCodeError(info.rc, f"could not publish to {topic!r}")
        if info.is_published():
            return
        self._acks[info.mid] = fut
        try:
            reason = await asyncio.wait_for(fut, timeout)
        except TimeoutError:
            msg = f"no acknowledgement for {topic!r} within {timeout} s"
            raise aiomqtt.MqttError(msg) from None
        finally:
            self._acks.pop(info.mid, None)
        if reason is not None and reason.is_failure:
            raise PublishRefused(topic, reason)

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


def topics_of(filters: Iterable[str]) -> list[tuple[str, int]]:
    """Subscription list at QoS 1 for the given filters."""
    return [(f, 1) for f in filters]


__all__ = [
    "NODELAY",
    "SOCKET_OPTIONS",
    "AckedClient",
    "PublishRefused",
    "session_properties",
    "topics_of",
]
