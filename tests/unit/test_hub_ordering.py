"""Newest by the agent's counters, never by its clock: statuses, states, readings, eras."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from hub.store import Store
from protocol import Status
from tests.unit.hub_helpers import (
    AGENT,
    ROOM,
    SITE,
    applied,
    at,
    health,
    make_store,
    state,
    status,
    telemetry,
)

YEAR_2100 = (datetime(2100, 1, 1, tzinfo=UTC) - at(0)).total_seconds()


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    store = make_store(database_url)
    yield store
    store.engine.dispose()


def online(store: Store) -> bool:
    room = store.get_room(SITE, ROOM)
    assert room is not None
    return room.online


def eras(store: Store) -> dict[str, tuple[int, int]]:
    return {b.boot: (b.era, b.boot_no) for b in store.boots(SITE, ROOM)}


@pytest.mark.parametrize("old_first", [True, False], ids=["old-first", "new-first"])
def test_a_retained_offline_stamped_2100_never_keeps_a_live_room_offline(
    store: Store, old_first: bool
) -> None:
    old = status("offline", boot="b1", boot_no=1, conn=3, ts=YEAR_2100)
    new = status("online", boot="b2", boot_no=2, conn=1)
    # The new boot's health names the boot before it: an old boot the hub never saw
    # would otherwise look like a wiped disk (a new era).
    report = health(boot="b2", boot_no=2, previous_boot="b1", previous_last_seq=40)
    store.write_batch([old] if old_first else [new, report])
    store.write_batch([new, report] if old_first else [old])
    assert online(store)
    store.write_batch([old])  # redelivered at every restart of the hub: still nothing
    assert online(store)
    assert eras(store) == {"b2": (0, 2), "b1": (0, 1)}


def test_an_unseen_boot_with_a_lower_number_is_taken_for_a_wiped_disk(store: Store) -> None:
    store.write_batch([status("online", boot="b2", boot_no=2, conn=1)])
    store.write_batch([status("offline", boot="b1", boot_no=1, conn=1)])
    assert not online(store)  # the rule errs this way: a new boot must never be overridden
    assert eras(store) == {"b1": (1, 1), "b2": (0, 2)}


def test_a_connections_will_applies_though_it_was_made_before_its_online(store: Store) -> None:
    store.write_batch([status("online", boot_no=1, conn=1, ts=10)])
    store.write_batch([status("offline", boot_no=1, conn=1, ts=9)])  # made at connect time
    assert not online(store)
    store.write_batch([status("online", boot_no=1, conn=1, ts=10)])  # a redelivery
    assert not online(store)
    store.write_batch([status("online", boot_no=1, conn=2, ts=5)])  # clock stepped back
    assert online(store)
    store.write_batch([status("offline", boot_no=1, conn=1, ts=20)])  # a late will
    assert online(store)


def test_a_wiped_disk_starts_a_new_era_that_no_old_boot_overrides(store: Store) -> None:
    store.write_batch([status("online", boot="b1", boot_no=1, conn=1)])
    store.write_batch([status("online", boot="b2", boot_no=2, conn=1)])
    store.write_batch([status("online", boot="w1", boot_no=1, conn=1)])  # counts from 1 again
    assert eras(store) == {"w1": (1, 1), "b2": (0, 2), "b1": (0, 1)}
    store.write_batch([status("offline", boot="b2", boot_no=2, conn=1, ts=YEAR_2100)])
    assert online(store)  # the late will of the old boot
    store.write_batch([status("online", boot="w2", boot_no=2, conn=1)])
    assert eras(store)["w2"] == (1, 2)


def test_latest_reading_by_boot_order_and_seq(store: Store) -> None:
    store.write_batch([telemetry(5, boot_no=1, ts=YEAR_2100, co2_ppm=9999)])
    store.write_batch([telemetry(6, boot_no=1, ts=0, co2_ppm=600)])
    room = store.get_room(SITE, ROOM)
    assert room is not None
    assert room.readings["co2_ppm"].value == 600
    store.write_batch([telemetry(1, boot="b2", boot_no=2, co2_ppm=700)])
    store.write_batch([telemetry(99, boot_no=1, co2_ppm=500)])  # the old boot's outbox
    room = store.get_room(SITE, ROOM)
    assert room is not None
    assert room.readings["co2_ppm"].value == 700


def test_contract_v1_boots_are_ordered_by_first_arrival(store: Store) -> None:
    store.write_batch([telemetry(9, boot="old", co2_ppm=1)])
    store.write_batch([telemetry(1, boot="new", co2_ppm=2)])
    store.write_batch([telemetry(10, boot="old", co2_ppm=3)])
    room = store.get_room(SITE, ROOM)
    assert room is not None
    assert room.readings["co2_ppm"].value == 2


def test_configuration_applied_is_ordered_by_its_counter(store: Store) -> None:
    store.write_batch([applied(3, boot_no=1, n=2), applied(2, boot_no=1, n=1)])
    store.write_batch([applied(1, boot_no=1, n=1)])
    room = store.get_room(SITE, ROOM)
    assert room is not None
    assert room.config_version_applied == 3


def test_agent_health_is_ordered_by_its_counter(store: Store) -> None:
    store.write_batch([health(n=2, clock_offset_s=0.5), health(n=1, clock_offset_s=9.0)])
    store.write_batch([health(n=1, clock_offset_s=7.0)])
    report = store.agent_health(SITE, ROOM)
    assert report is not None
    assert report.clock_offset_s == 0.5


def test_a_state_of_another_family_than_the_status_gave_is_refused(store: Store) -> None:
    families = {"lights": "lighting", "projector": "projector"}
    store.write_batch([status("online", boot_no=1, conn=1, families=families)])
    result = store.write_batch(
        [
            state("lights", family="lighting", boot_no=1, n=1, on=True),
            state("lights", family="projector", boot_no=1, n=2, power="on"),
            state("heater", family="heating", boot_no=1, n=3, on=True),
        ]
    )
    assert result.dead_letters_by_reason == {"mismatch": 2}
    assert [(d.device, d.family, d.state) for d in store.devices(SITE, ROOM)] == [
        ("lights", "lighting", {"on": True})
    ]
    reasons = {d.detail for d in store.dead_letters()}
    assert any("status says family 'lighting'" in r for r in reasons), reasons


@pytest.mark.parametrize("split", [None, 1, 2])
def test_a_state_is_checked_against_the_families_known_when_it_arrived(
    store: Store, split: int | None
) -> None:
    """Wherever the batches happen to be cut, the same messages give the same result: a state
    that arrived before a status is judged by the families before it, one after by its."""
    arrived = [
        state("lights", family="lighting", boot_no=1, n=1, on=True),  # no families known yet
        status("online", boot_no=1, conn=1, families={"projector": "projector"}),
        state("lights", family="lighting", boot_no=1, n=2, on=False),  # not in that status
        state("projector", family="projector", boot_no=1, n=3, power="on"),
    ]
    batches = [arrived] if split is None else [arrived[:split], arrived[split:]]
    reasons = [r for b in batches for r in store.write_batch(b).dead_letters_by_reason.elements()]
    assert reasons == ["mismatch"]
    shown = {d.device: d.state for d in store.devices(SITE, ROOM)}
    assert shown == {"lights": {"on": True}, "projector": {"power": "on"}}


def test_a_status_without_families_checks_no_state(store: Store) -> None:
    store.write_batch([status("online"), state("lights", family="anything")])
    assert len(store.devices(SITE, ROOM)) == 1


def test_times_far_from_the_hubs_clock_are_counted_and_shown(store: Store) -> None:
    store.write_batch([telemetry(1, ts=-86_400)])  # a day old: an outbox replaying, fine
    room = store.get_room(SITE, ROOM)
    assert room is not None
    assert room.clock_suspects == 0
    store.write_batch([telemetry(2, ts=4000), status("online", ts=-86_400)])
    room = store.get_room(SITE, ROOM)
    assert room is not None
    assert room.clock_suspects == 2
    assert room.clock_skew_s == pytest.approx(-86_430)  # the last one seen
    assert room.clock_suspect_at is not None


def test_a_duplicate_with_other_content_is_a_conflict_and_changes_nothing(store: Store) -> None:
    store.write_batch([telemetry(1, co2_ppm=500)])
    result = store.write_batch([telemetry(1, co2_ppm=9000), telemetry(1, co2_ppm=500)])
    assert (result.points, result.conflicts) == (0, 1)
    room = store.get_room(SITE, ROOM)
    assert room is not None
    assert room.readings["co2_ppm"].value == 500
    in_one = store.write_batch([telemetry(2, co2_ppm=1), telemetry(2, co2_ppm=2)])
    assert (in_one.points, in_one.conflicts) == (1, 1)


def test_status_families_are_kept(store: Store) -> None:
    msg = status("online", boot_no=1, conn=1, families={"env": "environment"}).message
    assert isinstance(msg, Status)
    assert msg.families == {"env": "environment"}
    assert f"{SITE}/{ROOM}" == AGENT


def test_eras_follow_arrival_within_a_batch_whatever_the_kind(store: Store) -> None:
    store.write_batch(
        [
            status("online", boot="b1", boot_no=1, conn=1),
            telemetry(1, boot="b2", boot_no=2),  # telemetry is written before statuses
            status("online", boot="b2", boot_no=2, conn=1),
            status("offline", boot="b1", boot_no=1, conn=1),
        ]
    )
    assert eras(store) == {"b2": (0, 2), "b1": (0, 1)}
    assert online(store)
