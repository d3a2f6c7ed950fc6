"""An MQTT client through the fault proxy to a real Mosquitto: stall, resume, reset."""

from __future__ import annotations

import asyncio

import aiomqtt
import pytest

from smartclass.broker import Mosquitto
from tests.faultproxy import FaultProxy
from tests.integration.system import login

pytestmark = pytest.mark.integration


async def next_payload(client: aiomqtt.Client) -> bytes | bytearray:
    async with asyncio.timeout(5):
        message = await anext(client.messages)
    assert isinstance(message.payload, bytes | bytearray)
    return message.payload


async def test_qos1_publish_waits_out_a_stall_and_a_reset_disconnects(
    broker: Mosquitto, topic_root: str
) -> None:
    async with FaultProxy(broker.host, broker.port) as proxy:
        client = aiomqtt.Client(
            proxy.host,
            proxy.port,
            identifier=f"{topic_root}-c",
            timeout=5,
            **login(broker, topic_root, "c"),
        )
        async with client:
            await client.subscribe(f"{topic_root}/#")
            await client.publish(f"{topic_root}/a", b"before", qos=1)
            assert await next_payload(client) == b"before"

            proxy.stall()
            forwarded, sent = proxy.stats.forwarded_up, proxy.stats.bytes_up
            topic, payload = f"{topic_root}/b", b"held"
            publish = asyncio.create_task(client.publish(topic, payload, qos=1, timeout=10))
            # the whole PUBLISH (fixed header, topic, packet id, payload) reached the proxy
            await proxy.wait_bytes_up(sent + 2 + 2 + len(topic) + 2 + len(payload))
            done, _ = await asyncio.wait({publish}, timeout=0.2)
            assert not done
            assert proxy.stats.forwarded_up == forwarded  # the broker never saw it

            proxy.resume()
            async with asyncio.timeout(5):
                await publish
            assert await next_payload(client) == b"held"

            proxy.reset()
            with pytest.raises(aiomqtt.MqttError):
                await next_payload(client)
        assert proxy.stats.reset == 1
