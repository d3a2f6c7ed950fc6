"""A reading whose time the hub doubts is never the room's current value: it is shown beside it.

Ahead of the hub's clock, or gone back far behind it and behind the trusted reading it would
replace; an outbox replaying old times that go forward is trusted (``hub.latest``).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from starlette.exceptions import StarletteDeprecationWarning

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

from hub.alerts.store import AlertStore
from hub.app import create_app
from hub.db import make_engine
from hub.parsing import Parsed
from hub.settings import HubSettings
from hub.store import Store
from protocol import RoomTopics, Telemetry
from tests.unit.hub_helpers import (
    AGENT,
    NOW,
    ROOM,
    ROOT,
    SITE,
    at,
    bearer,
    make_store,
    parsed,
    telemetry,
)

YEAR_2100 = (datetime(2100, 1, 1, tzinfo=UTC) - at(0)).total_seconds()
YEAR_1970 = (datetime(1970, 1, 2, tzinfo=UTC) - at(0)).total_seconds()


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    store = make_store(database_url)
    yield store
    store.engine.dispose()


def sample(seq: int, ts: float, co2: float, *, boot: str = "b1", boot_no: int = 1,
           received: float = 30) -> Parsed:  # fmt: skip
    """Telemetry of the env sensor stamped ``at(ts)`` that the hub received at ``at(received)``."""
    msg = Telemetry(
        sender=f"edge/{AGENT}", boot=boot, boot_no=boot_no, seq=seq, ts=at(ts), device="env",
        readings={"co2_ppm": co2},
    )  # fmt: skip
    return parsed(RoomTopics(SITE, ROOM, ROOT).telemetry, msg, now=at(received))


def current(store: Store) -> dict[str, float]:
    room = store.get_room(SITE, ROOM)
    assert room is not None
    return {metric: r.value for metric, r in room.readings.items()}


def doubted(store: Store) -> dict[str, tuple[float, float]]:
    room = store.get_room(SITE, ROOM)
    assert room is not None
    return {m: (r.value, r.skew_s) for m, r in room.clock_suspect_readings.items()}


def test_a_reading_stamped_2100_is_shown_beside_the_current_value_never_as_it(
    store: Store,
) -> None:
    store.write_batch([sample(5, 20, 600)])
    store.write_batch([sample(6, YEAR_2100, 9999)])
    assert current(store) == {"co2_ppm": 600}
    value, skew = doubted(store)["co2_ppm"]
    assert value == 9999
    assert skew == pytest.approx(YEAR_2100 - 30)
    room = store.get_room(SITE, ROOM)
    assert room is not None
    assert room.clock_suspects == 1
    store.write_batch([sample(7, 40, 610, received=50)])  # the clock is right again
    assert (current(store), doubted(store)) == ({"co2_ppm": 610}, {})


def test_a_clock_gone_back_to_1970_is_doubted_and_flags_the_room(store: Store) -> None:
    store.write_batch([sample(9, 20, 600)])
    # the Pi restarts without its RTC battery: a new boot, stamped 1970 until NTP answers
    store.write_batch([sample(1, YEAR_1970, 650, boot="b2", boot_no=2, received=60)])
    store.write_batch([sample(2, YEAR_1970 + 10, 660, boot="b2", boot_no=2, received=70)])
    assert current(store) == {"co2_ppm": 600}
    value, skew = doubted(store)["co2_ppm"]
    assert value == 660
    assert skew == pytest.approx(YEAR_1970 + 10 - 70)
    room = store.get_room(SITE, ROOM)
    assert room is not None
    assert (room.clock_suspects, room.clock_skew_s) == (2, pytest.approx(YEAR_1970 + 10 - 70))
    store.write_batch([sample(3, 80, 670, boot="b2", boot_no=2, received=80)])  # NTP answered
    assert (current(store), doubted(store)) == ({"co2_ppm": 670}, {})


def test_an_outbox_replaying_old_times_that_go_forward_is_trusted(store: Store) -> None:
    store.write_batch([sample(1, 0, 500)])
    # an hour offline, then the outbox sends it all at once, a day later still in order
    replay = [sample(seq, seq * 10, 500 + seq, received=86_400) for seq in range(2, 362)]
    store.write_batch(replay[:100])
    store.write_batch(replay[100:])
    assert (current(store), doubted(store)) == ({"co2_ppm": 861}, {})
    room = store.get_room(SITE, ROOM)
    assert room is not None
    assert room.clock_suspects == 0


def test_in_one_batch_each_reading_is_judged_against_the_trusted_one_before_it(
    store: Store,
) -> None:
    store.write_batch([sample(1, 0, 500)])
    result = store.write_batch(
        [
            sample(2, 10, 510, received=4000),  # old but forward: trusted
            sample(3, YEAR_1970, 520, received=4000),  # gone back: doubted
            sample(4, 4000, 530, received=4000),  # on time again: trusted
            sample(5, YEAR_2100, 540, received=4000),  # ahead: doubted, and the newest
        ]
    )
    assert result.clock_suspects == 1  # gone back; the one ahead is counted when it is read
    assert current(store) == {"co2_ppm": 530}
    assert doubted(store) == {"co2_ppm": (540, pytest.approx(YEAR_2100 - 4000))}
    store.write_batch([sample(3, YEAR_1970, 520, received=4100)])  # redelivered: changes nothing
    assert current(store) == {"co2_ppm": 530}


def test_a_series_with_only_doubted_readings_has_no_current_value(store: Store) -> None:
    store.write_batch([sample(1, YEAR_2100, 700)])
    assert current(store) == {}
    assert set(doubted(store)) == {"co2_ppm"}
    [listed] = [r for r in store.list_rooms() if r.room == ROOM]
    assert set(listed.clock_suspect_readings) == {"co2_ppm"}
    assert listed.readings == {}


def test_the_alerts_judge_the_current_value_only(store: Store) -> None:
    store.write_batch([sample(1, 20, 600), sample(2, YEAR_2100, 5000)])
    [snapshot] = [s for s in AlertStore(store.engine).snapshots() if s.room == ROOM]
    assert [c.ppm for c in snapshot.co2] == [600]


def test_doubted_series_count_in_the_rooms_bound_after_a_restart(database_url: str) -> None:
    first = make_store(database_url)
    first.write_batch([telemetry(1, ts=YEAR_2100, a=1.0, b=2.0)])
    first.engine.dispose()
    again = Store(make_engine(database_url), series_max=2)  # the hub started again
    again.load_roster()
    try:
        result = again.write_batch([telemetry(2, c=3.0)], now=NOW)
        assert result.dead_letters_by_reason == {"too_many_series": 1}
    finally:
        again.engine.dispose()


@pytest.fixture
def client(tmp_path: Path, database_url: str) -> Iterator[TestClient]:
    sites = tmp_path / "sites.yaml"
    sites.write_text(f"sites:\n  - id: {SITE}\n    name: A school\n    rooms: ['{ROOM}']\n")
    settings = HubSettings(database_url=database_url, sites_file=sites)
    with TestClient(create_app(settings, connect_mqtt=False)) as c:
        c.headers.update(bearer(c))
        yield c


def test_the_api_shows_a_doubted_reading_beside_the_current_one(client: TestClient) -> None:
    store: Store = client.app.state.hub.store  # type: ignore[attr-defined]
    store.write_batch([sample(1, 20, 600), sample(2, YEAR_2100, 9999)])
    detail = client.get(f"/api/v1/rooms/{SITE}/{ROOM}").json()
    [listed] = client.get("/api/v1/rooms").json()
    for body in (detail, listed):
        assert body["readings"] == {
            "co2_ppm": {"device": "env", "value": 600.0, "ts": "2025-03-03T01:00:20Z"}
        }
        assert body["clock_suspect_readings"] == {
            "co2_ppm": {
                "device": "env", "value": 9999.0, "ts": "2100-01-01T00:00:00Z",
                "clock_suspect": True, "skew_s": pytest.approx(YEAR_2100 - 30),
                "received_at": "2025-03-03T01:00:30Z",
            }
        }  # fmt: skip
    assert detail["clock_suspect"] is True
    spec = client.get("/openapi.json").json()
    room = spec["components"]["schemas"]["RoomPublic"]["properties"]
    assert room["clock_suspect_readings"]["additionalProperties"] == {
        "$ref": "#/components/schemas/SuspectReadingPublic"
    }
