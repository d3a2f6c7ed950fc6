"""Routes what an agent receives (commands, config, acknowledgements, hub status) through a
handler table; nothing received can stop the agent.

Commands: a retained one is refused (it would replay at every subscription); one that
cannot be read but whose id can gets a ``bad_request`` reply; a repeat of a recent id is
answered with the first reply, without acting again; expiry is checked on the hub's
clock as the agent estimates it (``ClockOffset``), with ``EXPIRY_TOLERANCE_S`` of slack,
after the broker's own MQTT 5 message expiry. Every reply goes to the hub that asked
(``reply_to``) and is kept and sent again after a reconnect if the link is down.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections import OrderedDict, defaultdict
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import aiomqtt
from pydantic_core import from_json

from devices.base import Device
from edge.clock_offset import ClockOffset
from edge.dispatch import run_command
from edge.homeassistant import HomeAssistantBridge, HomeAssistantPayloadError
from edge.shallow_json import top_level_strings
from protocol.bounds import safe_text
from protocol.messages import (
    TEXT_MAX,
    Command,
    CommandReply,
    HelpAck,
    HubStatus,
    PayloadError,
    ReplyCode,
    RoomConfig,
    StoredAck,
    decode,
    utcnow,
)
from protocol.room_config import CONFIG_MAX_BYTES
from protocol.topics import (
    HUB_SEGMENT,
    Kind,
    RoomTopics,
    TopicError,
    hub_status_filter,
    parse_hub_status_topic,
    parse_topic,
    validate_id,
)

logger = logging.getLogger(__name__)

Payload = bytes | bytearray | str
EXPIRY_TOLERANCE_S = 2.0
"""Slack on a command's expiry for the error of the clock-offset estimate."""
SEEN_MAX = 512
"""Recent command ids remembered, so a redelivered command is answered and not run again."""
REPUBLISH_MIN_S = 10.0
"""Least time between two re-sends of everything for a hub that comes back."""
MAX_PAYLOAD_BYTES = CONFIG_MAX_BYTES
"""Longest payload read: a configuration's bound (a command or an acknowledgement is far
shorter)."""
SETTLE_S = 2.0
"""Messages in this long after a connect may have waited at the broker: no clock samples."""


@dataclass(frozen=True, slots=True)
class InboxHooks:
    """What the inbox asks of its agent."""

    publish: Callable[[str, bytes, bool, str | None], Awaitable[bool]]
    """``publish(topic, payload, retain, key)``: kept and sent again if the link is down."""
    reply: Callable[[str, CommandReply], Awaitable[None]]
    """Publish a reply on a topic (kept and sent again after a reconnect)."""
    publish_state: Callable[[Device], Awaitable[None]]
    republish: Callable[[], Awaitable[None]]
    configure: Callable[[RoomConfig], Awaitable[None]]
    """Apply a configuration pushed by the hub (or refuse it), and say so on ``config/applied``."""
    unreadable_config: Callable[[int, str], Awaitable[None]]
    """Refuse a configuration that cannot be read: (its version if readable, else 0; why)."""
    on_ack: Callable[[StoredAck], Awaitable[None]]
    hub_online: Callable[[bool], None]
    spawn: Callable[[Coroutine[Any, Any, None], str], object]
    on_help: Callable[[HelpAck], Awaitable[None]] | None = None
    """The hub's answer to the room's help request (its retained ``help`` topic)."""


