"""The line protocol of the InfluxDB export: schema, times, escaping and bounds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hub.influx.lines import (
    STATE_FIELDS_MAX,
    flatten,
    line,
    lines_of,
    state_fields,
    timestamp_us,
    usage,
)
from hub.parsing import Parsed
from protocol import (
    CommandReply,
    ConfigApplied,
    DeviceState,
    Event,
    Health,
    Kind,
    ParsedTopic,
    Status,
    Telemetry,
)
from protocol.messages import BootLosses, OutboxHealth
from tests.school_day import stored

SITE, ROOM = "thcs-nguyen-chi-thanh", "6a1"
SENDER = f"edge/{SITE}/{ROOM}"
TS = datetime(2025, 10, 6, 1, 2, 3, 456789, tzinfo=UTC)
US = 1759712523456789


def test_timestamps_are_exact_microseconds() -> None:
    assert timestamp_us(TS) == US
    assert timestamp_us(datetime(1970, 1, 1, tzinfo=UTC)) == 0
    assert timestamp_us(datetime(2199, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)) % 10**6 == 999999


def test_telemetry_is_one_point_of_its_readings_at_its_time() -> None:
    message = Telemetry(
        sender=SENDER, boot="b", seq=7, ts=TS, device="env",
        readings={"co2_ppm": 812.5, "temperature_c": 29, "humidity_pct": 1e-7},
    )  # fmt: skip
    assert lines_of(stored(SITE, ROOM, message, received_at=TS + timedelta(hours=5))) == [
        f"telemetry,device=env,room={ROOM},site={SITE} "
        f"co2_ppm=812.5,temperature_c=29.0,humidity_pct=1e-07 {US}"
    ]


def test_a_time_flagged_as_implausible_is_replaced_by_the_receive_time() -> None:
    future = TS + timedelta(days=400)
    message = Telemetry(sender=SENDER, boot="b", seq=1, ts=future, device="env",
                        readings={"co2_ppm": 1.0})  # fmt: skip
    (point,) = lines_of(stored(SITE, ROOM, message, received_at=TS, skew_s=400 * 86400.0))
    assert point.endswith(f" {US}")


def test_a_status_is_written_at_its_arrival() -> None:
    """An agent's will is made when it connects and sent when it is gone."""
    will = Status(sender=SENDER, boot="b", ts=TS - timedelta(hours=6), state="offline",
                  conn=3, boot_no=2, keepalive=30, devices=["env", "lights"],
                  agent_version='0.1 "beta"')  # fmt: skip
    (point,) = lines_of(stored(SITE, ROOM, will, received_at=TS))
    assert point == (
        f"agent_status,room={ROOM},site={SITE} online=0.0,conn=3.0,boot_no=2.0,"
        f'keepalive_s=30.0,devices=2.0,agent_version="0.1 \\"beta\\"" {US}'
    )


def test_event_tags_and_text() -> None:
    event = Event(sender=SENDER, boot="b", seq=9, ts=TS, kind="help_request",
                  text='line one\nline "two" \\ end')  # fmt: skip
    (point,) = lines_of(stored(SITE, ROOM, event))
    assert point == (
        f"events,kind=help_request,room={ROOM},severity=info,site={SITE} "
        f'seq=9.0,text="line one line \\"two\\" \\\\ end" {US}'
    )
    with_device = event.model_copy(update={"device": "projector", "severity": "critical"})
    assert ",device=projector," in lines_of(stored(SITE, ROOM, with_device))[0]


def test_health_fields() -> None:
    health = Health(
        sender=SENDER, boot="b", boot_no=4, ts=TS, started_at=TS - timedelta(minutes=2),
        last_seq=120, outbox=OutboxHealth(backlog=5, parked=1, oldest_s=2.5, storage_ok=False),
        losses=[BootLosses(boot="a", count=3), BootLosses(boot="b", count=4)],
    )  # fmt: skip
    (point,) = lines_of(stored(SITE, ROOM, health))
    assert point == (
        f"agent_health,room={ROOM},site={SITE} outbox_backlog=5.0,outbox_parked=1.0,"
        f"outbox_oldest_s=2.5,storage_ok=0.0,last_seq=120.0,boot_no=4.0,lost=7.0,"
        f"uptime_s=120.0 {US}"
    )


