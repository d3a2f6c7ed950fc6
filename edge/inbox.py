"""Routes what an agent receives (commands, pushed config, hub status) through a handler table."""

from __future__ import annotations

import asyncio
import json
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from typing import Any

import aiomqtt

from devices.base import Device
from edge.dispatch import run_command
from edge.homeassistant import HomeAssistantBridge, HomeAssistantPayloadError
from protocol.messages import (
    Command,
    ConfigApplied,
    HubStatus,
    Message,
    PayloadError,
    RoomConfig,
    RoomSettings,
    decode,
)
from protocol.topics import (
    Kind,
    RoomTopics,
    TopicError,
    hub_status_filter,
    parse_hub_status_topic,
    parse_topic,
)

logger = logging.getLogger(__name__)

Payload = bytes | bytearray | str
Publish = Callable[[str, Message], Awaitable[None]]
"""Publish a message at QoS 1 on a topic, retained where the contract says so."""


class Inbox:
    """Reads, validates and answers incoming messages; a bad one is logged, counted and dropped.

    Commands run in tasks made by ``spawn`` (one at a time per device, in
    arrival order); the reply goes out first, then the new retained state.
    """

    def __init__(
        self,
        devices: Mapping[str, Device],
        topics: RoomTopics,
        sender: str,
        *,
        publish: Publish,
        publish_state: Callable[[Device], Awaitable[None]],
        republish: Callable[[], Awaitable[None]],
        apply_settings: Callable[[RoomSettings], None],
        spawn: Callable[[Coroutine[Any, Any, None]], object],
        homeassistant: HomeAssistantBridge | None = None,
        boot: str = "",
    ) -> None:
        self.boot = boot
        self.devices = devices
        self.topics = topics
        self.sender = sender
        self.publish = publish
        self.publish_state = publish_state
        self.republish = republish
        self.apply_settings = apply_settings
        self.spawn = spawn
        self.homeassistant = homeassistant
        self.label = f"{topics.site}/{topics.room}"
        self.malformed = 0
        """Messages that could not be read (logged and dropped)."""
        self.hub_topic = hub_status_filter(topics.root)
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._hub: tuple[str, str] | None = None
        self._handlers: dict[Kind, Callable[[str, str | None, Payload], Awaitable[None]]] = {
            Kind.COMMAND: self._on_command,
            Kind.CONFIG: self._on_config,
        }

    @property
    def subscriptions(self) -> list[str]:
        ha = [self.homeassistant.command_filter] if self.homeassistant is not None else []
        return [self.topics.commands, self.topics.config, self.hub_topic, *ha]

    def drop(self, topic: str, reason: object) -> None:
        self.malformed += 1
        logger.warning("%s: dropped a malformed message on %s: %s", self.label, topic, reason)

    async def handle(self, message: aiomqtt.Message) -> None:
        """Route one received message; never raises for a bad payload or a lost connection."""
        topic = message.topic.value
        payload = message.payload
        if not isinstance(payload, bytes | bytearray | str):
            self.drop(topic, "payload is not bytes")
            return
        try:
            if topic.startswith(f"{self.topics.root}/_hub/"):
                parse_hub_status_topic(topic, self.topics.root)
                await self._on_hub_status(topic, payload)
                return
            if self.homeassistant is not None and self.homeassistant.owns(topic):
                self._on_homeassistant(self.homeassistant, topic, payload, message.retain)
                return
            parsed = parse_topic(topic, self.topics.root)
            handler = self._handlers.get(parsed.kind)
            if handler is None:
                self.drop(topic, "not a topic this agent reads")
                return
            await handler(topic, parsed.device, payload)
        except TopicError as exc:
            self.drop(topic, exc)
        except aiomqtt.MqttError as exc:
            logger.warning("%s: answer to %s not sent: %s", self.label, topic, exc)

    async def _on_command(self, topic: str, device_id: str | None, payload: Payload) -> None:
        try:
            command = decode(Command, payload)
        except PayloadError as exc:
            self.drop(topic, exc)
            return
        if command.device != device_id:
            self.drop(topic, f"command for {command.device!r} on the topic of {device_id!r}")
            return
        self.spawn(self._execute(command))

    def _on_homeassistant(
        self, bridge: HomeAssistantBridge, topic: str, payload: Payload, retained: bool
    ) -> None:
        """A command from Home Assistant: mapped to an action and run like any other command."""
        if retained:  # a retained command would run again at every subscription
            self.drop(topic, "retained Home Assistant command ignored")
            return
        try:
            command = bridge.command(topic, payload, sender=self.sender)
        except HomeAssistantPayloadError as exc:
            self.drop(topic, exc)
            return
        self.spawn(self._execute(command))

    async def _execute(self, command: Command) -> None:
        async with self._locks[command.device]:
            reply = await run_command(self.devices, command, sender=self.sender)
            logger.info(
                "%s: command %s %s.%s from %s: %s %s",
                *(self.label, command.id, command.device, command.action, command.issuer),
                *(reply.code, reply.text),
            )
            try:
                await self.publish(self.topics.reply, reply)
                if reply.ok:
                    await self.publish_state(self.devices[command.device])
            except aiomqtt.MqttError as exc:
                logger.warning("%s: reply to command %s not sent: %s", self.label, command.id, exc)

    async def _on_config(self, topic: str, _device: str | None, payload: Payload) -> None:
        if not payload:
            return  # the hub cleared its retained config
        try:
            config = decode(RoomConfig, payload)
        except PayloadError as exc:
            self.drop(topic, exc)
            version, ok, text = _version_of(payload), False, str(exc)[:500]
        else:
            self.apply_settings(config.settings)
            logger.info("%s: applied config version %s", self.label, config.version)
            version, ok, text = config.version, True, ""
        applied = ConfigApplied(
            sender=self.sender, boot=self.boot, version=version, ok=ok, text=text
        )
        await self.publish(self.topics.config_applied, applied)

    async def _on_hub_status(self, topic: str, payload: Payload) -> None:
        if not payload:
            return
        try:
            status = decode(HubStatus, payload)
        except PayloadError as exc:
            self.drop(topic, exc)
            return
        previous, self._hub = self._hub, (status.state, status.boot)
        if status.state == "online" and previous is not None and previous != self._hub:
            logger.info("%s: hub %s is online again; re-sending status", self.label, status.sender)
            await self.republish()


def _version_of(payload: Payload) -> int:
    """The ``version`` of a config payload that failed validation, if it can be read; else 0."""
    try:
        value = json.loads(payload).get("version")
    except (ValueError, AttributeError):
        return 0
    return value if isinstance(value, int) and value >= 0 else 0


__all__ = ["Inbox", "Publish"]
