"""The room as the panel shows it, kept up to date from the agent and streamed to the pages.

The agent tells the panel every device state it publishes (commands from the hub, the
timetable, the panel's own taps, a projector that finished warming up), every telemetry
sample, and when its broker link or the hub comes and goes. ``RoomView`` turns them into the
views of ``edge.panel.views`` and puts each one that changed on a ``ui.live.LiveFeed``: the
pages follow it over server-sent events and catch up after a drop. Everything here is
quick and synchronous, on the agent's event loop: nothing waits for the network or a disk.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal
from zoneinfo import ZoneInfo

from devices.base import Device
from edge.help import PANEL_ID
from edge.panel.progress import Progress
from edge.panel.views import (
    CLIMATE_METRICS,
    Co2Level,
    attendance_view,
    climate_view,
    co2_level,
    help_view,
    lesson_view,
    lighting_view,
    projector_view,
    timetable_view,
)
from protocol.messages import Telemetry, utcnow
from ui.live import LiveFeed

if TYPE_CHECKING:
    from edge.agent import Agent

logger = logging.getLogger(__name__)

FEED_KEEP = 500
"""Events a page can catch up on after a drop; beyond, it reloads the whole state."""
LISTENERS_MAX = 20
"""Pages that may follow one room at once (a room has a tablet or two)."""
SEED_TIMEOUT_S = 5.0
"""Longest one device's state may take to read when the panel starts."""
CONTROLLED = ("lighting", "projector")
ATTENDANCE = "attendance"
"""The attendance device's id: its state fills the attendance card."""
"""The families the panel shows as controls."""
Routine = Literal["starting", "ending"]


