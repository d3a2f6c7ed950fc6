"""Usage rollups kept by the ingest: the hour a sample lands in, exactly once, on both backends."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from hub.db import create_schema, make_engine
from hub.rollup_tables import SUMS, usage_daily, usage_hourly
from hub.rollups import UsageRollups, kind_of, pieces
from hub.store import Store
from hub.writes import StaleBootsError
from tests.unit.hub_helpers import SITE, SITES, make_store
from tests.unit.usage_scenario import NOW, RATINGS, START, sample, scenario

HCM = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    store = make_store(database_url)
    store.rollups = UsageRollups(RATINGS, HCM)
    yield store
    store.engine.dispose()


def hourly(store: Store, room: str, device: str, part: str = "") -> dict[datetime, Any]:
    h = usage_hourly.c
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(usage_hourly).where(h.room == room, h.device == device, h.part == part)
        )
        return {row.hour: row for row in rows}


def daily(store: Store) -> list[tuple[Any, ...]]:
    """Every daily row, as plain tuples (to compare whole tables)."""
    with store.engine.connect() as conn:
        rows = conn.execute(select(usage_daily).order_by(*usage_daily.primary_key.columns))
        return [tuple(row) for row in rows]


def hour(h: int, day: date = date(2025, 3, 3)) -> datetime:
    return datetime(day.year, day.month, day.day, h, tzinfo=UTC)


def test_an_interval_is_cut_at_hour_boundaries() -> None:
    end = hour(1).timestamp() + 300  # 01:05Z
    h0 = int(hour(0).timestamp()) // 3600
    assert list(pieces(end, 600)) == [(h0, 300.0), (h0 + 1, 300.0)]
    assert list(pieces(hour(1).timestamp(), 600)) == [(h0, 600.0)]  # ends on the boundary
    assert list(pieces(end, 6300)) == [(h0 - 1, 2400.0), (h0, 3600.0), (h0 + 1, 300.0)]
    assert list(pieces(end, 0)) == []


def test_what_a_sample_is_about() -> None:
    assert kind_of({"power_on": 1, "lamp_hours": 3}) == "projector"
    assert kind_of({"level_front_pct": 0}) == "lighting"
    assert kind_of({"co2_ppm": 400, "occupied": 1}) == "sensor"


def test_the_scenario_lands_in_its_hours(store: Store) -> None:
    store.write_batch(scenario(), now=NOW)
    projector = hourly(store, "6a1", "projector")
    assert {h: r.on_s for h, r in projector.items()} == {
        hour(0): 2400.0, hour(1): 1800.0, hour(2): 0.0, hour(3): 0.0,
    }  # fmt: skip
    assert projector[hour(0)].energy_wh == pytest.approx(200.0)  # 300 W for 40 min
    assert projector[hour(1)].lamp_h == 3991.0  # the sample at 01:00Z is read in that hour
    assert projector[hour(0)].lamp_h == 3990.0
    assert projector[hour(3)].covered_s == 0.0  # the 03:00Z sample covers 02:50-03:00
    assert hour(3) in projector  # but its lamp hours were read at 03:00
    front = hourly(store, "6a1", "lights", "front")
    assert {h: (r.on_s, r.waste_s, r.waste_wh) for h, r in front.items()} == {
        hour(0): (3600.0, 0.0, 0.0), hour(1): (3600.0, 0.0, 0.0),
        hour(2): (3600.0, 3600.0, pytest.approx(120.0)),
    }  # fmt: skip
    back = hourly(store, "6a1", "lights", "back")
    assert {h: (r.on_s, r.energy_wh, r.kind) for h, r in back.items()} == {
        hour(2): (3600.0, pytest.approx(80.0), "lighting")
    }
    env = hourly(store, "6a1", "env")
    assert {h: (r.co2_1000_s, r.co2_1500_s) for h, r in env.items() if r.covered_s} == {
        hour(0): (0.0, 0.0), hour(1): (3600.0, 0.0), hour(2): (1800.0, 1800.0),
    }  # fmt: skip
    assert sum(r.temp_n for r in env.values()) == 9  # the lesson's samples
    presence = hourly(store, "6a1", "presence")
    assert sum(r.occupied_s for r in presence.values()) == 7200.0
    empty = hourly(store, "6a2", "projector")[hour(2)]
    assert (empty.on_s, empty.empty_s, empty.closed_s, empty.waste_wh) == (
        3600.0, 3600.0, 0.0, pytest.approx(250.0),
    )  # fmt: skip


def test_daily_rows_are_the_hours_summed_by_local_day(store: Store) -> None:
    late_evening = START + timedelta(hours=16, minutes=50)  # 23:50 local, Monday
    after_midnight = START + timedelta(hours=17, minutes=10)  # 00:10 local, Tuesday
    batch = [
        sample("6a1", 1, late_evening, "projector", {"power_on": 1}),  # 23:40-23:50
        sample("6a1", 2, after_midnight, "projector", {"power_on": 1}, interval_s=1200),
    ]
    store.write_batch(batch, now=NOW)
    d = usage_daily.c
    with store.engine.connect() as conn:
        rows = conn.execute(select(d.day, d.on_s).where(d.device == "projector").order_by(d.day))
        assert [tuple(r) for r in rows] == [(date(2025, 3, 3), 1200.0), (date(2025, 3, 4), 600.0)]


def one_pass(store: Store, messages: list[Any]) -> dict[tuple[Any, ...], list[float]]:
    """The hourly sums of the messages taken once each, computed in memory."""
    assert store.rollups is not None
    amounts = store.rollups.amounts(messages)
    return {
        (site, room, device, part, datetime.fromtimestamp(h * 3600, UTC)): _rounded(a.sums)
        for (site, room, device, part, h), a in amounts.items()
    }


def _rounded(values: Iterable[float]) -> list[float]:
    return [round(float(v), 6) for v in values]


def stored_sums(store: Store) -> dict[tuple[Any, ...], list[float]]:
    with store.engine.connect() as conn:
        return {
            (r.site, r.room, r.device, r.part, r.hour): _rounded(getattr(r, n) for n in SUMS)
            for r in conn.execute(select(usage_hourly))
        }


def test_a_redelivered_batch_counts_once(store: Store) -> None:
    messages = scenario()
    store.write_batch(messages, now=NOW)
    once = daily(store)
    assert stored_sums(store) == one_pass(store, messages)
    again = store.write_batch(messages, now=NOW)
    assert (again.points, again.duplicates) == (0, sum(len(m.message.readings) for m in messages))  # type: ignore[attr-defined]
    assert daily(store) == once
    store.write_batch(messages[:5] + messages[:5], now=NOW)  # and twice inside one batch
    assert daily(store) == once


def test_redeliveries_mixed_with_new_messages_count_only_the_new(store: Store) -> None:
    messages = scenario()
    store.write_batch(messages[::2], now=NOW)
    store.write_batch(messages[::-1], now=NOW)  # all again after a reconnect, in another order
    store.write_batch(messages[1::2] + messages[::3], now=NOW)
    assert stored_sums(store) == one_pass(store, messages)


def test_a_redelivery_of_a_boot_the_hub_forgot_is_not_counted_again(store: Store) -> None:
    """An agent's oldest boots are deleted after 64 newer ones; a message of one, delivered
    again, is found in the telemetry table instead of its ranges."""
    old = sample("6a1", 1, START + timedelta(minutes=10), "projector", {"power_on": 1}, boot="b0")
    store.write_batch([old], now=NOW)
    store.write_batch(
        [sample("6a1", 1, START, "env", {"co2_ppm": 500}, boot=f"n{i}") for i in range(64)],
        now=NOW,
    )
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM boots WHERE boot = 'b0'").scalar() == 0
    before = daily(store)
    result = store.write_batch([old], now=NOW)
    assert (result.points, result.duplicates) == (0, 1)
    assert daily(store) == before
    assert hourly(store, "6a1", "projector")[hour(0)].on_s == 600.0


def test_late_data_lands_in_the_hour_it_was_measured(store: Store) -> None:
    store.write_batch(scenario(), now=NOW)
    day_before = START - timedelta(days=1) + timedelta(hours=2)  # Sunday 09:00 local
    replayed = [  # an agent back after a day offline replays its outbox
        sample("6a1", 9000 + i, day_before + timedelta(minutes=10 * i), "projector",
               {"power_on": 1}, boot="b-sunday", now=NOW + timedelta(days=1))
        for i in range(1, 4)
    ]  # fmt: skip
    store.write_batch(replayed, now=NOW + timedelta(days=1))
    sunday = hourly(store, "6a1", "projector")[datetime(2025, 3, 2, 2, tzinfo=UTC)]
    assert (sunday.on_s, sunday.closed_s, sunday.empty_s) == (1800.0, 0.0, 0.0)
    d = usage_daily.c
    with store.engine.connect() as conn:
        rows = conn.execute(select(d.day, d.on_s).where(d.room == "6a1", d.device == "projector"))
        assert {r.day: r.on_s for r in rows} == {date(2025, 3, 2): 1800.0, date(2025, 3, 3): 4200.0}


def test_samples_that_do_not_say_their_interval_add_nothing(store: Store) -> None:
    store.write_batch([sample("6a1", 1, START, "projector", {"power_on": 1}, interval_s=None)])
    assert daily(store) == []
    assert store.telemetry(SITE, "6a1", "power_on", START - timedelta(1), START + timedelta(1))


def test_without_rollups_nothing_is_kept(database_url: str) -> None:
    engine = make_engine(database_url)
    create_schema(engine)
    plain = Store(engine)
    plain.upsert_sites(SITES)
    try:
        plain.write_batch(scenario(), now=NOW)
        with engine.connect() as conn:
            assert conn.execute(select(usage_daily)).first() is None
    finally:
        engine.dispose()


def test_a_second_writer_of_one_sqlite_file_is_caught_not_counted(tmp_path: Path) -> None:
    """The hub supposes it is its SQLite file's only writer and keeps boots in memory; if it
    is not, a message stored by the other writer is refused as stale, never counted twice."""
    url = f"sqlite:///{tmp_path / 'hub.sqlite'}"
    one, two = make_store(url), make_store(url)
    for s in (one, two):
        s.rollups = UsageRollups(RATINGS, HCM)
    first, second = scenario()[:4], scenario()[4:8]
    try:
        one.write_batch(first, now=NOW)
        two.write_batch(second, now=NOW)  # reads the boot from the file: knows `first`
        with pytest.raises(StaleBootsError):
            one.write_batch(second, now=NOW)  # its boots in memory do not know `second`
        retried = one.write_batch(second, now=NOW)  # the boots read again from the file
        assert (retried.points, retried.duplicates) == (
            0,
            sum(
                len(p.message.readings)  # type: ignore[attr-defined]
                for p in second
            ),
        )
        single = make_store(f"sqlite:///{tmp_path / 'single.sqlite'}")
        single.rollups = UsageRollups(RATINGS, HCM)
        single.write_batch(first + second, now=NOW)
        assert daily(one) == daily(single)
        single.engine.dispose()
    finally:
        one.engine.dispose()
        two.engine.dispose()


def test_a_fault_in_the_rollups_costs_their_usage_never_the_telemetry(database_url: str) -> None:
    """A table of another version (a column this one does not fill) makes the rollups fail:
    the batch's usage is lost and counted, its telemetry is stored all the same."""
    engine = make_engine(database_url)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE TABLE usage_room_daily (site VARCHAR(63) NOT NULL, day DATE NOT NULL, "
            "room VARCHAR(63) NOT NULL, covered_s FLOAT NOT NULL DEFAULT 0, "
            "occupied_s FLOAT NOT NULL DEFAULT 0, co2_1000_s FLOAT NOT NULL DEFAULT 0, "
            "co2_1500_s FLOAT NOT NULL DEFAULT 0, attendance INTEGER NOT NULL, "
            "PRIMARY KEY (site, day, room))"
        )
    create_schema(engine)
    rollups = UsageRollups(RATINGS, HCM)
    store = Store(engine, rollups=rollups)
    store.upsert_sites(SITES)
    try:
        messages = scenario()
        result = store.write_batch(messages, now=NOW)
        assert (result.points, result.dead_letters) == (
            sum(len(m.message.readings) for m in messages),  # type: ignore[attr-defined]
            0,
        )
        assert (rollups.errors, rollups.samples) == (1, 0)
        assert rollups.last_error is not None
        assert "attendance" in rollups.last_error
        assert daily(store) == []  # the rollups alone were undone
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM telemetry").scalar() == result.points
    finally:
        engine.dispose()
