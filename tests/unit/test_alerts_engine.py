"""Each alert kind through its life cycle on SQLite and PostgreSQL: raised, repeats counted (a
redelivery is not a repeat), acknowledged, resolved, ended by itself when its cause clears;
taken up again after a restart without a duplicate. Time is the test's, never slept."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from hub.alerts.engine import AlertEngine, Transition, room_events
from hub.alerts.kinds import AlertKind, AlertState
from hub.alerts.rules import Limits
from hub.alerts.store import AlertConflict, AlertNotFound, AlertQuery, AlertRecord, AlertStore
from hub.alerts.tables import AlertRow
from hub.parsing import Parsed
from hub.store import Store
from protocol import DeviceState, RoomTopics, Status
from protocol.messages import BootLosses
from tests.unit.hub_helpers import (
    AGENT,
    ROOM,
    ROOT,
    SITE,
    T0,
    event,
    health,
    make_store,
    parsed,
    telemetry,
)

LIMITS = Limits(offline_grace_s=60, gap_grace_s=120, drops_quiet_s=600)
TOPICS = RoomTopics(SITE, ROOM, ROOT)


class Hub:
    """A hub's store and alert engine on one database, on a clock the test moves."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.alerts = AlertStore(store.engine)
        self.now = T0
        self.engine = self.restart()

    def restart(self) -> AlertEngine:
        """A new engine on the same database, as after a restart of the hub."""
        self.engine = AlertEngine(self.alerts, LIMITS, now=lambda: self.now)
        self.engine.start()
        return self.engine

    def feed(self, *items: Parsed) -> list[Transition]:
        """Store a batch as the ingest does, then judge it as the service does."""
        self.store.write_batch(list(items), now=self.now)
        rooms = {(i.topic.site, i.topic.room) for i in items}
        return self.engine.evaluate(rooms, room_events(items))

    def later(self, seconds: float) -> list[Transition]:
        self.now += timedelta(seconds=seconds)
        return self.engine.tick()

    def active(self, kind: AlertKind) -> list[AlertRecord]:
        return self.alerts.alerts(AlertQuery(kind=kind, states=frozenset({"open", "acknowledged"})))

    def one(self, kind: AlertKind) -> AlertRecord:
        [alert] = self.active(kind)
        return alert

    def ack(self, alert: AlertRecord, comment: str = "seen") -> AlertRecord:
        return self.engine.acknowledge(alert.id, "it-anh", comment).alert

    def resolve(self, alert: AlertRecord, comment: str = "done") -> AlertRecord:
        return self.engine.resolve(alert.id, "it-anh", comment).alert


@pytest.fixture
def hub(database_url: str) -> Iterator[Hub]:
    store = make_store(database_url)
    try:
        yield Hub(store)
    finally:
        store.engine.dispose()


def actions(transitions: list[Transition]) -> list[tuple[str, str]]:
    return [(t.action, t.alert.kind) for t in transitions]


def status(state: str, conn: int, *, boot_no: int = 1, at: datetime = T0) -> Parsed:
    msg = Status(
        sender=f"edge/{AGENT}", state=state, boot="b1", boot_no=boot_no, conn=conn, ts=at,
        keepalive=5,
    )  # fmt: skip
    return parsed(TOPICS.status, msg)


class States:
    """Device states with the counter ``n`` going up, as an agent sends them."""

    def __init__(self) -> None:
        self.n = 0

    def __call__(
        self, device: str, family: str, *, available: bool = True, again: bool = False,
        **state: Any,
    ) -> Parsed:  # fmt: skip
        if not again:
            self.n += 1
        msg = DeviceState(
            sender=f"edge/{AGENT}", boot="b1", boot_no=1, n=self.n, device=device,
            family=family, state={"available": available, **state}, available=available,
            ts=T0,
        )  # fmt: skip
        return parsed(TOPICS.state(device), msg)


