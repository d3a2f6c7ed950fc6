"""Mosquitto killed with SIGKILL while rooms publish: it saves its queues only every
``autosave_interval``, so it loses what it had acknowledged since. The agents keep every
message until the hub has stored it, and send again what the hub never got: by
(boot, seq), nothing is lost and nothing is stored twice."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import pytest

from edge.agent import Agent
from protocol.aio import wait_within
from smartclass.broker import Mosquitto
from tests.integration.system import HubProcess, eventually, make_agent, running

pytestmark = pytest.mark.integration

SITE = "thcs-nguyen-chi-thanh"
ROOMS = ("6a1", "6a2")


async def _all_stored(hub: HubProcess, agents: list[Agent], targets: list[int]) -> bool:
    """Every message up to each agent's target is stored (they go on publishing)."""
    for agent, target in zip(agents, targets, strict=True):
        rows = await asyncio.to_thread(hub.stored_seqs, f"{SITE}/{agent.room.room}")
        seqs = {seq for boot, seq, _ in rows if boot == agent.boot}
        if not seqs.issuperset(range(1, target + 1)):
            return False
    return True


async def test_a_broker_killed_while_rooms_publish_loses_nothing(
    own_broker: Mosquitto, topic_root: str, tmp_path: Path, database_url: str
) -> None:
    hub = HubProcess(
        own_broker, topic_root, tmp_path / "hub", hub_id=f"hub-{topic_root}",
        rooms=[(SITE, room) for room in ROOMS], database_url=database_url,
    )  # fmt: skip
    hub.start()
    agents = [
        make_agent(
            own_broker, topic_root, tmp_path / room, interval=0.02, room=room,
            mqtt={"resend_after_s": 1.0, "keepalive_s": 2},
        )[0]
        for room in ROOMS
    ]  # fmt: skip
    async with contextlib.AsyncExitStack() as stack:
        stack.callback(hub.close)
        await hub.wait_connected()
        for agent in agents:
            await stack.enter_async_context(running(agent))
        for crash in range(2):
            marks = [agent.last_seq for agent in agents]

            async def published(marks: list[int] = marks) -> bool:
                return all(a.last_seq >= m + 50 for a, m in zip(agents, marks, strict=True))

            await eventually(published, 15, "telemetry flowing")
            own_broker.kill()  # mid-stream: whatever it had not saved is gone
            own_broker.start()
            for agent in agents:
                await wait_within(agent.connected.wait(), 20)
            print(f"crash {crash + 1}: agents at {[a.last_seq for a in agents]}")
        await hub.wait_connected()
        targets = [agent.last_seq for agent in agents]
        await eventually(lambda: _all_stored(hub, agents, targets), 60, "every message stored")
    for agent, target in zip(agents, targets, strict=True):
        rows = await asyncio.to_thread(hub.stored_seqs, f"{SITE}/{agent.room.room}")
        mine = [(seq, n) for boot, seq, n in rows if boot == agent.boot]
        assert [seq for seq, _ in mine][:target] == list(range(1, target + 1)), "one lost"
        assert {n for _, n in mine} == {1}, "a message stored twice"
