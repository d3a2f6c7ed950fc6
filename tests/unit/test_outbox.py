"""The durable outbox: order, forgetting only what the hub acknowledged, bounds with their
losses recorded outside the bounds, the boot counter, refused rows parked, old files."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from edge.outbox import Outbox
from tests.fakes import FakeClock


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "edge" / "outbox.sqlite3"


def rows(boot: str, seqs: range) -> list[tuple[str, bytes, str, int]]:
    return [("t", str(s).encode(), boot, s) for s in seqs]


def test_wal_mode_is_on(path: Path) -> None:
    with Outbox(path) as box:
        assert box.journal_mode == "wal"


def test_order_is_kept_across_reopen(path: Path) -> None:
    with Outbox(path) as box:
        box.add("a/t", b"1", "b", 1)
        box.add_many([("a/t", b"2", "b", 2), ("a/e", b"3", "b", 3)])
    with Outbox(path) as box:
        assert len(box) == 3
        got = box.peek(10)
        assert [(r.payload, r.topic, r.seq) for r in got] == [
            (b"1", "a/t", 1), (b"2", "a/t", 2), (b"3", "a/e", 3),
        ]  # fmt: skip
        assert [r.payload for r in box.peek(2, after_id=got[0].id)] == [b"2", b"3"]


def test_only_what_the_hub_acknowledged_is_forgotten(path: Path) -> None:
    with Outbox(path) as box:
        box.add_many(rows("b1", range(1, 11)) + rows("b2", range(1, 4)))
        assert box.delete_acked("b1", [(1, 3), (7, 8)]) == 5
        assert box.delete_acked("b1", [(1, 3)]) == 0  # an acknowledgement again is harmless
        assert box.delete_acked("other", [(1, 100)]) == 0
        assert [(r.boot, r.seq) for r in box.peek(20)] == [
            ("b1", 4), ("b1", 5), ("b1", 6), ("b1", 9), ("b1", 10),
            ("b2", 1), ("b2", 2), ("b2", 3),
        ]  # fmt: skip
    with Outbox(path) as box:
        assert len(box) == 8


def test_the_count_bound_drops_the_oldest_and_records_their_ranges(path: Path) -> None:
    with Outbox(path, max_messages=10) as box:
        box.add_many(rows("b1", range(1, 8)))
        box.add_many(rows("b2", range(1, 9)))
        assert len(box) == 10
        assert [(r.boot, r.seq) for r in box.peek(1)] == [("b1", 6)]
        [b1] = [loss for loss in box.losses() if loss.boot == "b1"]
        assert (b1.ranges, b1.count, b1.by_reason) == ([(1, 5)], 5, {"max_messages": 5})
        box.add_many(rows("b2", range(9, 12)))  # three more: b1 6-7 and b2 1 go
    with Outbox(path) as box:  # the losses are on disk, outside the bounded rows
        losses = {loss.boot: loss for loss in box.losses()}
        assert losses["b1"].ranges == [(1, 7)]
        assert losses["b2"].ranges == [(1, 1)]
        assert losses["b1"].count + losses["b2"].count == 8


def test_the_age_bound_drops_old_messages_also_on_reopen(path: Path) -> None:
    clock = FakeClock(1_700_000_000.0)
    with Outbox(path, max_age_s=60, clock=clock) as box:
        box.add_many(rows("b", range(1, 4)))
        clock.advance(30)
        box.add("t", b"4", "b", 4)
    clock.advance(45)  # the first three are 75 s old, the fourth 45 s
    with Outbox(path, max_age_s=60, clock=clock) as box:
        assert [r.seq for r in box.peek(10)] == [4]
        [loss] = box.losses()
        assert (loss.ranges, loss.by_reason) == ([(1, 3)], {"max_age": 3})


def test_the_boot_counter_and_the_last_seq_survive_a_restart(path: Path) -> None:
    with Outbox(path) as box:
        first = box.begin_boot("aaa")
        assert (first.number, first.previous, first.previous_last_seq) == (1, None, 0)
        box.add_many(rows("aaa", range(1, 43)))
        box.delete_acked("aaa", [(1, 42)])  # the last seq is kept even when all is sent
    with Outbox(path) as box:
        second = box.begin_boot("bbb")
        assert (second.number, second.previous, second.previous_last_seq) == (2, "aaa", 42)
    with Outbox(path) as box:
        third = box.begin_boot("ccc")
        assert (third.number, third.previous, third.previous_last_seq) == (3, "bbb", 0)


def test_a_refused_row_backs_off_then_is_parked_without_blocking_the_rest(path: Path) -> None:
    clock = FakeClock(1_000.0)
    with Outbox(path, max_attempts=3, retry_min_s=10, clock=clock) as box:
        box.add_many(rows("b", range(1, 4)))
        first = box.peek(1)[0]
        retry_at = box.refused(first.id, "not authorised")
        assert retry_at == 1_010.0
        assert [r.seq for r in box.peek(10)] == [2, 3], "a refused row waits; the rest go"
        clock.advance(10)
        assert [r.seq for r in box.peek(10)] == [1, 2, 3]
        assert box.refused(first.id, "not authorised") == 1_030.0  # backoff doubles
        clock.advance(20)
        assert box.refused(first.id, "not authorised") is None  # third refusal: parked
        assert [r.seq for r in box.peek(10)] == [2, 3]
        stats = box.stats()
        assert (stats.backlog, stats.parked) == (2, 1)
        [loss] = box.losses()
        assert (loss.ranges, loss.by_reason) == ([(1, 1)], {"refused": 1})


def test_an_outbox_of_the_previous_version_is_read_and_its_rows_keep_their_seq(
    path: Path,
) -> None:
    path.parent.mkdir(parents=True)
    with sqlite3.connect(path) as conn:  # the first version's schema, no boot or seq
        conn.executescript(
            "CREATE TABLE outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, topic TEXT NOT NULL,"
            " payload BLOB NOT NULL, qos INTEGER NOT NULL, retain INTEGER NOT NULL,"
            " created_at REAL NOT NULL);"
        )
        for seq in (1, 2):
            body = json.dumps({"boot": "old", "seq": seq}).encode()
            conn.execute(
                "INSERT INTO outbox (topic, payload, qos, retain, created_at)"
                " VALUES ('t', ?, 1, 0, 9e9)",
                (body,),
            )
    with Outbox(path) as box:
        assert [(r.boot, r.seq) for r in box.peek(10)] == [("old", 1), ("old", 2)]
        assert box.delete_acked("old", [(1, 2)]) == 2
