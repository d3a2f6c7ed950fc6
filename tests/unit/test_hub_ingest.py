"""Hub ingest without a broker: reading to dead letters, batching, acks only after commit, and
nothing received or refused by the database stopping it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import Any

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError

from hub import parsing
from hub.ingest import Ingest
from hub.parsing import Classifier, Ignored, Parsed, Rejected
from hub.roster import Roster
from hub.settings import HubSettings
from hub.store import Store
from protocol import CommandReply, HubStatus, RoomTopics, encode, hub_status_topic
from tests.unit.hub_helpers import AGENT, CLASSIFY, ROOM, SITE, event, make_store, telemetry

TOPICS = RoomTopics(SITE, ROOM, "sc")


class FakeClient:
    """Stands in for AckedClient: records acks and what was stored at that moment."""

    def __init__(self, stored: Callable[[], int]) -> None:
        self.acks: list[tuple[int, int]] = []
        self.stored_at_ack: list[int] = []
        self._stored = stored

    def ack(self, mid: int, qos: int) -> None:
        self.acks.append((mid, qos))
        self.stored_at_ack.append(self._stored())


def stored_points(store: Store) -> int:
    with store.engine.connect() as conn:
        return int(conn.exec_driver_sql("SELECT count(*) FROM telemetry").scalar_one())


async def until(check: Callable[[], bool], within_s: float = 5.0) -> None:
    deadline = time.monotonic() + within_s
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.005)


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    store = make_store(database_url)
    yield store
    store.engine.dispose()


@pytest.fixture
async def ingest(store: Store) -> AsyncIterator[Ingest]:
    replies: list[tuple[CommandReply, str, str]] = []
    settings = HubSettings(
        database_url="sqlite://", ingest_batch_max=3, ingest_flush_ms=5, hub_id="hub-test"
    )

    def on_reply(reply: CommandReply, site: str, room: str) -> bool:
        replies.append((reply, site, room))
        return True

    ing = Ingest(settings, store, on_reply=on_reply)
    ing.replies = replies  # type: ignore[attr-defined]
    ing.batches.retry_min_s = 0.001
    yield ing
    await ing.stop()


def feed(ingest: Ingest, client: Any, items: Sequence[tuple[str, bytes]]) -> None:
    for mid, (topic, payload) in enumerate(items, start=1):
        ingest.receive(client, topic, payload, mid, 1)


def tm(seq: int, **kw: Any) -> tuple[str, bytes]:
    return TOPICS.telemetry, encode(telemetry(seq, **kw).message)


def reason_of(topic: str, payload: bytes) -> str:
    result = CLASSIFY(topic, payload)
    assert isinstance(result, Rejected), result
    assert result.detail
    return result.reason


@pytest.mark.parametrize(
    ("topic", "payload", "reason"),
    [
        ("sc/a/b/nonsense", b"{}", "bad_topic"),
        ("other/a/b/telemetry", b"{}", "bad_topic"),
        (f"sc/{SITE}/{ROOM}/cmd/x", b"{}", "unexpected_kind"),
        (f"sc/{SITE}/{ROOM}/config", b"{}", "unexpected_kind"),
        (f"sc/{SITE}/{ROOM}/telemetry", b"\xff\xfe", "bad_json"),
        (f"sc/{SITE}/{ROOM}/telemetry", b'{"v": 99, "sender": "x"}', "bad_version"),
        (f"sc/{SITE}/{ROOM}/telemetry", b'{"v": 1, "sender": "x"}', "bad_schema"),
        (f"sc/{SITE}/{ROOM}/state/lights", encode(event(1).message), "bad_schema"),
        ("sc/a/b/telemetry", encode(telemetry(1).message), "unknown_room"),
        (f"sc/{SITE}/nope/status", b"not even json", "unknown_room"),
    ],
)
def test_malformed_messages_become_dead_letters(topic: str, payload: bytes, reason: str) -> None:
    result = CLASSIFY(topic, payload)
    assert isinstance(result, Rejected)
    assert (result.reason, result.topic, result.payload) == (reason, topic, payload)
    assert result.detail


@pytest.mark.parametrize(
    ("topic", "payload"),
    [
        # an attendance event the hub cannot read as an event at all
        (TOPICS.event, b'{"v": 1, "kind": "attendance_mark", "data": {"student": "Nguyen Van A"'),
        # the same with the kind spelt in JSON escapes, or in capitals
        (TOPICS.event, b'{"kind": "\\u0061ttendance_mark", "data": {"who": "Nguyen Van A"}}'),
        (TOPICS.event, b'{"kind": "ATTENDANCE_MARK", "data": {"who": "Nguyen Van A"}}'),
        # a student named on another topic, past the part a dead letter would keep
        (TOPICS.telemetry, b'{"v": 1, "pad": "' + b"x" * 5000 + b'", "student": "hs01"}'),
        (f"sc/{SITE}/nope/event", b'{"student": "Nguyen Van A"}'),
    ],
)
def test_a_dead_letter_that_may_name_a_student_keeps_none_of_its_payload(
    topic: str, payload: bytes
) -> None:
    result = CLASSIFY(topic, payload)
    assert isinstance(result, Rejected)
    assert (result.payload, result.size) == (b"", len(payload))
    assert result.reason
    assert result.detail
    assert b"Nguyen" not in result.detail.encode()
    assert "hs01" not in result.detail


@pytest.mark.parametrize(
    "payload",
    [b'{"v": 1, "text": "\\u01b0\\u01b0 ph\\u00f2ng"}', '{"v": 1, "text": "ưư phòng"}'.encode()],
)
def test_a_dead_letter_of_other_text_keeps_the_start_of_its_payload(payload: bytes) -> None:
    result = CLASSIFY(TOPICS.event, payload)
    assert isinstance(result, Rejected)
    assert result.payload == payload  # Vietnamese, escaped or not, names nobody by itself


def test_state_for_another_device_than_its_topic_is_refused() -> None:
    from tests.unit.hub_helpers import state

    assert reason_of(TOPICS.state("projector"), encode(state("lights").message)) == "mismatch"


@pytest.mark.parametrize(
    "kind", ["telemetry", "status", "reply", "event", "health", "config/applied", "state/env"]
)
def test_the_sender_must_be_the_rooms_own_agent(kind: str) -> None:
    """Every kind only an agent writes: a message of another room's sender is refused."""
    source = telemetry(1, room="6a2").message
    other = f"sc/{SITE}/{ROOM}/{kind}"
    if kind == "telemetry":
        payload = encode(source)
    else:
        model = parsing.MODELS[parsing.parse_topic(other).kind]
        fields: dict[str, Any] = {
            "status": {"state": "online", "boot": "b"},
            "reply": {"id": "c1", "device": "env", "code": "ok"},
            "event": {"boot": "b", "seq": 1, "kind": "help"},
            "health": {"boot": "b", "started_at": source.ts},
            "config/applied": {"boot": "b", "version": 1},
            "state/env": {"boot": "b", "device": "env", "family": "environment", "state": {}},
        }[kind]
        payload = encode(model(sender=source.sender, **fields))
    assert reason_of(other, payload) == "sender_mismatch"


