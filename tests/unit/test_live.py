"""The hub's live stream from its two feeders: what a committed batch brings (replays left
out, telemetry throttled per room on a controlled clock), alert transitions, and each
stream keeping to its caller's rooms, with catch-up by the last event id."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

from hub.access import Scope
from hub.alerts.engine import Transition
from hub.alerts.kinds import AlertState
from hub.alerts.store import AlertRecord
from hub.live import HubLive
from protocol import Event, RoomTopics
from protocol.aio import wait_within
from tests.unit.hub_helpers import ROOM, ROOT, SITE, at, event, parsed, state, status, telemetry

OTHER = "6a2"


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def fresh(**settings: Any) -> tuple[HubLive, int]:
    """A live stream and the id before its first event (ids start at the time in µs)."""
    live = HubLive(**settings)
    return live, live.feed.last_id


def events(live: HubLive, after: int) -> list[tuple[str, dict[str, Any]]]:
    found = live.feed.since(after)
    assert found is not None
    return [(e.kind, dict(e.data)) for e in found]


def sample(seq: int, room: str = ROOM, device: str = "env", **readings: float) -> Any:
    return telemetry(seq, room=room, device=device, **(readings or {"co2_ppm": 400.0 + seq}))


def help_event(seq: int, reason: str, room: str = ROOM) -> Any:
    msg = Event(sender=f"edge/{SITE}/{room}", boot="b1", seq=seq, ts=at(0), kind="help",
                device="panel", text=reason, data={"reason": reason})  # fmt: skip
    return parsed(RoomTopics(SITE, room, ROOT).event, msg)


def test_a_batch_becomes_events_of_its_rooms() -> None:
    live, start = fresh(clock=Clock())
    live.observe(
        [
            status("online", agent_version="1.2"),
            state("lights", n=1, front={"on": True, "level": 100}),
            sample(1),
            help_event(2, "máy chiếu không lên"),
            event(3, kind="agent_error", text="not for the pages"),
        ]
    )
    got = events(live, start)
    assert [kind for kind, _ in got] == ["room", "state", "telemetry", "help"]
    assert all((d["site"], d["room"]) == (SITE, ROOM) for _, d in got)
    assert (got[0][1]["online"], got[0][1]["agent_version"]) == (True, "1.2")
    assert got[1][1]["state"] == {"front": {"on": True, "level": 100}}
    assert got[2][1]["devices"]["env"]["readings"] == {"co2_ppm": 401.0}
    assert (got[3][1]["kind"], got[3][1]["reason"]) == ("help", "máy chiếu không lên")
    json.dumps([d for _, d in got])  # every event is plain JSON (times as ISO 8601)
    assert datetime.fromisoformat(got[1][1]["ts"]) == at(0)


def test_redeliveries_and_older_messages_are_left_out() -> None:
    live, _ = fresh(clock=Clock(), telemetry_interval_s=0)
    live.observe([sample(5), state("lights", n=4, front={"on": True, "level": 100})])
    mark = live.feed.last_id
    live.observe(
        [
            sample(5),  # a redelivery
            sample(3),  # older, replayed from the outbox
            help_event(4, "late"),
            state("lights", n=4, front={"on": True, "level": 100}),
            state("lights", n=2, front={"on": False, "level": 0}),
            status("offline", conn=2),
            status("online", conn=2),  # the will of a connection comes after its online
        ]
    )
    assert [(kind, d.get("online")) for kind, d in events(live, mark)] == [("room", False)]
    assert live.stats.replays == 6
    live.observe([telemetry(1, boot="b2")])
    assert events(live, mark)[-1][0] == "telemetry", "a new boot starts its own counters"


def test_telemetry_is_throttled_per_room_and_merged() -> None:
    clock = Clock()
    live, start = fresh(clock=clock, telemetry_interval_s=5)
    live.observe([sample(1), sample(1, room=OTHER)])
    assert len(events(live, start)) == 2, "the first of each room goes at once"
    mark = live.feed.last_id
    clock.now += 2
    live.observe([sample(2, co2_ppm=900), sample(3, device="noise", noise_dba=61.5)])
    assert events(live, mark) == [], "within the interval: kept for the next"
    assert live.stats.merged == 2
    clock.now += 3
    live.observe([sample(4, co2_ppm=950)])
    [(kind, data)] = events(live, mark)
    assert kind == "telemetry"
    assert {d: v["readings"] for d, v in data["devices"].items()} == {
        "env": {"co2_ppm": 950.0},
        "noise": {"noise_dba": 61.5},
    }, "the latest of each device since the last event"


def alert(state: AlertState = AlertState.OPEN, room: str = ROOM) -> AlertRecord:
    t = datetime(2025, 3, 3, 1, 0, tzinfo=UTC)
    return AlertRecord(
        id=7, kind="help", severity="critical", site=SITE, room=room, device="panel",
        state=state, started_at=t, last_at=t, ended_at=None, repeats=0, text="sound",
        data={"reason": "sound"}, source="", level=None,
    )  # fmt: skip


def test_alert_transitions_are_events_of_their_room() -> None:
    live, start = fresh()
    live.alert_changed(Transition("raised", alert(), at(0)))
    live.alert_changed(
        Transition("acknowledged", alert(AlertState.ACKNOWLEDGED), at(1), "it.minh", "on my way")
    )
    got = events(live, start)
    assert [(k, d["action"], d["state"], d["id"]) for k, d in got] == [
        ("alert", "raised", "open", 7),
        ("alert", "acknowledged", "acknowledged", 7),
    ]
    assert (got[1][1]["actor"], got[1][1]["comment"]) == ("it.minh", "on my way")


async def read(stream: Any, n: int) -> list[bytes]:
    out = []
    async for chunk in stream:
        out.append(chunk)
        if len(out) == n:
            break
    return out


def ids_and_rooms(chunks: list[bytes]) -> list[tuple[int, str, str]]:
    out = []
    for chunk in chunks:
        lines = dict(line.split(": ", 1) for line in chunk.decode().splitlines() if ": " in line)
        if "event" in lines:
            out.append((int(lines["id"]), lines["event"], json.loads(lines["data"])["room"]))
    return out


async def test_a_stream_keeps_to_its_callers_rooms_and_catches_up() -> None:
    live, start = fresh(clock=Clock(), telemetry_interval_s=0)
    teacher = Scope(rooms=frozenset({(SITE, ROOM)}))
    live.observe([sample(1), sample(1, room=OTHER), sample(2), sample(2, room=OTHER)])
    response = live.response(teacher, start)  # from the first event
    chunks = await read(response.body_iterator, 3)
    assert chunks[0].startswith(b"retry: ")
    assert ids_and_rooms(chunks) == [(start + 1, "telemetry", ROOM), (start + 3, "telemetry", ROOM)]
    await response.body_iterator.aclose()  # type: ignore[attr-defined]
    assert live.feed.listeners == 0

    live.observe([sample(3, room=OTHER), sample(4)])
    again = live.response(teacher, start + 3)  # a reconnect with the last id it had
    chunks = await read(again.body_iterator, 2)
    assert ids_and_rooms(chunks) == [(start + 6, "telemetry", ROOM)], "what it missed, its own"
    await again.body_iterator.aclose()  # type: ignore[attr-defined]


async def test_a_stream_ends_after_its_longest_time() -> None:
    live = HubLive(stream_max_s=0.05)
    response = live.response(Scope(everything=True), None)
    chunks = [chunk async for chunk in response.body_iterator]
    assert len(chunks) == 1
    assert chunks[0].startswith(b"retry: ")
    assert live.feed.listeners == 0, "the browser reconnects; nothing is left open"


async def test_streams_are_bounded() -> None:
    live = HubLive(max_listeners=1)
    first = live.response(Scope(everything=True), None)
    await anext(first.body_iterator)  # type: ignore[call-overload]
    assert live.response(Scope(everything=True), None).status_code == 503
    await first.body_iterator.aclose()  # type: ignore[attr-defined]
    assert live.response(Scope(everything=True), None).status_code == 200


async def test_closing_ends_every_stream_at_once() -> None:
    live = HubLive()
    response = live.response(Scope(rooms=frozenset({(SITE, ROOM)})), None)

    stream = response.body_iterator
    assert (await anext(stream)).startswith(b"retry: ")  # type: ignore[call-overload]

    async def rest() -> list[bytes]:
        return [chunk async for chunk in stream]

    reading = asyncio.ensure_future(rest())
    await asyncio.sleep(0)  # one turn of the loop: the stream waits for events, all in one step
    assert not reading.done()
    live.close()  # the hub stops: the web server would wait for this response for ever
    chunks = await wait_within(reading, 2)
    assert [c.split(b"\n")[1] for c in chunks] == [b"event: closing"]
    assert live.feed.listeners == 0


async def test_a_page_back_from_before_a_restart_resyncs() -> None:
    before, _ = fresh(clock=Clock(), telemetry_interval_s=0)
    before.observe([sample(1)])
    seen = before.feed.last_id  # the page's last id when the hub stopped
    after, _ = fresh(clock=Clock(), telemetry_interval_s=0)  # the next run of the hub
    after.observe([sample(seq) for seq in range(2, 10)])  # more events than the page saw
    response = after.response(Scope(everything=True), seen)
    chunks = await read(response.body_iterator, 2)
    assert b"event: resync" in chunks[1], "not the new run's events taken for missed ones"
    await response.body_iterator.aclose()  # type: ignore[attr-defined]
