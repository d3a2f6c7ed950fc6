"""Every bound of the contract through the real broker to a hub process, on SQLite and
PostgreSQL: just over it a dead letter with its reason, at it stored, and the rooms go on.

Room 6a1 runs a real agent and gets every message just over a bound (and one over the hub's
payload limit, and an event of 60 000 characters): each is a dead letter naming its field,
and the agent's own telemetry is stored meanwhile, each (boot, seq) once. Room 6a2 gets every
message at its bound: all stored. Room 9a1 fills its series and devices: one more of each is
a dead letter (``too_many_series``), and what it already has goes on.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import aiomqtt
import pytest

from hub.store import SERIES_MAX
from protocol import utcnow
from protocol.messages import DEVICES_MAX, METRICS_MAX, TEXT_MAX
from smartclass.broker import Mosquitto
from tests.contract_bounds import BOUNDS, Sender, padded
from tests.integration.system import HubProcess, eventually, make_agent, mqtt_client, running

pytestmark = pytest.mark.integration

SITE = "thcs-nguyen-chi-thanh"
ROOMS = ((SITE, "6a1"), (SITE, "6a2"), (SITE, "9a1"))
PAYLOAD_MAX = 64 * 1024
"""The hub's payload limit in this test: below the broker's packet limit (256 KiB), so an
oversized payload reaches the hub."""
HUGE_TEXT = "x" * 60_000
"""An event's text 30 times its bound (the issue's was 1 MB: the broker refuses that packet)."""


async def publish(client: aiomqtt.Client, messages: list[tuple[str, bytes]]) -> None:
    for topic, payload in messages:
        await client.publish(topic, payload, qos=1)


def over_bounds(sender: Sender) -> list[tuple[str, bytes]]:
    messages = [sender.payload(b, over=True) for b in BOUNDS]
    huge = sender.body("telemetry", "tag.payload-size.", {})
    messages.append((sender.topic("telemetry"), padded(json.dumps(huge).encode(), PAYLOAD_MAX + 1)))
    text = sender.body("event", "tag.huge-text.", {"text": HUGE_TEXT})
    messages.append((sender.topic("event"), json.dumps(text).encode()))
    return messages


def at_bounds(sender: Sender) -> list[tuple[str, bytes]]:
    messages = [sender.payload(b, over=False) for b in BOUNDS]
    full = sender.body("telemetry", "tag.payload-size.", {})
    messages.append((sender.topic("telemetry"), padded(json.dumps(full).encode(), PAYLOAD_MAX)))
    return messages


def filling(sender: Sender) -> list[tuple[str, bytes]]:
    """The room's series and devices filled, one more of each, then one of each it has."""
    telemetry = sender.topic("telemetry")

    def sample(device: str, readings: dict[str, float]) -> tuple[str, bytes]:
        body = sender.body("telemetry", "fill", {"device": device, "readings": readings})
        return telemetry, json.dumps(body).encode()

    def state(device: str) -> tuple[str, bytes]:
        body = sender.body("state", "fill", {"device": device})
        return sender.topic("state", device), json.dumps(body).encode()

    metrics = {f"m{i}": 1.0 for i in range(METRICS_MAX)}
    out = [sample(f"s{d}", metrics) for d in range(SERIES_MAX // METRICS_MAX)]
    out += [sample("late", {"m0": 1.0}), sample("s0", {"m0": 2.0})]
    out += [state(f"d{i}") for i in range(DEVICES_MAX + 1)] + [state("d0")]
    return out


def tagged(dead: list[dict[str, Any]], tag: str) -> dict[str, Any]:
    found = [d for d in dead if f'"{tag}' in d["payload_preview"]]
    assert len(found) == 1, (tag, found)
    return found[0]


async def test_each_bound_through_the_broker_is_a_dead_letter_and_the_rooms_go_on(
    broker: Mosquitto, topic_root: str, tmp_path: Path, database_url: str
) -> None:
    hub_id = f"hub-{topic_root}"
    hub = HubProcess(
        broker, topic_root, tmp_path / "hub", hub_id=hub_id, rooms=ROOMS,
        database_url=database_url,
        env={"SMARTCLASS_HUB_MAX_PAYLOAD_BYTES": str(PAYLOAD_MAX)},
    )  # fmt: skip
    hub.start()
    edge, _ = make_agent(broker, topic_root, tmp_path / "edge", interval=0.2)
    agent_id = f"{SITE}/6a1"
    now = utcnow()
    room_of = {room: Sender(SITE, room, topic_root, hub_id, now) for _, room in ROOMS}
    over, at, fill = over_bounds(room_of["6a1"]), at_bounds(room_of["6a2"]), filling(room_of["9a1"])
    refused_at = sum(1 for b in BOUNDS if b.at_reason is not None)
    try:
        await hub.wait_connected()
        async with running(edge), mqtt_client(broker, topic_root, "bounds") as client:

            async def stored_mine() -> int:
                rows = await asyncio.to_thread(hub.stored_seqs, agent_id)
                return sum(1 for boot, _, _ in rows if boot == edge.boot)

            await eventually(stored_mine, 30, "the agent's first telemetry stored")
            await publish(client, over + at + fill)
            sent_at = edge.last_seq
            async with hub.client() as http:

                async def dead_letters() -> list[dict[str, Any]] | None:
                    r = await http.get("/api/v1/dead-letters", params={"limit": 1000})
                    found: list[dict[str, Any]] = r.json()
                    return found if len(found) >= len(over) + refused_at + 2 else None

                dead = await eventually(dead_letters, 30, "every dead letter")
                # the room with the agent: every message over a bound is a dead letter
                mine = [d for d in dead if d["topic"].startswith(f"{topic_root}/{SITE}/6a1/")]
                assert len(mine) == len(over)
                for bound in BOUNDS:
                    letter = tagged(mine, bound.tag())
                    assert (letter["reason"], bound.field in letter["detail"]) == (
                        bound.reason, True
                    ), (bound.name, letter["detail"])  # fmt: skip
                big = tagged(mine, "tag.payload-size.")
                assert (big["reason"], big["size"]) == ("too_large", PAYLOAD_MAX + 1)
                huge = tagged(mine, "tag.huge-text.")
                assert (huge["reason"], "text" in huge["detail"]) == ("bad_schema", True)
                # its own telemetry went on, each (boot, seq) stored once and none missing
                await eventually(
                    lambda: _stored_beyond(hub, agent_id, edge.boot, sent_at + 5), 30,
                    "the agent's telemetry after the bounds",
                )  # fmt: skip
                rows = [r for r in await asyncio.to_thread(hub.stored_seqs, agent_id)
                        if r[0] == edge.boot]  # fmt: skip
                assert [(s, n) for _, s, n in rows] == [(s, 1) for s in range(1, len(rows) + 1)]
                r = await http.get(f"/api/v1/rooms/{SITE}/6a1")
                assert r.json()["online"] is True
                assert len(r.content) < 64 * 1024, "the room's detail stays small"
                assert HUGE_TEXT[:100] not in r.text
                # the room at every bound: all stored but the sender at its bound
                at_room = [d for d in dead if d["topic"].startswith(f"{topic_root}/{SITE}/6a2/")]
                assert [d["reason"] for d in at_room] == ["sender_mismatch"] * refused_at
                detail = (await http.get(f"/api/v1/rooms/{SITE}/6a2")).json()
                assert TEXT_MAX in {len(e["text"]) for e in detail["events"]}
                assert {f"m{i}" for i in range(METRICS_MAX)} <= set(detail["readings"])
                # the full room: one more series and one more device refused, the rest went on
                full = [d for d in dead if d["topic"].startswith(f"{topic_root}/{SITE}/9a1/")]
                assert sorted(d["reason"] for d in full) == ["too_many_series"] * 2
                detail = (await http.get(f"/api/v1/rooms/{SITE}/9a1")).json()
                assert len(detail["devices"]) == DEVICES_MAX
                assert detail["readings"]["m0"]["value"] == 2.0
    finally:
        hub.close()


async def _stored_beyond(hub: HubProcess, agent: str, boot: str, seq: int) -> bool:
    rows = await asyncio.to_thread(hub.stored_seqs, agent)
    return any(b == boot and s >= seq for b, s, _ in rows)