def test_agent_offline_after_its_grace_until_back_online(hub: Hub) -> None:
    assert hub.feed(status("online", 1)) == []
    assert hub.feed(status("offline", 1)) == []  # the grace period starts
    assert hub.later(59) == []
    assert actions(hub.later(1)) == [("raised", "agent_offline")]
    alert = hub.one(AlertKind.AGENT_OFFLINE)
    assert (alert.severity, alert.repeats, alert.started_at) == (
        "critical",
        0,
        T0 + timedelta(seconds=60),
    )
    assert hub.feed(status("offline", 1)) == []  # the same will again: no repeat
    assert actions(hub.feed(status("offline", 2))) == [("repeated", "agent_offline")]
    acked = hub.ack(alert, "checking the switch")
    assert (acked.state, acked.acknowledged_by, acked.ack_comment) == (
        "acknowledged", "it-anh", "checking the switch",
    )  # fmt: skip
    assert hub.one(AlertKind.AGENT_OFFLINE).repeats == 1
    assert actions(hub.feed(status("online", 3))) == [("ended", "agent_offline")]
    ended = hub.alerts.get(alert.id)
    assert ended is not None
    assert (ended.state, ended.ended_at, ended.acknowledged_by) == (
        AlertState.ENDED, hub.now, "it-anh",
    )  # fmt: skip
    history = [t.action for t in hub.alerts.transitions(alert.id)]
    assert history == ["raised", "acknowledged", "ended"]


def test_an_offline_agent_back_within_its_grace_raises_nothing(hub: Hub) -> None:
    hub.feed(status("online", 1))
    hub.feed(status("offline", 1))
    hub.later(30)
    assert hub.feed(status("online", 2)) == []
    assert hub.later(120) == []
    assert hub.active(AlertKind.AGENT_OFFLINE) == []


def test_resolved_while_offline_it_comes_back_only_after_the_agent_did(hub: Hub) -> None:
    hub.feed(status("offline", 1))
    hub.later(60)
    first = hub.one(AlertKind.AGENT_OFFLINE)
    resolved = hub.resolve(first, "room closed for works")
    assert (resolved.state, resolved.resolved_by, resolved.resolve_comment) == (
        "resolved", "it-anh", "room closed for works",
    )  # fmt: skip
    assert hub.feed(status("offline", 2)) == []
    assert hub.later(3600) == []
    hub.restart()  # the latch is kept in the database
    assert hub.later(3600) == []
    hub.feed(status("online", 3))
    hub.feed(status("offline", 3))
    assert actions(hub.later(60)) == [("raised", "agent_offline")]
    assert hub.one(AlertKind.AGENT_OFFLINE).id != first.id


def test_device_unavailable_counts_new_states_only(hub: Hub) -> None:
    state = States()
    assert actions(hub.feed(state("lights", "lighting", available=False, reason="no relay"))) == [
        ("raised", "device_unavailable")
    ]
    alert = hub.one(AlertKind.DEVICE_UNAVAILABLE)
    assert (alert.device, alert.severity, alert.text) == (
        "lights", "warning", "lights is unavailable: no relay",
    )  # fmt: skip
    assert hub.feed(state("lights", "lighting", available=False, again=True)) == []
    assert actions(hub.feed(state("lights", "lighting", available=False))) == [
        ("repeated", "device_unavailable")
    ]
    hub.ack(alert)
    assert actions(hub.feed(state("lights", "lighting"))) == [("ended", "device_unavailable")]
    assert hub.alerts.get(alert.id).repeats == 1  # type: ignore[union-attr]


