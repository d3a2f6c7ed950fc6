"""The MQTT contract: topics, QoS/retain rules and message models."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

import protocol as p
from protocol.topics import HUB_SEGMENT


def test_room_topics_build_and_parse_round_trip() -> None:
    t = p.RoomTopics("thcs-nguyen-chi-thanh", "6a1")
    assert t.status == "sc/thcs-nguyen-chi-thanh/6a1/status"
    cases = {
        t.status: (p.Kind.STATUS, None),
        t.telemetry: (p.Kind.TELEMETRY, None),
        t.state("lights"): (p.Kind.STATE, "lights"),
        t.command("projector"): (p.Kind.COMMAND, "projector"),
        t.reply: (p.Kind.REPLY, None),
        t.event: (p.Kind.EVENT, None),
        t.config: (p.Kind.CONFIG, None),
        t.config_applied: (p.Kind.CONFIG_APPLIED, None),
        t.help: (p.Kind.HELP, None),
    }
    for topic, (kind, device) in cases.items():
        parsed = p.parse_topic(topic)
        assert (parsed.site, parsed.room, parsed.kind, parsed.device) == (
            "thcs-nguyen-chi-thanh",
            "6a1",
            kind,
            device,
        )


@pytest.mark.parametrize(
    "topic",
    [
        "sc/site/room",  # too short
        "other/site/room/status",  # wrong root
        "sc/Site/room/status",  # upper case id
        "sc/site/room/unknown",
        "sc/site/room/state",  # state without device
        "sc/site/room/cmd/a/b",
        f"sc/{HUB_SEGMENT}/status/x",  # the hub's segment is not a site
    ],
)
def test_parse_topic_refuses_topics_outside_the_contract(topic: str) -> None:
    with pytest.raises(p.TopicError):
        p.parse_topic(topic)


@pytest.mark.parametrize("bad", ["", "a/b", "+", "#", "Room", "-x", "a" * 64, "lớp"])
def test_ids_that_would_break_the_topic_tree_are_refused(bad: str) -> None:
    with pytest.raises(p.TopicError):
        p.validate_id(bad)


def test_commands_are_never_retained_and_state_is() -> None:
    assert not p.retained(p.Kind.COMMAND)
    assert not p.retained(p.Kind.TELEMETRY)
    assert p.retained(p.Kind.STATUS)
    assert p.retained(p.Kind.STATE)
    assert p.retained(p.Kind.CONFIG)
    assert p.retained(p.Kind.HELP)
    assert p.Kind.HELP in p.HUB_WRITES
    assert all(p.qos_of(k) == 1 for k in p.Kind)


def test_hub_subscriptions_cover_every_agent_to_hub_kind() -> None:
    subs = p.hub_subscriptions("sc")
    t = p.RoomTopics("s", "r")
    outbound = [t.status, t.telemetry, t.state("x"), t.reply, t.event, t.config_applied, t.health]
    for topic in outbound:
        assert any(_matches(f, topic) for f in subs), topic
    assert not any(_matches(f, t.reply_to("hub-1")) for f in subs), "another hub's replies"
    assert any(_matches(f, t.reply_to("hub-1")) for f in p.hub_subscriptions("sc", None, "hub-1"))
    for topic in (t.command("x"), t.config, t.ack):
        assert not any(_matches(f, topic) for f in subs), topic
    assert all(s.startswith("$share/g/") for s in p.hub_subscriptions("sc", "g"))


def _matches(filter_: str, topic: str) -> bool:
    f, t = filter_.split("/"), topic.split("/")
    if len(f) != len(t):
        return False
    return all(a in ("+", b) for a, b in zip(f, t, strict=True))


def test_telemetry_round_trips_and_times_are_utc() -> None:
    hcm = timezone(timedelta(hours=7))
    msg = p.Telemetry(
        sender="edge/s/r",
        ts=datetime(2026, 9, 5, 7, 0, tzinfo=hcm),
        boot="b1",
        seq=3,
        device="env",
        readings={"co2_ppm": 612.0, "temperature_c": 29.5},
    )
    back = p.decode(p.Telemetry, p.encode(msg))
    assert back == msg
    assert back.ts.tzinfo == UTC
    assert back.ts.hour == 0
    assert f'"v":{p.CONTRACT_VERSION}'.encode() in p.encode(msg)


@pytest.mark.parametrize(
    ("payload", "fragment"),
    [
        (b"not json", "invalid Telemetry payload"),
        (b'{"v":1,"sender":"x","boot":"b","seq":0,"device":"env","readings":{"a":1}}', "seq"),
        (b'{"v":99,"sender":"x","boot":"b","seq":1,"device":"env","readings":{"a":1}}', "version"),
        (b'{"v":1,"sender":"x","boot":"b","seq":1,"device":"env","readings":{}}', "readings"),
        (b'{"v":1,"sender":"x","boot":"b","seq":1,"device":"env","readings":{"a":NaN}}', "a"),
        (
            b'{"v":1,"sender":"x","boot":"b","seq":1,"device":"env","readings":{"a":"Infinity"}}',
            "finite",
        ),
        (
            b'{"v":1,"sender":"x","boot":"b","seq":1,"device":"env","readings":{"a":1},"x":1}',
            "x: Extra inputs",
        ),
        (
            b'{"v":1,"ts":"2026-01-01T00:00:00","sender":"x","boot":"b","seq":1,'
            b'"device":"env","readings":{"a":1}}',
            "timezone",
        ),
    ],
)
def test_bad_payloads_raise_payload_error_naming_the_problem(payload: bytes, fragment: str) -> None:
    with pytest.raises(p.PayloadError, match=fragment):
        p.decode(p.Telemetry, payload)


def test_payload_error_is_a_value_error() -> None:
    assert issubclass(p.PayloadError, ValueError)
    assert issubclass(p.TopicError, ValueError)


def test_command_reply_carries_the_command_id() -> None:
    cmd = p.Command(
        sender="hub/h",
        id="abc",
        device="lights",
        action="on",
        issuer="it:lan",
        expires=p.utcnow() + timedelta(seconds=5),
    )
    reply = p.CommandReply(sender="edge/s/r", id=cmd.id, device=cmd.device, code="ok", state={})
    assert reply.ok
    assert not p.CommandReply(sender="e", id="abc", device="lights", code="expired").ok
    assert p.decode(p.Command, p.encode(cmd)).expires == cmd.expires


def test_room_settings_bounds() -> None:
    assert p.RoomSettings().telemetry_interval_s == 10.0
    with pytest.raises(p.PayloadError, match="telemetry_interval_s"):
        p.decode(p.RoomConfig, b'{"sender":"h","version":1,"settings":{"telemetry_interval_s":0}}')


@pytest.mark.parametrize(
    ("model", "payload", "fragment"),
    [
        (p.Event, b'{"sender":"x","boot":"b","seq":1,"kind":"help","text":"a\\u0000b"}', "NUL"),
        (p.Status, b'{"sender":"x","state":"online","boot":"b","keepalive":70000}', "keepalive"),
        (p.ConfigApplied, b'{"sender":"x","version":2147483648}', "version"),
        (
            p.Telemetry,
            b'{"sender":"x","boot":"b","seq":2147483648,"device":"e","readings":{"a":1}}',
            "seq",
        ),
    ],
)
def test_values_every_database_can_store(
    model: type[p.Message], payload: bytes, fragment: str
) -> None:
    with pytest.raises(p.PayloadError, match=fragment):
        p.decode(model, payload)


def test_help_ack_round_trips_and_bounds_its_texts() -> None:
    ack = p.HelpAck(
        sender="hub/h1", alert=7, state="acknowledged", boot="b1", seq=12,
        reason="máy chiếu không lên", by="it-anh", comment="đang tới",
    )  # fmt: skip
    assert p.decode(p.HelpAck, p.encode(ack)) == ack
    with pytest.raises(p.PayloadError, match="state"):
        p.decode(p.HelpAck, p.encode(ack).replace(b'"acknowledged"', b'"seen"'))
    with pytest.raises(ValueError, match="comment"):
        p.HelpAck(sender="hub/h1", alert=7, state="open", boot="b1", seq=1, comment="x" * 2001)
