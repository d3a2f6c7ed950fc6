"""The hub's live stream over real sockets: a hub process on the real broker, two rooms'
agents publishing, and a teacher's and IT's streams side by side. The teacher never gets a
message of the other room, IT gets both, and a reconnect with Last-Event-ID catches up on
what was missed, still only the caller's own."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from hub.access import Role
from protocol import Event, RoomTopics, Telemetry, encode
from protocol.aio import wait_within
from smartclass.broker import Mosquitto
from tests.integration.system import HubProcess, agent_client, eventually
from tests.unit.hub_helpers import bearer

pytestmark = pytest.mark.integration

SITE, MINE, THEIRS = "thcs-nguyen-chi-thanh", "6a1", "6a2"


@dataclass
class Follower:
    """One page's stream: the events it received, in order."""

    events: list[dict[str, Any]] = field(default_factory=list)
    ready: asyncio.Event = field(default_factory=asyncio.Event)

    def rooms(self, kind: str | None = None) -> list[str]:
        return [e["data"]["room"] for e in self.events if kind in (None, e["event"])]


async def follow(http: httpx.AsyncClient, follower: Follower, headers: dict[str, str]) -> None:
    async with http.stream("GET", "/api/v1/stream", headers=headers) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        fields: dict[str, str] = {}
        async for line in r.aiter_lines():
            if line.startswith("retry: "):  # the first line: the stream is open
                follower.ready.set()
            elif line == "" and "event" in fields:
                data = json.loads(fields["data"])
                follower.events.append({"id": int(fields["id"]), "event": fields["event"],
                                        "data": data})  # fmt: skip
                fields = {}
            elif ": " in line and not line.startswith(":"):
                name, _, value = line.partition(": ")
                fields[name] = value


@contextlib.asynccontextmanager
async def following(http: httpx.AsyncClient, headers: dict[str, str]) -> AsyncIterator[Follower]:
    follower = Follower()
    task = asyncio.create_task(follow(http, follower, headers))
    try:
        await eventually(lambda: _ready(follower, task), 10, "the stream to open")
        yield follower
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _ready(follower: Follower, task: asyncio.Task[None]) -> bool:
    if task.done():
        task.result()  # its failure, if it failed
    return follower.ready.is_set()


async def publish_room(broker: Mosquitto, root: str, room: str, seq: int) -> None:
    """A sample and a help request, as the room's agent sends them (its own credential)."""
    topics = RoomTopics(SITE, room, root)
    sender = f"edge/{SITE}/{room}"
    async with agent_client(broker, root, SITE, room) as edge:
        sample = Telemetry(sender=sender, boot="b1", boot_no=1, seq=seq, device="env",
                           readings={"co2_ppm": 700.0 + seq})  # fmt: skip
        ask = Event(sender=sender, boot="b1", boot_no=1, seq=seq + 1, kind="help",
                    device="panel", text="loa", data={"reason": "loa"})  # fmt: skip
        await edge.publish(topics.telemetry, encode(sample), qos=1)
        await edge.publish(topics.event, encode(ask), qos=1)


async def test_each_stream_has_only_its_callers_rooms_and_catches_up(
    broker: Mosquitto, topic_root: str, tmp_path: Path
) -> None:
    hub = HubProcess(broker, topic_root, tmp_path / "hub", rooms=[(SITE, MINE), (SITE, THEIRS)],
                     env={"SMARTCLASS_HUB_LIVE_TELEMETRY_INTERVAL_S": "0"})  # fmt: skip
    hub.start()
    try:
        await hub.wait_connected()
        teacher = bearer(hub.database_url, Role.TEACHER, rooms=[(SITE, MINE)])
        async with hub.client() as http:
            it_headers = dict(http.headers)
            async with following(http, teacher) as mine, following(http, it_headers) as it:
                await publish_room(broker, topic_root, THEIRS, 1)
                await eventually(lambda: _has(it, THEIRS, "alert"), 10, "the other room's alert")
                await publish_room(broker, topic_root, MINE, 1)
                await eventually(lambda: _has(mine, MINE, "alert"), 10, "the teacher's alert")
                assert set(mine.rooms()) == {MINE}, "never another room's event"
                assert [e["event"] for e in mine.events] == ["telemetry", "help", "alert"]
                assert set(it.rooms()) == {MINE, THEIRS}
                assert [e["event"] for e in it.events if e["data"]["room"] == THEIRS] == [
                    "telemetry", "help", "alert",
                ]  # fmt: skip
                before = mine.events[-1]["id"]

            await publish_room(broker, topic_root, THEIRS, 3)  # while the teacher is away
            await publish_room(broker, topic_root, MINE, 3)

            async def stored() -> bool:
                room = (await http.get(f"/api/v1/rooms/{SITE}/{MINE}")).json()
                return bool(room["readings"]["co2_ppm"]["value"] == 703.0)

            await eventually(stored, 10, "the hub to store what the teacher missed")
            back = Follower()
            headers = {**teacher, "Last-Event-ID": str(before)}
            task = asyncio.create_task(follow(http, back, headers))
            try:
                await eventually(lambda: _has(back, MINE, "help"), 10, "the missed events")
            finally:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            assert set(back.rooms()) == {MINE}
            assert all(e["id"] > before for e in back.events)
            values = [e["data"]["devices"]["env"]["readings"]["co2_ppm"]
                      for e in back.events if e["event"] == "telemetry"]  # fmt: skip
            assert values == [703.0]
    finally:
        hub.close()


async def _has(follower: Follower, room: str, kind: str) -> bool:
    return room in follower.rooms(kind)


async def test_a_hub_with_pages_following_it_stops_at_once(
    broker: Mosquitto, topic_root: str, tmp_path: Path
) -> None:
    hub = HubProcess(broker, topic_root, tmp_path / "hub")
    hub.start()
    try:
        await hub.wait_connected()
        async with hub.client() as http:
            page = Follower()
            task = asyncio.create_task(follow(http, page, dict(http.headers)))
            await eventually(lambda: _ready(page, task), 10, "the stream to open")
            started = time.monotonic()
            await asyncio.to_thread(hub.close)  # SIGTERM, then SIGKILL after 10 s
            took = time.monotonic() - started
            assert hub.proc is not None
            assert hub.proc.returncode in (0, -signal.SIGTERM), "it stopped, it was not killed"
            assert took < 5, f"the open stream held the hub for {took:.1f} s"
            await wait_within(task, 5)  # the page's stream ended (its browser reconnects)
            assert [e["event"] for e in page.events] == ["closing"]
    finally:
        hub.close()