def test_lamp_and_filter_due_from_the_projectors_hours(hub: Hub) -> None:
    state = States()
    projector = {"power": "on", "errors": {"lamp": "ok"}}
    assert (
        hub.feed(state("projector", "projector", lamp_hours=3999, filter_hours=10, **projector))
        == []
    )
    got = hub.feed(state("projector", "projector", lamp_hours=4000, filter_hours=1000, **projector))
    assert sorted(actions(got)) == [("raised", "filter_due"), ("raised", "lamp_due")]
    lamp = hub.one(AlertKind.LAMP_DUE)
    assert (lamp.device, lamp.data) == ("projector", {"lamp_hours": 4000.0, "limit": 4000.0})
    resolved = hub.resolve(lamp, "lamp ordered")
    got = hub.feed(state("projector", "projector", lamp_hours=4010, filter_hours=1001, **projector))
    assert actions(got) == [("repeated", "filter_due")]  # the lamp waits for its replacement
    filter_alert = hub.one(AlertKind.FILTER_DUE)
    hub.ack(filter_alert)
    got = hub.feed(state("projector", "projector", lamp_hours=4011, filter_hours=0, **projector))
    assert actions(got) == [("ended", "filter_due")]
    assert (
        hub.feed(state("projector", "projector", lamp_hours=2, filter_hours=0, **projector)) == []
    )
    got = hub.feed(state("projector", "projector", lamp_hours=4000, filter_hours=0, **projector))
    assert actions(got) == [("raised", "lamp_due")]
    assert hub.one(AlertKind.LAMP_DUE).id != resolved.id
    assert hub.alerts.get(resolved.id).cause_ended_at is not None  # type: ignore[union-attr]


def test_projector_error_status_grows_worse_and_clears(hub: Hub) -> None:
    state = States()
    ok = {"fan": "ok", "lamp": "ok", "temperature": "ok"}

    def errors(**bad: str) -> Parsed:
        return state("projector", "projector", errors={**ok, **bad}, lamp_hours=10)

    assert hub.feed(errors()) == []
    assert actions(hub.feed(errors(lamp="warning"))) == [("raised", "projector_error")]
    alert = hub.one(AlertKind.PROJECTOR_ERROR)
    assert (alert.severity, alert.data) == ("warning", {"errors": {"lamp": "warning"}})
    assert actions(hub.feed(errors(lamp="error", fan="warning"))) == [
        ("repeated", "projector_error")
    ]
    assert hub.one(AlertKind.PROJECTOR_ERROR).severity == "critical"
    unknown = state("projector", "projector", available=False, errors=None)
    assert actions(hub.feed(unknown)) == [("raised", "device_unavailable")]  # errors unknown
    assert hub.one(AlertKind.PROJECTOR_ERROR).repeats == 1
    hub.ack(alert)
    assert sorted(actions(hub.feed(errors()))) == [
        ("ended", "device_unavailable"), ("ended", "projector_error"),
    ]  # fmt: skip
    hub.feed(errors(fan="warning"))
    warned = hub.resolve(hub.one(AlertKind.PROJECTOR_ERROR), "fan cleaned next week")
    assert hub.feed(errors(fan="warning", cover="warning")) == []  # no worse
    assert actions(hub.feed(errors(fan="error"))) == [("raised", "projector_error")]  # worse
    assert hub.one(AlertKind.PROJECTOR_ERROR).id != warned.id


def test_sensor_fault_from_the_sensors_state(hub: Hub) -> None:
    state = States()
    fault = {"chip": "scd4x", "kind": "crc", "metric": None, "value": None,
             "message": "scd4x: CRC mismatch"}  # fmt: skip
    assert hub.feed(state("env", "environment", faults=[])) == []
    assert actions(hub.feed(state("env", "environment", faults=[fault]))) == [
        ("raised", "sensor_fault")
    ]
    alert = hub.one(AlertKind.SENSOR_FAULT)
    assert alert.text == "env: scd4x: CRC mismatch"
    assert actions(hub.feed(state("env", "environment", faults=[fault, fault]))) == [
        ("repeated", "sensor_fault")
    ]
    hub.ack(alert)
    assert actions(hub.feed(state("env", "environment", faults=[]))) == [("ended", "sensor_fault")]


