"""The outbox off the event loop: a full disk or a broken file is a fault, not a stop."""

from __future__ import annotations

import threading
from pathlib import Path

from edge.storage import Storage


def rows(seqs: range) -> list[tuple[str, bytes, str, int]]:
    return [("t", b"x" * 200, "b1", s) for s in seqs]


async def test_writes_run_on_a_worker_thread_in_order(tmp_path: Path) -> None:
    storage = Storage(tmp_path / "o.sqlite3", label="r")
    storage.open("b1")
    threads: set[str] = set()
    try:
        for seq in range(1, 6):
            storage.add_soon(rows(range(seq, seq + 1)))
        await storage.run(lambda: threads.add(threading.current_thread().name))
        assert [r.seq for r in await storage.peek(10)] == [1, 2, 3, 4, 5]
        assert threads
        assert threading.main_thread().name not in threads
    finally:
        storage.close()


async def test_a_full_disk_is_a_fault_and_nothing_is_lost_once_it_has_room(
    tmp_path: Path,
) -> None:
    faults: list[tuple[bool, str]] = []
    storage = Storage(
        tmp_path / "o.sqlite3", label="r", on_fault=lambda bad, why: faults.append((bad, why))
    )
    storage.open("b1")
    try:
        await storage.add(rows(range(1, 3)))
        pages = await storage.run(
            lambda: storage.outbox._conn.execute("PRAGMA page_count").fetchone()[0]
        )
        await storage.run(  # the disk is full now
            lambda: storage.outbox._conn.execute(f"PRAGMA max_page_count = {pages}")
        )
        await storage.add(rows(range(3, 200)))
        await storage.flush()
        assert faults
        assert faults[-1][0] is True
        assert "full" in faults[-1][1]
        assert storage.fault is not None
        stats = await storage.stats()
        assert stats.backlog >= 199, "what could not be written waits in memory"
        await storage.run(lambda: storage.outbox._conn.execute("PRAGMA max_page_count = 100000"))
        await storage.add(rows(range(200, 201)))
        await storage.flush()
        assert storage.fault is None
        assert faults[-1][0] is False
        assert [r.seq for r in await storage.peek(500)] == list(range(1, 201))
    finally:
        storage.close()


async def test_an_outbox_that_cannot_be_opened_is_replaced_in_memory(tmp_path: Path) -> None:
    blocked = tmp_path / "o.sqlite3"
    blocked.mkdir()  # a folder where the file should be
    faults: list[tuple[bool, str]] = []
    storage = Storage(blocked, label="r", on_fault=lambda bad, why: faults.append((bad, why)))
    boot = storage.open("b1")
    try:
        assert boot.number == 1
        assert faults
        assert faults[0][0] is True
        assert "cannot open" in faults[0][1]
        await storage.add(rows(range(1, 4)))
        assert [r.seq for r in await storage.peek(10)] == [1, 2, 3]
    finally:
        storage.close()