def test_a_payload_over_the_limit_is_refused_without_being_parsed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def must_not_parse(*_: Any) -> Any:
        raise AssertionError("parsed")

    monkeypatch.setattr(parsing, "decode", must_not_parse)
    big = b'{"x": "' + b"a" * (parsing.MAX_PAYLOAD_BYTES + 1) + b'"}'
    result = CLASSIFY(TOPICS.telemetry, big)
    assert isinstance(result, Rejected)
    assert (result.reason, result.size, len(result.payload)) == ("too_large", len(big), 4096)


@pytest.mark.parametrize(
    "error", [OverflowError("date value out of range"), RecursionError(), KeyError("x")]
)
def test_any_exception_while_reading_is_a_dead_letter(
    monkeypatch: pytest.MonkeyPatch, error: Exception
) -> None:
    def explode(*_: Any) -> Any:
        raise error

    topic, payload = tm(1)
    monkeypatch.setattr(parsing, "decode", explode)
    result = CLASSIFY(topic, payload)
    assert isinstance(result, Rejected)
    assert result.reason == "bad_payload"
    assert type(error).__name__ in result.detail


def test_a_time_that_overflows_on_conversion_is_refused_by_the_schema() -> None:
    payload = encode(telemetry(1).message).replace(
        b'"ts":"2025-03-03T01:00:00Z"', b'"ts":"9999-12-31T23:59:59-01:00"'
    )
    assert b"9999" in payload
    assert reason_of(TOPICS.telemetry, payload) == "bad_schema"


