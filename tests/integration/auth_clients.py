"""Clients of a broker with credentials and ACLs, and the topics of the ACL table made concrete."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Iterable

import aiomqtt

from protocol.client import AckedClient
from smartclass.acl import TOPICS, Party, fill
from smartclass.broker import Mosquitto
from smartclass.credentials import Credential, Deployment, RoomSpec, ha_node_id

WAIT_S = 10.0
SITE, ROOM, OTHER_ROOM, OTHER_SITE = "s1", "r1", "r2", "s2"
HUB, OTHER_HUB = "h1", "h2"


def deployment(root: str) -> Deployment:
    """Three rooms (one with Home Assistant), two hubs, a Home Assistant user."""
    return Deployment(
        root,
        rooms=(
            RoomSpec(SITE, ROOM, homeassistant=True),
            RoomSpec(SITE, OTHER_ROOM),
            RoomSpec(OTHER_SITE, ROOM),
        ),
        hubs=(HUB, OTHER_HUB),
        homeassistant_user=True,
        discovery_prefix=f"{root}-ha",
    )


def secured_broker(root: str) -> Mosquitto:
    return Mosquitto(auth=[deployment(root)])


def topic(kind: str, root: str, site: str = SITE, room: str = ROOM, hub_id: str = HUB) -> str:
    """The table's topic of ``kind`` with every placeholder given a value."""
    (rule,) = [r for r in TOPICS if r.kind == kind]
    values = {
        "root": root,
        "site": site,
        "room": room,
        "hub_id": hub_id,
        "device": "d1",
        "prefix": f"{root}-ha",
        "node_id": ha_node_id(root, site, room),
        "component": "sensor",
        "object_id": "d1_co2",
    }
    return fill(rule.pattern, values).replace("#", "x")


def kinds(*, written_by: Party | None = None, read_by: Party | None = None) -> list[str]:
    """Kinds of the table written (or read) by ``party``."""
    return [
        r.kind
        for r in TOPICS
        if (written_by is None or written_by in r.writers)
        and (read_by is None or read_by in r.readers)
    ]


@contextlib.asynccontextmanager
async def connected(
    broker: Mosquitto, credential: Credential | None, *, identifier: str | None = None
) -> AsyncIterator[AckedClient]:
    """An MQTT 5 client logged in with ``credential`` (anonymous with None)."""
    user, password = credential if credential else (None, None)
    client = AckedClient(
        broker.host,
        broker.port,
        username=user,
        password=password,
        identifier=identifier or user,
        protocol=aiomqtt.ProtocolVersion.V5,
        timeout=WAIT_S,
    )
    async with client:
        yield client


async def subscribe(client: aiomqtt.Client, filters: Iterable[str]) -> None:
    await client.subscribe([(f, 1) for f in filters])


async def topics_until(client: aiomqtt.Client, last: str) -> list[str]:
    """Topics of the messages received up to and including one on ``last``."""
    seen: list[str] = []
    async with asyncio.timeout(WAIT_S):
        async for message in client.messages:
            seen.append(message.topic.value)
            if message.topic.value == last:
                return seen
    raise AssertionError(f"nothing on {last}")  # pragma: no cover


async def topics_all(client: aiomqtt.Client, expected: set[str]) -> set[str]:
    """Receive until every topic of ``expected`` has come; return every topic seen."""
    seen: set[str] = set()
    async with asyncio.timeout(WAIT_S):
        async for message in client.messages:
            seen.add(message.topic.value)
            if expected <= seen:
                return seen
    raise AssertionError(f"missing {expected - seen}")  # pragma: no cover


def connect_and_vanish(broker: Mosquitto, credential: Credential, will_topic: str) -> None:
    """Connect (MQTT 3.1.1) with a retained QoS 1 last will, then drop the socket unannounced."""

    def string(data: bytes) -> bytes:
        return len(data).to_bytes(2, "big") + data

    user, password = (x.encode() for x in credential)
    flags = 0x80 | 0x40 | 0x20 | 0x08 | 0x04 | 0x02  # user, password, will retain+QoS 1, clean
    payload = b"".join(string(x) for x in (user, will_topic.encode(), b"offline", user, password))
    body = string(b"MQTT") + bytes([4, flags]) + (30).to_bytes(2, "big") + payload
    assert 128 <= len(body) < 128 * 128
    length = bytes([0x80 | len(body) % 128, len(body) // 128])
    with socket.create_connection((broker.host, broker.port), timeout=WAIT_S) as sock:
        sock.sendall(b"\x10" + length + body)
        assert sock.recv(4) == b"\x20\x02\x00\x00"  # accepted
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")


__all__ = [
    "HUB",
    "OTHER_HUB",
    "OTHER_ROOM",
    "OTHER_SITE",
    "ROOM",
    "SITE",
    "WAIT_S",
    "connect_and_vanish",
    "connected",
    "deployment",
    "kinds",
    "secured_broker",
    "subscribe",
    "topic",
    "topics_all",
    "topics_until",
]
