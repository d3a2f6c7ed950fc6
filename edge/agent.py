"""The classroom agent: devices, telemetry through the outbox, commands, config and status."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Iterable
from importlib.metadata import PackageNotFoundError, version
from typing import Any
from zoneinfo import ZoneInfo

import aiomqtt

from devices.base import Background, Clock, Device, DeviceError, Sensor, UnavailableDevice
from devices.environment.sim import SimEnvironmentSensor
from devices.registry import DeviceHooks, create_device
from edge.automation import Automation
from edge.clock import Clock as WallClock
from edge.config import RoomFile
from edge.homeassistant import HomeAssistantBridge
from edge.homeassistant_sync import DiscoveryRecord, sync_discovery
from edge.inbox import Inbox
from edge.link import Endpoint, Link
from edge.outbox import Outbox
from edge.recorder import Recorder
from edge.sender import PUBLISH_TIMEOUT_S, SEND_WINDOW, OutboxSender
from edge.settings import EdgeSettings, make_pin_factory
from edge.simulation import SimulatedRoom
from protocol.client import AckedClient
from protocol.messages import (
    DeviceState,
    Event,
    Message,
    RoomSettings,
    Status,
    Telemetry,
    encode,
)
from protocol.topics import RoomTopics, parse_topic, retained

logger = logging.getLogger(__name__)


def _agent_version() -> str:
    try:
        return version("smartclass")
    except PackageNotFoundError:
        return "0+unknown"


class Agent:
    """One classroom: builds its devices from the room file and serves them over MQTT.

    An Agent runs once: ``run`` owns its tasks until cancelled, then publishes a
    retained offline status, disconnects and closes its devices and outbox.
    """

    def __init__(
        self,
        room: RoomFile,
        settings: EdgeSettings,
        *,
        pin_factory: Any = None,  # a gpiozero Factory; None: from settings
        clock: Clock | None = None,
        wall_clock: WallClock | None = None,  # for the timetable and rules; None: the real one
    ) -> None:
        self.room = room
        self.settings = settings
        self.label = f"{room.site}/{room.room}"
        self.sender = f"edge/{room.site}/{room.room}"
        self.topics = RoomTopics(room.site, room.room, room.mqtt.topic_root)
        self.telemetry_interval_s = room.telemetry_interval_s
        self.homeassistant = (
            HomeAssistantBridge(room, sw_version=_agent_version())
            if room.homeassistant.enabled
            else None
        )
        """Home Assistant discovery and commands, if the room file enables them."""
        self._ha_record = DiscoveryRecord(
            settings.data_dir / f"{room.site}--{room.room}" / "homeassistant.json"
        )
        if pin_factory is None:
            pin_factory = make_pin_factory(settings.pin_factory)
        self.devices: dict[str, Device] = {}
        hooks = DeviceHooks(alert=self._device_alert, changed=self._device_changed)
        failed: dict[str, str] = {}
        try:
            for device_id, config in room.devices.items():
                try:
                    self.devices[device_id] = create_device(
                        device_id, config, pin_factory=pin_factory, clock=clock, hooks=hooks
                    )
                except DeviceError as exc:  # the rest of the room goes on without it
                    logger.error("%s: %s cannot start: %s", self.label, device_id, exc)
                    failed[device_id] = str(exc)
                    self.devices[device_id] = UnavailableDevice.of(
                        config.family, device_id, str(exc)
                    )
            self.outbox = Outbox(
                settings.data_dir / f"{room.site}--{room.room}" / "outbox.sqlite3",
                max_messages=room.outbox.max_messages,
                max_age_s=room.outbox.max_age_h * 3600,
            )
        except BaseException:
            self._close_devices()
            raise
        self.recorder = Recorder(self.outbox, self.topics, self.sender)
        self.boot = self.recorder.boot
        for device_id, reason in failed.items():
            self._device_alert(
                device_id, "device_unavailable", "critical", reason, {"available": False}
            )
        """Random id of this run; telemetry and events carry it with their sequence number."""
        self.automation = Automation(
            self.devices,
            self.recorder,
            sender=self.sender,
            timetable=room.timetable,
            rules=room.rules,
            tz=ZoneInfo(room.timezone),
            clock=wall_clock,
            publish_state=self._publish_state,
            label=self.label,
        )
        self.sim = next(
            (d for d in self.devices.values() if isinstance(d, SimEnvironmentSensor)), None
        )
        """The simulated environment sensor, if the room has one (tests set its occupancy)."""
        self.simulated = SimulatedRoom(self.devices)
        self.inbox = Inbox(
            self.devices,
            self.topics,
            self.sender,
            publish=self._publish,
            publish_state=self._publish_state,
            republish=self._republish,
            apply_settings=self._apply_settings,
            spawn=self._spawn,
            homeassistant=self.homeassistant,
        )
        self.link = Link(
            Endpoint(
                settings.mqtt_host,
                settings.mqtt_port,
                # The root is part of the id: a persistent session carries its subscriptions,
                # so one made under another root must never be resumed.
                f"edge-{room.mqtt.topic_root}-{room.site}-{room.room}",
                settings.mqtt_username,
                settings.mqtt_password.get_secret_value() if settings.mqtt_password else None,
            ),
            room.mqtt,
            will=aiomqtt.Will(self.topics.status, self._status("offline"), 1, retain=True),
            subscriptions=self.inbox.subscriptions,
            on_connect=self._on_connect,
            on_message=self.inbox.handle,
            goodbye=lambda: (self.topics.status, self._status("offline")),
            label=self.label,
            max_inflight=SEND_WINDOW,
        )
        self.connected = self.link.connected
        """Set while connected, subscribed, and status and device states are published."""
        self._outbox_sender = OutboxSender(
            self.outbox, self.link, retry_s=room.mqtt.reconnect_max_s, label=self.label
        )
        self.recorder.on_stored = self._outbox_sender.notify
        self._interval_changed = asyncio.Event()
        self._tg: asyncio.TaskGroup | None = None
        self._ran = False

    @property
    def malformed(self) -> int:
        """Received messages that could not be read (logged and dropped)."""
        return self.inbox.malformed

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        if self._tg is None:
            coro.close()
            return
        self._tg.create_task(coro)

    def _device_alert(
        self, device_id: str, kind: str, severity: str, text: str, data: dict[str, Any]
    ) -> None:
        """A device reports a fault or a change of availability: an event for the hub."""
        logger.warning("%s: %s %s: %s", self.label, device_id, kind, text)
        self.recorder.emit_event(kind, severity=severity, device=device_id, text=text, data=data)

    def _device_changed(self, device_id: str) -> None:
        """A device changed by itself (motion seen, projector gone): publish it, tell rules."""
        device = self.devices.get(device_id)
        if device is not None:
            self.simulated.follow(device_id)
            self._spawn(self._state_changed(device))

    async def _state_changed(self, device: Device) -> None:
        state = await device.state()
        self.automation.notify_state(device.id, state)
        await self._publish_state(device)

    def _apply_settings(self, settings: RoomSettings) -> None:
        self.telemetry_interval_s = settings.telemetry_interval_s
        self._interval_changed.set()

    @property
    def last_seq(self) -> int:
        """Sequence number of the last telemetry message or event of this boot (0: none)."""
        return self.recorder.last_seq

    def emit_event(self, kind: str, **fields: Any) -> Event:
        """Store an event for sending (see Recorder.emit_event)."""
        return self.recorder.emit_event(kind, **fields)

    async def sample(self) -> list[Telemetry]:
        """Read every sensor once and store the readings for sending."""
        batch = await self.recorder.sample(
            d for d in self.devices.values() if isinstance(d, Sensor)
        )
        self.automation.feed_sample(batch)
        return batch

    def _status(self, state: str) -> bytes:
        return encode(
            Status.model_validate(
                {
                    "sender": self.sender,
                    "state": state,
                    "boot": self.boot,
                    "agent_version": _agent_version(),
                    "keepalive": self.room.mqtt.keepalive_s,
                    "devices": list(self.devices),
                }
            )
        )

    async def run(self) -> None:
        """Serve the room until cancelled."""
        if self._ran:
            msg = f"agent {self.label} has already run; make a new Agent"
            raise RuntimeError(msg)
        self._ran = True
        logger.info(
            "%s: agent starting, boot %s, %d devices", self.label, self.boot, len(self.devices)
        )
        try:
            async with asyncio.TaskGroup() as tg:
                self._tg = tg
                tg.create_task(self.link.run(), name=f"link {self.label}")
                tg.create_task(self._telemetry_loop(), name=f"telemetry {self.label}")
                tg.create_task(self._outbox_sender.run(), name=f"outbox {self.label}")
                tg.create_task(self.automation.run(), name=f"automation {self.label}")
                for device in self.devices.values():
                    if isinstance(device, Background):  # e.g. a projector's status poll
                        tg.create_task(device.run(), name=f"{device.id} {self.label}")
                if self.simulated.active:
                    await self._start_simulation()
        finally:
            self._tg = None
            self.close()
            logger.info("%s: agent stopped", self.label)

    async def _start_simulation(self) -> None:
        """Put the class in the simulated room or not, as its occupancy sensor says now."""
        for sensor in self.simulated.occupancy:
            await sensor.state()
        self.simulated.apply(any(sensor.occupied for sensor in self.simulated.occupancy))

    def close(self) -> None:
        """Close devices and the outbox; safe to call twice."""
        self._close_devices()
        if hasattr(self, "outbox"):
            self.outbox.close()

    def _close_devices(self) -> None:
        for device in self.devices.values():
            try:
                device.close()
            except Exception:
                logger.exception("%s: closing %s failed", self.label, device.id)

    async def _telemetry_loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            started = loop.time()
            await self.sample()
            self._interval_changed.clear()
            delay = max(0.0, started + self.telemetry_interval_s - loop.time())
            try:
                async with asyncio.timeout(delay):
                    await self._interval_changed.wait()
            except TimeoutError:
                pass

    # --- incoming: commands, config, hub status --------------------------------

    async def _on_connect(self, client: AckedClient) -> None:
        await client.publish_acked(self.topics.status, self._status("online"), 1, retain=True)
        for device in self.devices.values():
            await self._publish_state(device)
        await sync_discovery(
            self.homeassistant,
            self._ha_record,
            lambda topic, payload: client.publish_acked(
                topic, payload, 1, retain=True, timeout=PUBLISH_TIMEOUT_S
            ),
            label=self.label,
        )
        self._outbox_sender.notify()

    async def _publish(self, topic: str, message: Message) -> None:
        client = self.link.client
        if client is None:
            logger.info("%s: not connected; %s not published", self.label, topic)
            return
        retain = retained(parse_topic(topic, self.topics.root).kind)
        payload = encode(message)
        await client.publish_acked(topic, payload, 1, retain=retain, timeout=PUBLISH_TIMEOUT_S)

    async def _publish_state(self, device: Device) -> None:
        current = await device.state()
        state = DeviceState(
            sender=self.sender,
            device=device.id,
            family=device.family,
            state=current,
            available=bool(current.get("available", True)),
        )
        await self._publish(self.topics.state(device.id), state)

    async def _republish(self) -> None:
        client = self.link.client
        if client is not None:
            await self._on_connect(client)


async def run_agents(
    rooms: Iterable[RoomFile],
    settings: EdgeSettings,
    *,
    pin_factory: Callable[[], Any] | None = None,
) -> None:
    """Run one agent per room in this event loop until cancelled (a fleet of simulated rooms).

    Each agent gets its own pin factory (``pin_factory()`` if given, else from settings).
    """
    agents = [
        Agent(room, settings, pin_factory=pin_factory() if pin_factory else None) for room in rooms
    ]
    async with asyncio.TaskGroup() as tg:
        for agent in agents:
            tg.create_task(agent.run(), name=f"agent {agent.label}")


__all__ = ["Agent", "run_agents"]
