"""The agent's watchdog on a test's clock: READY once every room has started, WATCHDOG at each
tick while every room runs, none while a part or a room's agent waits to restart, the status
when it changes; a broker away is no fault."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from edge.agent import run_room
from edge.config import load_room_config
from edge.sdnotify import Notifier, socket_address
from edge.supervise import PartStates, supervised
from edge.watchdog import STATUS_INTERVAL_S, Fleet, keep_watch
from protocol.aio import wait_within
from tests.integration.notify import NotifySocket

SAMPLE = Path(__file__).parents[2] / "firmware_configs" / "rooms" / "sim-room.yaml"


@dataclass
class FakeAgent:
    """What the watchdog reads of an agent, set by the test."""

    started: asyncio.Event = field(default_factory=asyncio.Event)
    connected: asyncio.Event = field(default_factory=asyncio.Event)
    parts: PartStates = field(default_factory=PartStates)


class Ticks:
    """A clock the test moves: each ``sleep`` of the watchdog waits for ``tick``."""

    def __init__(self) -> None:
        self.asked: list[float] = []
        self._go: asyncio.Queue[None] = asyncio.Queue()
        self._waiting = asyncio.Event()

    async def sleep(self, seconds: float) -> None:
        self.asked.append(seconds)
        self._waiting.set()
        await self._go.get()

    async def waiting(self) -> None:
        await wait_within(self._waiting.wait(), 5)

    async def tick(self) -> None:
        """Let the watchdog's sleep end, and wait until it sleeps again."""
        await self.waiting()
        self._waiting.clear()
        self._go.put_nowait(None)
        await self.waiting()


@pytest.fixture
def listener() -> Iterator[tuple[str, socket.socket]]:
    notify = NotifySocket()  # abstract, as systemd names its own
    yield notify.name, notify.sock
    notify.sock.close()


def received(sock: socket.socket) -> list[str]:
    got = []
    while True:
        try:
            got.append(sock.recv(4096).decode())
        except BlockingIOError:
            return got


@dataclass
class Watch:
    fleet: Fleet
    ticks: Ticks
    sock: socket.socket
    agents: dict[str, FakeAgent]

    def sent(self) -> list[str]:
        return received(self.sock)


@pytest.fixture
async def watch(listener: tuple[str, socket.socket]) -> AsyncIterator[Watch]:
    name, sock = listener
    fleet = Fleet()
    agents = {"s/a": FakeAgent(), "s/b": FakeAgent()}
    for label, agent in agents.items():
        fleet.expect(label)
        fleet.agents[label] = agent
    ticks = Ticks()
    notifier = Notifier(socket_address(name), watchdog_s=15.0)
    task = asyncio.create_task(keep_watch(notifier, fleet, sleep=ticks.sleep))
    yield Watch(fleet, ticks, sock, agents)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    notifier.close()


async def start(watch: Watch) -> None:
    for agent in watch.agents.values():
        agent.started.set()
    await watch.ticks.tick()


async def test_ready_comes_only_once_every_room_has_started(watch: Watch) -> None:
    await watch.ticks.waiting()
    watch.agents["s/a"].started.set()
    await watch.ticks.tick()
    assert watch.sent() == []
    watch.agents["s/b"].started.set()
    await watch.ticks.tick()
    assert watch.sent() == ["READY=1\nSTATUS=2 rooms running, 0 connected to the broker\n"]
    assert watch.ticks.asked[-1] == 15.0  # then at half the watchdog interval


async def test_pings_come_at_each_tick_while_every_room_runs_even_offline(watch: Watch) -> None:
    await start(watch)
    watch.sent()
    for _ in range(3):
        await watch.ticks.tick()
    assert watch.sent() == ["WATCHDOG=1\n"] * 3