class Inbox:
    """Reads, validates and answers incoming messages; a bad one is logged, counted, dropped."""

    def __init__(
        self,
        devices: Mapping[str, Device],
        topics: RoomTopics,
        sender: str,
        hooks: InboxHooks,
        *,
        clock: ClockOffset,
        homeassistant: HomeAssistantBridge | None = None,
        now: Callable[[], datetime] = utcnow,
        monotonic: Callable[[], float] | None = None,
    ) -> None:
        self.devices = devices
        self.topics = topics
        self.sender = sender
        self.hooks = hooks
        self.clock = clock
        self.homeassistant = homeassistant
        self.now = now
        self._monotonic = monotonic or (lambda: asyncio.get_running_loop().time())
        self.label = f"{topics.site}/{topics.room}"
        self.malformed = 0
        """Messages that could not be read (logged and dropped)."""
        self.duplicates = 0
        """Commands received again (answered with the first reply, not run again)."""
        self.hub_prefix = f"{topics.root}/{HUB_SEGMENT}/"
        self.connected_at = 0.0
        """Loop time of the last connect (set by the agent)."""
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._seen: OrderedDict[str, CommandReply | None] = OrderedDict()
        self._hubs: dict[str, tuple[str, str]] = {}
        self._republished_at: float | None = None
        self._republish_later = False
        self._handlers: dict[
            Kind, Callable[[aiomqtt.Message, str | None, Payload], Awaitable[None]]
        ] = {
            Kind.COMMAND: self._on_command,
            Kind.CONFIG: self._on_config,
            Kind.ACK: self._on_ack,
            Kind.HELP: self._on_help,
        }

    @property
    def subscriptions(self) -> list[str]:
        ha = [self.homeassistant.command_filter] if self.homeassistant is not None else []
        t = self.topics
        return [t.commands, t.config, t.ack, t.help, hub_status_filter(t.root), *ha]

    def drop(self, topic: str, reason: object) -> None:
        self.malformed += 1
        logger.warning("%s: dropped a message on %s: %s", self.label, topic, safe_text(reason, 300))

    async def handle(self, message: aiomqtt.Message) -> None:
        """Route one received message; never raises."""
        topic = message.topic.value
        try:
            payload = message.payload
            if not isinstance(payload, bytes | bytearray | str):
                self.drop(topic, "payload is not bytes")
                return
            if len(payload) > MAX_PAYLOAD_BYTES:
                self.drop(topic, f"payload of {len(payload)} bytes, over {MAX_PAYLOAD_BYTES}")
                return
            if topic.startswith(self.hub_prefix):
                await self._on_hub_status(message, payload)
                return
            if self.homeassistant is not None and self.homeassistant.owns(topic):
                self._on_homeassistant(self.homeassistant, topic, payload, message.retain)
                return
            parsed = parse_topic(topic, self.topics.root)
            handler = self._handlers.get(parsed.kind)
            if handler is None or (parsed.site, parsed.room) != (
                self.topics.site,
                self.topics.room,
            ):
                self.drop(topic, "not a topic this agent reads")
                return
            await handler(message, parsed.device, payload)
        except (TopicError, PayloadError) as exc:
            self.drop(topic, exc)
        except Exception as exc:  # a bug must not cost the room its inbox
            logger.exception("%s: error handling a message on %s", self.label, topic)
            self.drop(topic, f"unexpected {type(exc).__name__}")

    def _live(self, message: aiomqtt.Message) -> bool:
        """Sent just now by its publisher: not retained, not waiting at the broker since a
        disconnect. Only such messages measure the clock offset."""
        return not message.retain and self._monotonic() - self.connected_at >= SETTLE_S

    # --- commands ----------------------------------------------------------------------

    async def _on_command(
        self, message: aiomqtt.Message, device_id: str | None, payload: Payload
    ) -> None:
        topic = message.topic.value
        if message.retain:
            self.drop(topic, "retained command refused (a command is never retained)")
            return
        try:
            command = decode(Command, payload)
        except PayloadError as exc:
            self.drop(topic, exc)
            await self._refuse(payload, device_id, "bad_request", f"unreadable command: {exc}")
            return
        if command.device != device_id:
            self.drop(topic, f"command for {command.device!r} on the topic of {device_id!r}")
            await self._refuse(payload, device_id, "bad_request", "device differs from the topic")
            return
        self._accept(command, local=False)

    def _accept(self, command: Command, *, local: bool) -> None:
        if command.id in self._seen:
            self.duplicates += 1
            first = self._seen[command.id]
            logger.info("%s: command %s again; %s", self.label, command.id,
                        "answered with its first reply" if first else "still running")  # fmt: skip
            if first is not None:
                self.hooks.spawn(self._send_reply(command.reply_to, first), f"reply {command.id}")
            return
        self._seen[command.id] = None
        while len(self._seen) > SEEN_MAX:
            self._seen.popitem(last=False)
        self.hooks.spawn(self._execute(command, local=local), f"command {command.id}")

    async def _refuse(
        self, payload: Payload, device_id: str | None, code: ReplyCode, text: str
    ) -> None:
        """Answer a command that cannot be run, if its id (and hub) can be read."""
        command_id, reply_to = _readable_ids(payload)
        if command_id is None or device_id is None:
            return
        reply = CommandReply(
            sender=self.sender, id=command_id, device=device_id, code=code,
            text=safe_text(text, TEXT_MAX),
        )  # fmt: skip
        await self._send_reply(reply_to, reply)

    def _on_homeassistant(
        self, bridge: HomeAssistantBridge, topic: str, payload: Payload, retained: bool
    ) -> None:
        """A command from Home Assistant: mapped to an action and run like any other command."""
        if retained:  # a retained command would run again at every subscription
            self.drop(topic, "retained Home Assistant command ignored")
            return
        try:
            command = bridge.command(topic, payload, sender=self.sender, now=self.now())
        except HomeAssistantPayloadError as exc:
            self.drop(topic, exc)
            return
        self._accept(command, local=True)

    async def _execute(self, command: Command, *, local: bool) -> None:
        async with self._locks[command.device]:
            now = self.now()  # a local command was stamped by our own clock
            hub_now = now if local else self.clock.hub_now(now)
            reply = await run_command(
                self.devices,
                command,
                sender=self.sender,
                now=hub_now - timedelta(seconds=EXPIRY_TOLERANCE_S),
            )
            self._seen[command.id] = reply
            logger.info(
                "%s: command %s %s.%s from %s: %s %s",
                *(self.label, command.id, command.device, command.action, command.issuer),
                *(reply.code, reply.text),
            )
            await self._send_reply(command.reply_to, reply)
            if reply.ok:
                await self.hooks.publish_state(self.devices[command.device])

    async def _send_reply(self, hub_id: str | None, reply: CommandReply) -> None:
        await self.hooks.reply(self.topics.reply_to(hub_id), reply)

    # --- configuration, acknowledgements, hub status --------------------------------

    async def _on_config(
        self, message: aiomqtt.Message, _device: str | None, payload: Payload
    ) -> None:
        if not payload:
            return  # the hub cleared its retained config
        try:
            config = decode(RoomConfig, payload)
        except PayloadError as exc:
            self.drop(message.topic.value, exc)
            await self.hooks.unreadable_config(_version_of(payload), safe_text(exc, TEXT_MAX))
            return
        await self.hooks.configure(config)

    async def _on_ack(
        self, message: aiomqtt.Message, _device: str | None, payload: Payload
    ) -> None:
        if not payload:
            return
        ack = decode(StoredAck, payload)
        if self._live(message):
            self.clock.add(ack.ts, self.now())
        await self.hooks.on_ack(ack)

    async def _on_help(
        self, _message: aiomqtt.Message, _device: str | None, payload: Payload
    ) -> None:
        if not payload or self.hooks.on_help is None:
            return  # a cleared retained answer: nothing to show
        await self.hooks.on_help(decode(HelpAck, payload))

    async def _on_hub_status(self, message: aiomqtt.Message, payload: Payload) -> None:
        hub_id = parse_hub_status_topic(message.topic.value, self.topics.root)
        came_back = False
        if not payload:
            self._hubs.pop(hub_id, None)
        else:
            status = decode(HubStatus, payload)
            if self._live(message):
                self.clock.add(status.ts, self.now())
            previous = self._hubs.get(hub_id)
            self._hubs[hub_id] = (status.state, status.boot)
            came_back = (
                status.state == "online" and previous is not None and previous != self._hubs[hub_id]
            )
        # told before the re-send, which waits for the broker: the room's panel shows it now
        self.hooks.hub_online(any(state == "online" for state, _ in self._hubs.values()))
        if came_back:
            logger.info("%s: hub %s is online again; re-sending status", self.label, hub_id)
            await self._republish()

    async def _republish(self) -> None:
        """Re-send status and states, at most once per REPUBLISH_MIN_S (a hub flapping, or
        a forged hub status, must not make every agent re-send everything each time)."""
        now = self._monotonic()
        if self._republished_at is not None and now - self._republished_at < REPUBLISH_MIN_S:
            if not self._republish_later:
                self._republish_later = True
                wait = self._republished_at + REPUBLISH_MIN_S - now
                self.hooks.spawn(self._republish_after(wait), "republish")
            return
        self._republished_at = now
        await self.hooks.republish()

    async def _republish_after(self, wait: float) -> None:
        await asyncio.sleep(wait)
        self._republish_later = False
        self._republished_at = self._monotonic()
        await self.hooks.republish()