def test_other_hubs_and_their_replies_are_read_past() -> None:
    status = HubStatus(sender="hub/other", state="online", boot="x")
    assert isinstance(CLASSIFY(hub_status_topic("sc", "other"), encode(status)), Ignored)
    reply = CommandReply(sender=f"edge/{AGENT}", id="c1", device="lights", code="ok")
    assert isinstance(CLASSIFY(TOPICS.reply_to("other"), encode(reply)), Ignored)
    assert isinstance(CLASSIFY(TOPICS.reply_to("hub-test"), encode(reply)), Parsed)


def test_valid_message_parsed_with_its_agent() -> None:
    result = CLASSIFY(*tm(1))
    assert isinstance(result, Parsed)
    assert result.agent == AGENT


async def test_acks_come_after_the_batch_is_committed(ingest: Ingest, store: Store) -> None:
    client = FakeClient(lambda: stored_points(store))
    ingest._client = client  # type: ignore[assignment]
    feed(ingest, client, [tm(1), tm(2), (TOPICS.telemetry, b"junk")])
    assert client.acks == []
    result = await ingest.flush(ingest._pending)
    assert (result.points, result.dead_letters) == (4, 1)
    assert client.acks == [(1, 1), (2, 1), (3, 1)]
    assert client.stored_at_ack == [4, 4, 4]
    assert ingest.stats.dead_letters_by_reason == {"bad_json": 1}
    assert ingest.acks.pending == 1  # the end-to-end ack for the agent


async def test_messages_of_an_old_connection_are_stored_not_acked(
    ingest: Ingest, store: Store
) -> None:
    old, new = FakeClient(lambda: 0), FakeClient(lambda: 0)
    ingest._client = new  # type: ignore[assignment]
    feed(ingest, old, [tm(1)])
    await ingest.flush(ingest._pending)
    assert old.acks == []
    assert new.acks == []
    assert stored_points(store) == 2  # the broker will send it again: deduplicated then


async def test_replies_are_routed_at_once_and_logged(ingest: Ingest) -> None:
    reply = CommandReply(sender=f"edge/{AGENT}", id="c1", device="lights", code="ok")
    ingest.receive(None, TOPICS.reply_to("hub-test"), encode(reply), 1, 1)
    assert [(r.id, s, m) for r, s, m in ingest.replies] == [("c1", SITE, ROOM)]  # type: ignore[attr-defined]
    assert ingest.stats.replies == 1
    await ingest.flush(ingest._pending)  # no command logged with that id: nothing to update


