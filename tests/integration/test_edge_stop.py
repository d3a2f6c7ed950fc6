"""``smartclass edge`` stops on SIGTERM during a link stall, while a device changes by itself:
within the agent's stop deadline after one signal, at once after a second."""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

import pytest
import yaml

from protocol import RoomTopics
from smartclass.broker import Mosquitto
from smartclass.run import STOP_DEADLINE_S
from tests.faultproxy import FaultProxy
from tests.integration.hub_commands import HUB_ID, ask, hub_client
from tests.integration.system import AgentProcess, eventually, write_room

pytestmark = pytest.mark.integration

SITE, ROOM = "thcs-nguyen-chi-thanh", "6a1"
KEEPALIVE_S = 2
WARMUP_S = 1.0
AT_ONCE_S = 2.0
"""A second signal ends the process this soon (it does not wait for anything)."""


def _room_file(work: Path, root: str) -> Path:
    path = write_room(work, root=root, interval=0.1, keepalive=KEEPALIVE_S)
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    config["devices"]["projector"].update(warmup_s=WARMUP_S, transition_poll_s=0.1)
    config["mqtt"].update(reconnect_min_s=0.1, reconnect_max_s=0.5)
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path


async def _stalled_while_warming_up(
    broker: Mosquitto, proxy: FaultProxy, root: str, work: Path, *, noticed: bool = True
) -> AgentProcess:
    """An agent process whose link is stalled while its projector finishes warming up by
    itself and telemetry keeps coming; ``noticed``: until the agent saw the link lost and
    is reconnecting into the stall, else while its publications still hang."""
    agent = AgentProcess(_room_file(work, root), proxy, work, auth=broker)
    log = work / "edge.log"
    topics = RoomTopics(SITE, ROOM, root)
    async with hub_client(broker, root) as hub:
        await hub.subscribe(topics.reply_to(HUB_ID), qos=1)

        async def connected() -> bool:
            return "connected to" in log.read_text(errors="replace")

        await eventually(connected, 20, "the agent connected")
        reply = await ask(hub, topics, "warm", "projector", "on")
        assert reply.ok, reply
        assert reply.state is not None
        assert reply.state["power"] == "warming"
    proxy.stall()  # sockets open, nothing goes through: the publishes in flight hang

    async def lost() -> bool:
        return "lost or refused" in log.read_text(errors="replace")

    if noticed:
        await eventually(lost, 3 * KEEPALIVE_S + 5, "the agent to notice the stall")
    await asyncio.sleep(WARMUP_S)  # the fault goes on: the warm-up ends inside it
    assert agent.proc.poll() is None, "alive during the stall"
    return agent


async def _exit_within(agent: AgentProcess, seconds: float) -> tuple[int, float]:
    started = time.monotonic()
    code = await asyncio.to_thread(agent.proc.wait, seconds)
    return code, time.monotonic() - started


@pytest.mark.parametrize("noticed", [False, True], ids=["hanging", "reconnecting"])
async def test_sigterm_during_a_link_stall_ends_the_agent_within_its_deadline(
    own_broker: Mosquitto, topic_root: str, tmp_path: Path, noticed: bool
) -> None:
    async with FaultProxy(own_broker.host, own_broker.port) as proxy:
        agent = await _stalled_while_warming_up(
            own_broker, proxy, topic_root, tmp_path, noticed=noticed
        )
        try:
            agent.proc.send_signal(signal.SIGTERM)
            code, took = await _exit_within(agent, STOP_DEADLINE_S + 5)
        finally:
            agent.close()
    log = (tmp_path / "edge.log").read_text(errors="replace")
    assert took < STOP_DEADLINE_S, f"took {took:.1f} s:\n{log[-3000:]}"
    assert code == 0, log[-3000:]
    assert "agent stopped" in log
    if not noticed:  # it tried to say offline into the stall, and gave up in time
        assert "could not publish the offline status" in log, log[-3000:]
    print(f"SIGTERM during a stall ({'reconnecting' if noticed else 'hanging'}): "
          f"the agent ended in {took:.2f} s")  # fmt: skip


@pytest.mark.parametrize("second", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
async def test_a_second_signal_during_a_stall_ends_the_agent_at_once(
    own_broker: Mosquitto, topic_root: str, tmp_path: Path, second: signal.Signals
) -> None:
    async with FaultProxy(own_broker.host, own_broker.port) as proxy:
        # while its publications hang: the first stop waits for its offline status, seconds
        agent = await _stalled_while_warming_up(
            own_broker, proxy, topic_root, tmp_path, noticed=False
        )
        try:
            agent.proc.send_signal(signal.SIGTERM)

            async def stopping() -> bool:
                return "edge: stopping" in (tmp_path / "edge.log").read_text(errors="replace")

            await eventually(stopping, 5, "the first signal taken")
            agent.proc.send_signal(second)
            code, took = await _exit_within(agent, STOP_DEADLINE_S + 5)
        finally:
            agent.close()
    log = (tmp_path / "edge.log").read_text(errors="replace")
    assert took < AT_ONCE_S, f"took {took:.1f} s:\n{log[-3000:]}"
    assert code == 1
    assert "stopping at once" in log
    print(f"a second {second.name}: the agent ended in {took:.2f} s")