class RoomView:
    """The panel's views of one room, and the live feed of their changes."""

    def __init__(self, agent: Agent, *, progress: Progress | None = None) -> None:
        self.agent = agent
        self.feed = LiveFeed(keep=FEED_KEEP, max_listeners=LISTENERS_MAX)
        self.progress = progress or Progress()
        self.devices: dict[str, dict[str, Any]] = {}
        self.help: dict[str, Any] = help_view({"request": "none"})
        self.broker = False
        self.hub = False
        self.routine: Routine | None = None
        self.readings: dict[str, float] = {}
        self._co2: Co2Level | None = None
        self.climate = self._climate()
        self.timetable = self._timetable()
        self.lesson = self._lesson()
        self.attendance = attendance_view(None if "attendance" not in agent.devices else {})
        self._generation = agent.pairing.generation
        self._changed = asyncio.Event()
        self._timers: dict[str, asyncio.TimerHandle] = {}

    # --- what the room is ------------------------------------------------------------

    def controlled(self) -> list[Device]:
        """The lights and projectors, in the room file's order."""
        return [d for d in self.agent.devices.values() if d.family in CONTROLLED]

    def targets(self, family: str) -> list[str]:
        """The devices "start the lesson" switches: the timetable's, else every one."""
        timetable = self.agent.room.timetable
        named = None
        if timetable is not None:
            named = timetable.lights if family == "lighting" else timetable.projectors
        ids = [d.id for d in self.controlled() if d.family == family]
        return [d for d in ids if d in named] if named is not None else ids

    @property
    def lesson_scene(self) -> str:
        timetable = self.agent.room.timetable
        return timetable.lesson_scene if timetable is not None else "lesson"

    @property
    def end_scene(self) -> str:
        timetable = self.agent.room.timetable
        return timetable.closed_scene if timetable is not None else "off"

    def projector_config(self, device_id: str) -> Any:
        return self.agent.room.devices[device_id]

    # --- what the agent tells --------------------------------------------------------

    def device_state(self, device: Device, state: Mapping[str, Any]) -> None:
        """A device's state as the agent publishes it (or as a command returned it)."""
        if device.id == PANEL_ID:
            self._panel_state(state)
            return
        if device.id == ATTENDANCE:
            view = attendance_view(state)
            if view != self.attendance:
                self.attendance = view
                self._publish("attendance", view)
            return
        if device.family not in CONTROLLED:
            return
        view = self._device_view(device, state)
        if self.devices.get(device.id) != view:
            self.devices[device.id] = view
            self._publish("device", view)
            self._update_lesson()
        self._poke()

    def sampled(self, batch: Iterable[Telemetry]) -> None:
        """A telemetry sample: the climate card, and the timetable's period (checked at each
        sample, so a new period shows within one telemetry interval)."""
        for telemetry in batch:
            for metric in CLIMATE_METRICS.values():
                value = telemetry.readings.get(metric)
                if value is not None:
                    self.readings[metric] = float(value)
        climate = self._climate()
        if climate != self.climate:
            self.climate = climate
            self._publish("climate", climate)
        timetable = self._timetable()
        if timetable != self.timetable:
            self.timetable = timetable
            self._publish("timetable", timetable)

    def link_changed(self, up: bool) -> None:
        """The broker link went up or down."""
        if up != self.broker:
            self.broker = up
            self._publish("link", self.link)

    def hub_changed(self, online: bool) -> None:
        """A hub said it is online (or none is)."""
        if online != self.hub:
            self.hub = online
            self._publish("link", self.link)

    def set_routine(self, routine: Routine | None) -> None:
        self.routine = routine
        self._update_lesson()

    def hold_input(self, device_id: str, seconds: float) -> None:
        """Show the input switch busy for ``seconds`` more, then show the projector again."""
        if (old := self._timers.pop(device_id, None)) is not None:
            old.cancel()
        loop = asyncio.get_running_loop()
        self._timers[device_id] = loop.call_later(seconds, self._refresh, device_id)

    def close(self) -> None:
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()

    async def seed(self) -> None:
        """Read every device's state once: the panel shows the room before the first publish
        (a broker that is down at start publishes nothing)."""
        attendance = [d for d in (self.agent.devices.get(ATTENDANCE),) if d is not None]
        for device in [*self.controlled(), self.agent.panel, *attendance]:
            try:
                async with asyncio.timeout(SEED_TIMEOUT_S):
                    state = await device.state()
            except Exception as exc:
                logger.warning("%s: panel: no state of %s: %s", self.agent.label, device.id, exc)
                continue
            self.device_state(device, state)

    async def wait_for(self, check: Callable[[], bool], timeout: float) -> bool:
        """Wait until ``check()`` holds after some change (True), or ``timeout`` (False)."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                while not check():
                    await self._changed.wait()
                return True
        return False

    # --- what the pages read ---------------------------------------------------------

    @property
    def link(self) -> dict[str, bool]:
        return {"broker": self.broker, "hub": self.hub, "local": not (self.broker and self.hub)}

    def snapshot(self) -> dict[str, Any]:
        """Everything the page shows, and the feed's position it is current with."""
        room = self.agent.room
        for device_id in list(self.devices):
            self.refresh_busy(device_id)
        return {
            "room": {"site": room.site, "room": room.room, "name": room.name or room.room},
            "now": utcnow().isoformat(),
            "timezone": room.timezone,
            "last_event": self.feed.last_id,
            "devices": dict(self.devices),
            "climate": self.climate,
            "timetable": self._timetable(),
            "help": self.help,
            "link": self.link,
            "lesson": self.lesson,
            "attendance": self.attendance,
        }

    # --- the views -------------------------------------------------------------------

    def _device_view(self, device: Device, state: Mapping[str, Any]) -> dict[str, Any]:
        config = self.agent.room.devices.get(device.id)
        if device.family == "lighting":
            zones = getattr(config, "zones", {})
            dimmable = {name: getattr(z, "kind", "relay") == "dimmer" for name, z in zones.items()}
            scenes = getattr(device, "scenes", {}) or {}
            return lighting_view(device.id, state, scenes=scenes, dimmable=dimmable)
        warmup, cooldown = getattr(config, "warmup_s", 0.0), getattr(config, "cooldown_s", 0.0)
        self.progress.observe(device.id, state.get("power"), warmup_s=warmup, cooldown_s=cooldown)
        inputs = list(getattr(config, "inputs", {}))
        return projector_view(device.id, state, inputs=inputs, busy=self.progress.busy(device.id))

    def _refresh(self, device_id: str) -> None:
        self._timers.pop(device_id, None)
        self.refresh_busy(device_id)
        self._poke()

    def refresh_busy(self, device_id: str) -> None:
        """A projector's busy part, made again now (a countdown ended; a snapshot asked)."""
        view = self.devices.get(device_id)
        if view is None or view["family"] != "projector" or not view["available"]:
            return
        busy = self.progress.busy(device_id)
        fresh = {**view, "busy": busy.view() if busy is not None else None}
        if (view["busy"] is None) != (busy is None):
            self.devices[device_id] = fresh
            self._publish("device", fresh)
        else:
            self.devices[device_id] = fresh

    def _panel_state(self, state: Mapping[str, Any]) -> None:
        view = help_view(state)
        if view != self.help:
            self.help = view
            self._publish("help", view)
        generation = self.agent.pairing.generation
        if generation != self._generation:  # unpaired: wake every stream to check its tablet
            self._generation = generation
            self._publish("pairing", {})

    def _climate(self) -> dict[str, Any]:
        room = self.agent.room
        rule, stuffy = room.rules.co2, room.panel.co2_stuffy_ppm
        ppm = self.readings.get("co2_ppm")
        if ppm is not None:
            self._co2 = co2_level(
                ppm, stuffy_ppm=stuffy, limit_ppm=rule.co2_ppm,
                hysteresis_ppm=rule.hysteresis_ppm, before=self._co2,
            )  # fmt: skip
        thresholds = {"stuffy_ppm": min(stuffy, rule.co2_ppm), "open_windows_ppm": rule.co2_ppm}
        return climate_view(self.readings, self._co2 if ppm is not None else None, thresholds)

    def _timetable(self) -> dict[str, Any]:
        room = self.agent.room
        now = self.agent.automation.clock.now()
        return timetable_view(room.timetable, now, ZoneInfo(room.timezone), room.name or room.room)

    def _lesson(self) -> dict[str, Any]:
        lights = [self.devices[d] for d in self.targets("lighting") if d in self.devices]
        projectors = [self.devices[d] for d in self.targets("projector") if d in self.devices]
        return lesson_view(lights, projectors, lesson_scene=self.lesson_scene, routine=self.routine)

    def _update_lesson(self) -> None:
        lesson = self._lesson()
        if lesson != self.lesson:
            self.lesson = lesson
            self._publish("lesson", lesson)

    def _publish(self, kind: str, data: Mapping[str, Any]) -> None:
        self.feed.publish(kind, data)
        self._poke()

    def _poke(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()


__all__ = ["CONTROLLED", "FEED_KEEP", "LISTENERS_MAX", "RoomView", "Routine"]