def test_lights_state_flattened_with_usage() -> None:
    state = DeviceState(
        sender=SENDER, boot="b", ts=TS, device="lights", family="lighting",
        state={"front": {"on": True, "level": 70}, "back": {"on": False, "level": 0}},
    )  # fmt: skip
    (point,) = lines_of(stored(SITE, ROOM, state))
    assert point == (
        f"device_state,device=lights,family=lighting,room={ROOM},site={SITE} "
        f"available=1.0,in_use=1.0,level=35.0,front.on=1.0,front.level=70.0,back.on=0.0,"
        f"back.level=0.0 {US}"
    )


def test_usage_of_each_family() -> None:
    assert usage("lighting", {"a": {"on": False, "level": 0}}) == {"in_use": 0.0, "level": 0.0}
    assert usage("projector", {"power": "warming"}) == {"in_use": 1.0}
    assert usage("projector", {"power": "cooling"}) == {"in_use": 0.0}
    assert usage("projector", {"power": "unavailable"}) == {"in_use": 0.0}
    assert usage("occupancy", {"occupied": True}) == {"in_use": 1.0}
    assert usage("environment", {"occupancy": 30}) == {}


def test_state_keys_that_cannot_name_a_field_are_left_out() -> None:
    state = {
        "_hidden": 1, "with space": 2, "newline\n": 3,
        "ok": {"deeper": {"deepest": {"too_deep": 1}, "x": 1}},
        "list": [1, 2], "none": None, "text": "é" * 300, "time": 5,
    }  # fmt: skip
    assert dict(flatten(state)) == {"ok.deeper.x": 1, "text": "é" * 300, "time": 5}
    message = DeviceState(sender=SENDER, boot="b", ts=TS, device="d", family="x", state=state)
    fields = state_fields(message)
    assert fields["text"] == "é" * 256
    assert ",time=" not in lines_of(stored(SITE, ROOM, message))[0]


def test_state_fields_are_bounded() -> None:
    state = {f"k{i}": i for i in range(200)}
    message = DeviceState(sender=SENDER, boot="b", ts=TS, device="d", family="x", state=state)
    assert len(state_fields(message)) == 1 + STATE_FIELDS_MAX  # available, then the leaves


def test_fields_that_name_a_tag_or_time_are_left_out() -> None:
    message = Telemetry(sender=SENDER, boot="b", seq=1, ts=TS, device="env",
                        readings={"site": 1.0, "time": 2.0, "ok": 3.0})  # fmt: skip
    (point,) = lines_of(stored(SITE, ROOM, message))
    assert f" ok=3.0 {US}" in point
    assert line("m", {"site": "s"}, {"site": 1.0, "time": 2.0}, TS) is None
    only_tags = message.model_copy(update={"readings": {"room": 1.0}})
    assert lines_of(stored(SITE, ROOM, only_tags)) == []


def test_tag_values_are_escaped() -> None:
    assert line("m", {"k": "a b,c=d"}, {"v": 1.0}, TS) == f"m,k=a\\ b\\,c\\=d v=1.0 {US}"


def test_replies_and_config_echoes_are_not_exported() -> None:
    reply = CommandReply(sender=SENDER, id="c1", device="lights", code="ok")
    applied = ConfigApplied(sender=SENDER, boot="b", version=2)
    assert lines_of(Parsed(ParsedTopic(SITE, ROOM, Kind.REPLY), reply, TS)) == []
    assert lines_of(Parsed(ParsedTopic(SITE, ROOM, Kind.CONFIG_APPLIED), applied, TS)) == []
