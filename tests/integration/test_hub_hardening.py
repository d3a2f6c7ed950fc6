"""The hub against a real Mosquitto and hostile or broken input: it never stops, takes only
its registered rooms' own agents, orders by counters, and acknowledges what it stored."""

from __future__ import annotations

import asyncio
import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiomqtt
import httpx
import pytest

from hub import parsing
from hub.batches import BatchStorer
from hub.settings import HubSettings
from protocol import (
    Command,
    CommandReply,
    DeviceState,
    Message,
    RoomTopics,
    Status,
    StoredAck,
    Telemetry,
    decode,
    encode,
)
from smartclass.broker import Mosquitto
from tests.integration.system import (
    agent_client,
    eventually,
    hub_settings,
    mqtt_client,
    persistent_subscriber,
    running_hub,
)

pytestmark = pytest.mark.integration

SITE, ROOM = "thcs-nguyen-chi-thanh", "6a1"
SENDER = f"edge/{SITE}/{ROOM}"
TWO_ROOMS = ((SITE, ROOM), (SITE, "6a2"))
YEAR_2100 = datetime(2100, 1, 1, tzinfo=UTC)


@pytest.fixture
def settings(broker: Mosquitto, topic_root: str, tmp_path: Path) -> HubSettings:
    return hub_settings(
        broker,
        topic_root,
        f"sqlite:///{tmp_path / 'hub.sqlite'}",
        restart_min_s=0.05,
        ack_interval_ms=50,
    )


def agent(broker: Mosquitto, name: str) -> aiomqtt.Client:
    """``edge-{root}``: the room's agent, with its own credential. ``{who}-{root}``: a client
    that may write anywhere under the root, as a broken ACL or a stolen operator password
    would allow (the hub must hold without the broker's help)."""
    who, root = name.split("-", 1)
    if who == "edge":
        return agent_client(broker, root)
    return mqtt_client(broker, root, who)


def telemetry(seq: int, co2: float = 500.0, **extra: Any) -> bytes:
    fields: dict[str, Any] = {"boot": "b1", "boot_no": 1, "device": "env", **extra}
    return encode(Telemetry(sender=SENDER, seq=seq, readings={"co2_ppm": co2}, **fields))


def status(state: str, boot: str, boot_no: int, **extra: Any) -> bytes:
    msg = Status(sender=SENDER, state=state, boot=boot, boot_no=boot_no, conn=1, **extra)  # type: ignore[arg-type]
    return encode(msg)


async def get(http: httpx.AsyncClient, url: str) -> Any:
    return (await http.get(url)).json()


async def dead_letters(http: httpx.AsyncClient) -> list[dict[str, Any]]:
    letters: list[dict[str, Any]] = await get(http, "/api/v1/dead-letters")
    return letters


async def room(http: httpx.AsyncClient) -> dict[str, Any]:
    detail: dict[str, Any] = await get(http, f"/api/v1/rooms/{SITE}/{ROOM}")
    return detail


async def co2(http: httpx.AsyncClient) -> float | None:
    reading = (await room(http))["readings"].get("co2_ppm")
    return reading and reading["value"]


