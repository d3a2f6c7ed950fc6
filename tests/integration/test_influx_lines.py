"""The export's line protocol as a real InfluxDB reads it: quotes, backslashes, control
characters and exact microsecond times come back as they were sent."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from hub.influx import lines_of
from hub.influx.lines import timestamp_us
from protocol import DeviceState, Event
from tests.school_day import stored
from tests.tsdb import InfluxQL, influxql  # noqa: F401 (fixture)

pytestmark = pytest.mark.integration

SITE, ROOM = "thcs-nguyen-chi-thanh", "6a1"
SENDER = f"edge/{SITE}/{ROOM}"
TS = datetime(2025, 10, 6, 1, 2, 3, 456789, tzinfo=UTC)


def test_strings_and_times_round_trip(influxql: InfluxQL) -> None:  # noqa: F811
    db = f"lines_{uuid.uuid4().hex[:8]}"
    influxql.query(f'CREATE DATABASE "{db}"')
    text = 'Cô giáo: "phòng 6A1" \\ cần\ttrợ giúp\nngay, = ,'
    event = Event(sender=SENDER, boot="b", seq=3, ts=TS, kind="help_request", text=text)
    state = DeviceState(
        sender=SENDER, boot="b", ts=TS, device="projector", family="projector",
        state={"power": "on", "input": 'HDMI "1"', "errors": {"lamp": "ok"}, "lamp_hours": 1520},
    )  # fmt: skip
    influxql.write(db, lines_of(stored(SITE, ROOM, event)) + lines_of(stored(SITE, ROOM, state)))
    answer = influxql.query('SELECT "text", "seq" FROM "events"', db)
    (series,) = answer["results"][0]["series"]
    ((when_ms, got_text, seq),) = series["values"]
    assert got_text == text.replace("\t", " ").replace("\n", " ")
    assert (when_ms, seq) == (timestamp_us(TS) // 1000, 3)
    micro = influxql.query('SELECT "seq" FROM "events"', db, epoch="u")
    assert micro["results"][0]["series"][0]["values"][0][0] == timestamp_us(TS)
    answer = influxql.query(
        'SELECT "in_use", "power", "input", "errors.lamp", "lamp_hours" FROM "device_state"', db
    )
    ((_, in_use, power, source, lamp, hours),) = answer["results"][0]["series"][0]["values"]
    assert (in_use, power, source, lamp, hours) == (1, "on", 'HDMI "1"', "ok", 1520)
