"""Faults of the agent's own making or of its broker: a topic the ACL forgets, a stop in
the middle of a connect."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import pytest
from gpiozero.pins.mock import MockFactory, MockPWMPin
from pydantic import SecretStr

from edge.agent import Agent
from edge.clock import FakeClock
from protocol import Health, Status, Telemetry, decode
from protocol.aio import wait_within
from smartclass.acl import Grant
from smartclass.broker import Mosquitto
from tests.integration.system import QUIET_SUNDAY, make_agent, mqtt_client, running

pytestmark = pytest.mark.integration

SITE, ROOM = "thcs-nguyen-chi-thanh", "6a1"


async def test_a_message_the_broker_refuses_is_parked_and_blocks_nothing(
    broker: Mosquitto, topic_root: str, tmp_path: Path
) -> None:
    template, _ = make_agent(broker, topic_root, tmp_path, interval=0.1)
    template.close()
    base = f"{topic_root}/{SITE}/{ROOM}"
    # an ACL that forgets one topic: events are refused, everything else goes
    grants = [Grant.write(f"{base}/{kind}") for kind in ("status", "telemetry", "health")]
    grants += [Grant.write(f"{base}/state/+"), Grant.write(f"{base}/reply/+")]
    grants += [Grant.read(f"{base}/{kind}") for kind in ("cmd/+", "config", "ack")]
    user, password = broker.add_user(f"noevent-{topic_root}", grants)
    settings = template.settings.model_copy(
        update={"mqtt_username": user, "mqtt_password": SecretStr(password)}
    )
    outbox = template.room.outbox.model_copy(
        update={"refused_attempts": 3, "refused_retry_s": 0.05}
    )
    room = template.room.model_copy(update={"outbox": outbox})
    agent = Agent(
        room,
        settings,
        pin_factory=MockFactory(pin_class=MockPWMPin),
        wall_clock=FakeClock(QUIET_SUNDAY),
    )
    seqs: list[int] = []
    health: Health | None = None
    async with mqtt_client(broker, topic_root, "watch") as watch:
        await watch.subscribe(f"{base}/telemetry", qos=1)
        await watch.subscribe(f"{base}/health", qos=1)
        async with running(agent):
            for i in range(5):
                agent.emit_event("help", text=f"help {i}")  # each one refused by the broker
            async with asyncio.timeout(20):
                async for message in watch.messages:
                    assert isinstance(message.payload, bytes)
                    if message.topic.value.endswith("/telemetry"):
                        seqs.append(decode(Telemetry, message.payload).seq)
                    else:
                        health = decode(Health, message.payload)
                    if health is not None and health.outbox.parked >= 5 and len(seqs) > 20:
                        break
    assert health is not None
    assert health.outbox.parked == 5, "refused three times each, then moved aside"
    [lost] = [x for x in health.losses if x.boot == agent.boot]
    assert lost.by_reason == {"refused": 5}
    assert lost.count == 5
    assert seqs == sorted(seqs), "telemetry went on, in order, behind the refused events"


async def test_a_stop_while_connecting_leaves_the_room_offline(
    broker: Mosquitto, topic_root: str, tmp_path: Path
) -> None:
    agent, _ = make_agent(broker, topic_root, tmp_path)
    entered = asyncio.Event()
    gate = asyncio.Event()

    async def stuck(_client: object) -> None:  # the connect is stuck after saying online
        entered.set()
        await gate.wait()

    agent.publisher.flush = stuck  # type: ignore[method-assign]
    async with mqtt_client(broker, topic_root, "watch") as watch:
        task = asyncio.create_task(agent.run())
        await wait_within(entered.wait(), 10)  # online published; the rest under way
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await watch.subscribe(agent.topics.status, qos=1)
        async with asyncio.timeout(10):
            async for message in watch.messages:
                assert isinstance(message.payload, bytes)
                status = decode(Status, message.payload)
                break
    assert message.retain
    assert (status.state, status.boot) == ("offline", agent.boot)