async def test_a_message_that_breaks_reading_is_a_dead_letter_acknowledged_once(
    broker: Mosquitto, topic_root: str, settings: HubSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = parsing.decode

    def fragile(model: type[Message], payload: bytes) -> Any:
        if b"poison" in payload:
            raise OverflowError("date value out of range")
        return real(model, payload)

    monkeypatch.setattr(parsing, "decode", fragile)
    topics = RoomTopics(SITE, ROOM, topic_root)
    retained_poison = status("online", "b1", 1, agent_version="poison")
    async with running_hub(settings) as http, agent(broker, f"edge-{topic_root}") as edge:
        await edge.publish(topics.status, retained_poison, qos=1, retain=True)
        await edge.publish(topics.telemetry, telemetry(1, device="poison"), qos=1)
        await edge.publish(topics.telemetry, telemetry(2, 612.0), qos=1)
        await eventually(lambda: _equals(co2(http), 612.0), 10, "ingest going on")
        letters = await eventually(lambda: dead_letters(http), 10, "the dead letters")
        assert sorted((d["topic"], d["reason"]) for d in letters) == [
            (topics.status, "bad_payload"), (topics.telemetry, "bad_payload")
        ]  # fmt: skip
        assert "OverflowError" in letters[0]["detail"]
        assert (await get(http, "/api/v1/health"))["ok"] is True
    # A restart: the retained one comes again (and is a dead letter again, nothing more);
    # the other was acknowledged once kept, so the broker does not send it again.
    async with running_hub(settings) as http, agent(broker, f"edge-{topic_root}") as edge:
        await edge.publish(topics.telemetry, telemetry(3, 700.0), qos=1)
        await eventually(lambda: _equals(co2(http), 700.0), 10, "ingest after the restart")

        async def twice() -> list[dict[str, Any]] | None:
            letters = await dead_letters(http)
            return letters if len(letters) >= 3 else None

        letters = await eventually(twice, 10, "the retained poison again")
        assert sorted(d["topic"] for d in letters) == sorted(
            [topics.status, topics.status, topics.telemetry]
        )
        assert (await http.get("/healthz")).json() == {"status": "ok"}


async def _equals(value: Any, expected: Any) -> bool:
    return bool(await value == expected)


async def test_an_unexpected_error_restarts_the_ingest_and_health_tells(
    broker: Mosquitto, topic_root: str, settings: HubSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = BatchStorer.store_batch
    failures = 0

    async def fails_once(self: BatchStorer, batch: Any) -> Any:
        nonlocal failures
        if failures == 0:
            failures += 1
            raise RuntimeError("a bug in the ingest")
        return await real(self, batch)

    monkeypatch.setattr(BatchStorer, "store_batch", fails_once)
    topics = RoomTopics(SITE, ROOM, topic_root)
    async with running_hub(settings) as http, agent(broker, f"edge-{topic_root}") as edge:
        await edge.publish(topics.telemetry, telemetry(1, 640.0), qos=1)
        # not acknowledged: the broker sends it again to the restarted ingest
        await eventually(lambda: _equals(co2(http), 640.0), 15, "the message after the restart")
        health = await get(http, "/api/v1/health")
        assert (health["ingest_restarts"], health["ok"]) == (1, False)
        assert any("ingest restarted 1 times" in p and "a bug in the ingest" in p
                   for p in health["problems"]), health["problems"]  # fmt: skip
        r = await http.get("/healthz")
        assert r.status_code == 503
        assert r.json()["status"] == "unhealthy"

        async def running_again() -> bool:
            health = await get(http, "/api/v1/health")
            return bool(health["ingest_running"] and health["mqtt_connected"])

        await eventually(running_again, 10, "the ingest running again")


async def test_only_registered_rooms_and_only_their_own_agent(
    broker: Mosquitto, topic_root: str, settings: HubSettings
) -> None:
    topics = RoomTopics(SITE, ROOM, topic_root)
    async with (
        running_hub(settings, rooms=TWO_ROOMS) as http,
        agent(broker, f"rogue-{topic_root}") as rogue,
    ):
        for i in range(40):
            fake = RoomTopics("rogue", f"r{i}", topic_root)
            sender = f"edge/rogue/r{i}"
            msg = Status(sender=sender, state="online", boot="x", boot_no=1, conn=1)
            await rogue.publish(fake.status, encode(msg), qos=1)
        forged = Telemetry(sender=f"edge/{SITE}/6a2", boot="b1", seq=1, device="env",
                           readings={"co2_ppm": 9999.0})  # fmt: skip
        await rogue.publish(topics.telemetry, encode(forged), qos=1)
        families = {"lights": "lighting"}
        await rogue.publish(topics.status, status("online", "b1", 1, families=families), qos=1)
        wrong = DeviceState(sender=SENDER, boot="b1", boot_no=1, n=1, device="lights",
                            family="projector", state={"power": "on"})  # fmt: skip
        await rogue.publish(topics.state("lights"), encode(wrong), qos=1)

        async def counted() -> dict[str, int] | None:
            health = await get(http, "/api/v1/health")
            reasons: dict[str, int] = health["counters"]["dead_letters_by_reason"]
            return reasons if sum(reasons.values()) >= 42 else None

        reasons = await eventually(counted, 10, "every refusal counted")
        assert reasons == {"unknown_room": 40, "sender_mismatch": 1, "mismatch": 1}
        rooms = await get(http, "/api/v1/rooms")
        assert sorted(r["room"] for r in rooms) == [ROOM, "6a2"]
        detail = await room(http)
        assert (detail["online"], detail["readings"], detail["devices"]) == (True, {}, [])
        r = await http.post("/api/v1/rooms/rogue/r1/devices/lights/commands", json={"action": "on"})
        assert r.status_code == 403, "not a school of this IT user: refused before any lookup"


async def test_the_hub_acknowledges_what_it_stored_on_a_retained_ack_topic(
    broker: Mosquitto, topic_root: str, settings: HubSettings
) -> None:
    topics = RoomTopics(SITE, ROOM, topic_root)
    async with running_hub(settings) as http, agent(broker, f"edge-{topic_root}") as edge:
        await edge.subscribe(topics.ack, qos=1)
        for seq in (1, 2, 3, 4, 5, 8):
            await edge.publish(topics.telemetry, telemetry(seq), qos=1)
        async with asyncio.timeout(10):
            async for message in edge.messages:
                assert isinstance(message.payload, bytes)
                ack = decode(StoredAck, message.payload)
                if ack.boots.get("b1") == [(1, 5), (8, 8)]:
                    break
        assert ack.sender == f"hub/{settings.hub_id}"
        [boot] = (await room(http))["boots"]
        assert (boot["highest"], boot["missing"], boot["missing_count"]) == (8, [[6, 7]], 2)
        health = await get(http, "/api/v1/health")
        assert health["losses"]["missing"] == 2
    async with agent(broker, f"late-{topic_root}") as late:  # the ack is retained
        await late.subscribe(topics.ack, qos=1)
        async with asyncio.timeout(10):
            message = await anext(aiter(late.messages))
        assert message.retain
        assert isinstance(message.payload, bytes)
        assert decode(StoredAck, message.payload).boots == {"b1": [(1, 5), (8, 8)]}


async def test_a_late_offline_stamped_2100_of_an_old_boot_never_takes_a_live_room_down(
    broker: Mosquitto, topic_root: str, settings: HubSettings
) -> None:
    topics = RoomTopics(SITE, ROOM, topic_root)
    async with running_hub(settings) as http, agent(broker, f"edge-{topic_root}") as edge:
        await edge.publish(topics.status, status("online", "b1", 1), qos=1, retain=True)
        await edge.publish(topics.status, status("online", "b2", 2), qos=1, retain=True)
        late_will = Status(sender=SENDER, state="offline", boot="b1", boot_no=1, conn=1,
                           ts=YEAR_2100)  # fmt: skip
        await edge.publish(topics.status, encode(late_will), qos=1, retain=True)
        far = Telemetry(sender=SENDER, boot="b2", boot_no=2, seq=5, device="env",
                        readings={"co2_ppm": 9999.0}, ts=YEAR_2100)  # fmt: skip
        await edge.publish(topics.telemetry, encode(far), qos=1)
        next_one = Telemetry(sender=SENDER, boot="b2", boot_no=2, seq=6, device="env",
                             readings={"co2_ppm": 650.0})  # fmt: skip
        await edge.publish(topics.telemetry, encode(next_one), qos=1)
        await eventually(lambda: _equals(co2(http), 650.0), 10, "the next reading")
        detail = await room(http)
        assert (detail["online"], detail["boot"]) == (True, "b2")
        assert detail["clock_suspect"] is True
        assert detail["clock_skew_s"] > 300
        assert (await get(http, "/api/v1/health"))["clock_suspect_rooms"] == 1
    async with running_hub(settings) as http:  # the retained late will comes again: nothing

        async def all_read() -> bool:
            return (await get(http, "/api/v1/health"))["counters"]["received"] >= 1

        await eventually(all_read, 10, "the retained status read again")
        await eventually(lambda: _equals(_online(http), True), 5, "the room still online")


async def _online(http: httpx.AsyncClient) -> bool:
    return bool((await room(http))["online"])


async def fake_agent(
    edge: aiomqtt.Client, root: str, seen: list[aiomqtt.Message], *, forge: bool = False
) -> None:
    """Answer every command (``edge`` subscribed to them) on ``reply/{reply_to}``; with
    ``forge``, another room and a wrong device answer first with the same id."""
    topics = RoomTopics(SITE, ROOM, root)
    async for message in edge.messages:
        seen.append(message)
        assert isinstance(message.payload, bytes)
        command = decode(Command, message.payload)
        if forge:
            other = RoomTopics(SITE, "6a2", root)
            fake = CommandReply(sender=f"edge/{SITE}/6a2", id=command.id, device=command.device,
                                code="ok", state={"forged": True})  # fmt: skip
            await edge.publish(other.reply_to(command.reply_to), encode(fake), qos=1)
            wrong = CommandReply(sender=SENDER, id=command.id, device="other", code="ok",
                                 state={"forged": True})  # fmt: skip
            await edge.publish(topics.reply_to(command.reply_to), encode(wrong), qos=1)
        reply = CommandReply(sender=SENDER, id=command.id, device=command.device, code="ok",
                             state={"on": True})  # fmt: skip
        await edge.publish(topics.reply_to(command.reply_to), encode(reply), qos=1)


async def test_replies_come_on_the_hubs_own_topic_and_forged_ones_are_ignored(
    broker: Mosquitto, topic_root: str, settings: HubSettings
) -> None:
    seen: list[aiomqtt.Message] = []
    async with (
        running_hub(settings, rooms=TWO_ROOMS) as http,
        agent(broker, f"edge-{topic_root}") as edge,
    ):
        await edge.subscribe(RoomTopics(SITE, ROOM, topic_root).commands, qos=1)
        task = asyncio.create_task(fake_agent(edge, topic_root, seen, forge=True))
        try:
            url = f"/api/v1/rooms/{SITE}/{ROOM}/devices/lights/commands"
            r = await http.post(url, json={"action": "on", "timeout_s": 2.5})
            assert r.status_code == 200, r.text
            assert r.json()["state"] == {"on": True}
            health = await get(http, "/api/v1/health")
            # the reply forged on another room's topic never reaches the hub: the broker's
            # ACL refuses it (the agent may write only its own room); the hub ignores and
            # counts the one from the right room with the wrong device
            assert health["forged_replies"] == 1
        finally:
            task.cancel()
    [message] = seen
    command = decode(Command, message.payload)  # type: ignore[arg-type]
    assert command.reply_to == settings.hub_id
    assert message.properties is not None
    assert message.properties.MessageExpiryInterval == math.ceil(2.5)  # type: ignore[attr-defined]


async def test_the_broker_drops_a_command_that_expired_before_delivery(
    broker: Mosquitto, topic_root: str, settings: HubSettings
) -> None:
    topics = RoomTopics(SITE, ROOM, topic_root)
    name = f"edge-{topic_root}"
    async with persistent_subscriber(broker, name, topic_root) as edge:
        await edge.subscribe(topics.commands, qos=1)
    # the agent is away: its session queues what comes for it
    async with running_hub(settings) as http:
        url = f"/api/v1/rooms/{SITE}/{ROOM}/devices/lights/commands"
        r = await http.post(url, json={"action": "on", "timeout_s": 0.5})
        assert r.status_code == 504
    await asyncio.sleep(2.2)  # the expiry (1 s, whole seconds) must pass: that is the test
    async with persistent_subscriber(broker, name, topic_root) as edge:
        await edge.subscribe(topics.commands, qos=1)
        probe = Command(sender="hub/probe", id="probe", device="lights", action="on",
                        issuer="test", expires=YEAR_2100)  # fmt: skip
        await edge.publish(topics.command("lights"), encode(probe), qos=1)
        async with asyncio.timeout(10):
            first = await anext(aiter(edge.messages))
        assert isinstance(first.payload, bytes)
        assert decode(Command, first.payload).id == "probe"  # the stale one was dropped
