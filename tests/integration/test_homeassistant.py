"""Home Assistant on a real broker: retained discovery, its commands, stale entities removed."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiomqtt
import pytest
from gpiozero.pins.mock import MockFactory, MockPWMPin
from jinja2 import StrictUndefined
from jinja2.sandbox import ImmutableSandboxedEnvironment

from edge.agent import Agent
from edge.clock import FakeClock
from edge.config import HomeAssistantConfig
from smartclass.acl import Grant
from smartclass.broker import Mosquitto
from tests.integration.system import QUIET_SUNDAY, eventually, make_agent, running

pytestmark = pytest.mark.integration

WAIT_S = 10.0
JINJA = ImmutableSandboxedEnvironment(undefined=StrictUndefined)


def render(template: str, payload: bytes) -> str:
    """A value template as Home Assistant renders it for a received payload."""
    text = payload.decode()
    return JINJA.from_string(template).render(value=text, value_json=json.loads(text))


def ha_agent(
    broker: Mosquitto, topic_root: str, data_dir: Path, *, enabled: bool = True
) -> tuple[Agent, MockFactory]:
    """The sample room's agent with Home Assistant discovery under a prefix of the test's own
    (its broker ACL lets it publish discovery there; kept while the room file switches Home
    Assistant off, so the agent can clear its entities: see docs/homeassistant.md)."""
    if broker.secured:
        deployment = broker.deployment(topic_root)
        prefixed = dataclasses.replace(deployment, discovery_prefix=f"{topic_root}-ha")
        broker.set_deployment(prefixed)
        broker.add_room(topic_root, "thcs-nguyen-chi-thanh", "6a1", homeassistant=True)
    template, _ = make_agent(broker, topic_root, data_dir)
    template.close()
    config = HomeAssistantConfig(enabled=enabled, discovery_prefix=f"{topic_root}-ha")
    room = template.room.model_copy(update={"homeassistant": config})
    factory = MockFactory(pin_class=MockPWMPin)
    agent = Agent(room, template.settings, pin_factory=factory, wall_clock=FakeClock(QUIET_SUNDAY))
    return agent, factory


def home_assistant(broker: Mosquitto, topic_root: str) -> aiomqtt.Client:
    """A client playing Home Assistant: it reads and writes the room's tree and discovery."""
    login: dict[str, str] = {}
    if broker.secured:
        grants = [Grant.readwrite(f"{topic_root}/#"), Grant.readwrite(f"{topic_root}-ha/#")]
        user, password = broker.add_user(f"ha-{topic_root}", grants)
        login = {"username": user, "password": password}
    return aiomqtt.Client(broker.host, broker.port, **login)


async def until(
    client: aiomqtt.Client, topic: str, check: Callable[[bytes], bool]
) -> aiomqtt.Message:
    """The first message on ``topic`` whose payload passes ``check``."""
    async with asyncio.timeout(WAIT_S):
        async for message in client.messages:
            payload = message.payload
            if message.topic.matches(topic) and isinstance(payload, bytes) and check(payload):
                return message
    raise AssertionError(f"nothing on {topic}")  # pragma: no cover


async def retained_configs(client: aiomqtt.Client, prefix: str, count: int) -> dict[str, Any]:
    await client.subscribe(f"{prefix}/#", qos=1)
    configs: dict[str, Any] = {}
    async with asyncio.timeout(WAIT_S):
        async for message in client.messages:
            assert message.retain
            assert isinstance(message.payload, bytes)
            configs[message.topic.value] = json.loads(message.payload)
            if len(configs) == count:
                break
    return configs


async def test_home_assistant_discovers_the_room_and_switches_it(
    broker: Mosquitto, topic_root: str, tmp_path: Path
) -> None:
    agent, factory = ha_agent(broker, topic_root, tmp_path)
    assert agent.homeassistant is not None
    expected = {d.topic: d.config for d in agent.homeassistant.discovery}
    prefix = f"{topic_root}-ha"
    node = f"{topic_root}_thcs-nguyen-chi-thanh_6a1"
    async with running(agent), home_assistant(broker, topic_root) as ha:
        configs = await retained_configs(ha, prefix, len(expected))
        assert configs == expected
        middle = configs[f"{prefix}/light/{node}/lights_middle/config"]
        front = configs[f"{prefix}/light/{node}/lights_front/config"]
        power = configs[f"{prefix}/switch/{node}/projector_power/config"]
        lights = middle["state_topic"]
        await ha.subscribe(lights, qos=1)
        await ha.subscribe(power["state_topic"], qos=1)
        await until(ha, lights, lambda p: render(middle["state_value_template"], p) == "OFF")

        await ha.publish(middle["command_topic"], "ON", qos=0)  # as Home Assistant sends it
        await until(ha, lights, lambda p: render(middle["state_value_template"], p) == "ON")
        assert factory.pin(23).state == 1

        await ha.publish(front["brightness_command_topic"], "40", qos=0)
        await until(ha, lights, lambda p: render(front["brightness_value_template"], p) == "40")
        assert factory.pin(18).state == pytest.approx(0.4)

        await ha.publish(power["command_topic"], "ON", qos=0)
        await until(ha, power["state_topic"], lambda p: render(power["value_template"], p) == "ON")

        await ha.publish(middle["command_topic"], "MAYBE", qos=0)

        async def dropped() -> bool:
            return agent.malformed == 1

        await eventually(dropped, WAIT_S, "the malformed command to be dropped")
        assert factory.pin(23).state == 1


async def test_a_retained_command_is_not_run_at_subscription(
    broker: Mosquitto, topic_root: str, tmp_path: Path
) -> None:
    agent, factory = ha_agent(broker, topic_root, tmp_path)
    back = f"{agent.topics.base}/ha/lights/back/set"
    async with home_assistant(broker, topic_root) as ha:
        await ha.publish(back, "ON", qos=1, retain=True)  # e.g. a misconfigured automation
        async with running(agent):

            async def dropped() -> bool:
                return agent.malformed == 1

            await eventually(dropped, WAIT_S, "the retained command to be dropped")
            assert factory.pin(24).state == 1  # active low: the relay stayed open
            assert (await agent.devices["lights"].state())["back"]["on"] is False
        await ha.publish(back, b"", qos=1, retain=True)


async def test_entities_are_removed_when_home_assistant_is_switched_off(
    broker: Mosquitto, topic_root: str, tmp_path: Path
) -> None:
    agent, _ = ha_agent(broker, topic_root, tmp_path)
    assert agent.homeassistant is not None
    topics = {d.topic for d in agent.homeassistant.discovery}
    record = tmp_path / "thcs-nguyen-chi-thanh--6a1" / "homeassistant.json"
    async with running(agent):
        pass
    assert set(json.loads(record.read_text())["topics"]) == topics

    disabled, _ = ha_agent(broker, topic_root, tmp_path, enabled=False)
    assert disabled.homeassistant is None
    async with home_assistant(broker, topic_root) as ha:
        await retained_configs(ha, f"{topic_root}-ha", len(topics))
        async with running(disabled):
            cleared: set[str] = set()
            async with asyncio.timeout(WAIT_S):
                async for message in ha.messages:
                    if message.payload == b"":
                        cleared.add(message.topic.value)
                    if cleared == topics:
                        break
    assert not record.exists()