def test_co2_high_with_its_hysteresis(hub: Hub) -> None:
    def co2(seq: int, ppm: float) -> Parsed:
        return telemetry(seq, co2_ppm=ppm, temperature_c=28.0)

    assert hub.feed(co2(1, 1199)) == []
    assert actions(hub.feed(co2(2, 1250))) == [("raised", "co2_high")]
    alert = hub.one(AlertKind.CO2_HIGH)
    assert (alert.device, alert.data) == ("env", {"co2_ppm": 1250.0, "limit_ppm": 1200.0})
    assert hub.feed(co2(3, 1150)) == []  # within the band: neither a repeat nor the end
    assert hub.feed(co2(3, 1150)) == []  # a redelivery
    assert actions(hub.feed(co2(4, 1300))) == [("repeated", "co2_high")]
    hub.ack(alert, "windows opened")
    assert hub.feed(co2(5, 1100)) == []  # the band's floor is excluded
    assert actions(hub.feed(co2(6, 1099))) == [("ended", "co2_high")]
    assert hub.alerts.get(alert.id).repeats == 1  # type: ignore[union-attr]


def test_outbox_drops_raise_repeat_and_end_after_a_quiet_period(hub: Hub) -> None:
    def losses(n: int, count: int) -> Parsed:
        lost = BootLosses(
            boot="b0", dropped=[(1, count)], count=count, by_reason={"max_age": count}
        )
        return health(boot="b1", boot_no=2, n=n, losses=[lost])

    assert actions(hub.feed(losses(1, 5))) == [("raised", "outbox_dropped")]
    alert = hub.one(AlertKind.OUTBOX_DROPPED)
    assert (alert.data, alert.level) == ({"dropped": 5, "new": 5}, 5.0)
    assert hub.feed(losses(1, 5)) == []  # the same report again
    assert hub.feed(losses(2, 5)) == []  # a new report, nothing new dropped
    hub.later(300)
    assert actions(hub.feed(losses(3, 8))) == [("repeated", "outbox_dropped")]
    assert hub.one(AlertKind.OUTBOX_DROPPED).data == {"dropped": 8, "new": 3}
    assert hub.later(599) == []
    assert actions(hub.later(1)) == [("ended", "outbox_dropped")]
    assert actions(hub.feed(losses(4, 9))) == [("raised", "outbox_dropped")]
    again = hub.one(AlertKind.OUTBOX_DROPPED)
    hub.ack(again)
    assert hub.resolve(again).state == "resolved"
    assert actions(hub.feed(losses(5, 10))) == [("raised", "outbox_dropped")]


def test_messages_missing_after_their_grace_until_filled(hub: Hub) -> None:
    hub.feed(*(telemetry(seq) for seq in (1, 2, 5)))  # 3 and 4 missing
    assert hub.later(119) == []
    assert actions(hub.later(1)) == [("raised", "messages_missing")]
    alert = hub.one(AlertKind.MESSAGES_MISSING)
    assert (alert.level, alert.data) == (2.0, {"missing": 2})
    assert actions(hub.feed(telemetry(3))) == [("repeated", "messages_missing")]
    hub.ack(alert, "agent rebooted, resending")
    assert actions(hub.feed(telemetry(4))) == [("ended", "messages_missing")]
    hub.feed(telemetry(8))  # 6 and 7
    hub.later(120)
    lost = hub.resolve(hub.one(AlertKind.MESSAGES_MISSING), "power cut: lost for good")
    hub.later(600)
    assert hub.active(AlertKind.MESSAGES_MISSING) == []
    assert hub.feed(telemetry(10)) == []  # 9 missing too: worse, and waits out its grace
    assert actions(hub.later(120)) == [("raised", "messages_missing")]
    assert hub.one(AlertKind.MESSAGES_MISSING).id != lost.id


