"""ProtocolFallback: which MQTT version the next connect speaks after what the broker did."""

from __future__ import annotations

import asyncio
import logging

import aiomqtt
import pytest
from aiomqtt.exceptions import MqttConnectError
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.reasoncodes import ReasonCode

from protocol.client import NoConnack, ProtocolFallback, refuses_mqtt5
from tests.fakes import FakeClock

V5, V311 = aiomqtt.ProtocolVersion.V5, aiomqtt.ProtocolVersion.V311


def connack(name: str) -> MqttConnectError:
    return MqttConnectError(ReasonCode(PacketTypes.CONNACK, aName=name))


def test_unsupported_protocol_version_is_a_refusal_of_mqtt5() -> None:
    assert refuses_mqtt5(connack("Unsupported protocol version"))
    assert not refuses_mqtt5(connack("Not authorized"))
    assert not refuses_mqtt5(MqttConnectError(1))  # a 3.1.1 client's own refusal: not ours
    assert not refuses_mqtt5(aiomqtt.MqttError("[Errno 111] Connection refused"))


def test_refused_mqtt5_then_accepted_311_stays_311(caplog: pytest.LogCaptureFixture) -> None:
    fallback = ProtocolFallback("room")
    assert fallback.session_args(60)["protocol"] is V5
    assert fallback.failed(connack("Unsupported protocol version"))  # retry at once
    assert fallback.session_args(60) == {"protocol": V311, "clean_session": False}
    fallback.connected()
    fallback.connected()
    assert fallback.settled
    assert not fallback.failed(aiomqtt.MqttError("connection lost"))  # usual backoff
    assert fallback.version is V311  # kept until restart
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "does not speak MQTT 5" in warnings[0].getMessage()


def test_a_silence_followed_by_a_failed_311_attempt_goes_back_to_mqtt5() -> None:
    fallback = ProtocolFallback("room")
    assert fallback.failed(NoConnack("no answer to CONNECT within 10 s"))
    assert fallback.version is V311
    assert not fallback.failed(aiomqtt.MqttError("[Errno 111] Connection refused"))
    assert fallback.version is V5
    assert not fallback.settled


def test_other_failures_keep_mqtt5() -> None:
    fallback = ProtocolFallback("room")
    assert not fallback.failed(connack("Not authorized"))
    assert not fallback.failed(aiomqtt.MqttError("[Errno 111] Connection refused"))
    fallback.connected()
    assert (fallback.version, fallback.settled) == (V5, False)
    args = fallback.session_args(60)
    assert args["clean_start"] is False
    assert args["properties"].SessionExpiryInterval == 60


def test_after_a_silence_mqtt5_is_tried_again_later() -> None:
    # a network that stalls a new connection looks like a broker without MQTT 5: the
    # fallback must not last until restart
    clock = FakeClock(0.0)
    fallback = ProtocolFallback("room", probe_after_s=600, clock=clock)
    assert fallback.failed(NoConnack("no answer to CONNECT within 10 s"))
    assert fallback.session_args(60)["protocol"] is V311
    fallback.connected()
    assert fallback.settled
    clock.advance(599)
    assert fallback.session_args(60)["protocol"] is V311
    clock.advance(1)
    assert fallback.session_args(60)["protocol"] is V5
    assert not fallback.settled


def test_after_an_explicit_refusal_mqtt311_stays_past_the_probe_time() -> None:
    clock = FakeClock(0.0)
    fallback = ProtocolFallback("room", probe_after_s=600, clock=clock)
    assert fallback.failed(connack("Unsupported protocol version"))
    fallback.connected()
    clock.advance(10_000)
    assert fallback.session_args(60)["protocol"] is V311


async def test_a_disconnect_after_a_cancelled_connect_wait_still_marks_the_client_down() -> None:
    # a stop during a connect cancels aiomqtt's connected future; its disconnect handler
    # then raised instead of marking the client disconnected, and a clean exit hung forever
    from paho.mqtt.client import DisconnectFlags

    from protocol.client import AckedClient

    client = AckedClient("127.0.0.1", 1)
    client._connected.set_result(None)
    client._connected = asyncio.get_running_loop().create_future()
    client._connected.cancel()
    reason = ReasonCode(PacketTypes.DISCONNECT, aName="Normal disconnection")
    client._on_disconnect(client._client, None, DisconnectFlags(False), reason, None)
    assert client._disconnected.done()
