"""The exporter's real writer against a real v2 write API (VictoriaMetrics on loopback):
what arrives, a server that is away and comes back, the bound while it stays away, the
flush at stop, and a hub whose ingest goes on while InfluxDB does not answer."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from hub.influx import InfluxConfig
from hub.influx.exporter import InfluxExporter
from hub.influx.lines import timestamp_us
from protocol import DeviceState, Event, Health, RoomTopics, Status, Telemetry, encode
from smartclass.broker import Mosquitto
from tests.integration.system import agent_client, eventually, hub_settings, running_hub
from tests.school_day import stored
from tests.tsdb import VictoriaMetrics, victoria  # noqa: F401 (fixture)

pytestmark = pytest.mark.integration

SITE, ROOM = "thcs-nguyen-chi-thanh", "6a1"
SENDER = f"edge/{SITE}/{ROOM}"
NOW = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
"""Recent, whole seconds: VictoriaMetrics keeps milliseconds."""


def config(url: str, **overrides: float | int) -> InfluxConfig:
    fields: dict[str, float | int] = {
        "batch_size": 100,
        "flush_interval_ms": 50,
        "timeout_s": 2.0,
        "retry_interval_s": 0.1,
        "retry_max_s": 60.0,
        "stop_deadline_s": 5.0,
        **overrides,
    }
    return InfluxConfig(url=url, org="district-12", bucket="smartclass", token="t0k3n", **fields)  # type: ignore[arg-type]


def ms(when: datetime) -> int:
    return timestamp_us(when) // 1000


def telemetry(seq: int, when: datetime, co2: float) -> Telemetry:
    return Telemetry(
        sender=SENDER, boot="b1", seq=seq, ts=when, device="env",
        readings={"co2_ppm": co2, "temperature_c": 29.5},
    )  # fmt: skip


async def until(check: Callable[[], bool], timeout: float, what: str) -> None:
    """Wait for a condition the exporter's callbacks make true."""

    async def probe() -> bool:
        return check()

    await eventually(probe, timeout, what)


def labels(**kv: str) -> frozenset[tuple[str, str]]:
    return frozenset({"site": SITE, "room": ROOM, **kv}.items())


