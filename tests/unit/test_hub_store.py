"""Hub store: exactly-once telemetry and events, status and state ordering, downsampling."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC
from pathlib import Path

import pytest
from pydantic import ValidationError

from hub.config_versions import Author, ConfigVersions
from hub.db import AGENT_VERSION_MAX, DEAD_LETTER_MAX_BYTES, make_engine
from hub.parsing import Rejected
from hub.store import SiteSpec, Store
from protocol import Event, RoomTopics
from tests.unit.hub_helpers import (
    AGENT,
    NOW,
    ROOM,
    ROOT,
    SITE,
    applied,
    at,
    event,
    item,
    make_store,
    parsed,
    state,
    status,
    telemetry,
)


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    """A store on each backend: SQLite (ids ``[sqlite]``) and PostgreSQL (``[postgresql]``)."""
    store = make_store(database_url)
    yield store
    store.engine.dispose()


def count(store: Store, table: str) -> int:
    with store.engine.connect() as conn:
        return int(conn.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar_one())  # noqa: S608


def test_engine_creates_the_folder_and_sets_wal(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'a' / 'b' / 'hub.sqlite'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar_one() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar_one() == 1  # NORMAL
    engine.dispose()
    assert (tmp_path / "a" / "b").is_dir()


def test_the_same_batch_twice_is_stored_once(store: Store) -> None:
    batch = [telemetry(1), telemetry(2), event(3)]
    first = store.write_batch(batch)
    assert (first.points, first.events, first.duplicates) == (4, 1, 0)
    second = store.write_batch(batch)
    assert (second.points, second.events, second.duplicates) == (0, 0, 5)
    assert count(store, "telemetry") == 4
    assert count(store, "events") == 1


def test_duplicates_inside_one_batch_are_stored_once(store: Store) -> None:
    result = store.write_batch([telemetry(1), telemetry(1), event(2), event(2)])
    assert (result.points, result.events, result.duplicates) == (2, 1, 3)
    assert count(store, "telemetry") == 2


def test_uniqueness_is_per_agent_boot_and_seq(store: Store) -> None:
    store.write_batch([telemetry(1), telemetry(1, boot="b2"), telemetry(1, room="6a2")])
    store.write_batch([event(2), event(2, boot="b2")])
    assert count(store, "telemetry") == 6
    assert count(store, "events") == 2


def test_telemetry_and_events_share_one_sequence(store: Store) -> None:
    store.write_batch([telemetry(1)])
    result = store.write_batch([event(1)])  # seq 1 of boot b1 is a telemetry message
    assert (result.events, result.duplicates, result.conflicts) == (0, 1, 1)
    assert count(store, "events") == 0


def test_latest_reading_is_the_newest_by_seq_not_by_time(store: Store) -> None:
    store.write_batch([telemetry(1, ts=10, co2_ppm=500), telemetry(2, ts=5, co2_ppm=450)], now=NOW)
    room = store.get_room(SITE, ROOM)
    assert room is not None
    assert room.readings["co2_ppm"].value == 450  # seq 2, although stamped earlier
    assert room.readings["co2_ppm"].ts == at(5)
    assert room.last_seen == NOW  # the hub's clock, not the sender's


def test_the_writer_never_creates_a_room(store: Store) -> None:
    store.write_batch([telemetry(1, room="6a2")])
    assert count(store, "rooms") == 3  # the registry's


def test_statuses_of_contract_v1_apply_in_order_of_arrival(store: Store) -> None:
    store.write_batch([status("online", ts=10)])
    store.write_batch([status("offline", boot="b0", ts=5)])  # boot_no 0: nothing to order by
    room = store.get_room(SITE, ROOM)
    assert room is not None
    assert (room.online, room.boot, room.last_status_at) == (False, "b0", room.last_status_at)
    assert room.last_status_at is not None
    assert room.last_status_at > at(10)


def test_statuses_in_one_batch_apply_in_order(store: Store) -> None:
    store.write_batch(
        [status("online", ts=1), status("offline", boot="b2", ts=3), status("online", ts=2)]
    )
    room = store.get_room(SITE, ROOM)
    assert room is not None
    assert (room.online, room.boot) == (True, "b1")


def test_device_state_keeps_the_newest_by_its_counter(store: Store) -> None:
    store.write_batch(
        [state("lights", ts=1, boot_no=1, n=5, on=True), state("lights", ts=5, boot_no=1, n=1)]
    )
    store.write_batch([state("lights", ts=9, boot_no=1, n=2, on=False)])
    [device] = store.devices(SITE, ROOM)
    assert (device.device, device.state, device.updated_at) == ("lights", {"on": True}, at(1))
    store.write_batch([state("lights", ts=0, boot_no=1, n=6, on=False)])
    assert store.devices(SITE, ROOM)[0].state == {"on": False}


def test_dead_letters_are_kept_with_their_reason(store: Store) -> None:
    big = b"{" + b"x" * 100_000
    topic = RoomTopics(SITE, ROOM, ROOT).telemetry
    result = store.write_batch([item(topic, big), item("nope", b"{}")])
    assert result.dead_letters == 2
    letters = store.dead_letters()
    assert {d.reason for d in letters} == {"bad_json", "bad_topic"}
    kept = next(d for d in letters if d.reason == "bad_json")
    assert (kept.size, len(kept.payload)) == (len(big), DEAD_LETTER_MAX_BYTES)
    assert store.dead_letter_counts() == {"bad_json": 1, "bad_topic": 1}


def test_registry_upsert_names_rooms_and_keeps_their_state(store: Store) -> None:
    store.write_batch([status("online", ts=1)])
    store.upsert_sites(
        [SiteSpec(SITE, "THCS Nguyễn Chí Thanh", [(ROOM, "Lớp 6A1"), ("6a2", "6A2")])]
    )
    rooms = {r.room: r for r in store.list_rooms()}
    assert rooms[ROOM].name == "Lớp 6A1"
    assert rooms[ROOM].online is True
    assert rooms["6a2"].online is False


def test_config_versions_pushed_and_applied(store: Store) -> None:
    versions = ConfigVersions(store.engine)
    for interval in (10, 2):
        settings = {"settings": {"telemetry_interval_s": interval}}
        versions.change_room(SITE, ROOM, settings, Author("lan", "it"), "")
    versions.mark_pushed(SITE, ROOM, 2)
    versions.mark_pushed(SITE, ROOM, 1)  # a late push of an older version: not shown
    store.write_batch([applied(2)])
    room = store.get_room(SITE, ROOM)
    assert room is not None
    assert (room.config_version_pushed, room.config_version_applied) == (2, 2)
    assert room.config_settings == {"telemetry_interval_s": 2.0}


def test_history_raw_and_downsampled_in_sql(store: Store) -> None:
    store.write_batch(
        [telemetry(i, ts=i * 10, co2_ppm=float(i)) for i in range(1, 13)]
    )  # 10..120 s
    raw = store.telemetry(SITE, ROOM, "co2_ppm", at(0), at(60))
    assert [p.value for p in raw] == [1, 2, 3, 4, 5]
    buckets = store.telemetry_buckets(SITE, ROOM, "co2_ppm", at(0), at(200), 60)
    # T0 is on a minute boundary: buckets [0,60) [60,120) [120,180)
    assert [(b.ts, b.value, b.min, b.max, b.count) for b in buckets] == [
        (at(0), 3.0, 1.0, 5.0, 5),
        (at(60), 8.5, 6.0, 11.0, 6),
        (at(120), 12.0, 12.0, 12.0, 1),
    ]
    assert store.telemetry(SITE, ROOM, "co2_ppm", at(0), at(200), limit=2)[-1].value == 2


def test_recent_events_newest_first(store: Store) -> None:
    store.write_batch([event(1, ts=1), event(2, ts=2, kind="alert")])
    assert [e.kind for e in store.recent_events(SITE, ROOM)] == ["alert", "help"]
    assert store.recent_events(SITE, ROOM, limit=1)[0].seq == 2
    assert f"{SITE}/{ROOM}" == AGENT


def test_buckets_split_at_the_boundary_to_the_microsecond(store: Store) -> None:
    store.write_batch(
        [telemetry(1, ts=-0.000001, co2_ppm=1), telemetry(2, ts=0, co2_ppm=2),
         telemetry(3, ts=3599.999999, co2_ppm=3), telemetry(4, ts=3600, co2_ppm=4)]
    )  # fmt: skip
    buckets = store.telemetry_buckets(SITE, ROOM, "co2_ppm", at(-7200), at(7200), 3600)
    assert [(b.ts, b.count, b.value) for b in buckets] == [
        (at(-3600), 1, 1.0),
        (at(0), 2, 2.5),
        (at(3600), 1, 4.0),
    ]
    raw = store.telemetry(SITE, ROOM, "co2_ppm", at(0), at(3600))
    assert [p.ts for p in raw] == [at(0), at(3599.999999)]


def test_times_come_back_in_utc_whatever_the_server_zone(store: Store) -> None:
    store.write_batch([status("online", ts=1), telemetry(1, ts=2), event(2, ts=3)])
    store.write_batch([state("lights", ts=4, on=True), item("nope", b"{}")])
    room = store.get_room(SITE, ROOM)
    assert room is not None
    times = [
        room.readings["co2_ppm"].ts,
        store.telemetry(SITE, ROOM, "co2_ppm", at(0), at(10))[0].ts,
        store.recent_events(SITE, ROOM)[0].ts,
        store.devices(SITE, ROOM)[0].updated_at,
        store.dead_letters()[0].received_at,
    ]
    assert times[:4] == [at(2), at(2), at(3), at(4)]
    assert room.last_status_at is not None
    assert room.last_status_at.tzinfo is UTC
    assert all(t is not None and t.tzinfo is UTC for t in times), times


def test_json_round_trips_on_every_backend(store: Store) -> None:
    data = {"vi": "Lớp 6A1", "nested": {"n": [1, 2.5, None, True]}}
    msg = Event(sender=f"edge/{AGENT}", boot="b1", seq=1, kind="help", data=data)
    store.write_batch([parsed(RoomTopics(SITE, ROOM, ROOT).event, msg)])
    assert store.recent_events(SITE, ROOM)[0].data == data


def test_an_agent_version_too_long_for_the_column_is_refused_by_the_contract() -> None:
    with pytest.raises(ValidationError, match="at most 64"):
        status("online", agent_version="1." * (AGENT_VERSION_MAX // 2 + 1))


def test_a_dead_letter_with_nul_characters_is_still_stored(store: Store) -> None:
    letter = Rejected("sc/a\x00/b", b"\x00\xff", "bad_topic", "bad \x00 topic", at(0))
    assert store.write_batch([letter]).dead_letters == 1
    [kept] = store.dead_letters()
    assert (kept.topic, kept.detail, kept.payload) == (
        "sc/a\ufffd/b",
        "bad \ufffd topic",
        b"\x00\xff",
    )


def test_a_postgresql_url_without_a_driver_means_psycopg() -> None:
    engine = make_engine("postgresql://hub@127.0.0.1:1/hub")  # nothing is connected
    assert (engine.dialect.name, engine.dialect.driver) == ("postgresql", "psycopg")
    engine.dispose()
