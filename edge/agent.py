"""The classroom agent: devices, telemetry through the outbox, commands, config and status."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable, Coroutine, Iterable
from datetime import timedelta
from importlib.metadata import PackageNotFoundError, version
from typing import Any
from zoneinfo import ZoneInfo

import aiomqtt

from devices.base import (
    Background,
    Clock,
    Device,
    DeviceError,
    Reconfigurable,
    Sensor,
    UnavailableDevice,
)
from devices.environment.sim import SimEnvironmentSensor
from devices.registry import DeviceHooks, create_device
from edge.attendance.wiring import make_attendance
from edge.automation import STATE_TIMEOUT_S, Automation
from edge.clock import Clock as WallClock
from edge.clock_offset import ClockOffset
from edge.config import RoomFile
from edge.device_faults import DeviceFaults
from edge.dispatch import run_command
from edge.help import PANEL_ID, HelpPanel
from edge.homeassistant import HomeAssistantBridge
from edge.homeassistant_sync import DiscoveryRecord, sync_discovery
from edge.inbox import Inbox, InboxHooks
from edge.link import Endpoint, Link
from edge.managed import SAVED_FILE, ConfigRefused, SavedConfig, overlay, starting_config
from edge.panel.pairing import Pairing
from edge.panel.server import PanelServer
from edge.publisher import Publisher
from edge.recorder import Recorder
from edge.sender import SEND_WINDOW, OutboxSender
from edge.settings import EdgeSettings, agent_credential, make_pin_factory
from edge.simulation import SimulatedRoom
from edge.storage import Storage
from edge.supervise import guarded, supervised
from edge.teacher import SimulatedTeacher
from protocol.client import AckedClient, PublishRefused
from protocol.messages import (
    TEXT_MAX,
    BootLosses,
    Command,
    CommandReply,
    ConfigApplied,
    DeviceState,
    Event,
    Health,
    HelpAck,
    Message,
    OutboxHealth,
    RoomConfig,
    Status,
    Telemetry,
    encode,
    utcnow,
)
from protocol.topics import RoomTopics

logger = logging.getLogger(__name__)

HEALTH_INTERVAL_S = 60.0
"""How often the agent re-publishes its health even when nothing changed."""
HEALTH_DEBOUNCE_S = 1.0
"""A change of health is published at most this often."""
SAMPLE_GAP_INTERVALS = 3
SAMPLE_GAP_MIN_S = 60.0
"""A sample stands for the time since the device's previous one, but for at most this many
telemetry intervals (and at least this many seconds): beyond, the room was not watched."""


def _agent_version() -> str:
    try:
        return version("smartclass")
    except PackageNotFoundError:
        return "0+unknown"


class Agent:
    """One classroom: builds its devices from the room file and serves them over MQTT.

    An Agent runs once: ``run`` owns its parts until cancelled, then publishes a
    retained offline status, disconnects and closes its devices and outbox. Each part
    (link, telemetry, outbox sender, automation, health, device polls) runs supervised:
    an unexpected error restarts that part, not the room.
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
        self.settings = settings
        self.label = f"{room.site}/{room.room}"
        room_dir = settings.data_dir / f"{room.site}--{room.room}"
        self.room_file = room
        """The room file as read at start: each configuration pushed is laid over it."""
        self._saved = SavedConfig(room_dir / SAVED_FILE)
        room, self.config_version = starting_config(room, self._saved, self.label)
        self.room = room
        """The room as it runs: the room file with the last good configuration pushed."""
        self._refused: tuple[int, str] | None = None
        """The newest configuration refused (version, why) since the last one applied."""
        self.sender = f"edge/{room.site}/{room.room}"
        self.topics = RoomTopics(room.site, room.room, room.mqtt.topic_root)
        # The root is part of the id: a persistent session carries its subscriptions, so one
        # made under another root must never be resumed. It is also the broker username.
        client_id = f"edge-{room.mqtt.topic_root}-{room.site}-{room.room}"
        username, password = agent_credential(settings, client_id)
        if username is None:
            logger.warning(
                "%s: no broker credential (set SMARTCLASS_EDGE_MQTT_USERNAME and _PASSWORD, "
                "or SMARTCLASS_EDGE_CREDENTIALS_DIR)",
                self.label,
            )
        self.telemetry_interval_s = room.telemetry_interval_s
        self.homeassistant = (
            HomeAssistantBridge(room, sw_version=_agent_version())
            if room.homeassistant.enabled
            else None
        )
        """Home Assistant discovery and commands, if the room file enables them."""
        self._ha_record = DiscoveryRecord(room_dir / "homeassistant.json")
        if pin_factory is None:
            pin_factory = make_pin_factory(settings.pin_factory)
        # The demo's school clock, if it has one: the timetable, the rules and the simulated
        # devices follow it; the recorder and every message keep real time.
        day = settings.simulated_day
        school = day.clock() if day is not None else None
        self.devices: dict[str, Device] = {}
        hooks = DeviceHooks(alert=self._device_alert, changed=self._device_changed)
        failed: dict[str, str] = {}
        self._n = 0
        self._health_changed = asyncio.Event()
        self._tg: asyncio.TaskGroup | None = None
        self._ran = False
        self.restarts: dict[str, int] = {}
        """Parts restarted after an unexpected error, by name."""
        self.faults = DeviceFaults(
            self.label, report=self._device_alert, changed=self._device_changed
        )
        """Devices failing unexpectedly (reading, state): reported once, the rest goes on."""
        self._recording = False
        """False while the outbox opens: a fault then is told once the recorder is made."""
        self.storage = Storage(
            room_dir / "outbox.sqlite3",
            label=self.label,
            on_fault=self._storage_fault,
            max_messages=room.outbox.max_messages,
            max_age_s=room.outbox.max_age_h * 3600,
            max_attempts=room.outbox.refused_attempts,
            retry_min_s=room.outbox.refused_retry_s,
        )
        try:
            for device_id, config in room.devices.items():
                try:
                    self.devices[device_id] = create_device(
                        device_id, config, pin_factory=pin_factory,
                        clock=clock or (school.monotonic if school else None),
                        now=school.now if school else None, hooks=hooks,
                    )  # fmt: skip
                except DeviceError as exc:  # the rest of the room goes on without it
                    logger.error("%s: %s cannot start: %s", self.label, device_id, exc)
                    failed[device_id] = str(exc)
                    self.devices[device_id] = UnavailableDevice.of(
                        config.family, device_id, str(exc)
                    )
            self.recorder = Recorder(
                self.storage,
                self.topics,
                self.sender,
                clock=clock or time.monotonic,
                faults=self.faults,
            )
        except BaseException:
            self._close_devices()
            self.storage.close()
            raise
        self._recording = True
        if self.storage.fault is not None:  # the outbox could not be opened: one in memory
            self._storage_fault(True, self.storage.fault)
        self.boot = self.recorder.boot
        """Random id of this run; telemetry and events carry it with their sequence number."""
        self.pairing = Pairing(room_dir, label=self.label)
        """The tablets paired with the room's panel, and the codes that may pair one."""
        self.panel = HelpPanel(
            self.recorder.emit_event, pairing=self.pairing if room.panel.enabled else None
        )
        """The teacher's help request and the hub's answer to it (device ``panel``)."""
        self.devices[PANEL_ID] = self.panel
        self.boot_no = self.recorder.boot_no
        self.started_at = utcnow()
        for device_id, reason in failed.items():
            self._device_alert(
                device_id, "device_unavailable", "critical", reason, {"available": False}
            )
        self.automation = Automation(
            self.devices,
            self.recorder,
            sender=self.sender,
            timetable=room.timetable,
            rules=room.rules,
            tz=ZoneInfo(room.timezone),
            clock=wall_clock or school,
            stamp=None if wall_clock else utcnow,  # real time, but a test's clock stamps its own
            publish_state=self._publish_state,
            label=self.label,
            faults=self.faults,
        )
        if room.attendance is not None:  # the camera's attendance pipeline, a device too
            self.devices["attendance"] = make_attendance(
                room.attendance, self.devices, room_dir, emit=self.recorder.emit_event,
                clock=self.automation.clock, timetable=lambda: self.automation.timetable,
                tz=ZoneInfo(room.timezone), label=self.label,
                changed=lambda: self._device_changed("attendance"),
            )  # fmt: skip
        self.sim = next(
            (d for d in self.devices.values() if isinstance(d, SimEnvironmentSensor)), None
        )
        """The simulated environment sensor, if the room has one (tests set its occupancy)."""
        self.simulated = SimulatedRoom(self.devices)
        self.teacher = (
            SimulatedTeacher(
                self.label, self.panel, self._publish_state, clock=self.automation.clock,
                timetable=lambda: self.automation.timetable, tz=ZoneInfo(room.timezone),
                seed=day.seed, per_day=day.help_per_day,
            )
            if day is not None and day.help_per_day > 0
            else None
        )  # fmt: skip
        """The simulated teacher asking IT for help now and then, if the demo wants one."""
        self.clock_offset = ClockOffset()
        self._clock_alerted = False
        endpoint = Endpoint(
            settings.mqtt_host, settings.mqtt_port, client_id, username, password,
            settings.tls_context(),
        )  # fmt: skip
        self.link = Link(
            endpoint,
            room.mqtt,
            will=lambda conn: aiomqtt.Will(
                self.topics.status, self._status("offline", conn), 1, retain=True
            ),
            subscriptions=[],
            on_connect=self._on_connect,
            on_message=self._on_message,
            on_change=self._link_changed,
            goodbye=lambda: (self.topics.status, self._status("offline", self.link.conn)),
            label=self.label,
            max_inflight=SEND_WINDOW,
        )
        self.publisher = Publisher(lambda: self.link.client, label=self.label)
        self._outbox_sender = OutboxSender(
            self.storage,
            self.link,
            retry_s=room.mqtt.reconnect_max_s,
            resend_after_s=room.mqtt.resend_after_s,
            label=self.label,
            on_parked=self._health_changed.set,
        )
        self.storage.on_stored = self._outbox_sender.notify
        self.inbox = Inbox(
            self.devices,
            self.topics,
            self.sender,
            InboxHooks(
                publish=self._publish_raw,
                reply=self._publish_reply,
                publish_state=self._publish_state,
                republish=self._republish,
                configure=self._configure,
                unreadable_config=self._unreadable_config,
                on_ack=self._outbox_sender.on_ack,
                hub_online=self._hub_online,
                spawn=self._spawn,
                on_help=self._on_help,
            ),
            clock=self.clock_offset,
            homeassistant=self.homeassistant,
        )
        self.link.subscriptions = self.inbox.subscriptions
        self.connected = self.link.connected
        """Set while connected, subscribed, and status and device states are published."""
        self._interval_changed = asyncio.Event()
        self.panel_server = PanelServer(self) if room.panel.enabled else None
        """The teacher's tablet panel (``panel:`` in the room file), one more part."""

    # --- what other parts (and tests) read ----------------------------------------------

    @property
    def outbox(self) -> Any:
        """The outbox database (tests read it; the agent goes through ``storage``)."""
        return self.storage.outbox

    async def unsent(self) -> int:
        """Telemetry and events not yet taken by the broker."""
        return await self._outbox_sender.unsent()

    async def stored(self) -> int:
        """Telemetry and events in the outbox (sent or not) once pending writes are done."""
        await self.storage.flush()
        return len(self.storage)

    @property
    def malformed(self) -> int:
        """Received messages that could not be read (logged and dropped)."""
        return self.inbox.malformed

    @property
    def last_seq(self) -> int:
        """Sequence number of the last telemetry message or event of this boot (0: none)."""
        return self.recorder.last_seq

    def emit_event(self, kind: str, **fields: Any) -> Event:
        """Store an event for sending (see Recorder.emit_event)."""
        return self.recorder.emit_event(kind, **fields)

    def _next_n(self) -> int:
        self._n += 1
        return self._n

    def _ordered(self) -> dict[str, Any]:
        """The fields by which the hub orders this agent's state-like messages."""
        return {
            "sender": self.sender,
            "boot": self.boot,
            "boot_no": self.boot_no,
            "n": self._next_n(),
        }

    async def local_command(
        self, device_id: str, action: str, params: dict[str, Any], *, issuer: str
    ) -> CommandReply:
        """Run a command from the room itself (the panel): the dispatch the hub's commands go
        through, without the broker; the new state is published to the hub as usual."""
        now = utcnow()
        command = Command(
            sender=self.sender, id=f"local-{uuid.uuid4().hex[:16]}", device=device_id,
            action=action, params=params, issuer=issuer, expires=now + timedelta(minutes=1),
        )  # fmt: skip
        reply = await run_command(self.devices, command, sender=self.sender, now=now)
        if reply.ok and device_id in self.devices:
            self.publish_state_soon(self.devices[device_id])
        return reply

    def publish_state_soon(self, device: Device) -> None:
        """Publish a device's state in a task of its own (a slow broker holds up no one)."""
        self._spawn(self._publish_state(device), f"state of {device.id}")

    def _link_changed(self, up: bool) -> None:
        if self.panel_server is not None:
            self.panel_server.link_changed(up)

    def _hub_online(self, online: bool) -> None:
        self._outbox_sender.hub_online(online)
        if self.panel_server is not None:
            self.panel_server.hub_changed(online)

    def _spawn(self, coro: Coroutine[Any, Any, None], what: str = "task") -> None:
        if self._tg is None:
            coro.close()
            return
        self._tg.create_task(guarded(coro, label=self.label, what=what))

    def _restarted(self, name: str, exc: BaseException) -> None:
        self.restarts[name] = self.restarts.get(name, 0) + 1
        self.recorder.emit_event(
            "agent_error",
            severity="warning",
            text=f"{name} failed ({type(exc).__name__}: {exc}); restarted",
            data={"part": name, "restarts": self.restarts[name]},
        )
        self._health_changed.set()

    # --- devices -----------------------------------------------------------------------

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
            self._spawn(self._state_changed(device), f"state of {device_id}")

    async def _state_changed(self, device: Device) -> None:
        message = await self._send_state(device)
        self.automation.notify_state(device.id, message.state)

    def set_telemetry_interval(self, seconds: float) -> None:
        """Sample every ``seconds`` from now on (the next sample comes that long after the
        last one)."""
        self.telemetry_interval_s = seconds
        self._interval_changed.set()

    # --- configuration pushed by the hub ----------------------------------------------

    async def _configure(self, config: RoomConfig) -> None:
        """Apply a newer configuration at once, or refuse it and run on with the last good
        one; ignore an older one. Each outcome is published on ``config/applied``."""
        running = self.config_version
        if config.version < running:
            note = f"version {config.version} ignored: older than version {running}, applied"
            logger.warning("%s: configuration %s", self.label, note)
            await self._publish_applied(note)
            return
        if config.version == running:  # delivered again (retained): it runs already
            await self._publish_applied()
            return
        try:
            room = overlay(self.room_file, config)
        except ConfigRefused as exc:
            await self._refuse(config.version, f"version {config.version} refused: {exc}")
            return
        try:
            self._reconfigure(room, self.room)  # refuses before it changes anything
        except ConfigRefused as exc:
            await self._refuse(config.version, f"version {config.version} refused: {exc}")
            return
        except Exception as exc:  # a device or the automation failed on the way: undo
            logger.exception("%s: applying configuration %d failed", self.label, config.version)
            self._undo(room)
            await self._refuse(config.version, f"version {config.version} failed: {exc}")
            return
        self.room, self.config_version, self._refused = room, config.version, None
        note = ""
        try:
            await asyncio.to_thread(self._saved.save, config)
        except OSError as exc:
            note = f"applied, but not saved to disk (a restart goes back to the previous): {exc}"
            logger.error("%s: configuration %d %s", self.label, config.version, note)
        logger.info("%s: configuration version %d applied", self.label, config.version)
        self.recorder.emit_event(
            "config_applied", text=f"configuration version {config.version} applied",
            data={"version": config.version},
        )  # fmt: skip
        await self._publish_applied(note)

    def _reconfigure(self, room: RoomFile, current: RoomFile) -> None:
        """Switch the devices, the automation and the telemetry interval from ``current``
        to ``room``; refuse (before changing anything) a device that cannot take it."""
        changed = {
            device_id: config
            for device_id, config in room.devices.items()
            if config != current.devices[device_id]
            and not isinstance(self.devices[device_id], UnavailableDevice)
        }
        for device_id in changed:
            if not isinstance(self.devices[device_id], Reconfigurable):
                family = self.devices[device_id].family
                msg = f"devices.{device_id}: this {family} device cannot take new settings"
                raise ConfigRefused(msg)
        for device_id, config in changed.items():
            device = self.devices[device_id]
            assert isinstance(device, Reconfigurable)
            device.reconfigure(config)
        self.automation.reconfigure(room.timetable, room.rules)
        if room.telemetry_interval_s != self.telemetry_interval_s:
            self.set_telemetry_interval(room.telemetry_interval_s)

    def _undo(self, tried: RoomFile) -> None:
        """Back to the room as it ran before ``tried`` was half applied."""
        try:
            self._reconfigure(self.room, tried)
        except Exception:
            logger.exception("%s: going back to configuration %d failed", self.label,
                             self.config_version)  # fmt: skip

    async def _refuse(self, version: int, why: str) -> None:
        """Run on with the last good configuration, and say why ``version`` was refused."""
        logger.warning("%s: configuration %s", self.label, why)
        if self._refused is None or self._refused[0] != version:  # once per version
            self.recorder.emit_event(
                "config_refused", severity="warning", text=why[:TEXT_MAX],
                data={"version": version, "running": self.config_version},
            )  # fmt: skip
        self._refused = (version, why)
        await self._publish_applied()

    async def _unreadable_config(self, version: int, why: str) -> None:
        await self._refuse(version, f"version {version or '?'} refused: {why}")

    def _storage_fault(self, bad: bool, why: str) -> None:
        """The outbox's disk fails (or works again): an event, and health says so.

        The event goes into the outbox like every other, in order, so it is kept; but while
        the disk refuses writes it would wait there (in memory) until the fault is over, so
        it is also published at once. The hub stores its (boot, seq) once.
        """
        if not self._recording:
            return
        kind, severity = ("storage_fault", "critical") if bad else ("storage_ok", "info")
        event = self.recorder.emit_event(kind, severity=severity, text=why)
        if bad:
            self._spawn(self._publish(self.topics.event, event, retain=False), kind)
        self._health_changed.set()

    async def sample(self) -> list[Telemetry]:
        """Read every sensor once and store the readings for sending, each with the interval
        it covers (at most SAMPLE_GAP_INTERVALS telemetry intervals) and what the timetable
        says now."""
        batch = await self.recorder.sample(
            (d for d in self.devices.values() if isinstance(d, Sensor)),
            schedule=self.automation.schedule(),
            longest_s=max(SAMPLE_GAP_MIN_S, SAMPLE_GAP_INTERVALS * self.telemetry_interval_s),
        )
        self.automation.feed_sample(batch)
        if self.panel_server is not None:
            self.panel_server.sampled(batch)
        return batch

    # --- running ----------------------------------------------------------------------

    async def run(self) -> None:
        """Serve the room until cancelled."""
        if self._ran:
            msg = f"agent {self.label} has already run; make a new Agent"
            raise RuntimeError(msg)
        self._ran = True
        logger.info(
            "%s: agent starting, boot %s (no. %d), %d devices",
            self.label, self.boot, self.boot_no, len(self.devices),
        )  # fmt: skip
        parts: dict[str, Callable[[], Coroutine[Any, Any, None]]] = {
            "link": self.link.run,
            "telemetry": self._telemetry_loop,
            "outbox": self._outbox_sender.run,
            "automation": self.automation.run,
            "health": self._health_loop,
        }
        for device in self.devices.values():
            if isinstance(device, Background):  # e.g. a projector's status poll
                parts[f"device {device.id}"] = device.run
        if self.teacher is not None:
            parts["teacher"] = self.teacher.run
        if self.panel_server is not None:
            parts["panel"] = self.panel_server.run
        try:
            async with asyncio.TaskGroup() as tg:
                self._tg = tg
                self._announce_boot()
                for name, part in parts.items():
                    tg.create_task(
                        supervised(name, part, label=self.label, on_restart=self._restarted),
                        name=f"{name} {self.label}",
                    )
                if self.simulated.active:
                    self._spawn(self._start_simulation(), "simulation")
        finally:
            self._tg = None
            self.close()
            logger.info("%s: agent stopped", self.label)

    def _announce_boot(self) -> None:
        if self.recorder.previous_boot is not None:
            logger.info(
                "%s: the previous boot %s ended at seq %d",
                self.label, self.recorder.previous_boot, self.recorder.previous_last_seq,
            )  # fmt: skip

    async def _start_simulation(self) -> None:
        """Put the class in the simulated room or not, as its occupancy sensor says now."""
        for sensor in self.simulated.occupancy:
            with self.faults.attempt(sensor.id, "state"):
                await sensor.state()
        self.simulated.apply(any(sensor.occupied for sensor in self.simulated.occupancy))

    def close(self) -> None:
        """Close devices and the outbox; safe to call twice."""
        self._close_devices()
        self.storage.close()

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

    async def _health_loop(self) -> None:
        """Publish the agent's health now and then, and soon after it changes."""
        while True:
            self._health_changed.clear()
            self._check_clock()
            await self.publish_health()
            await asyncio.sleep(HEALTH_DEBOUNCE_S)
            try:
                async with asyncio.timeout(HEALTH_INTERVAL_S - HEALTH_DEBOUNCE_S):
                    await self._health_changed.wait()
            except TimeoutError:
                pass

    def _check_clock(self) -> None:
        offset = self.clock_offset.seconds
        if offset is None:
            return
        far = abs(offset) > self.room.mqtt.clock_alert_s
        if far != self._clock_alerted:
            self._clock_alerted = far
            kind, severity = ("clock_skew", "warning") if far else ("clock_ok", "info")
            text = f"the agent's clock is {offset:+.1f} s from the hub's"
            self.recorder.emit_event(kind, severity=severity, text=text, data={"offset_s": offset})

    async def health(self) -> Health:
        """The agent's own account of itself, as published on ``health``."""
        stats = await self.storage.stats()
        losses = await self.storage.losses()
        return Health(
            **self._ordered(),
            started_at=self.started_at,
            last_seq=self.recorder.last_seq,
            previous_boot=self.recorder.previous_boot,
            previous_last_seq=self.recorder.previous_last_seq,
            outbox=OutboxHealth(
                backlog=stats.backlog,
                parked=stats.parked,
                oldest_s=round(stats.oldest_s, 1),
                storage_ok=self.storage.fault is None,
                storage_text=(self.storage.fault or "")[:500],
            ),
            losses=[
                BootLosses(boot=x.boot, dropped=x.ranges, count=x.count, by_reason=x.by_reason)
                for x in losses
            ],
            clock_offset_s=self.clock_offset.seconds,
        )

    async def publish_health(self) -> None:
        health = await self.health()
        await self.publisher.publish(self.topics.health, encode(health), retain=True)

    # --- publishing -------------------------------------------------------------------

    def _status(self, state: str, conn: int) -> bytes:
        return encode(
            Status.model_validate(
                {
                    "sender": self.sender,
                    "state": state,
                    "boot": self.boot,
                    "boot_no": self.boot_no,
                    "conn": conn,
                    "agent_version": _agent_version()[:64],
                    "keepalive": self.room.mqtt.keepalive_s,
                    "devices": list(self.devices),
                    "families": {d.id: d.family for d in self.devices.values()},
                }
            )
        )

    async def _on_connect(self, client: AckedClient) -> None:
        self.inbox.connected_at = asyncio.get_running_loop().time()
        await client.publish_acked(
            self.topics.status, self._status("online", self.link.conn), 1, retain=True
        )
        await self.publisher.flush(client)
        for device in self.devices.values():
            await self._publish_state(device)
        try:
            await sync_discovery(
                self.homeassistant,
                self._ha_record,
                lambda topic, payload: client.publish_acked(topic, payload, 1, retain=True),
                label=self.label,
            )
        except PublishRefused as exc:  # the broker's ACL: the room runs on without it
            logger.error("%s: Home Assistant discovery refused by the broker: %s", self.label, exc)
        except aiomqtt.MqttError:
            raise  # the link is lost: it connects again
        except Exception:  # a bug of the bridge must not keep the room from connecting
            logger.exception("%s: Home Assistant discovery failed; the room goes on", self.label)
        self._health_changed.set()
        self._outbox_sender.notify()

    async def _on_message(self, message: aiomqtt.Message) -> None:
        await self.inbox.handle(message)

    async def _publish_raw(self, topic: str, payload: bytes, retain: bool, key: str | None) -> bool:
        return await self.publisher.publish(topic, payload, retain=retain, key=key)

    async def _publish(self, topic: str, message: Message, *, retain: bool) -> None:
        await self.publisher.publish(topic, encode(message), retain=retain)

    async def _publish_reply(self, topic: str, reply: CommandReply) -> None:
        await self.publisher.publish(topic, encode(reply), retain=False, key=f"reply {reply.id}")

    async def _publish_applied(self, note: str = "") -> None:
        """Say which configuration runs and, if one was refused since, which and why."""
        refused, why = self._refused or (0, note)
        applied = ConfigApplied(
            **self._ordered(), version=self.config_version, ok=self._refused is None,
            refused=refused, text=why[:TEXT_MAX],
        )  # fmt: skip
        await self._publish(self.topics.config_applied, applied, retain=True)

    async def _publish_state(self, device: Device) -> None:
        await self._send_state(device)

    async def _send_state(self, device: Device) -> DeviceState:
        """Publish the device's current state (retained) and show it on the panel: the one
        way a state leaves the agent, so the panel never misses one the hub sees."""
        message = await self._current_state(device)
        if self.panel_server is not None:
            self.panel_server.state_changed(device, message.state)
        await self._publish(self.topics.state(device.id), message, retain=True)
        return message

    async def _current_state(self, device: Device) -> DeviceState:
        """The device's state as published: its own, or unavailable with the reason while it
        fails (a state that cannot be read in time or sent is such a fault); never raises."""
        message: DeviceState | None = None
        with self.faults.attempt(device.id, "state"):
            async with asyncio.timeout(STATE_TIMEOUT_S):
                current = await device.state()
            message = self._device_state(device, current)
        if message is None or self.faults.reason(device.id) is not None:
            known = message.state if message is not None else {}
            message = self._device_state(device, self.faults.mark(device.id, known))
        return message

    def _device_state(self, device: Device, current: dict[str, Any]) -> DeviceState:
        return DeviceState(
            **self._ordered(),
            device=device.id,
            family=device.family,
            state=current,
            available=bool(current.get("available", True)),
        )

    async def _on_help(self, ack: HelpAck) -> None:
        if self.panel.show(ack):
            logger.info("%s: help request %s (alert %d)", self.label, ack.state, ack.alert)
            await self._publish_state(self.panel)

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
    A room whose agent fails is started again on its own; the other rooms go on.
    """

    def make(room: RoomFile) -> Agent:
        return Agent(room, settings, pin_factory=pin_factory() if pin_factory else None)

    async with asyncio.TaskGroup() as tg:
        for room in rooms:
            tg.create_task(run_room(room, make), name=f"agent {room.site}/{room.room}")


async def run_room(room: RoomFile, make: Callable[[RoomFile], Agent]) -> None:
    """Run one room's agent until cancelled, making a new one whenever it fails."""
    label = f"{room.site}/{room.room}"

    async def once() -> None:
        await make(room).run()

    await supervised("agent", once, label=label, min_s=1.0)


__all__ = ["Agent", "run_agents", "run_room"]
