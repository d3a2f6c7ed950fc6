"""AckedClient against a real Mosquitto: acknowledged, refused and disconnected publishes."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import aiomqtt
import pytest

from protocol.client import AckedClient, PublishRefused
from smartclass.broker import Mosquitto
from tests.integration.system import login

pytestmark = pytest.mark.integration


@pytest.fixture
def acl_broker(tmp_path: Path) -> Iterator[Mosquitto]:
    acl = tmp_path / "acl"
    acl.write_text("topic readwrite allowed/#\n")
    with Mosquitto(data_dir=tmp_path / "b", extra_config=f"acl_file {acl}\n") as broker:
        yield broker


async def test_publish_acked_returns_on_success_and_raises_on_refusal(
    acl_broker: Mosquitto,
) -> None:
    async with AckedClient(
        acl_broker.host, acl_broker.port, protocol=aiomqtt.ProtocolVersion.V5
    ) as client:
        await client.publish_acked("allowed/x", b"1")
        with pytest.raises(PublishRefused, match="0x87"):
            await client.publish_acked("denied/x", b"1")
        # the plain aiomqtt publish would have reported success for the same refusal
        await client.publish("denied/x", b"1", qos=1)


async def test_publish_acked_fails_when_the_broker_goes_away(
    own_broker: Mosquitto, topic_root: str
) -> None:
    async with AckedClient(
        own_broker.host,
        own_broker.port,
        protocol=aiomqtt.ProtocolVersion.V5,
        **login(own_broker, topic_root),
    ) as client:
        await client.publish_acked(f"{topic_root}/b", b"1")
        own_broker.stop()

        async def publish_until_it_fails() -> None:
            for _ in range(100):  # the first publishes may still fit in the socket buffer
                await client.publish_acked(f"{topic_root}/b", b"2", timeout=5)
                await asyncio.sleep(0)

        with pytest.raises(aiomqtt.MqttError):
            await publish_until_it_fails()
        assert isinstance(client._disconnected.exception(), aiomqtt.MqttError)


async def test_tcp_nodelay_is_set_on_the_client_socket(broker: Mosquitto, topic_root: str) -> None:
    import socket

    async with AckedClient(broker.host, broker.port, **login(broker, topic_root)) as client:
        sock = client._client.socket()
        assert sock is not None
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
