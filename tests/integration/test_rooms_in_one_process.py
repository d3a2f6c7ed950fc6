"""Several rooms in one process (``run_agents``) on the secured broker, and an agent whose
part fails: a poisoned command to one room, or one room's part raising, never stops the
rest of that room or any other room."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from pathlib import Path
from typing import Any

import pytest

from edge.agent import run_agents
from edge.config import RoomFile, load_room_config
from edge.settings import EdgeSettings
from protocol import CommandReply, Event, Health, RoomTopics, Status, Telemetry, decode
from smartclass.broker import Mosquitto
from tests.integration.hub_commands import HUB_ID, command_body, hub_client
from tests.integration.system import make_agent, mqtt_client, running, write_room

pytestmark = pytest.mark.integration

SITE = "thcs-nguyen-chi-thanh"
ROOMS = ("6a1", "6a2", "6a3")


def _deep(levels: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(levels):
        value = {"a": value}
    return value


def poisoned() -> dict[str, bytes]:
    """The poisoned commands of the hardening issue, by id: a NUL in a key, a lone
    surrogate, params 256 deep."""
    surrogate = json.dumps(command_body("p-surrogate", params={"text": "SURROGATE"}))
    return {
        "p-nul-key": json.dumps(command_body("p-nul-key", params={"x\u0000": 1})).encode(),
        "p-surrogate": surrogate.replace("SURROGATE", "\\ud800").encode(),
        "p-deep": json.dumps(command_body("p-deep", params=_deep(256))).encode(),
    }


def rooms_in_one_process(broker: Mosquitto, root: str, work: Path) -> tuple[list[RoomFile], Any]:
    """Three room files and settings naming each agent's own credential file."""
    credentials = work / "credentials"
    credentials.mkdir(parents=True)
    rooms = []
    for name in ROOMS:
        room = load_room_config(write_room(work / "rooms", root=root, room=name, interval=0.2))
        user, password = broker.agent(root, SITE, name)
        (credentials / f"{user}.env").write_text(
            f"SMARTCLASS_EDGE_MQTT_USERNAME={user}\nSMARTCLASS_EDGE_MQTT_PASSWORD={password}\n",
            encoding="utf-8",
        )
        rooms.append(room)
    settings = EdgeSettings(
        mqtt_host=broker.host, mqtt_port=broker.port, data_dir=work / "edge",
        credentials_dir=credentials, pin_factory="mock",
    )  # fmt: skip
    return rooms, settings


async def test_a_poisoned_command_to_one_room_stops_no_room_of_the_process(
    broker: Mosquitto, topic_root: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    rooms, settings = rooms_in_one_process(broker, topic_root, tmp_path)
    topics = {name: RoomTopics(SITE, name, topic_root) for name in ROOMS}
    a = topics[ROOMS[0]]
    async with hub_client(broker, topic_root) as hub:
        for t in topics.values():
            await hub.subscribe(t.status, qos=1)
            await hub.subscribe(t.reply_to(HUB_ID), qos=1)
        # retained poison is on the broker before the agents start, and stays there
        for payload in poisoned().values():
            await hub.publish(a.command("lights"), payload.replace(b"p-", b"r-"), 1, retain=True)
        fleet = asyncio.create_task(run_agents(rooms, settings))
        try:
            online: dict[str, str] = {}
            replies: dict[str, CommandReply] = {}

            async def read_until(done: Any) -> None:
                async with asyncio.timeout(20):
                    async for message in hub.messages:
                        assert isinstance(message.payload, bytes)
                        if not message.payload:
                            continue
                        if message.topic.value.endswith("/status"):
                            status = decode(Status, message.payload)
                            online[status.sender.split("/")[-1]] = status.state
                        else:
                            reply = decode(CommandReply, message.payload)
                            replies[reply.id] = reply
                        if done():
                            return

            await read_until(lambda: all(online.get(n) == "online" for n in ROOMS))
            for payload in poisoned().values():
                await hub.publish(a.command("lights"), payload, 1)
            await read_until(lambda: set(poisoned()) <= set(replies))
            for command_id in poisoned():
                assert replies[command_id].code == "bad_request", replies[command_id]
                assert "\x00" not in replies[command_id].text
            for name in ROOMS:  # every room answers a good command afterwards
                good = json.dumps(command_body(f"good-{name}")).encode()
                await hub.publish(topics[name].command("lights"), good, 1)
            await read_until(lambda: all(f"good-{n}" in replies for n in ROOMS))
            assert all(replies[f"good-{n}"].code == "ok" for n in ROOMS)
            assert all(online[n] == "online" for n in ROOMS)
            assert not any(r.startswith("r-") for r in replies), "a retained command was run"
            assert not fleet.done()
            assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
        finally:
            fleet.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await fleet
            await hub.publish(a.command("lights"), b"", 1, retain=True)


async def test_a_part_of_a_running_agent_that_raises_restarts_alone(
    broker: Mosquitto, topic_root: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    agent, pins = make_agent(broker, topic_root, tmp_path, interval=0.1)
    real = agent.publish_health
    calls: list[float] = []

    async def health_once_broken() -> None:
        calls.append(asyncio.get_running_loop().time())
        if len(calls) == 1:
            raise RuntimeError("health bug")
        await real()

    agent.publish_health = health_once_broken  # type: ignore[method-assign]
    t = agent.topics
    events: list[Event] = []
    seqs: list[int] = []
    health: list[Health] = []
    async with (
        mqtt_client(broker, topic_root, "watch") as watch,
        hub_client(broker, topic_root) as hub,
    ):
        for topic in (t.event, t.telemetry, t.health):
            await watch.subscribe(topic, qos=1)
        await hub.subscribe(t.reply_to(HUB_ID), qos=1)
        async with running(agent):
            async with asyncio.timeout(20):
                async for message in watch.messages:
                    assert isinstance(message.payload, bytes)
                    topic = message.topic.value
                    if topic.endswith("/event"):
                        events.append(decode(Event, message.payload))
                    elif topic.endswith("/telemetry"):
                        seqs.append(decode(Telemetry, message.payload).seq)
                    elif message.payload:
                        health.append(decode(Health, message.payload))
                    errors = [e.seq for e in events if e.kind == "agent_error"]
                    if health and errors and sum(seq > errors[0] for seq in seqs) >= 3:
                        break  # health published again, and telemetry went on
            await hub.publish(t.command("lights"), json.dumps(command_body("after")).encode(), 1)
            async with asyncio.timeout(10):
                async for message in hub.messages:
                    assert isinstance(message.payload, bytes)
                    reply = decode(CommandReply, message.payload)
                    break
            assert reply.code == "ok", reply
            assert pins.pin(23).state == 1
    [error] = [e for e in events if e.kind == "agent_error"]
    assert error.data["part"] == "health"
    assert "RuntimeError: health bug" in error.text
    assert agent.restarts == {"health": 1}, "only the health part restarted"
    assert len(calls) >= 2
    assert calls[1] - calls[0] >= 0.4, "restarted after its backoff"
    logged = [r.getMessage() for r in caplog.records if r.exc_info]
    assert logged == [f"{agent.label}: health failed; restarting it in 0.5 s"]
    assert seqs == sorted(seqs), "telemetry went on, in order"
