"""The durable outbox: order across reopen, delete after ack, bounds by count and age, WAL."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge.outbox import Outbox


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "edge" / "outbox.sqlite3"


def test_wal_mode_is_on(path: Path) -> None:
    with Outbox(path) as box:
        assert box.journal_mode == "wal"


def test_order_is_kept_across_reopen(path: Path) -> None:
    with Outbox(path) as box:
        box.add("a/t", b"1")
        box.add_many([("a/t", b"2"), ("a/e", b"3")])
        box.add("a/s", b"4", retain=True)
    with Outbox(path) as box:
        assert len(box) == 4
        rows = box.peek(10)
        assert [r.payload for r in rows] == [b"1", b"2", b"3", b"4"]
        assert [r.topic for r in rows] == ["a/t", "a/t", "a/e", "a/s"]
        assert [r.retain for r in rows] == [False, False, False, True]
        assert all(r.qos == 1 for r in rows)
        assert [r.payload for r in box.peek(2, after_id=rows[1].id)] == [b"3", b"4"]


def test_rows_stay_until_deleted_after_ack(path: Path) -> None:
    with Outbox(path) as box:
        ids = box.add_many([("t", str(i).encode()) for i in range(5)])
        assert box.delete([ids[0], ids[2]]) == 2
        assert box.delete([ids[0]]) == 0  # a duplicate ack is harmless
        assert [r.payload for r in box.peek(10)] == [b"1", b"3", b"4"]
    with Outbox(path) as box:
        assert [r.payload for r in box.peek(10)] == [b"1", b"3", b"4"]
        assert len(box) == 3


def test_count_bound_drops_oldest_and_counts(path: Path) -> None:
    with Outbox(path, max_messages=10) as box:
        for i in range(13):
            box.add("t", str(i).encode())
        assert len(box) == 10
        assert box.peek(1)[0].payload == b"3"
        assert box.take_dropped() == 3
        assert box.take_dropped() == 0
        box.add_many([("t", b"x")] * 25)
        assert len(box) == 10
        assert box.take_dropped() == 25


def test_age_bound_drops_old_messages(path: Path) -> None:
    clock = FakeClock()
    with Outbox(path, max_age_s=3600, clock=clock) as box:
        box.add_many([("t", b"old1"), ("t", b"old2")])
        clock.now += 1800
        box.add("t", b"newer")
        clock.now += 1801
        box.add("t", b"newest")
        assert [r.payload for r in box.peek(10)] == [b"newer", b"newest"]
        assert box.take_dropped() == 2


def test_bounds_apply_when_reopening_after_a_long_absence(path: Path) -> None:
    clock = FakeClock()
    with Outbox(path, max_age_s=60, clock=clock) as box:
        box.add("t", b"1")
    clock.now += 61
    with Outbox(path, max_age_s=60, clock=clock) as box:
        assert len(box) == 0
        assert box.take_dropped() == 1


def test_close_twice(path: Path) -> None:
    box = Outbox(path)
    box.close()
    box.close()