def test_help_request_raised_repeated_acknowledged_resolved(hub: Hub) -> None:
    assert actions(hub.feed(event(1, kind="help", text="máy chiếu không lên"))) == [
        ("raised", "help")
    ]
    alert = hub.one(AlertKind.HELP)
    assert (alert.severity, alert.device, alert.text) == (
        "critical", "", f"help asked in {AGENT}: máy chiếu không lên",
    )  # fmt: skip
    assert hub.feed(event(1, kind="help", text="máy chiếu không lên")) == []  # a redelivery
    assert actions(hub.feed(event(2, kind="help", text="vẫn chưa được"))) == [("repeated", "help")]
    alert = hub.one(AlertKind.HELP)
    assert (alert.repeats, alert.data) == (
        1, {"reason": "vẫn chưa được", "request": {"boot": "b1", "seq": 2}},
    )  # fmt: skip
    hub.ack(alert, "on my way")
    resolved = hub.resolve(alert, "cable replaced")
    assert hub.feed(event(2, kind="help", text="vẫn chưa được")) == []  # late redelivery
    history = [(t.action, t.actor, t.comment) for t in hub.alerts.transitions(alert.id)]
    assert history == [
        ("raised", "", ""), ("repeated", "", ""), ("acknowledged", "it-anh", "on my way"),
        ("resolved", "it-anh", "cable replaced"),
    ]  # fmt: skip
    assert actions(hub.feed(event(3, kind="help", text="again"))) == [("raised", "help")]
    assert hub.one(AlertKind.HELP).id != resolved.id


def test_a_withdrawn_help_request_ends_by_itself(hub: Hub) -> None:
    hub.feed(event(1, kind="help"), event(2, kind="help_cancelled"))
    [alert] = hub.alerts.alerts(AlertQuery(kind="help"))
    assert (alert.state, alert.ended_at) == ("ended", hub.now)
    assert hub.feed(event(3, kind="help")) != []
    assert hub.feed(event(2, kind="help_cancelled")) == []  # a redelivery ends nothing
    late = hub.feed(event(1, kind="help_cancelled", text="stale"))  # older than the request
    assert late == []
    assert hub.one(AlertKind.HELP).state == "open"


def test_after_a_restart_open_alerts_are_taken_up_and_none_raised_twice(hub: Hub) -> None:
    state = States()
    hub.feed(status("offline", 1), telemetry(1, co2_ppm=1500), event(2, kind="help"),
             state("lights", "lighting", available=False))  # fmt: skip
    hub.later(60)
    before = {a.kind: a.id for a in hub.alerts.alerts(AlertQuery())}
    assert set(before) == {"agent_offline", "co2_high", "help", "device_unavailable"}
    hub.ack(hub.one(AlertKind.HELP))
    assert hub.restart().open_alerts != []
    assert hub.feed(status("offline", 1), telemetry(1, co2_ppm=1500), event(2, kind="help")) == []
    assert hub.later(3600) == []
    after = {a.kind: a.id for a in hub.alerts.alerts(AlertQuery())}
    assert after == before
    assert hub.one(AlertKind.HELP).state == "acknowledged"
    assert actions(hub.feed(status("online", 2))) == [("ended", "agent_offline")]


def test_ack_and_resolve_refuse_what_they_cannot_change(hub: Hub) -> None:
    hub.feed(event(1, kind="help"))
    alert = hub.one(AlertKind.HELP)
    hub.ack(alert)
    with pytest.raises(AlertConflict, match="acknowledged already by it-anh"):
        hub.ack(alert)
    hub.resolve(alert)
    with pytest.raises(AlertConflict, match="resolved already"):
        hub.resolve(alert)
    with pytest.raises(AlertConflict, match="resolved already"):
        hub.ack(alert)
    with pytest.raises(AlertNotFound):
        hub.engine.acknowledge(alert.id + 100, "it", "")
    assert [t.action for t in hub.alerts.transitions(alert.id)] == [
        "raised", "acknowledged", "resolved",
    ]  # fmt: skip


def test_two_hubs_on_one_database_raise_one_alert(hub: Hub) -> None:
    other = AlertEngine(hub.alerts, LIMITS, now=lambda: hub.now)
    other.start()  # started before the alert exists: it does not know it
    hub.feed(telemetry(1, co2_ppm=1500))
    assert other.evaluate({(SITE, ROOM)}) == []  # the unique index refuses a second one
    assert [a.id for a in other.open_alerts] == [hub.one(AlertKind.CO2_HIGH).id]
    with hub.store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(AlertRow)).scalar_one() == 1
