"""The agent under systemd: READY once its rooms have started, WATCHDOG only while the event
loop turns and every room runs, STATUS with a short account, STOPPING when it stops.

Healthy means what the agent knows of itself: the pings come from a task of the event loop,
so a loop that is blocked sends none; and every room has a running agent none of whose parts
waits to restart after a failure. A broker that cannot be reached is not a fault: the room
runs offline, its outbox keeps what it records, and the pings go on.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

from edge.sdnotify import Notifier
from edge.supervise import PartStates

logger = logging.getLogger(__name__)

STATUS_INTERVAL_S = 10.0
"""How often the status is looked at when systemd asks for no watchdog pings."""

Sleep = Callable[[float], Awaitable[None]]


class Watched(Protocol):
    """What the watchdog asks of a process: the agent's rooms (``Fleet``), or the hub."""

    def started(self) -> bool:
        """Whether start-up is over (READY is sent once it is)."""

    def problems(self) -> list[str]:
        """What is wrong now; empty: healthy."""

    def status(self) -> str:
        """A short state for ``systemctl status``."""


class RoomAgent(Protocol):
    """What the watchdog reads of a room's agent (``edge.agent.Agent``)."""

    @property
    def started(self) -> asyncio.Event: ...
    @property
    def connected(self) -> asyncio.Event: ...
    @property
    def parts(self) -> PartStates: ...


class Fleet:
    """The rooms of one agent process, and the agent that runs each one now."""

    def __init__(self) -> None:
        self.expected: list[str] = []
        """Every room the process serves, by label (``site/room``)."""
        self.agents: dict[str, RoomAgent] = {}
        """The agent of each room while one exists (it may still be starting)."""
        self._rooms: dict[str, PartStates] = {}
        self._seen: set[str] = set()

    def expect(self, label: str) -> None:
        if label not in self.expected:
            self.expected.append(label)
        self._rooms.setdefault(label, PartStates())

    def failing(self, label: str) -> PartStates:
        """Whether the room's agent itself waits to be made again after a failure."""
        return self._rooms.setdefault(label, PartStates())

    def leave(self, label: str) -> None:
        """The room's task has ended (the process stops)."""
        self.agents.pop(label, None)
        self._rooms.pop(label, None)

    def started(self) -> bool:
        """Whether every room has been started once: its agent runs its parts, or failed."""
        for label in self.expected:
            agent = self.agents.get(label)
            running = agent is not None and agent.started.is_set()
            if running or self.failing(label).restarting:
                self._seen.add(label)
        return bool(self.expected) and self._seen >= set(self.expected)

    def problems(self) -> list[str]:
        """What is wrong now, one short text per room part; empty: every room runs."""
        found: list[str] = []
        for label in self.expected:
            agent = self.agents.get(label)
            room = self._rooms.get(label)
            if room is None:
                found.append(f"{label}: stopped")
            elif room.restarting:
                found.append(f"{label}: agent restarting")
            elif agent is None or not agent.started.is_set():
                found.append(f"{label}: starting")
            else:
                parts = sorted(agent.parts.restarting)
                found.extend(f"{label}: {part} restarting" for part in parts)
        return found

    def status(self) -> str:
        """A short state for ``systemctl status``: the rooms running and connected, or what
        is wrong."""
        problems = self.problems()
        if problems:
            more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
            return f"unhealthy: {problems[0]}{more}"
        online = sum(1 for agent in self.agents.values() if agent.connected.is_set())
        n = len(self.expected)
        rooms = "1 room" if n == 1 else f"{n} rooms"
        return f"{rooms} running, {online} connected to the broker"


async def keep_watch(notifier: Notifier, watched: Watched, *, sleep: Sleep = asyncio.sleep) -> None:
    """Tell systemd how the process is, until cancelled; returns at once if it does not listen.

    Every half watchdog interval (``$WATCHDOG_USEC`` / 2) a healthy process sends WATCHDOG=1;
    an unhealthy one sends only its status, so systemd restarts it once the pings have been
    missing for the whole interval. ``sleep`` waits between looks (a test's clock).
    """
    if not notifier.enabled:
        return
    interval = notifier.watchdog_s or STATUS_INTERVAL_S
    while not watched.started():
        await sleep(min(interval, 0.1))
    status = watched.status()
    notifier.ready(status)
    logger.info("systemd: ready (%s)", status)
    healthy = True
    while True:
        await sleep(interval)
        problems = watched.problems()
        if problems and healthy:
            logger.warning("systemd: no watchdog pings while %s", "; ".join(problems))
        elif not problems and not healthy:
            logger.info("systemd: healthy again; watchdog pings go on")
        healthy = not problems
        fields: dict[str, str | int] = {}
        if healthy and notifier.watchdog_s is not None:
            fields["WATCHDOG"] = 1
        now = watched.status()
        if now != status:
            fields["STATUS"] = now
            status = now
        if fields:
            notifier.send(**fields)


__all__ = ["STATUS_INTERVAL_S", "Fleet", "RoomAgent", "Watched", "keep_watch"]
