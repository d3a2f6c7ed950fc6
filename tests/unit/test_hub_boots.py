"""Boots: what is stored, dropped and missing of each, and what the acknowledgement says."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator

import pytest

from hub.boots import BOOTS_KEPT, STORED_RANGES_MAX
from hub.store import Store
from protocol.messages import BOOTS_MAX, RANGES_MAX, BootLosses
from tests.unit.hub_helpers import AGENT, ROOM, SITE, event, health, make_store, telemetry


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    store = make_store(database_url)
    yield store
    store.engine.dispose()


def boot(store: Store, name: str = "b1") -> dict[str, object]:
    [found] = [b for b in store.boots(SITE, ROOM) if b.boot == name]
    return {
        "highest": found.highest, "end": found.end_seq, "missing": found.missing,
        "missing_count": found.missing_count, "dropped": found.dropped_count,
    }  # fmt: skip


def test_gaps_are_missing_ranges(store: Store) -> None:
    store.write_batch([telemetry(s, boot_no=1) for s in [*range(1, 11), *range(15, 21)]])
    assert boot(store) == {
        "highest": 20, "end": None, "missing": [(11, 14)], "missing_count": 4, "dropped": 0
    }  # fmt: skip
    store.write_batch([event(12, boot_no=1), telemetry(13, boot_no=1)])
    assert boot(store)["missing"] == [(11, 11), (14, 14)]


def test_a_lost_tail_shows_once_the_next_boot_says_where_it_ended(store: Store) -> None:
    store.write_batch([telemetry(s, boot_no=1) for s in range(1, 31)])
    assert boot(store)["missing_count"] == 0  # the hub cannot know yet
    store.write_batch([health(boot="b2", boot_no=2, previous_boot="b1", previous_last_seq=40)])
    assert boot(store) == {
        "highest": 30, "end": 40, "missing": [(31, 40)], "missing_count": 10, "dropped": 0
    }  # fmt: skip


def test_what_the_agent_dropped_is_not_missing(store: Store) -> None:
    store.write_batch([telemetry(s, boot_no=1) for s in (1, 2, 9, 10)])
    losses = [BootLosses(boot="b1", dropped=[(3, 5)], count=3, by_reason={"outbox_full": 3})]
    store.write_batch([health(boot="b1", boot_no=1, last_seq=12, losses=losses)])
    assert boot(store) == {
        "highest": 10, "end": 12, "missing": [(6, 8), (11, 12)], "missing_count": 5,
        "dropped": 3,
    }  # fmt: skip


def test_the_ack_says_stored_and_dropped_of_the_most_recent_boots(store: Store) -> None:
    result = store.write_batch([telemetry(s, boot_no=1) for s in (1, 2, 3, 7)])
    assert result.acks == {AGENT: {"b1": [(1, 3), (7, 7)]}}
    losses = [BootLosses(boot="b1", dropped=[(4, 6)], count=3)]
    result = store.write_batch([health(boot="b1", boot_no=1, n=2, losses=losses)])
    assert result.acks == {AGENT: {"b1": [(1, 7)]}}
    again = store.write_batch([telemetry(7, boot_no=1)])  # a redelivery is acknowledged too
    assert again.acks == {AGENT: {"b1": [(1, 7)]}}
    for n in range(2, 12):
        result = store.write_batch([telemetry(1, boot=f"n{n}", boot_no=n)])
    acked = result.acks[AGENT]
    assert len(acked) == BOOTS_MAX
    assert list(acked) == [f"n{n}" for n in range(11, 3, -1)]  # newest first


def test_the_ack_lists_at_most_the_highest_ranges(store: Store) -> None:
    odd = [telemetry(s, boot_no=1) for s in range(1, 2 * RANGES_MAX + 20, 2)]
    result = store.write_batch(odd)
    acked = result.acks[AGENT]["b1"]
    assert len(acked) == RANGES_MAX
    assert acked[-1] == (2 * RANGES_MAX + 19, 2 * RANGES_MAX + 19)


def test_stored_ranges_are_bounded_and_what_is_cut_is_not_called_missing(store: Store) -> None:
    seqs = range(1, 2 * (STORED_RANGES_MAX + 10), 2)  # every other one: many ranges
    store.write_batch([telemetry(s, boot_no=1) for s in seqs])
    found = store.boots(SITE, ROOM)[0]
    assert found.stored_floor > 0
    assert found.missing_count == STORED_RANGES_MAX  # one gap before each range kept, no more


def test_old_boots_are_deleted_beyond_the_bound(store: Store) -> None:
    for n in range(1, BOOTS_KEPT + 6):
        store.write_batch([telemetry(1, boot=f"n{n}", boot_no=n)])
    with store.engine.connect() as conn:
        kept = conn.exec_driver_sql("SELECT count(*) FROM boots").scalar_one()
    assert kept == BOOTS_KEPT


def test_loss_totals_over_every_boot(store: Store) -> None:
    store.write_batch([telemetry(s, boot_no=1) for s in (1, 5)])
    store.write_batch([telemetry(s, boot="b2", boot_no=2) for s in (1, 2)])
    totals = store.loss_totals()
    assert (totals.boots, totals.boots_missing, totals.missing, totals.dropped) == (2, 1, 3, 0)


@pytest.mark.postgresql
def test_two_hubs_merge_into_one_boot_row_without_losing_a_range(postgres_url: str) -> None:
    """Two stores (two hubs) on one database write interleaved seqs of one boot at once.

    PostgreSQL only: with SQLite a hub is its file's only writer (it keeps boots in memory).
    """
    database_url = postgres_url
    first, second = make_store(database_url), make_store(database_url)
    errors: list[BaseException] = []
    count = 300

    def write(store: Store, parity: int) -> None:
        try:
            seqs = [s for s in range(1, count + 1) if s % 2 == parity]
            for i in range(0, len(seqs), 5):
                store.write_batch([telemetry(s, boot_no=1) for s in seqs[i : i + 5]])
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(s, p)) for s, p in ((first, 0), (second, 1))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    found = first.boots(SITE, ROOM)[0]
    assert (found.highest, found.missing_count) == (count, 0)
    with first.engine.connect() as conn:
        stored = conn.exec_driver_sql("SELECT stored FROM boots").scalar_one()
        points = conn.exec_driver_sql("SELECT count(*) FROM telemetry").scalar_one()
    assert (stored if isinstance(stored, list) else json.loads(stored)) == [[1, count]]
    assert points == 2 * count
    first.engine.dispose()
    second.engine.dispose()
