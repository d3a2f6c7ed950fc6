"""Commands to devices and the routing of their replies."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from hub.errors import CommandTimeout, HubError, NotConnected, UnknownRoom
from hub.store import Store
from protocol import Command, CommandReply, RoomTopics, encode, utcnow
from protocol.aio import wait_within

logger = logging.getLogger(__name__)


class Publisher(Protocol):
    """What the commander needs of the MQTT link (the ingest's connection)."""

    @property
    def connected(self) -> bool: ...

    async def publish(
        self,
        topic: str,
        payload: bytes,
        *,
        retain: bool,
        ack_timeout_s: float,
        expiry_s: float | None = None,
    ) -> None:
        """Publish at QoS 1 and wait for the broker's acknowledgement; with ``expiry_s``,
        the broker drops the message once it is that old (MQTT 5)."""
        ...


@dataclass(frozen=True, slots=True)
class _Waiting:
    future: asyncio.Future[CommandReply]
    site: str
    room: str
    device: str


class Commander:
    """Sends commands and waits for their replies."""

    def __init__(
        self,
        store: Store,
        publisher: Publisher | None,
        *,
        root: str,
        hub_id: str,
        default_timeout_s: float = 5.0,
    ) -> None:
        self.store = store
        self.publisher = publisher
        self.root = root
        self.hub_id = hub_id
        self.sender = f"hub/{hub_id}"
        self.default_timeout_s = default_timeout_s
        self._waiting: dict[str, _Waiting] = {}
        self.forged_replies = 0
        """Replies carrying a waiting command's id from another room or device: ignored."""
        self.outcomes: Counter[str] = Counter()
        """Commands sent, by outcome: ``ok``, the agent's error code, or the hub's error
        (``CommandTimeout``, ``NotConnected``, ``PublishFailed``, ``UnknownRoom``)."""

    @property
    def waiting(self) -> int:
        """Commands sent and not answered yet."""
        return len(self._waiting)

    def _link(self) -> Publisher:
        if self.publisher is None or not self.publisher.connected:
            msg = "the hub is not connected to the MQTT broker"
            raise NotConnected(msg)
        return self.publisher

    async def _check_room(self, site: str, room: str) -> RoomTopics:
        topics = RoomTopics(site, room, self.root)
        if not await asyncio.to_thread(self.store.room_exists, site, room):
            msg = f"unknown room {site}/{room}"
            raise UnknownRoom(msg)
        return topics

    async def send(
        self,
        site: str,
        room: str,
        device: str,
        action: str,
        params: dict[str, Any] | None = None,
        *,
        issuer: str,
        timeout_s: float | None = None,
        logged_params: dict[str, Any] | None = None,
    ) -> CommandReply:
        """Send a command and return the agent's reply (whatever its code); with
        ``logged_params``, the hub's command log keeps these instead of the params (a secret
        sent to the room stays out of the database)."""
        try:
            reply = await self._send(
                site, room, device, action, params, issuer, timeout_s, logged_params
            )
        except HubError as exc:
            self.outcomes[type(exc).__name__] += 1
            raise
        self.outcomes[reply.code] += 1
        return reply

    async def _send(
        self,
        site: str,
        room: str,
        device: str,
        action: str,
        params: dict[str, Any] | None,
        issuer: str,
        timeout_s: float | None,
        logged_params: dict[str, Any] | None = None,
    ) -> CommandReply:
        link = self._link()
        topics = await self._check_room(site, room)
        timeout = timeout_s or self.default_timeout_s
        deadline = time.monotonic() + timeout
        command = Command(
            sender=self.sender,
            id=uuid.uuid4().hex,
            device=device,
            action=action,
            params=params or {},
            issuer=issuer,
            expires=utcnow() + timedelta(seconds=timeout),
            reply_to=self.hub_id,
        )
        topic = topics.command(device)
        future: asyncio.Future[CommandReply] = asyncio.get_running_loop().create_future()
        # before publishing: the reply can be quick
        self._waiting[command.id] = _Waiting(future, site, room, device)
        try:
            logged = command
            if logged_params is not None:
                logged = command.model_copy(update={"params": logged_params})
            await asyncio.to_thread(self.store.log_command, site, room, logged)
            await link.publish(
                topic, encode(command), retain=False, ack_timeout_s=timeout, expiry_s=timeout
            )
            remaining = max(deadline - time.monotonic(), 0.0)
            return await wait_within(future, remaining)
        except TimeoutError:
            msg = f"no reply from {site}/{room} device {device!r} within {timeout:g} s"
            raise CommandTimeout(msg) from None
        finally:
            self._waiting.pop(command.id, None)

    def resolve(self, reply: CommandReply, site: str, room: str) -> bool:
        """Hand a reply that came from ``site/room`` to the command waiting for it; False if
        none waits (late, for another hub) or it is not from the command's room and device
        (counted as forged, ignored: the command goes on waiting for its real reply)."""
        waiting = self._waiting.get(reply.id)
        if waiting is None or waiting.future.done():
            logger.debug("reply %s from device %s: no command waits for it", reply.id, reply.device)
            return False
        if (site, room, reply.device) != (waiting.site, waiting.room, waiting.device):
            self.forged_replies += 1
            logger.warning(
                "reply %s from %s/%s device %s ignored: the command went to %s/%s device %s",
                reply.id, site, room, reply.device, waiting.site, waiting.room, waiting.device,
            )  # fmt: skip
            return False
        del self._waiting[reply.id]
        waiting.future.set_result(reply)
        return True


__all__ = ["Commander", "Publisher"]
