"""The whole loop on a real Mosquitto: agents, the hub process and its API, through failures."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from devices.projector.config import PjlinkProjectorConfig
from protocol import RoomTopics, Telemetry, decode, encode
from protocol.aio import wait_within
from smartclass.broker import Mosquitto, free_port
from tests.integration.system import (
    AgentProcess,
    HubProcess,
    eventually,
    make_agent,
    mqtt_client,
    persistent_subscriber,
    running,
    write_room,
)

pytestmark = pytest.mark.integration

SITE, ROOM = "thcs-nguyen-chi-thanh", "6a1"
AGENT = f"{SITE}/{ROOM}"


async def _room(hub: HubProcess) -> dict[str, object] | None:
    async with hub.client() as http:
        r = await http.get(f"/api/v1/rooms/{SITE}/{ROOM}")
    return r.json() if r.status_code == 200 else None


async def _stored_exactly(hub: HubProcess, last_seq: int) -> list[tuple[str, int, int]] | None:
    rows = await asyncio.to_thread(hub.stored_seqs, AGENT)
    return rows if len(rows) >= last_seq else None


def _assert_once_each(rows: list[tuple[str, int, int]], boot: str, last_seq: int) -> None:
    assert {b for b, _, _ in rows} == {boot}
    assert [seq for _, seq, _ in rows] == list(range(1, last_seq + 1)), "a gap or a stray"
    assert {copies for _, _, copies in rows} == {1}, "a message stored twice"


@pytest.fixture
async def hub(broker: Mosquitto, topic_root: str, tmp_path: Path, database_url: str) -> HubProcess:
    """A hub process on each backend: SQLite and PostgreSQL."""
    process = HubProcess(
        broker, topic_root, tmp_path / "hub", hub_id=f"hub-{topic_root}", database_url=database_url
    )
    process.start()
    try:
        await process.wait_connected()
    except BaseException:
        process.close()
        raise
    yield process  # type: ignore[misc]
    process.close()


async def test_telemetry_from_an_agent_is_visible_through_the_api(
    broker: Mosquitto, topic_root: str, tmp_path: Path, hub: HubProcess
) -> None:
    agent, _ = make_agent(broker, topic_root, tmp_path / "edge", interval=0.5)
    agent.sim.set_occupancy(35)
    async with running(agent):
        metrics = {"temperature_c", "humidity_pct", "co2_ppm", "light_lux", "noise_dba", "occupied"}

        async def online_with_every_reading() -> dict[str, object] | None:
            room = await _room(hub)
            readings = room and room.get("readings")
            return room if room and room["online"] and metrics <= set(readings) else None  # type: ignore[arg-type]

        await eventually(online_with_every_reading, 15, "the room online with every reading")
        async with hub.client() as http:

            async def two_points() -> list[dict[str, object]] | None:
                r = await http.get(
                    f"/api/v1/rooms/{SITE}/{ROOM}/telemetry", params={"metric": "co2_ppm"}
                )
                points = r.json()["points"]
                return points if len(points) >= 2 else None

            points = await eventually(two_points, 15, "two CO2 points in the history")
        assert all(400 <= p["value"] <= 5000 for p in points)  # type: ignore[operator]
        async with hub.client() as http:
            rooms = (await http.get("/api/v1/rooms")).json()
        assert [(r["site"], r["room"], r["online"]) for r in rooms] == [(SITE, ROOM, True)]


@pytest.mark.parametrize(
    ("device", "action", "params", "check"),
    [
        ("lights", "scene", {"name": "projection"}, lambda s: s["front"]["on"] is False),
        ("projector", "on", {}, lambda s: s["power"] in ("warming", "on") and s["available"]),
        ("presence", "set_occupied", {"occupied": True}, lambda s: s["occupied"] is True),
        ("env", "set_occupancy", {"people": 40}, lambda s: s["occupancy"] == 40),
        ("noise", "set_occupancy", {"people": 40}, lambda s: s["occupancy"] == 40),
    ],
    ids=["lighting", "projector", "occupancy", "environment", "noise"],
)
async def test_every_device_family_answers_a_command_with_its_new_state(
    broker: Mosquitto,
    topic_root: str,
    tmp_path: Path,
    hub: HubProcess,
    device: str,
    action: str,
    params: dict[str, object],
    check: Callable[[dict[str, Any]], bool],
) -> None:
    agent, _ = make_agent(broker, topic_root, tmp_path / "edge", interval=0.2)
    async with running(agent), hub.client() as http:
        await eventually(lambda: _room(hub), 10, "the room known to the hub")
        url = f"/api/v1/rooms/{SITE}/{ROOM}/devices/{device}/commands"
        r = await http.post(url, json={"action": action, "params": params})
        assert r.status_code == 200, r.text
        assert r.json()["code"] == "ok"
        assert check(r.json()["state"]), r.json()["state"]

        async def shown() -> bool:
            room = await _room(hub)
            states = {d["device"]: d["state"] for d in room["devices"]} if room else {}  # type: ignore[index, union-attr]
            return device in states and check(states[device])

        await eventually(shown, 10, f"the new {device} state in the room's detail")


async def test_a_projector_that_does_not_answer_is_unavailable_with_an_alert_and_the_room_goes_on(
    broker: Mosquitto, topic_root: str, tmp_path: Path, hub: HubProcess
) -> None:
    nothing_there = PjlinkProjectorConfig(
        backend="pjlink", host="127.0.0.1", port=free_port(), timeout_s=0.5
    )
    agent, _ = make_agent(
        broker, topic_root, tmp_path / "edge", interval=0.2, devices={"projector": nothing_there}
    )
    async with running(agent), hub.client() as http:

        async def alerted() -> dict[str, Any] | None:
            room = await _room(hub)
            events = (
                [e for e in room["events"] if e["kind"] == "device_unavailable"] if room else []
            )  # type: ignore[index]
            return events[0] if events else None

        event = await eventually(alerted, 10, "a device_unavailable event at the hub")
        assert (event["device"], event["severity"]) == ("projector", "warning")
        r = await http.post(
            f"/api/v1/rooms/{SITE}/{ROOM}/devices/projector/commands", json={"action": "on"}
        )
        assert r.status_code == 503
        assert "does not answer" in r.json()["detail"]
        r = await http.post(
            f"/api/v1/rooms/{SITE}/{ROOM}/devices/lights/commands", json={"action": "on"}
        )
        assert r.status_code == 200  # the rest of the room goes on
        seq = agent.last_seq
        await eventually(lambda: _stored_exactly(hub, seq + 3), 10, "telemetry going on")
        room = await _room(hub)
        projector = next(d for d in room["devices"] if d["device"] == "projector")  # type: ignore[index, union-attr]
        assert projector["available"] is False
        assert projector["state"]["power"] == "unavailable"


async def test_a_command_through_the_api_switches_a_light_and_the_reply_arrives(
    broker: Mosquitto, topic_root: str, tmp_path: Path, hub: HubProcess
) -> None:
    agent, pins = make_agent(broker, topic_root, tmp_path / "edge", interval=5)
    async with running(agent), hub.client() as http:
        await eventually(lambda: _room(hub), 10, "the room known to the hub")
        url = f"/api/v1/rooms/{SITE}/{ROOM}/devices/lights/commands"
        assert pins.pin(23).state == 0
        r = await http.post(url, json={"action": "on", "params": {"zone": "middle"}})
        assert r.status_code == 200, r.text
        reply = r.json()
        assert reply["code"] == "ok"
        assert reply["state"]["middle"] == {"on": True, "level": 100}
        assert pins.pin(23).state == 1  # the relay's GPIO pin really went high
        r = await http.post(url, json={"action": "set", "params": {"zone": "front", "level": 40}})
        assert r.status_code == 200, r.text
        assert pins.pin(18).state == pytest.approx(0.4)
        r = await http.post(url, json={"action": "set", "params": {"zone": "nowhere", "level": 1}})
        assert r.status_code == 422
        assert "nowhere" in r.json()["detail"]

        async def state_shown() -> bool:
            room = await _room(hub)
            devices = {d["device"]: d for d in room["devices"]} if room else {}  # type: ignore[index, union-attr]
            lights = devices.get("lights", {}).get("state", {})
            return lights.get("front", {}).get("level") == 40

        await eventually(state_shown, 10, "the retained light state in the room's detail")


@pytest.mark.parametrize(
    "how",
    [
        signal.SIGKILL,  # the kernel closes the socket: the broker sees it at once
        signal.SIGSTOP,  # a hung Pi or a cut cable: only the keepalive can tell
    ],
    ids=["sigkill", "frozen"],
)
async def test_a_dead_agent_is_shown_offline_within_one_and_a_half_keepalives(
    broker: Mosquitto, topic_root: str, tmp_path: Path, hub: HubProcess, how: signal.Signals
) -> None:
    keepalive = 2
    room_file = write_room(tmp_path / "rooms", root=topic_root, interval=1, keepalive=keepalive)
    agent = AgentProcess(room_file, broker, tmp_path)
    try:

        async def online() -> bool:
            room = await _room(hub)
            return bool(room and room["online"])

        await eventually(online, 20, "the agent process online")
        agent.proc.send_signal(how)
        killed = time.monotonic()

        async def offline() -> bool:
            room = await _room(hub)
            return bool(room and not room["online"])

        # A killed process: the kernel closes its socket and the broker sends the will at once;
        # the contract's bound is 1.5 x keepalive + 5 s. A frozen one: only the broker's
        # keepalive check can tell, and Mosquitto before 2.0.21 (Debian 12 ships 2.0.11) runs
        # that check every 6 s on whole seconds: up to 1.5 x keepalive + 7 s, plus the hub's
        # share (a batch, a poll of the API).
        limit = 1.5 * keepalive + (5 if how == signal.SIGKILL else 8)
        await eventually(offline, limit, f"the room offline within {limit} s")
        elapsed = time.monotonic() - killed
        print(f"{how.name}: offline after {elapsed:.1f} s (limit {limit} s)")
        if how == signal.SIGSTOP:
            assert elapsed >= keepalive * 0.9, "offline before the keepalive could have expired"
    finally:
        agent.proc.send_signal(signal.SIGCONT)
        agent.kill()


async def test_broker_restarted_twice_while_an_agent_publishes_stores_every_point_once(
    own_broker: Mosquitto, topic_root: str, tmp_path: Path, database_url: str
) -> None:
    hub = HubProcess(own_broker, topic_root, tmp_path / "hub", hub_id=f"hub-{topic_root}",
                     database_url=database_url)  # fmt: skip
    hub.start()
    agent, _ = make_agent(own_broker, topic_root, tmp_path / "edge", interval=0.05)
    try:
        await hub.wait_connected()
        async with running(agent):
            for restart in range(2):
                seq = agent.last_seq
                await eventually(
                    lambda s=seq: _true(agent.last_seq >= s + 10), 10, "more telemetry"
                )
                own_broker.stop()
                agent.connected.clear()
                seq = agent.last_seq
                await eventually(
                    lambda s=seq: _true(agent.last_seq >= s + 5), 10, "telemetry while down"
                )
                own_broker.start()
                await wait_within(agent.connected.wait(), 15)
                print(f"restart {restart + 1}: outbox held {len(agent.outbox)} messages")
            seq = agent.last_seq
            await eventually(lambda: _true(agent.last_seq >= seq + 10), 10, "more telemetry")
            agent.set_telemetry_interval(3600)  # no more samples

            async def forgotten() -> bool:  # the hub acknowledged every message
                return await agent.stored() == 0

            await eventually(forgotten, 30, "the hub's acknowledgement of everything")
        last = agent.last_seq  # the agent has stopped: nothing more will come
        rows = await eventually(lambda: _stored_exactly(hub, last), 30, f"{last} messages stored")
        _assert_once_each(rows, agent.boot, last)
    finally:
        hub.close()


async def _true(value: bool) -> bool:
    return value


async def test_hub_killed_and_restarted_loses_nothing_from_a_real_agent(
    broker: Mosquitto, topic_root: str, tmp_path: Path, hub: HubProcess
) -> None:
    agent, _ = make_agent(broker, topic_root, tmp_path / "edge", interval=0.05)
    async with running(agent):
        await eventually(lambda: _stored_exactly(hub, 5), 10, "the first messages stored")
        hub.kill()
        seq = agent.last_seq
        await eventually(lambda: _true(agent.last_seq >= seq + 20), 10, "telemetry while away")
        hub.start()
        await hub.wait_connected()
        seq = agent.last_seq
        await eventually(lambda: _true(agent.last_seq >= seq + 5), 10, "telemetry after return")
        agent.set_telemetry_interval(3600)  # no more samples

        async def all_stored() -> list[tuple[str, int, int]] | None:
            rows = await _stored_exactly(hub, agent.last_seq)  # a sample under way may add one
            return rows if rows is not None and await agent.unsent() == 0 else None

        # while the agent runs: what the hub has not stored yet is still in its outbox
        rows = await eventually(all_stored, 30, "every message stored")
    # up to the newest stored when all was: a sample may still come after (slower databases)
    _assert_once_each(rows, agent.boot, rows[-1][1])


async def test_an_agent_started_with_the_broker_down_drains_its_outbox_in_order(
    own_broker: Mosquitto, topic_root: str, tmp_path: Path
) -> None:
    topics = RoomTopics(SITE, ROOM, topic_root)
    # A persistent watcher session, so the broker queues the drained stream for it.
    async with persistent_subscriber(own_broker, f"watcher-{topic_root}", topic_root) as watcher:
        await watcher.subscribe(topics.telemetry, qos=1)
    own_broker.stop()  # a clean stop: Mosquitto saves the watcher's session

    agent, _ = make_agent(own_broker, topic_root, tmp_path / "edge", interval=0.05)
    async with running(agent, wait_connected=False):
        await eventually(lambda: _true(len(agent.outbox) >= 20), 10, "the outbox to fill")
        assert not agent.connected.is_set()
        own_broker.start()
        await wait_within(agent.connected.wait(), 15)
        agent.set_telemetry_interval(3600)  # no more samples

        async def sent() -> bool:  # no hub here: the rows stay, but the broker took them
            return await agent.unsent() == 0

        await eventually(sent, 15, "the outbox to be sent")
        drained = agent.last_seq

    seqs: list[int] = []
    async with persistent_subscriber(own_broker, f"watcher-{topic_root}", topic_root) as watcher:
        async with asyncio.timeout(15):
            async for message in watcher.messages:
                seqs.append(decode(Telemetry, message.payload).seq)  # type: ignore[arg-type]
                if len(set(seqs)) >= drained:
                    break
    unique = list(dict.fromkeys(seqs))  # QoS 1 may repeat a message; order is what counts
    assert unique[:drained] == list(range(1, drained + 1))


async def test_malformed_payloads_are_counted_and_kept_and_nothing_stops(
    broker: Mosquitto, topic_root: str, tmp_path: Path, hub: HubProcess
) -> None:
    topics = RoomTopics(SITE, ROOM, topic_root)
    agent, _ = make_agent(broker, topic_root, tmp_path / "edge", interval=0.2)
    async with running(agent), mqtt_client(broker, topic_root, "rogue") as rogue:
        await rogue.publish(topics.telemetry, b"{not json", qos=1)
        await rogue.publish(topics.event, b'{"v": 1, "sender": "x"}', qos=1)
        await rogue.publish(topics.status, b'{"v": 42, "state": "online"}', qos=1)
        await rogue.publish(topics.command("lights"), b"\xff\xfe", qos=1)  # to the agent
        await rogue.publish(topics.command("lights"), encode(_bad_command()), qos=1)

        async def counted() -> dict[str, object] | None:
            async with hub.client() as http:
                health = (await http.get("/api/v1/health")).json()
            return health if health["counters"]["dead_letters"] >= 3 else None

        health = await eventually(counted, 10, "three dead letters counted")
        async with hub.client() as http:
            letters = (await http.get("/api/v1/dead-letters")).json()
        assert {d["topic"] for d in letters} == {topics.telemetry, topics.event, topics.status}
        assert all(d["reason"] for d in letters)
        await eventually(lambda: _true(agent.malformed >= 2), 10, "the agent to count both")
        seq = agent.last_seq
        await eventually(lambda: _stored_exactly(hub, seq + 3), 10, "ingest going on")
    assert health["mqtt_connected"]


def _bad_command() -> Telemetry:
    """A well-formed message of the wrong kind on a command topic."""
    return Telemetry(sender="x", boot="b", seq=1, device="env", readings={"a": 1.0})