@pytest.fixture
def black_hole() -> Iterator[str]:
    """A server that accepts connections and never answers: an InfluxDB that hangs."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(64)
        yield f"http://127.0.0.1:{server.getsockname()[1]}"


async def test_points_arrive_with_their_tags_fields_and_times(victoria: VictoriaMetrics) -> None:  # noqa: F811
    exporter = InfluxExporter(config(victoria.url))
    late = NOW - timedelta(hours=3)  # an outbox replaying an old sample: it lands at its time
    skewed = NOW + timedelta(days=1)  # a clock far ahead: written at the hub's receive time
    received = NOW + timedelta(seconds=7)
    lights = DeviceState(
        sender=SENDER, boot="b1", n=4, ts=NOW, device="lights", family="lighting",
        state={"front": {"on": True, "level": 60}, "back": {"on": False, "level": 0}},
    )  # fmt: skip
    event = Event(
        sender=SENDER, boot="b1", seq=4, ts=NOW, kind="co2_high", severity="warning",
        device="env", text="stale air",
    )  # fmt: skip
    status = Status(sender=SENDER, boot="b1", ts=late, state="online", conn=2, keepalive=30)
    started = NOW - timedelta(minutes=90)
    health = Health(sender=SENDER, boot="b1", ts=NOW, started_at=started, clock_offset_s=-0.5)
    batch = [
        stored(SITE, ROOM, telemetry(1, NOW, 812.5)),
        stored(SITE, ROOM, telemetry(2, late, 640.0)),
        stored(SITE, ROOM, telemetry(3, skewed, 900.0), received_at=received, skew_s=86_400),
        stored(SITE, ROOM, lights),
        stored(SITE, ROOM, event),
        stored(SITE, ROOM, status, received_at=NOW),  # a status lands at its arrival
        stored(SITE, ROOM, health),
    ]
    exporter.observe(batch)
    try:
        await until(lambda: exporter.stats.written == 7, 10, "the points written")
        expected = {
            ("telemetry_co2_ppm", labels(device="env"), 812.5, ms(NOW)),
            ("telemetry_co2_ppm", labels(device="env"), 640.0, ms(late)),
            ("telemetry_co2_ppm", labels(device="env"), 900.0, ms(received)),
            ("telemetry_temperature_c", labels(device="env"), 29.5, ms(NOW)),
            ("device_state_in_use", labels(device="lights", family="lighting"), 1.0, ms(NOW)),
            ("device_state_level", labels(device="lights", family="lighting"), 30.0, ms(NOW)),
            ("device_state_front.level", labels(device="lights", family="lighting"), 60.0, ms(NOW)),
            ("events_seq", labels(device="env", kind="co2_high", severity="warning"), 4.0, ms(NOW)),
            ("agent_status_online", labels(), 1.0, ms(NOW)),
            ("agent_health_uptime_s", labels(), 5400.0, ms(NOW)),
            ("agent_health_clock_offset_s", labels(), -0.5, ms(NOW)),
        }

        async def arrived() -> bool:
            return expected <= await asyncio.to_thread(victoria.samples)

        await eventually(arrived, 15, "the samples in VictoriaMetrics")
        telemetry_times = {s[3] for s in victoria.samples('{__name__="telemetry_co2_ppm"}')}
        assert telemetry_times == {ms(NOW), ms(late), ms(received)}
        assert exporter.stats.retimed == 1
        assert exporter.stats.backlog == 0
        assert exporter.problems() == []
    finally:
        await exporter.stop()


async def test_a_server_away_then_back_gets_every_point(victoria: VictoriaMetrics) -> None:  # noqa: F811
    victoria.stop()  # the port stays reserved for it: nothing listens meanwhile
    exporter = InfluxExporter(config(victoria.url, retry_interval_s=0.2))
    try:
        exporter.observe([stored(SITE, ROOM, telemetry(i, NOW + timedelta(seconds=i), float(i)))
                          for i in range(1, 41)])  # fmt: skip
        assert (exporter.stats.handed, exporter.stats.written) == (40, 0)  # handed, not waited for
        await until(lambda: exporter.stats.retries >= 2, 10, "retries while it is away")
        assert exporter.stats.written == 0
        assert exporter.stats.backlog == 40
        assert any(p.startswith("InfluxDB export failing") for p in exporter.problems())
        await asyncio.to_thread(victoria.start)
        await until(lambda: exporter.stats.written == 40, 20, "every point written")
        assert exporter.stats.failed == exporter.stats.dropped == 0
        assert not exporter.stats.failing
        assert exporter.problems() == []

        async def all_there() -> bool:
            got = await asyncio.to_thread(victoria.samples, '{__name__="telemetry_co2_ppm"}')
            return {(v, t) for _, _, v, t in got} == {
                (float(i), ms(NOW + timedelta(seconds=i))) for i in range(1, 41)
            }

        await eventually(all_there, 15, "the 40 samples at their times")
    finally:
        await exporter.stop()


async def test_the_backlog_stays_bounded_while_the_server_stays_away(
    victoria: VictoriaMetrics,  # noqa: F811
) -> None:
    victoria.stop()
    exporter = InfluxExporter(config(victoria.url, backlog_max=50, retry_interval_s=0.2))
    try:
        for round_ in range(3):
            exporter.observe([
                stored(SITE, ROOM, telemetry(round_ * 40 + i, NOW + timedelta(seconds=i), 1.0))
                for i in range(1, 41)
            ])  # fmt: skip
        st = exporter.stats
        assert (st.handed, st.dropped, st.backlog) == (50, 70, 50)
        assert any("70 dropped (backlog full at 50)" in p for p in exporter.problems())
        await until(lambda: exporter.stats.retries >= 1, 10, "a retry")
        assert exporter.stats.backlog == 50  # nothing written, nothing given up: kept
        await asyncio.to_thread(victoria.start)
        await until(lambda: exporter.stats.written == 50, 20, "the kept points written")
        assert exporter.stats.backlog == 0
    finally:
        await exporter.stop()


async def test_stop_flushes_what_waits_and_gives_up_at_its_deadline(
    victoria: VictoriaMetrics,  # noqa: F811
) -> None:
    slow = InfluxExporter(config(victoria.url, batch_size=10_000, flush_interval_ms=10_000))
    started = time.monotonic()
    slow.observe([stored(SITE, ROOM, telemetry(i, NOW + timedelta(seconds=i), 2.0))
                  for i in range(1, 11)])  # fmt: skip
    assert slow.stats.written == 0  # waiting for a batch that would take 10 s to fill
    await slow.stop()
    assert slow.stats.written == 10
    assert time.monotonic() - started < 5.0  # written by the stop, not by the timer

    victoria.stop()
    away = InfluxExporter(config(victoria.url, stop_deadline_s=0.5, retry_interval_s=0.1))
    away.observe([stored(SITE, ROOM, telemetry(1, NOW, 3.0))])
    await until(lambda: away.stats.retries >= 1, 10, "a retry")
    started = time.monotonic()
    await away.stop()
    assert time.monotonic() - started < 3.0  # the deadline, not the 60 s of retries
    assert away.stats.written == 0


async def test_a_hung_influxdb_never_holds_up_the_hub(
    own_broker: Mosquitto, topic_root: str, tmp_path: Path, database_url: str, black_hole: str
) -> None:
    """The hub with InfluxDB configured but never answering stores and acknowledges what
    arrives as fast as ever; health shows the export waiting."""
    settings = hub_settings(
        own_broker, topic_root, database_url,
        influx_url=black_hole, influx_org="district-12", influx_bucket="smartclass",
        influx_token="t0k3n", influx_timeout_s=30, influx_flush_interval_ms=20,
        influx_stop_deadline_s=0.5,
    )  # fmt: skip
    topics = RoomTopics(SITE, ROOM, topic_root)
    async with running_hub(settings) as http, agent_client(own_broker, topic_root) as agent:
        status = Status(sender=SENDER, boot="b1", state="online", conn=1)
        await agent.publish(topics.status, encode(status), qos=1, retain=True)
        for seq in range(1, 201):
            message = telemetry(seq, NOW + timedelta(milliseconds=seq), 700.0 + seq)
            await agent.publish(topics.telemetry, encode(message), qos=1)

        async def all_stored() -> dict[str, object] | None:
            body: dict[str, object] = (await http.get("/api/v1/health")).json()
            counters = body["counters"]
            assert isinstance(counters, dict)
            return body if counters["stored"] >= 201 else None

        body = await eventually(all_stored, 10, "the hub to store the 201 messages")
        influx = body["influx"]
        assert isinstance(influx, dict)
        assert influx["written"] == 0
        assert influx["handed"] == 201
        assert influx["backlog"] == 201
        assert influx["url"] == black_hole


async def test_the_hub_exports_what_it_stores(
    own_broker: Mosquitto,
    topic_root: str,
    database_url: str,
    victoria: VictoriaMetrics,  # noqa: F811
) -> None:
    settings = hub_settings(
        own_broker, topic_root, database_url,
        influx_url=victoria.url, influx_org="district-12", influx_bucket="smartclass",
        influx_token="t0k3n", influx_flush_interval_ms=50,
    )  # fmt: skip
    topics = RoomTopics(SITE, ROOM, topic_root)
    async with running_hub(settings) as http, agent_client(own_broker, topic_root) as agent:
        for seq in range(1, 11):
            message = telemetry(seq, NOW + timedelta(seconds=seq), 500.0 + seq)
            await agent.publish(topics.telemetry, encode(message), qos=1)

        async def exported() -> bool:
            got = await asyncio.to_thread(victoria.samples, '{__name__="telemetry_co2_ppm"}')
            return {(v, t) for _, _, v, t in got} == {
                (500.0 + s, ms(NOW + timedelta(seconds=s))) for s in range(1, 11)
            }

        await eventually(exported, 15, "the telemetry in VictoriaMetrics")
        health = (await http.get("/api/v1/health")).json()
        assert health["influx"]["written"] == 10
        assert health["influx"]["backlog"] == 0
        assert health["ok"], health["problems"]
        healthz = await http.get("/healthz")
        assert healthz.status_code == 200
        scraped = (await http.get("/metrics")).text
        assert 'smartclass_hub_influx_points_total{outcome="written"} 10.0' in scraped
        assert "smartclass_hub_influx_backlog 0.0" in scraped


def test_victoria_metrics_takes_the_v2_write_api(victoria: VictoriaMetrics) -> None:  # noqa: F811
    """The stand-in speaks the API the exporter uses (not only VictoriaMetrics' own)."""
    response = httpx.post(
        f"{victoria.url}/api/v2/write",
        params={"org": "o", "bucket": "b", "precision": "us"},
        content=b"probe,site=s value=1 " + str(timestamp_us(NOW)).encode(),
        timeout=5,
    )
    assert response.status_code == 204


async def test_influxdb_away_is_a_warning_and_the_hub_stays_healthy(
    own_broker: Mosquitto, topic_root: str, database_url: str
) -> None:
    with socket.socket() as closed:  # a port nobody listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    settings = hub_settings(
        own_broker, topic_root, database_url,
        influx_url=f"http://127.0.0.1:{port}", influx_org="district-12",
        influx_bucket="smartclass", influx_token="t0k3n", influx_flush_interval_ms=50,
    )  # fmt: skip
    topics = RoomTopics(SITE, ROOM, topic_root)
    async with running_hub(settings) as http, agent_client(own_broker, topic_root) as agent:
        await agent.publish(topics.telemetry, encode(telemetry(1, NOW, 500.0)), qos=1)

        async def warned() -> dict[str, object] | None:
            health = (await http.get("/api/v1/health")).json()
            failing = [w for w in health["warnings"] if w.startswith("InfluxDB export failing")]
            return health if failing else None

        health = await eventually(warned, 15, "the export's failure in the health's warnings")
        assert health["ok"], health["problems"]
        assert health["influx"]["failing"]
        assert (await http.get("/healthz")).status_code == 200
        history = await http.get(
            f"/api/v1/rooms/{SITE}/{ROOM}/telemetry", params={"metric": "co2_ppm"}
        )
        assert [p["value"] for p in history.json()["points"]] == [500.0], "stored meanwhile"
