"""A retained command on a room's command topic, published with the hub's credential and an
expiry twelve hours away, is never run: not at the agent's start, not after a reconnect (a
reset and a stall through the fault proxy), not after a restart; a live command still runs."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from gpiozero.pins.mock import MockFactory

from edge.agent import Agent
from protocol import CommandReply, decode
from smartclass.broker import Mosquitto
from tests.faultproxy import FaultProxy
from tests.integration.hub_commands import HUB_ID, command_body, hub_client
from tests.integration.system import eventually, make_agent, running

pytestmark = pytest.mark.integration

KEEPALIVE_S = 2
RETAINED_ID = "retained-on"


async def _refused_again(agent: Agent, before: int) -> None:
    """Wait until the agent has received the retained command once more (and dropped it)."""

    async def dropped() -> bool:
        return agent.malformed > before

    await eventually(dropped, 10, "the retained command delivered and refused")


async def test_a_retained_command_is_never_run_at_start_reconnect_or_restart(
    broker: Mosquitto, topic_root: str, tmp_path: Path
) -> None:
    replies: list[CommandReply] = []
    async with FaultProxy(broker.host, broker.port) as proxy, hub_client(broker, topic_root) as hub:

        def new_agent() -> tuple[Agent, MockFactory]:
            return make_agent(
                proxy,  # type: ignore[arg-type]
                topic_root,
                tmp_path / "edge",
                interval=0.5,
                mqtt={"keepalive_s": KEEPALIVE_S, "reconnect_max_s": 0.5},
                auth=broker,
            )

        agent, pins = new_agent()
        t = agent.topics
        await hub.subscribe(t.reply_to(HUB_ID), qos=1)
        on = json.dumps(command_body(RETAINED_ID, "lights", "on")).encode()
        await hub.publish(t.command("lights"), on, 1, retain=True)

        async def collect() -> None:
            async for message in hub.messages:
                assert isinstance(message.payload, bytes)
                replies.append(decode(CommandReply, message.payload))

        collector = asyncio.create_task(collect())
        try:
            async with running(agent):
                await _refused_again(agent, 0)  # at start
                assert pins.pin(23).state == 0
                generation = agent.link.generation
                proxy.reset()  # a reconnect: the subscription brings the retained one again
                await agent.link.wait_reconnect(generation, 10)
                assert agent.link.generation > generation
                await _refused_again(agent, 1)
                generation = agent.link.generation
                proxy.stall()  # until the agent sees the link lost, then it goes through again

                async def lost() -> bool:
                    return not agent.connected.is_set()

                await eventually(lost, 3 * KEEPALIVE_S + 5, "the stall noticed")
                proxy.pass_through()
                await agent.link.wait_reconnect(generation, 15)
                await _refused_again(agent, 2)
                assert pins.pin(23).state == 0
            agent, pins = new_agent()  # a restart on the same outbox and session
            async with running(agent):
                await _refused_again(agent, 0)
                assert pins.pin(23).state == 0, "run at a restart"
                live = json.dumps(command_body("live-on", "lights", "on")).encode()
                await hub.publish(t.command("lights"), live, 1)

                async def answered() -> list[CommandReply]:
                    return [r for r in replies if r.id == "live-on"]

                [reply] = await eventually(answered, 10, "the live command answered")
                assert reply.ok, reply
                assert pins.pin(23).state == 1, "a live command runs"
        finally:
            collector.cancel()
            await hub.publish(t.command("lights"), b"", 1, retain=True)
    assert not [r for r in replies if r.id == RETAINED_ID], "the retained command was answered"
