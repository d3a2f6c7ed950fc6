"""Agent and hub against a broker that speaks only MQTT 3.1.1 (amqtt): they fall back and work."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import aiomqtt
import pytest

from protocol.aio import wait_within
from protocol.client import (
    UNSUPPORTED_PROTOCOL_VERSION,
    AckedClient,
    NoConnack,
    ProtocolFallback,
    refuses_mqtt5,
    session_properties,
)
from protocol.messages import Command, CommandReply, Status, Telemetry, decode, encode, utcnow
from smartclass.broker import BrokerError, free_port, wait_listening
from smartclass.processes import die_with_parent
from tests.integration.system import (
    AgentProcess,
    HubProcess,
    eventually,
    make_agent,
    running,
    write_room,
)

pytestmark = pytest.mark.integration

WAIT_S = 30.0
"""amqtt keeps silent on the agent's MQTT 5 CONNECT: the first attempt waits out its 10 s."""

AMQTT_CONFIG = """\
listeners:
  default:
    type: tcp
    bind: {host}:{port}
plugins:
  amqtt.plugins.authentication.AnonymousAuthPlugin:
    allow_anonymous: true
"""


class Amqtt:
    """amqtt, a pure-Python broker of MQTT 3.1.1 only, as a child process on a free port."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = free_port(host)
        self._tmp = tempfile.TemporaryDirectory(prefix="smartclass-amqtt-")
        self.config_path = Path(self._tmp.name) / "amqtt.yaml"
        self.config_path.write_text(AMQTT_CONFIG.format(host=host, port=self.port))
        self.log_path = Path(self._tmp.name) / "amqtt.log"
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 20.0) -> None:
        command = [sys.executable, "-m", "amqtt.scripts.broker_script", "-c", str(self.config_path)]
        with self.log_path.open("ab") as log:
            self._proc = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=die_with_parent,
            )
        try:
            wait_listening(self.host, self.port, timeout)
        except BrokerError:
            self.stop()
            raise AssertionError(f"amqtt did not start:\n{self.log()}") from None

    def stop(self) -> None:
        if self._proc is not None:
            self._proc.terminate()  # amqtt keeps nothing across a restart
            try:
                self._proc.wait(10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            self._proc = None

    def close(self) -> None:
        self.stop()
        self._tmp.cleanup()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:]


@pytest.fixture
def amqtt() -> Iterator[Amqtt]:
    broker = Amqtt()
    broker.start()
    try:
        yield broker
    finally:
        broker.close()


def plain_client(broker: Amqtt) -> aiomqtt.Client:
    return aiomqtt.Client(broker.host, broker.port, protocol=aiomqtt.ProtocolVersion.V311)


async def next_on(client: aiomqtt.Client, topic: str) -> aiomqtt.Message:
    async with asyncio.timeout(WAIT_S):
        async for message in client.messages:
            if message.topic.matches(topic):
                return message
    raise AssertionError(f"no message on {topic}")  # pragma: no cover


async def test_a_311_broker_answers_mqtt5_with_return_code_1(amqtt: Amqtt) -> None:
    reader, writer = await asyncio.open_connection(amqtt.host, amqtt.port)
    try:  # CONNECT, protocol level 5, clean start, keepalive 10, no properties, client id "p"
        writer.write(b"\x10\x0e\x00\x04MQTT\x05\x02\x00\x0a\x00\x00\x01p")
        async with asyncio.timeout(10):
            assert await reader.readexactly(4) == b"\x20\x02\x00\x01"  # CONNACK, 3.1.1 framing
            assert await reader.read() == b""  # then the broker closes the connection
    finally:
        writer.close()
        await writer.wait_closed()

    client = AckedClient(amqtt.host, amqtt.port, protocol=aiomqtt.ProtocolVersion.V5)
    with pytest.raises(aiomqtt.MqttError) as caught:
        await client.__aenter__()
    assert refuses_mqtt5(caught.value)
    assert caught.value.rc.value == UNSUPPORTED_PROTOCOL_VERSION  # type: ignore[attr-defined]
    fallback = ProtocolFallback("probe")
    assert fallback.failed(caught.value)
    assert fallback.session_args(60) == {
        "protocol": aiomqtt.ProtocolVersion.V311,
        "clean_session": False,
    }


async def test_a_silent_broker_gives_no_connack_and_no_leaked_socket(amqtt: Amqtt) -> None:
    # amqtt reads the agent's MQTT 5 CONNECT (session expiry, will) as 3.1.1: the property
    # bytes become the client id's length, and it waits for a will topic that never comes
    client = AckedClient(
        amqtt.host,
        amqtt.port,
        protocol=aiomqtt.ProtocolVersion.V5,
        clean_start=False,
        properties=session_properties(60),
        will=aiomqtt.Will("t/will", b"x", 1, retain=True),
        timeout=1,
    )
    with pytest.raises(NoConnack, match="no answer to CONNECT within 1"):
        await client.__aenter__()
    assert client._client.socket() is None


async def test_a_peer_that_hangs_up_on_connect_gives_no_connack_at_once() -> None:
    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(1)
        writer.close()

    server = await asyncio.start_server(hang_up, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        client = AckedClient("127.0.0.1", port, protocol=aiomqtt.ProtocolVersion.V5, timeout=10)
        started = asyncio.get_running_loop().time()
        with pytest.raises(NoConnack, match="closed before any CONNACK"):
            await client.__aenter__()
        assert asyncio.get_running_loop().time() - started < 5  # not aiomqtt's 10 s timeout


async def test_agent_falls_back_to_311_and_serves_the_room(
    amqtt: Amqtt, topic_root: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="protocol.client")
    agent, factory = make_agent(amqtt, topic_root, tmp_path)
    topics = agent.topics
    async with plain_client(amqtt) as hub:
        await hub.subscribe(f"{topics.base}/#", qos=1)
        async with running(agent, wait_connected=False):
            await wait_within(agent.connected.wait(), WAIT_S)
            assert agent.link.protocol.version is aiomqtt.ProtocolVersion.V311

            # retained status, read by a subscriber that comes after it
            async with plain_client(amqtt) as late:
                await late.subscribe(topics.status, qos=1)
                message = await next_on(late, topics.status)
                assert message.retain
                status = decode(Status, message.payload)
                assert (status.state, status.boot) == ("online", agent.boot)

            # telemetry, through the outbox: taken by the broker (the hub's ack comes later)
            telemetry = decode(Telemetry, (await next_on(hub, topics.telemetry)).payload)
            assert telemetry.boot == agent.boot

            async def sent() -> bool:
                return await agent.unsent() == 0

            await eventually(sent, WAIT_S, "the outbox to be sent")

            command = Command(
                sender="hub/test",
                id="c1",
                device="lights",
                action="set",
                params={"zone": "front", "level": 60},
                issuer="teacher-1",
                expires=utcnow() + timedelta(seconds=30),
            )
            await hub.publish(topics.command("lights"), encode(command), qos=1)
            reply = decode(CommandReply, (await next_on(hub, topics.reply)).payload)
            assert (reply.id, reply.code) == ("c1", "ok")
            assert factory.pin(18).state == pytest.approx(0.6)

        # a clean stop leaves the retained offline status
        status = decode(Status, (await next_on(hub, topics.status)).payload)
        assert status.state == "offline"

    fallbacks = [r for r in caplog.records if "does not speak MQTT 5" in r.getMessage()]
    assert len(fallbacks) == 1
    assert fallbacks[0].levelno == logging.WARNING


async def test_hub_stores_a_killed_agents_telemetry_and_its_will(
    amqtt: Amqtt, topic_root: str, tmp_path: Path, database_url: str
) -> None:
    hub = HubProcess(amqtt, topic_root, tmp_path / "hub", database_url=database_url)
    hub.start()
    room = write_room(tmp_path / "rooms", root=topic_root, interval=0.2)
    agent = AgentProcess(room, amqtt, tmp_path)
    try:
        async with plain_client(amqtt) as sub:
            status_topic = f"{topic_root}/thcs-nguyen-chi-thanh/6a1/status"
            await sub.subscribe(status_topic, qos=1)
            online = decode(Status, (await next_on(sub, status_topic)).payload)
            assert online.state == "online"
            await hub.wait_connected(WAIT_S)
            name = "thcs-nguyen-chi-thanh/6a1"
            await eventually(lambda: asyncio.to_thread(hub.stored_seqs, name), WAIT_S, "telemetry")

            agent.kill()  # no goodbye: the broker publishes the agent's last will
            status = decode(Status, (await next_on(sub, status_topic)).payload)
            assert (status.state, status.boot) == ("offline", online.boot)
    finally:
        agent.close()
        hub.close()
    assert "does not speak MQTT 5" in (tmp_path / "hub" / "hub.log").read_text()
