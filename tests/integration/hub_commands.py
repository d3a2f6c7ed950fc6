"""Commands as the hub sends them, from a test client with the hub's own credential."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import aiomqtt

from protocol import CommandReply, RoomTopics, decode, utcnow
from smartclass.broker import Mosquitto

HUB_ID = "hub-test-commands"


def command_body(
    command_id: str, device: str = "lights", action: str = "on", **fields: Any
) -> dict[str, Any]:
    """A command as the hub sends it (answered on ``reply/HUB_ID``), valid for 12 hours."""
    return {
        "v": 3, "ts": utcnow().isoformat(), "sender": f"hub/{HUB_ID}", "id": command_id,
        "device": device, "action": action, "issuer": "test", "reply_to": HUB_ID,
        "expires": (utcnow() + timedelta(hours=12)).isoformat(), **fields,
    }  # fmt: skip


@contextlib.asynccontextmanager
async def hub_client(broker: Mosquitto, root: str) -> AsyncIterator[aiomqtt.Client]:
    """A client with the hub's own credential: it may command every room and read its
    replies, as the hub does."""
    user, password = broker.hub(root, HUB_ID)
    async with aiomqtt.Client(
        broker.host, broker.port, username=user, password=password, identifier=user,
        protocol=aiomqtt.ProtocolVersion.V5,
    ) as client:  # fmt: skip
        yield client


async def ask(
    hub: aiomqtt.Client,
    topics: RoomTopics,
    command_id: str,
    device: str = "lights",
    action: str = "on",
    *,
    timeout: float = 10,
) -> CommandReply:
    """Send one live command and wait for its reply (``hub`` subscribed to the room's
    ``reply/HUB_ID``; other messages are skipped)."""
    payload = json.dumps(command_body(command_id, device, action)).encode()
    await hub.publish(topics.command(device), payload, 1)
    async with asyncio.timeout(timeout):
        async for message in hub.messages:
            if message.topic.value != topics.reply_to(HUB_ID):
                continue
            assert isinstance(message.payload, bytes)
            reply = decode(CommandReply, message.payload)
            if reply.id == command_id:
                return reply
    msg = "unreachable: the timeout ends the loop"
    raise AssertionError(msg)


__all__ = ["HUB_ID", "ask", "command_body", "hub_client"]