async def test_a_part_waiting_to_restart_stops_the_pings_and_says_so_until_it_runs(
    watch: Watch,
) -> None:
    await start(watch)
    watch.sent()
    watch.agents["s/b"].parts.failed("panel")
    await watch.ticks.tick()
    await watch.ticks.tick()
    assert watch.sent() == ["STATUS=unhealthy: s/b: panel restarting\n"]
    watch.agents["s/b"].parts.running("panel")
    watch.agents["s/a"].connected.set()
    await watch.ticks.tick()
    assert watch.sent() == ["WATCHDOG=1\nSTATUS=2 rooms running, 1 connected to the broker\n"]


async def test_a_room_whose_agent_waits_to_be_made_again_stops_the_pings(watch: Watch) -> None:
    await start(watch)
    watch.sent()
    del watch.fleet.agents["s/a"]
    watch.fleet.failing("s/a").failed("agent")
    watch.agents["s/b"].parts.failed("link")
    await watch.ticks.tick()
    assert watch.sent() == ["STATUS=unhealthy: s/a: agent restarting (+1 more)\n"]
    assert watch.fleet.problems() == ["s/a: agent restarting", "s/b: link restarting"]


async def test_a_room_that_failed_to_start_still_lets_ready_be_sent_but_no_ping() -> None:
    fleet = Fleet()
    fleet.expect("s/a")
    fleet.failing("s/a").failed("agent")
    assert fleet.started()
    assert fleet.problems() == ["s/a: agent restarting"]


async def test_without_a_watchdog_asked_for_only_ready_and_statuses_are_sent(
    listener: tuple[str, socket.socket],
) -> None:
    name, sock = listener
    fleet = Fleet()
    fleet.expect("s/a")
    agent = FakeAgent()
    agent.started.set()
    fleet.agents["s/a"] = agent
    ticks = Ticks()
    notifier = Notifier(socket_address(name))
    task = asyncio.create_task(keep_watch(notifier, fleet, sleep=ticks.sleep))
    try:
        await ticks.tick()
        await ticks.tick()
        agent.connected.set()
        await ticks.tick()
        assert received(sock) == [
            "READY=1\nSTATUS=1 room running, 0 connected to the broker\n",
            "STATUS=1 room running, 1 connected to the broker\n",
        ]
        assert ticks.asked[-1] == STATUS_INTERVAL_S
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        notifier.close()


async def test_without_systemd_the_watch_ends_at_once() -> None:
    await wait_within(keep_watch(Notifier(None), Fleet()), 1)


async def test_supervision_marks_a_part_restarting_from_its_failure_to_its_next_start() -> None:
    states = PartStates()
    failed, again, release = asyncio.Event(), asyncio.Event(), asyncio.Event()

    async def part() -> None:
        if not failed.is_set():
            failed.set()
            raise RuntimeError("boom")
        again.set()
        await release.wait()

    task = asyncio.create_task(supervised("p", part, label="s/r", min_s=0.05, states=states))
    await wait_within(failed.wait(), 5)  # the failure is handled before the part yields
    assert states.restarting == {"p"}
    await wait_within(again.wait(), 5)
    assert states.restarting == set()
    states.failed("p")  # cleared again when the part returns
    release.set()
    await wait_within(task, 5)
    assert states.restarting == set()


async def test_a_room_whose_agent_cannot_be_made_is_started_but_restarting_in_the_fleet() -> None:
    room = load_room_config(SAMPLE)
    fleet = Fleet()
    tried = asyncio.Event()

    def make(_room: object) -> Any:
        tried.set()
        raise RuntimeError("the outbox's disk is gone")

    task = asyncio.create_task(run_room(room, make, fleet))
    try:
        await wait_within(tried.wait(), 5)  # the failure is handled before the task yields
        label = f"{room.site}/{room.room}"
        assert fleet.started()
        assert fleet.problems() == [f"{label}: agent restarting"]
        assert fleet.status() == f"unhealthy: {label}: agent restarting"
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert fleet.problems() == [f"{label}: stopped"]
