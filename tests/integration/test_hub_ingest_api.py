"""The hub against a real Mosquitto: a fake agent's messages reach the API; commands round-trip."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiomqtt
import httpx
import pytest

from hub.settings import HubSettings
from protocol import (
    Command,
    CommandReply,
    ConfigApplied,
    HubStatus,
    RoomConfig,
    RoomTopics,
    Status,
    Telemetry,
    decode,
    encode,
    hub_status_topic,
)
from smartclass.broker import Mosquitto
from tests.integration.system import (
    agent_client,
    eventually,
    hub_settings,
    mqtt_client,
    running_hub,
)

pytestmark = pytest.mark.integration

SITE, ROOM = "thcs-nguyen-chi-thanh", "6a1"


@pytest.fixture
def settings(broker: Mosquitto, topic_root: str, database_url: str) -> HubSettings:
    """An in-process hub on each backend: SQLite and PostgreSQL."""
    return hub_settings(broker, topic_root, database_url)


def agent(broker: Mosquitto, root: str) -> aiomqtt.Client:
    return agent_client(broker, root)


def telemetry(seq: int, co2: float) -> bytes:
    return encode(
        Telemetry(sender=f"edge/{SITE}/{ROOM}", boot="b1", seq=seq, device="env",
                  readings={"co2_ppm": co2, "temperature_c": 27.5})
    )  # fmt: skip


async def test_agent_messages_reach_the_api_once(
    broker: Mosquitto, topic_root: str, settings: HubSettings
) -> None:
    topics = RoomTopics(SITE, ROOM, topic_root)
    async with running_hub(settings) as http, agent(broker, topic_root) as edge:
        status = Status(sender=f"edge/{SITE}/{ROOM}", state="online", boot="b1", keepalive=5)
        await edge.publish(topics.status, encode(status), qos=1, retain=True)
        first, second = telemetry(1, 500.0), telemetry(2, 650.0)
        for payload in (first, second, first):  # the third is a redelivery
            await edge.publish(topics.telemetry, payload, qos=1)
        await edge.publish(topics.telemetry, b'{"v": 1, "oops": true}', qos=1)

        async def room_ready() -> Any:
            rooms = (await http.get("/api/v1/rooms")).json()
            ready = [r for r in rooms if r["online"] and r["readings"].get("co2_ppm")]
            return ready and ready[0]["readings"]["co2_ppm"]["value"] == 650.0 and ready[0]

        room = await eventually(room_ready, 10, "the room online with its readings")
        assert (room["site"], room["room"]) == (SITE, ROOM)
        letters = await eventually(
            lambda: _json(http, "/api/v1/dead-letters"),
            10,
            "the malformed payload as a dead letter",
        )
        assert [(d["topic"], d["reason"]) for d in letters] == [(topics.telemetry, "bad_schema")]

        async def all_counted() -> Any:
            health = (await http.get("/api/v1/health")).json()
            return health["counters"]["received"] >= 5 and health["ingest_pending"] == 0 and health

        health = await eventually(all_counted, 10, "every message counted")
        assert health["counters"]["points"] == 4
        assert health["counters"]["duplicates"] == 2
        history = (
            await http.get(f"/api/v1/rooms/{SITE}/{ROOM}/telemetry", params={"metric": "co2_ppm"})
        ).json()
        assert sorted(p["value"] for p in history["points"]) == [500.0, 650.0]


async def _json(http: httpx.AsyncClient, url: str) -> Any:
    return (await http.get(url)).json()


async def fake_device(edge: aiomqtt.Client, topics: RoomTopics) -> None:
    """Answer commands: 'on' works, 'break' fails, device 'silent' never answers."""
    await edge.subscribe(topics.commands, qos=1)
    await edge.subscribe(topics.config, qos=1)
    async for message in edge.messages:
        raw = message.payload
        assert isinstance(raw, bytes)
        if message.topic.value == topics.config:
            config = decode(RoomConfig, raw)
            applied = ConfigApplied(sender=f"edge/{SITE}/{ROOM}", boot="b1", version=config.version)
            await edge.publish(topics.config_applied, encode(applied), qos=1, retain=True)
            continue
        assert not message.retain, "a command must never be retained"
        command = decode(Command, raw)
        if command.device == "silent":
            continue
        ok = command.action == "on"
        reply = CommandReply(
            sender=f"edge/{SITE}/{ROOM}", id=command.id, device=command.device,
            code="ok" if ok else "device_error", text="" if ok else "relay stuck",
            state={"on": True} if ok else None,
        )  # fmt: skip
        await edge.publish(topics.reply, encode(reply), qos=1)


async def test_commands_and_config_round_trip(
    broker: Mosquitto, topic_root: str, settings: HubSettings
) -> None:
    topics = RoomTopics(SITE, ROOM, topic_root)
    async with running_hub(settings) as http, agent(broker, topic_root) as edge:
        device_task = asyncio.create_task(fake_device(edge, topics))
        try:
            status = Status(sender=f"edge/{SITE}/{ROOM}", state="online", boot="b1")
            await edge.publish(topics.status, encode(status), qos=1, retain=True)
            await eventually(
                lambda: _status(http, f"/api/v1/rooms/{SITE}/{ROOM}", 200),
                10,
                "the room to be known",
            )
            url = f"/api/v1/rooms/{SITE}/{ROOM}/devices"
            r = await http.post(f"{url}/lights/commands", json={"action": "on"})
            assert r.status_code == 200, r.text
            assert (r.json()["code"], r.json()["state"]) == ("ok", {"on": True})
            r = await http.post(f"{url}/lights/commands", json={"action": "break"})
            assert (r.status_code, r.json()["detail"]) == (502, "device_error: relay stuck")
            r = await http.post(f"{url}/silent/commands", json={"action": "on", "timeout_s": 0.5})
            assert r.status_code == 504
            assert "no reply" in r.json()["detail"]

            change = {"config": {"settings": {"telemetry_interval_s": 2}}}
            r = await http.put(f"/api/v1/rooms/{SITE}/{ROOM}/config", json=change)
            assert (r.status_code, r.json()["version"]) == (202, 1)
            assert r.json()["pushes"] == [
                {"room": ROOM, "version": 1, "pushed": True, "error": None}
            ]

            async def applied() -> Any:
                config = (await http.get(f"/api/v1/rooms/{SITE}/{ROOM}")).json()["config"]
                return config["applied"] == 1 and config

            config = await eventually(applied, 10, "the agent to apply version 1")
            assert config["settings"] == {"telemetry_interval_s": 2.0}
        finally:
            device_task.cancel()


async def _status(http: httpx.AsyncClient, url: str, expected: int) -> bool:
    return (await http.get(url)).status_code == expected


async def test_messages_sent_while_the_hub_is_away_are_stored_after_it_returns(
    broker: Mosquitto, topic_root: str, settings: HubSettings
) -> None:
    topics = RoomTopics(SITE, ROOM, topic_root)
    async with mqtt_client(broker, topic_root, "watcher") as watcher:
        await watcher.subscribe(hub_status_topic(topic_root, settings.hub_id), qos=1)
        async with running_hub(settings):
            pass  # the session exists now; the hub stops cleanly and says offline
        states = []
        async with asyncio.timeout(10):
            async for message in watcher.messages:
                assert isinstance(message.payload, bytes)
                states.append(decode(HubStatus, message.payload).state)
                if states[-1] == "offline":
                    break
        async with agent(broker, topic_root) as edge:
            await edge.publish(topics.telemetry, telemetry(1, 777.0), qos=1)
        async with running_hub(settings) as http:

            async def stored() -> Any:
                rooms = (await http.get("/api/v1/rooms")).json()
                return rooms and rooms[0]["readings"].get("co2_ppm", {}).get("value") == 777.0

            await eventually(stored, 10, "the queued telemetry to be stored")
    assert json.dumps(states)  # the retained online, then offline on the clean stop
    assert states[-1] == "offline"
