"""Hub ingest without a broker: parsing to dead letters, batching, acks only after commit."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import Any

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError

from hub.db import create_schema, make_engine
from hub.ingest import Ingest
from hub.parsing import Parsed, Rejected, classify
from hub.settings import HubSettings
from hub.store import Store
from protocol import CommandReply, RoomTopics, encode
from tests.unit.hub_helpers import AGENT, ROOM, SITE, event, telemetry

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
    engine = make_engine(database_url)
    create_schema(engine)
    yield Store(engine)
    engine.dispose()


@pytest.fixture
async def ingest(store: Store) -> AsyncIterator[Ingest]:
    replies: list[CommandReply] = []
    settings = HubSettings(database_url="sqlite://", ingest_batch_max=3, ingest_flush_ms=5)

    def on_reply(reply: CommandReply) -> bool:
        replies.append(reply)
        return True

    ing = Ingest(settings, store, on_reply=on_reply)
    ing.replies = replies  # type: ignore[attr-defined]
    yield ing
    await ing.stop()


def feed(ingest: Ingest, client: Any, items: Sequence[tuple[str, bytes]]) -> None:
    for mid, (topic, payload) in enumerate(items, start=1):
        ingest.receive(client, topic, payload, mid, 1)


def tm(seq: int) -> tuple[str, bytes]:
    return TOPICS.telemetry, encode(telemetry(seq).message)


@pytest.mark.parametrize(
    ("topic", "payload", "reason"),
    [
        ("sc/a/b/nonsense", b"{}", "bad_topic"),
        ("other/a/b/telemetry", b"{}", "bad_topic"),
        ("sc/a/b/cmd/x", b"{}", "unexpected_kind"),
        ("sc/a/b/telemetry", b"\xff\xfe", "bad_json"),
        ("sc/a/b/telemetry", b'{"v": 99, "sender": "x"}', "bad_version"),
        ("sc/a/b/telemetry", b'{"v": 1, "sender": "x"}', "bad_schema"),
        ("sc/a/b/state/lights", encode(event(1).message), "bad_schema"),
    ],
)
def test_malformed_messages_become_dead_letters(topic: str, payload: bytes, reason: str) -> None:
    result = classify(topic, payload, "sc")
    assert isinstance(result, Rejected)
    assert (result.reason, result.topic, result.payload) == (reason, topic, payload)
    assert result.detail


def test_state_for_another_device_than_its_topic_is_refused() -> None:
    from tests.unit.hub_helpers import state

    msg = state("lights").message
    result = classify(TOPICS.state("projector"), encode(msg), "sc")
    assert isinstance(result, Rejected)
    assert result.reason == "mismatch"


def test_valid_message_parsed_with_its_agent() -> None:
    result = classify(*tm(1), "sc")
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
    ingest.receive(None, TOPICS.reply, encode(reply), 1, 1)
    assert [r.id for r in ingest.replies] == ["c1"]  # type: ignore[attr-defined]
    assert ingest.stats.replies == 1
    await ingest.flush(ingest._pending)  # no command logged with that id: nothing to update


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


async def test_database_errors_are_retried_then_stored(
    ingest: Ingest, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = store.write_batch
    calls = 0

    def flaky(items: Sequence[Parsed | Rejected]) -> Any:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise OperationalError("INSERT", {}, Exception("database is locked"))
        return real(items)

    monkeypatch.setattr(store, "write_batch", flaky)
    feed(ingest, None, [tm(1)])
    await ingest.flush(ingest._pending)
    assert (calls, ingest.stats.write_errors, stored_points(store)) == (2, 1, 2)


async def test_a_message_the_database_refuses_becomes_a_dead_letter(
    ingest: Ingest, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = store.write_batch

    def picky(items: Sequence[Parsed | Rejected]) -> Any:
        if any(isinstance(i, Parsed) and getattr(i.message, "seq", 0) == 2 for i in items):
            raise IntegrityError("INSERT", {}, Exception("constraint failed"))
        return real(items)

    monkeypatch.setattr(store, "write_batch", picky)
    feed(ingest, None, [tm(1), tm(2), tm(3)])
    result = await ingest.flush(ingest._pending)
    assert (result.points, result.dead_letters) == (4, 1)
    assert [d.reason for d in store.dead_letters()] == ["store_error"]