async def test_receive_never_raises_and_the_message_is_still_acknowledged(
    ingest: Ingest, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_route(*_: Any) -> None:
        raise RuntimeError("a bug while routing a reply")

    monkeypatch.setattr(ingest, "_route_reply", broken_route)
    client = FakeClient(lambda: 0)
    ingest._client = client  # type: ignore[assignment]
    reply = CommandReply(sender=f"edge/{AGENT}", id="c1", device="lights", code="ok")
    ingest.receive(client, TOPICS.reply, encode(reply), 7, 1)  # type: ignore[arg-type]
    await ingest.flush(ingest._pending)
    assert client.acks == [(7, 1)]


async def test_flush_loop_cuts_batches_at_the_maximum(ingest: Ingest, store: Store) -> None:
    client = FakeClient(lambda: 0)
    ingest._client = client  # type: ignore[assignment]
    task = asyncio.create_task(ingest._flush_loop())
    try:
        feed(ingest, client, [tm(i) for i in range(1, 8)])
        await until(lambda: len(client.acks) == 7)
        assert ingest.stats.batches == 3  # 3 + 3 + 1
        assert stored_points(store) == 14
    finally:
        task.cancel()


async def test_database_errors_are_retried_without_acknowledging(
    ingest: Ingest, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = store.write_batch
    calls = 0
    client = FakeClient(lambda: stored_points(store))
    ingest._client = client  # type: ignore[assignment]

    def flaky(items: Sequence[Parsed | Rejected]) -> Any:
        nonlocal calls
        calls += 1
        if calls <= 2:
            raise OperationalError("INSERT", {}, Exception("database is locked"))
        return real(items)

    monkeypatch.setattr(store, "write_batch", flaky)
    feed(ingest, client, [tm(1)])
    await ingest.flush(ingest._pending)
    assert (calls, ingest.stats.write_errors, stored_points(store)) == (3, 2, 2)
    assert client.stored_at_ack == [2]  # acknowledged once stored, not before
    assert ingest.stats.db_failing is False
    assert "database is locked" in (ingest.stats.last_write_error or "")


@pytest.mark.parametrize(
    "error",
    [IntegrityError("INSERT", {}, Exception("constraint failed")), ValueError("a bug of ours")],
    ids=["integrity", "any-exception"],
)
async def test_a_message_the_database_refuses_becomes_a_dead_letter(
    ingest: Ingest, store: Store, monkeypatch: pytest.MonkeyPatch, error: Exception
) -> None:
    real = store.write_batch

    def picky(items: Sequence[Parsed | Rejected]) -> Any:
        if any(isinstance(i, Parsed) and getattr(i.message, "seq", 0) == 2 for i in items):
            raise error
        return real(items)

    monkeypatch.setattr(store, "write_batch", picky)
    feed(ingest, None, [tm(1), tm(2), tm(3)])
    result = await ingest.flush(ingest._pending)
    assert (result.points, result.dead_letters) == (4, 1)
    assert [d.reason for d in store.dead_letters()] == ["store_error"]
    assert ingest.stats.dead_letters_by_reason == {"store_error": 1}


async def test_a_dead_letter_the_database_refuses_too_is_dropped_and_counted(
    ingest: Ingest, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = store.write_batch
    calls: list[int] = []

    def refuses_dead_letters(items: Sequence[Parsed | Rejected]) -> Any:
        calls.append(len(items))
        if any(isinstance(i, Rejected) for i in items):
            raise ValueError("cannot store that either")
        return real(items)

    monkeypatch.setattr(store, "write_batch", refuses_dead_letters)
    client = FakeClient(lambda: 0)
    ingest._client = client  # type: ignore[assignment]
    feed(ingest, client, [tm(1), (TOPICS.telemetry, b"junk")])
    result = await ingest.flush(ingest._pending)
    assert result.points == 2
    assert ingest.stats.dead_letters_lost == 1
    assert client.acks == [(1, 1), (2, 1)]  # never retried forever
    assert calls == [2, 1, 1]


async def test_a_large_payload_is_read_at_once_and_not_kept(ingest: Ingest) -> None:
    big = b"x" * 100_000
    ingest.receive(None, TOPICS.telemetry, big, 1, 1)
    [queued] = ingest._pending
    assert queued.payload == b""
    assert isinstance(queued.parsed, Rejected)
    assert len(queued.parsed.payload) <= 4096


def test_topics_of_unknown_rooms_are_never_kept_and_the_registry_decides_each_time() -> None:
    roster = Roster([(SITE, ROOM)])
    classify = Classifier("sc", roster)
    payload = encode(telemetry(1).message)
    for i in range(50):
        assert isinstance(classify(f"sc/rogue/r{i}/telemetry", payload), Rejected)
    assert isinstance(classify(TOPICS.telemetry, payload), Parsed)
    assert list(classify._topics) == [TOPICS.telemetry]
    roster.replace([])  # the room left the registry
    result = classify(TOPICS.telemetry, payload)
    assert isinstance(result, Rejected)
    assert result.reason == "unknown_room"