def _version_of(payload: Payload) -> int:
    """The ``version`` of a config payload that failed validation, if it can be read; else 0."""
    try:
        value = _lenient_json(payload).get("version")
    except (ValueError, AttributeError):
        return 0
    return value if isinstance(value, int) and 0 <= value <= 2**31 - 1 else 0


def _readable_ids(payload: Payload) -> tuple[str | None, str | None]:
    """The ``id`` and ``reply_to`` of a command that failed validation, where they are valid."""
    try:
        body = _lenient_json(payload)
    except ValueError:  # too deep for the parser, say: the top level may still be read
        text = payload if isinstance(payload, str) else bytes(payload).decode("utf-8", "replace")
        body = top_level_strings(text)
    if not isinstance(body, dict):
        return None, None
    command_id, reply_to = body.get("id"), body.get("reply_to")
    ok_id = (
        command_id if isinstance(command_id, str) and _COMMAND_ID.fullmatch(command_id) else None
    )
    try:
        ok_hub = validate_id(reply_to, "hub id") if isinstance(reply_to, str) else None
    except TopicError:
        ok_hub = None
    return ok_id, ok_hub


def _lenient_json(payload: Payload) -> Any:
    """JSON parsed without Python recursion (pydantic-core's parser), or, for what only it
    refuses (a lone surrogate escape), by the standard library once the depth is known safe."""
    try:
        return from_json(payload)
    except ValueError as exc:
        text = payload if isinstance(payload, str) else bytes(payload).decode("utf-8", "replace")
        if "recursion" in str(exc) or text.count("[") + text.count("{") > 200:
            raise
        return json.loads(text)


_COMMAND_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
"""The id rule of ``protocol.Command``."""


__all__ = ["EXPIRY_TOLERANCE_S", "Inbox", "InboxHooks"]
