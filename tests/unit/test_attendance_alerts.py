"""A refused QR card raises a warning alert of its room, counted once per event."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from hub.alerts.kinds import AlertKind
from protocol.attendance import KIND_CARD_REFUSED
from tests.unit.hub_helpers import AGENT, make_store
from tests.unit.test_alerts_engine import Hub, actions
from tests.unit.test_attendance_store import attendance


@pytest.fixture
def hub(database_url: str) -> Iterator[Hub]:
    store = make_store(database_url)
    try:
        yield Hub(store)
    finally:
        store.engine.dispose()


def test_a_refused_card_raises_a_warning_counted_once_per_event(hub: Hub) -> None:
    revoked = attendance(KIND_CARD_REFUSED, {"reason": "revoked", "serial": 42}, seq=901)
    assert actions(hub.feed(revoked)) == [("raised", "card_refused")]
    alert = hub.one(AlertKind.CARD_REFUSED)
    assert (alert.severity, alert.data) == ("warning", {"reason": "revoked", "serial": 42,
                                                        "refused": 1})  # fmt: skip
    assert alert.text == f"a card was refused in {AGENT}: revoked"
    assert hub.feed(revoked) == []  # a redelivery
    forged = attendance(KIND_CARD_REFUSED, {"reason": "forged"}, seq=902)
    assert actions(hub.feed(forged)) == [("repeated", "card_refused")]
    assert hub.one(AlertKind.CARD_REFUSED).data == {"reason": "forged", "refused": 2}
    unreadable = attendance(KIND_CARD_REFUSED, {"reason": "photo"}, seq=903)
    assert hub.feed(unreadable) == []  # a dead letter, no alert
    hub.resolve(hub.one(AlertKind.CARD_REFUSED))
    assert hub.active(AlertKind.CARD_REFUSED) == []
