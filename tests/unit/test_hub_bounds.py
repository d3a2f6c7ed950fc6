"""Each bound of what an agent sends, through the hub's parser and store: at the bound it is
stored (on SQLite and PostgreSQL), just over it a dead letter whose detail names the field;
and the hub's own bounds (series and devices per room, payload size, topics) the same way.

The same table goes through the real broker to a hub process in
``tests/integration/test_hub_bounds.py``.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator

import pytest

from hub.db import DEAD_LETTER_MAX_BYTES, DEAD_LETTER_TOPIC_MAX
from hub.parsing import MAX_PAYLOAD_BYTES, Classifier, Parsed, Rejected
from hub.roster import Roster
from hub.store import SERIES_MAX, Store
from protocol import RoomTopics
from protocol.messages import DATA_MAX_BYTES, DEVICES_MAX, INT32_MAX, METRICS_MAX, TEXT_MAX
from tests.contract_bounds import BOUNDS, Bound, Sender, padded
from tests.unit.hub_helpers import NOW, ROOM, ROOMS, ROOT, SITE, make_store

HUB = "hub-test"
CLASSIFY = Classifier(ROOT, Roster((SITE, r) for r in ROOMS), hub_id=HUB)


def agent(room: str = ROOM) -> Sender:
    return Sender(SITE, room, ROOT, HUB, NOW)


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    store = make_store(database_url)
    yield store
    store.engine.dispose()


def read(topic: str, payload: bytes) -> Parsed | Rejected:
    result = CLASSIFY(topic, payload, now=NOW)
    assert isinstance(result, Parsed | Rejected), result
    return result


@pytest.mark.parametrize("bound", BOUNDS, ids=lambda b: b.name)
def test_just_over_a_bound_is_a_dead_letter_that_names_the_field(bound: Bound) -> None:
    over = read(*agent().payload(bound, over=True))
    assert isinstance(over, Rejected), f"{bound.name}: over the bound, and read"
    assert (over.reason, bound.field in over.detail) == (bound.reason, True), over.detail
    at = read(*agent().payload(bound, over=False))
    if bound.at_reason is None:
        assert isinstance(at, Parsed), at
    else:  # within this bound, refused for another reason
        assert isinstance(at, Rejected)
        assert at.reason == bound.at_reason


def test_every_message_at_its_bound_is_stored(store: Store) -> None:
    """PostgreSQL enforces the columns' lengths: what the contract lets in must fit them."""
    sender = agent()
    items = [read(*sender.payload(b, over=False)) for b in BOUNDS]
    result = store.write_batch(items)
    expected = Counter(b.at_reason for b in BOUNDS if b.at_reason is not None)
    assert result.dead_letters_by_reason == expected
    room = store.get_room(SITE, ROOM)
    assert room is not None
    assert {f"m{i}" for i in range(METRICS_MAX)} <= set(room.readings)
    assert "m" * 63 in room.readings
    events = store.recent_events(SITE, ROOM, 50)
    assert {len(e.text) for e in events} >= {TEXT_MAX}
    assert any(len(e.data.get("k", "")) == DATA_MAX_BYTES - 8 for e in events)
    # every message of one kind is of another boot: the last one applied is the newest
    assert [(d.device, d.family) for d in store.devices(SITE, ROOM)] == [("lights", "f" * 63)]
    assert room.config_version_applied == INT32_MAX
    health = store.agent_health(SITE, ROOM)
    assert health is not None
    assert health.report["last_seq"] == INT32_MAX
    assert (room.online, room.boot) == (True, "tag.status-n.")


def test_a_room_keeps_at_most_its_series_and_goes_on(store: Store) -> None:
    sender = agent()
    per_message = METRICS_MAX
    full = [
        sender.body("telemetry", "series", {
            "device": f"s{d}", "readings": {f"m{i}": 1.0 for i in range(per_message)}})
        for d in range(SERIES_MAX // per_message)
    ]  # fmt: skip
    one_more = sender.body("telemetry", "series", {"device": "late", "readings": {"m0": 1.0}})
    known = sender.body("telemetry", "series", {"device": "s0", "readings": {"m0": 2.0}})
    topic = sender.topic("telemetry")
    result = store.write_batch([read(topic, _json(b)) for b in (*full, one_more, known)])
    assert result.dead_letters_by_reason == {"too_many_series": 1}
    assert result.points == SERIES_MAX + 1  # the known series goes on
    [dead] = store.dead_letters()
    assert (dead.reason, f"more than {SERIES_MAX} distinct series" in dead.detail) == (
        "too_many_series", True
    )  # fmt: skip
    assert b'"late"' in dead.payload


def test_a_room_keeps_at_most_its_devices_states_and_goes_on(store: Store) -> None:
    sender = agent()
    states = [
        (sender.topic("state", f"d{i}"), sender.body("state", "devices", {"device": f"d{i}"}))
        for i in range(DEVICES_MAX + 1)
    ]
    again = (sender.topic("state", "d0"), sender.body("state", "devices", {"device": "d0"}))
    result = store.write_batch([read(t, _json(b)) for t, b in (*states, again)])
    assert result.dead_letters_by_reason == {"too_many_series": 1}
    devices = store.devices(SITE, ROOM)
    assert len(devices) == DEVICES_MAX
    assert f"d{DEVICES_MAX}" not in {d.device for d in devices}


def test_a_payload_over_the_size_limit_is_a_dead_letter_that_keeps_its_start_and_size() -> None:
    sender = agent()
    topic, payload = sender.payload(BOUNDS[0], over=False)
    assert isinstance(read(topic, padded(payload, MAX_PAYLOAD_BYTES)), Parsed)
    over = read(topic, padded(payload, MAX_PAYLOAD_BYTES + 1))
    assert isinstance(over, Rejected)
    assert (over.reason, over.size) == ("too_large", MAX_PAYLOAD_BYTES + 1)
    assert over.payload == padded(payload, MAX_PAYLOAD_BYTES + 1)[:DEAD_LETTER_MAX_BYTES]


def test_ids_in_a_topic_are_bounded_and_a_long_topic_is_cut_in_its_dead_letter() -> None:
    sender = agent()
    body = sender.body("state", "topic", {"device": "d" * 63})
    assert isinstance(read(RoomTopics(SITE, ROOM, ROOT).state("d" * 63), _json(body)), Parsed)
    long_device = f"{ROOT}/{SITE}/{ROOM}/state/{'d' * 64}"
    over = read(long_device, _json({**body, "device": "d" * 64}))
    assert isinstance(over, Rejected)
    assert (over.reason, "device id" in over.detail) == ("bad_topic", True)
    huge = f"{ROOT}/{'s' * 10_000}/{ROOM}/telemetry"
    dead = read(huge, b"{}")
    assert isinstance(dead, Rejected)
    assert dead.reason == "bad_topic"
    assert len(dead.topic) <= DEAD_LETTER_TOPIC_MAX
    assert len(dead.detail) <= 2000


def _json(body: dict[str, object]) -> bytes:
    return json.dumps(body).encode()
