"""The edge agent in-process against a real Mosquitto: status, state, telemetry and commands."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import aiomqtt
import pytest

from devices.base import Sensor
from edge.inbox import EXPIRY_TOLERANCE_S
from protocol.aio import wait_within
from protocol.messages import (
    Command,
    CommandReply,
    ConfigApplied,
    DeviceState,
    RoomConfig,
    RoomSettings,
    Status,
    Telemetry,
    decode,
    encode,
    utcnow,
)
from smartclass.broker import Mosquitto
from tests.integration.system import (
    eventually,
    make_agent,
    mqtt_client,
    persistent_subscriber,
    running,
)

pytestmark = pytest.mark.integration

SAMPLE = Path(__file__).parents[2] / "firmware_configs" / "rooms" / "sim-room.yaml"
WAIT_S = 10.0


async def next_on(client: aiomqtt.Client, topic: str) -> aiomqtt.Message:
    async with asyncio.timeout(WAIT_S):
        async for message in client.messages:
            if message.topic.matches(topic):
                return message
    raise AssertionError(f"no message on {topic}")  # pragma: no cover


async def test_status_state_and_telemetry_reach_the_broker(
    broker: Mosquitto, topic_root: str, tmp_path: Path
) -> None:
    agent, _ = make_agent(broker, topic_root, tmp_path)
    base = agent.topics.base
    async with running(agent), mqtt_client(broker, topic_root, "sub") as sub:
        await sub.subscribe(f"{base}/status", qos=1)
        status = decode(Status, (await next_on(sub, f"{base}/status")).payload)  # type: ignore[arg-type]
        assert (status.state, status.boot, status.keepalive) == ("online", agent.boot, 5)
        assert status.devices == ["env", "lights", "projector", "noise", "presence", "panel"]

        await sub.subscribe(f"{base}/state/lights", qos=1)
        msg = await next_on(sub, f"{base}/state/lights")
        assert msg.retain
        state = decode(DeviceState, msg.payload)  # type: ignore[arg-type]
        assert state.state["front"] == {"on": False, "level": 0}

        assert agent.sim is not None
        agent.sim.set_occupancy(30)
        await sub.subscribe(f"{base}/telemetry", qos=1)
        by_device: dict[str, Telemetry] = {}
        while len(by_device) < 5:
            msg = await next_on(sub, f"{base}/telemetry")
            telemetry = decode(Telemetry, msg.payload)  # type: ignore[arg-type]
            assert telemetry.boot == agent.boot
            assert 1 <= telemetry.seq <= agent.last_seq
            by_device[telemetry.device] = telemetry
        assert {"co2_ppm", "temperature_c"} <= set(by_device["env"].readings)
        assert set(by_device["noise"].readings) == {"noise_dba"}
        assert set(by_device["presence"].readings) == {"occupied"}
        assert set(by_device["lights"].readings) == {
            "level_front_pct", "level_middle_pct", "level_back_pct",
        }  # fmt: skip
        assert by_device["projector"].readings["power_on"] == 0.0
        assert {t.schedule for t in by_device.values()} == {"closed"}  # a quiet Sunday

    async with mqtt_client(broker, topic_root, "sub") as sub:
        await sub.subscribe(f"{base}/status", qos=1)
        status = decode(Status, (await next_on(sub, f"{base}/status")).payload)  # type: ignore[arg-type]
        assert status.state == "offline"


async def test_command_to_lights_is_answered_and_switches_the_pin(
    broker: Mosquitto, topic_root: str, tmp_path: Path
) -> None:
    agent, factory = make_agent(broker, topic_root, tmp_path)
    topics = agent.topics
    async with running(agent), mqtt_client(broker, topic_root, "hub") as hub:
        await hub.subscribe(topics.reply, qos=1)
        await hub.subscribe(topics.state("lights"), qos=1)
        await next_on(hub, topics.state("lights"))  # the retained state at subscription

        def command(cid: str, action: str, expires_in: float, **params: object) -> bytes:
            return encode(
                Command(
                    sender="hub/test",
                    id=cid,
                    device="lights",
                    action=action,
                    params=params,
                    issuer="teacher-1",
                    expires=utcnow() + timedelta(seconds=expires_in),
                )
            )

        await hub.publish(
            topics.command("lights"), command("c1", "set", 30, zone="front", level=60), qos=1
        )
        reply = decode(CommandReply, (await next_on(hub, topics.reply)).payload)  # type: ignore[arg-type]
        assert (reply.id, reply.code) == ("c1", "ok")
        assert reply.state is not None
        assert reply.state["front"] == {"on": True, "level": 60}
        assert factory.pin(18).state == pytest.approx(0.6)
        state = decode(DeviceState, (await next_on(hub, topics.state("lights"))).payload)  # type: ignore[arg-type]
        assert state.state["front"]["level"] == 60

        stale = -(EXPIRY_TOLERANCE_S + 5)  # beyond the slack for the clock estimate
        await hub.publish(topics.command("lights"), command("c2", "on", stale), qos=1)
        reply = decode(CommandReply, (await next_on(hub, topics.reply)).payload)  # type: ignore[arg-type]
        assert (reply.id, reply.code) == ("c2", "expired")
        assert factory.pin(23).state == 0

        await hub.publish(topics.command("lights"), b"{not json", qos=1)
        await hub.publish(topics.command("lights"), command("c3", "dance", 30), qos=1)
        reply = decode(CommandReply, (await next_on(hub, topics.reply)).payload)  # type: ignore[arg-type]
        assert (reply.id, reply.code) == ("c3", "unknown_action")
        assert agent.malformed == 1


async def test_config_push_is_applied_and_acknowledged(
    broker: Mosquitto, topic_root: str, tmp_path: Path
) -> None:
    agent, _ = make_agent(broker, topic_root, tmp_path)
    topics = agent.topics
    async with running(agent), mqtt_client(broker, topic_root, "hub") as hub:
        await hub.subscribe(topics.config_applied, qos=1)
        config = RoomConfig(
            sender="hub/test", version=7, settings=RoomSettings(telemetry_interval_s=42)
        )
        await hub.publish(topics.config, encode(config), qos=1, retain=True)
        applied = decode(ConfigApplied, (await next_on(hub, topics.config_applied)).payload)  # type: ignore[arg-type]
        assert (applied.version, applied.ok) == (7, True)
        assert agent.telemetry_interval_s == 42
        await hub.publish(topics.config, b"", qos=1, retain=True)


async def test_outbox_replays_in_order_after_the_broker_comes_back(
    own_broker: Mosquitto, topic_root: str, tmp_path: Path
) -> None:
    agent, _ = make_agent(own_broker, topic_root, tmp_path, interval=3600)
    topic = agent.topics.telemetry

    def subscriber() -> aiomqtt.Client:
        return persistent_subscriber(own_broker, f"sub-{topic_root}", topic_root)

    async with subscriber() as sub:
        await sub.subscribe(topic, qos=1)
    async with running(agent):
        async with subscriber() as sub:
            first = decode(Telemetry, (await next_on(sub, topic)).payload)  # type: ignore[arg-type]
        assert first.seq == 1

        async def all_sent() -> bool:
            return await agent.unsent() == 0

        await eventually(all_sent, WAIT_S, "the whole first sample to be sent")
        own_broker.stop()
        await eventually(
            lambda: asyncio.sleep(0, not agent.connected.is_set()), WAIT_S, "the agent to notice"
        )
        per_sample = sum(isinstance(d, Sensor) for d in agent.devices.values())
        assert per_sample == 5  # environment, lights, projector, noise, occupancy
        for _ in range(3):
            await agent.sample()
        assert await agent.unsent() == 3 * per_sample
        own_broker.start()
        await wait_within(agent.connected.wait(), WAIT_S)
        await eventually(all_sent, WAIT_S, "the outbox to be sent")
        async with subscriber() as sub:
            # perhaps the rest of the first sample, then the three taken while the broker was down
            seqs: list[int] = []
            while not seqs or seqs[-1] < 4 * per_sample:
                seqs.append(decode(Telemetry, (await next_on(sub, topic)).payload).seq)  # type: ignore[arg-type]
        assert [s for s in seqs if s > per_sample] == list(
            range(per_sample + 1, 4 * per_sample + 1)
        )
