"""What a room's leaked broker credential can still do at the hub, as ``docs/design.md`` says
("What a leaked room credential can do"): the first message of a (boot, seq) wins, and a boot
numbered above the real one outranks it until the agent starts again. That it can touch no
other room is the broker's ACL and the hub's sender check:
``tests/integration/test_broker_auth.py``, ``tests/unit/test_hub_ingest.py``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from hub.store import Store
from protocol.messages import INT32_MAX
from tests.unit.hub_helpers import SITE, make_store, status, telemetry


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    store = make_store(database_url)
    yield store
    store.engine.dispose()


def test_a_forgery_that_comes_first_wins_and_the_real_message_is_a_conflict(store: Store) -> None:
    store.write_batch([telemetry(1, boot_no=1, co2_ppm=500)])  # the real agent, boot b1
    forged = store.write_batch([telemetry(2, boot_no=1, co2_ppm=9000)])  # its next seq, first
    assert forged.acks["thcs-nguyen-chi-thanh/6a1"]["b1"] == [(1, 2)]  # the agent forgets it
    real = store.write_batch([telemetry(2, boot_no=1, co2_ppm=510)])
    assert (real.points, real.conflicts) == (0, 1)  # seen, counted, not stored
    room = store.get_room(SITE, "6a1")
    assert room is not None
    assert room.readings["co2_ppm"].value == 9000


def test_a_forged_boot_numbered_higher_outranks_the_real_one_until_it_starts_again(
    store: Store,
) -> None:
    store.write_batch([status("online", boot="b1", boot_no=1, conn=1)])
    store.write_batch([status("offline", boot="forged", boot_no=INT32_MAX, conn=1)])
    store.write_batch([status("online", boot="b1", boot_no=1, conn=2)])  # a reconnect
    room = store.get_room(SITE, "6a1")
    assert room is not None
    assert room.online is False
    store.write_batch([status("online", boot="b2", boot_no=2, conn=1)])  # a restart: new era
    room = store.get_room(SITE, "6a1")
    assert room is not None
    assert (room.online, room.boot) == (True, "b2")
