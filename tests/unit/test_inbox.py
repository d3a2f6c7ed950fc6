"""The agent's inbox: nothing received stops it; commands are answered once, never replayed
when retained, answered even when unreadable, and checked on the hub's clock."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Coroutine, Mapping
from datetime import datetime, timedelta
from typing import Any

import aiomqtt
import pytest

from devices.base import Action, Device
from edge.clock_offset import ClockOffset
from edge.inbox import EXPIRY_TOLERANCE_S, Inbox, InboxHooks
from protocol import Command, CommandReply, HubStatus, RoomTopics, StoredAck, encode, utcnow

TOPICS = RoomTopics("school", "room", "sc")


class Lamp(Device):
    family = "lighting"

    def __init__(self) -> None:
        super().__init__("lights")
        self.switched = 0

    @property
    def actions(self) -> Mapping[str, Action]:
        return {"on": self._on}

    async def state(self) -> dict[str, Any]:
        return {"switched": self.switched}

    async def _on(self, params: dict[str, Any]) -> dict[str, Any]:
        self.switched += 1
        return await self.state()


class Room:
    """An inbox with hooks that record what it asked for."""

    def __init__(self, now: datetime | None = None) -> None:
        self.lamp = Lamp()
        self.replies: list[tuple[str, CommandReply]] = []
        self.acks: list[StoredAck] = []
        self.hub_online: list[bool] = []
        self.republished = 0
        self.tasks: list[asyncio.Task[None]] = []
        self.later: list[asyncio.Task[None]] = []
        """Tasks that wait on purpose (a deferred re-send), not awaited by ``receive``."""
        self.clock = ClockOffset()
        self.local_now = now or utcnow()

        async def reply(topic: str, message: CommandReply) -> None:
            self.replies.append((topic, message))

        async def on_ack(ack: StoredAck) -> None:
            self.acks.append(ack)

        async def republish() -> None:
            self.republished += 1

        async def nothing(*_: Any) -> Any:
            return True

        def spawn(coro: Coroutine[Any, Any, None], what: str) -> None:
            task = asyncio.get_running_loop().create_task(coro)
            (self.later if what == "republish" else self.tasks).append(task)

        self.inbox = Inbox(
            {"lights": self.lamp},
            TOPICS,
            "edge/school/room",
            InboxHooks(
                publish=nothing,
                reply=reply,
                publish_state=nothing,
                republish=republish,
                configure=nothing,
                unreadable_config=nothing,
                on_ack=on_ack,
                hub_online=self.hub_online.append,
                spawn=spawn,
            ),
            clock=self.clock,
            now=lambda: self.local_now,
            monotonic=lambda: 1000.0,
        )

    async def receive(self, topic: str, payload: bytes, *, retain: bool = False) -> None:
        await self.inbox.handle(aiomqtt.Message(topic, payload, 1, retain, 1, None))
        while self.tasks:
            await self.tasks.pop(0)


def command(
    cid: str = "c1", *, expires_in: float = 30, hub: str | None = "hub-a", **extra: Any
) -> Command:
    fields: dict[str, Any] = {
        "sender": "hub/hub-a", "id": cid, "device": "lights", "action": "on",
        "issuer": "teacher", "expires": utcnow() + timedelta(seconds=expires_in), "reply_to": hub,
    }  # fmt: skip
    fields.update(extra)
    return Command(**fields)


async def test_a_command_is_answered_on_the_topic_of_the_hub_that_sent_it() -> None:
    room = Room()
    await room.receive(TOPICS.command("lights"), encode(command()))
    [(topic, reply)] = room.replies
    assert topic == TOPICS.reply_to("hub-a") == "sc/school/room/reply/hub-a"
    assert (reply.id, reply.code, room.lamp.switched) == ("c1", "ok", 1)


async def test_a_retained_command_is_refused_and_never_run() -> None:
    room = Room()
    await room.receive(TOPICS.command("lights"), encode(command()), retain=True)
    assert room.lamp.switched == 0
    assert room.replies == []
    assert room.inbox.malformed == 1


async def test_a_redelivered_command_gets_its_first_reply_and_does_not_run_again() -> None:
    room = Room()
    payload = encode(command("c7"))
    await room.receive(TOPICS.command("lights"), payload)
    await room.receive(TOPICS.command("lights"), payload)
    assert room.lamp.switched == 1
    assert [r.id for _, r in room.replies] == ["c7", "c7"]
    assert room.replies[0][1] == room.replies[1][1]
    assert room.inbox.duplicates == 1


@pytest.mark.parametrize(
    "params",
    [
        {"x\u0000": 1},  # a NUL in a key: the reply once quoted it and could not be built
        {"x": "a\u0000b"},
        {"x": "\ud800"},  # a lone surrogate
        {"deep": json.loads("[" * 50 + "]" * 50)},
        {"big": "x" * 10_000},
    ],
    ids=["nul-key", "nul-value", "surrogate", "deep", "big"],
)
async def test_a_command_that_cannot_be_read_gets_a_bad_request_reply(
    params: dict[str, Any],
) -> None:
    room = Room()
    body = json.loads(encode(command("c9")))
    body["params"] = params
    payload = json.dumps(body, ensure_ascii=True).encode()  # the surrogate as an escape
    await room.receive(TOPICS.command("lights"), payload)
    [(topic, reply)] = room.replies
    assert topic == TOPICS.reply_to("hub-a")
    assert (reply.id, reply.code) == ("c9", "bad_request")
    assert "\x00" not in reply.text
    assert room.lamp.switched == 0


@pytest.mark.parametrize(
    "payload",
    [b"", b"\xff\xfe", b"[]", b"null", b'{"id": 5}', b"{" * 100_000, b'{"id": "a/b#"}'],
)
async def test_garbage_on_the_command_topic_is_dropped_without_a_reply(payload: bytes) -> None:
    room = Room()
    await room.receive(TOPICS.command("lights"), payload)
    assert room.replies == []
    assert room.inbox.malformed == 1


async def test_expiry_is_checked_on_the_hub_clock_as_the_agent_measures_it() -> None:
    # the agent's clock is an hour behind the hub's
    hub_now = utcnow()
    room = Room(now=hub_now - timedelta(hours=1))
    late = command("late", expires_in=-(EXPIRY_TOLERANCE_S + 5))
    await room.receive(TOPICS.command("lights"), encode(late))
    assert room.replies[-1][1].code == "ok", "without a measured offset, its own clock decides"

    status = HubStatus(sender="hub/hub-a", state="online", boot="h1", ts=hub_now)
    await room.receive("sc/_hub/hub-a/status", encode(status))
    assert room.clock.seconds == pytest.approx(3600, abs=1)
    await room.receive(TOPICS.command("lights"), encode(command("late2", expires_in=-10)))
    assert room.replies[-1][1].code == "expired"
    await room.receive(TOPICS.command("lights"), encode(command("fresh", expires_in=5)))
    assert room.replies[-1][1].code == "ok"


async def test_a_command_within_the_tolerance_runs() -> None:
    room = Room()
    await room.receive(
        TOPICS.command("lights"), encode(command("c", expires_in=-EXPIRY_TOLERANCE_S / 2))
    )
    assert room.replies[-1][1].code == "ok"


async def test_a_hub_coming_back_is_answered_at_most_once_per_interval() -> None:
    room = Room()
    for boot in ("h1", "h2", "h3", "h4"):
        status = HubStatus(sender="hub/hub-a", state="online", boot=boot)
        await room.receive("sc/_hub/hub-a/status", encode(status))
    assert room.republished == 1, "a flapping or forged hub status must not amplify"
    assert len(room.later) == 1, "one deferred re-send for all the changes in the interval"
    assert room.hub_online[-1] is True
    offline = HubStatus(sender="hub/hub-a", state="offline", boot="h4")
    await room.receive("sc/_hub/hub-a/status", encode(offline))
    assert room.hub_online[-1] is False
    for task in room.later:
        task.cancel()


async def test_the_hub_acknowledgement_is_handed_on() -> None:
    room = Room()
    ack = StoredAck(sender="hub/hub-a", boots={"b1": [(1, 10)]})
    await room.receive(TOPICS.ack, encode(ack), retain=True)
    assert room.acks == [ack]


@pytest.mark.parametrize(
    "topic",
    [
        "sc/_hub/x/status",
        "sc/_hub/x/y/status",
        TOPICS.config,
        TOPICS.ack,
        "sc/other/room/cmd/lights",
        "sc/school/room/telemetry",
    ],
)
@pytest.mark.parametrize(
    "payload", [b"\x00", b"{}", b'{"v": 2, "ts": "9999-12-31T23:59:59-01:00"}', b"[" * 5000]
)
async def test_poison_on_any_topic_is_dropped_and_counted(topic: str, payload: bytes) -> None:
    room = Room()
    await room.receive(topic, payload)
    assert room.lamp.switched == 0
    assert room.inbox.malformed == 1
