"""Hub REST API on a temporary SQLite database and a PostgreSQL schema, without a broker."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.exceptions import StarletteDeprecationWarning

with warnings.catch_warnings():
    # Starlette now prefers the httpx2 package for its TestClient; httpx (installed) still works.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

from hub.app import create_app
from hub.settings import HubSettings
from hub.store import Store
from protocol import utcnow
from tests.unit.hub_helpers import (
    NOW,
    ROOM,
    SITE,
    at,
    bearer,
    event,
    health,
    item,
    state,
    status,
    telemetry,
)

API = "/api/v1"


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> HubSettings:
    sites = tmp_path / "sites.yaml"
    sites.write_text(
        f"sites:\n  - id: {SITE}\n    name: THCS Nguyễn Chí Thanh\n"
        f"    rooms: [{{id: '{ROOM}', name: Lớp 6A1}}, 6a2]\n",
        encoding="utf-8",
    )
    return HubSettings(database_url=database_url, sites_file=sites)


@pytest.fixture
def client(settings: HubSettings) -> Iterator[TestClient]:
    with TestClient(create_app(settings, connect_mqtt=False)) as c:
        c.headers.update(bearer(c))  # IT staff of the school
        yield c


def store_of(client: TestClient) -> Store:
    store: Store = client.app.state.hub.store  # type: ignore[attr-defined]
    return store


def test_openapi_lists_the_routes(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert spec["info"]["title"] == "smartclass hub"
    assert f"{API}/rooms/{{site}}/{{room}}/devices/{{device}}/commands" in spec["paths"]


def test_health_without_mqtt(client: TestClient) -> None:
    body = client.get(f"{API}/health").json()
    assert body["mqtt_connected"] is False
    assert body["counters"] is None
    assert body["dead_letters_stored"] == {}
    assert (body["ok"], body["problems"], body["ingest_running"]) == (True, [], False)
    assert body["losses"] == {"boots": 0, "boots_missing": 0, "missing": 0, "dropped": 0}
    r = client.get("/healthz")
    assert (r.status_code, r.json()) == (200, {"status": "ok"})


def test_healthz_is_documented_with_every_status(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    responses = spec["paths"]["/healthz"]["get"]["responses"]
    assert set(responses) == {"200", "413", "503"}
    assert "problems" in str(responses["503"])


def test_healthz_answers_503_with_the_problems(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def down() -> None:
        raise OSError("connection refused")

    monkeypatch.setattr(store_of(client), "ping", down)
    r = client.get("/healthz")
    assert r.status_code == 503
    assert r.json() == {
        "status": "unhealthy", "problems": ["database unreachable: connection refused"]
    }  # fmt: skip


def test_rooms_from_the_registry_only(client: TestClient) -> None:
    store_of(client).write_batch(
        [status("online", ts=5), telemetry(1, ts=10, co2_ppm=612), telemetry(1, room="9a1", ts=3)],
        now=NOW,
    )
    rooms = {(r["site"], r["room"]): r for r in client.get(f"{API}/rooms").json()}
    assert set(rooms) == {(SITE, ROOM), (SITE, "6a2")}  # 9a1 is not in this registry
    mine = rooms[(SITE, ROOM)]
    assert (mine["name"], mine["online"]) == ("Lớp 6A1", True)
    assert mine["readings"]["co2_ppm"]["value"] == 612
    assert mine["last_seen"] == "2025-03-03T01:00:30Z"  # the hub's clock


def test_room_detail(client: TestClient) -> None:
    store_of(client).write_batch(
        [status("online", ts=1), state("lights", ts=2, on=True), event(2, ts=3), telemetry(1, ts=4)]
    )
    body = client.get(f"{API}/rooms/{SITE}/{ROOM}").json()
    assert body["online"] is True
    assert body["devices"] == [
        {"device": "lights", "family": "lights", "state": {"on": True}, "available": True,
         "updated_at": "2025-03-03T01:00:02Z"}
    ]  # fmt: skip
    assert body["config"] == {
        "pushed": 0, "applied": None, "applied_ok": None, "applied_text": None, "settings": None
    }  # fmt: skip
    assert [e["kind"] for e in body["events"]] == ["help"]
    assert set(body["readings"]) == {"co2_ppm", "temperature_c"}
    [boot] = body["boots"]
    assert (boot["boot"], boot["highest"], boot["missing"], boot["missing_count"]) == (
        "b1", 2, [], 0
    )  # fmt: skip
    assert (body["clock_suspect"], body["clock_suspects"], body["clock_offset_s"]) == (
        False, 0, None
    )  # fmt: skip


def test_room_detail_shows_the_agents_clock_and_health(client: TestClient) -> None:
    store_of(client).write_batch(
        [telemetry(1, ts=4000), health(clock_offset_s=-1.5, last_seq=3)], now=NOW
    )
    body = client.get(f"{API}/rooms/{SITE}/{ROOM}").json()
    assert body["clock_suspect_at"] is not None
    assert (body["clock_suspects"], body["clock_skew_s"]) == (1, 3970.0)
    assert body["clock_offset_s"] == -1.5
    assert body["agent_health"]["last_seq"] == 3
    assert body["agent_health"]["outbox"]["backlog"] == 0
    assert body["boots"][0]["end"] == 3


def test_unknown_room_and_bad_ids(client: TestClient) -> None:
    assert client.get(f"{API}/rooms/{SITE}/nope").status_code == 404
    assert client.get(f"{API}/rooms/{SITE}/nope/telemetry?metric=co2_ppm").status_code == 404
    assert client.get(f"{API}/rooms/{SITE}/Bad%20Room").status_code == 422


def test_telemetry_history_raw_and_downsampled(client: TestClient) -> None:
    store_of(client).write_batch([telemetry(i, ts=i * 10, co2_ppm=float(i)) for i in range(1, 13)])
    url = f"{API}/rooms/{SITE}/{ROOM}/telemetry"
    window = {"metric": "co2_ppm", "start": at(0).isoformat(), "end": at(200).isoformat()}
    raw = client.get(url, params=window).json()
    assert [p["value"] for p in raw["points"]] == [float(i) for i in range(1, 13)]
    assert raw["points"][0]["device"] == "env"
    avg = client.get(url, params={**window, "interval_s": 60}).json()
    assert [(p["value"], p["count"]) for p in avg["points"]] == [(3.0, 5), (8.5, 6), (12.0, 1)]
    assert avg["points"][1]["ts"] == "2025-03-03T01:01:00Z"
    naive = client.get(url, params={**window, "start": "2025-03-03T01:00:00"}).json()
    assert len(naive["points"]) == 12  # no offset: UTC
    assert client.get(url, params={"metric": "co2_ppm"}).json()["points"] == []  # last hour


def test_telemetry_bad_queries(client: TestClient) -> None:
    url = f"{API}/rooms/{SITE}/{ROOM}/telemetry"
    assert client.get(url).status_code == 422  # metric missing
    assert client.get(url, params={"metric": "CO2"}).status_code == 422
    assert client.get(url, params={"metric": "co2_ppm", "interval_s": 0}).status_code == 422
    bad = {"metric": "co2_ppm", "start": at(10).isoformat(), "end": at(0).isoformat()}
    r = client.get(url, params=bad)
    assert r.status_code == 422
    assert [(p["loc"], p["msg"]) for p in r.json()["detail"]] == [
        (["query", "start"], "start must be before end")
    ]


def test_commands_without_mqtt_are_503_and_config_waits_for_it(client: TestClient) -> None:
    r = client.post(f"{API}/rooms/{SITE}/{ROOM}/devices/lights/commands", json={"action": "on"})
    assert r.status_code == 503
    assert "not connected" in r.json()["detail"]
    change = {"config": {"settings": {"telemetry_interval_s": 5}}}
    r = client.put(f"{API}/rooms/{SITE}/{ROOM}/config", json=change)
    assert r.status_code == 202
    assert r.json()["pushes"] == [
        {"room": ROOM, "version": 1, "pushed": False,
         "error": "the hub is not connected to the MQTT broker"}
    ]  # fmt: skip
    status = client.get(f"{API}/rooms/{SITE}/{ROOM}/config").json()["status"]
    assert (status["latest"], status["pushed"], status["pending"]) == (1, 0, True)
    r = client.post(f"{API}/rooms/{SITE}/{ROOM}/config/push")
    assert (r.status_code, r.json()["detail"]) == (
        503,
        "the hub is not connected to the MQTT broker",
    )


def test_command_body_and_room_are_checked_first(client: TestClient) -> None:
    url = f"{API}/rooms/{SITE}/{ROOM}/devices/lights/commands"
    assert client.post(url, json={"action": "on", "colour": "red"}).status_code == 422
    assert client.post(url, json={"action": "on", "timeout_s": 0}).status_code == 422
    assert client.post(url.replace(ROOM, "nope"), json={"action": "on"}).status_code == 404
    r = client.put(f"{API}/rooms/{SITE}/{ROOM}/config", json={"telemetry_interval_s": 0})
    assert r.status_code == 422, "the body holds the document under config"
    bad = {"config": {"settings": {"telemetry_interval_s": 0}}}
    r = client.put(f"{API}/rooms/{SITE}/{ROOM}/config", json=bad)
    assert [p["loc"] for p in r.json()["detail"]] == [
        ["body", "config", "settings", "telemetry_interval_s"]
    ]


def test_dead_letters_listed_with_reasons(client: TestClient) -> None:
    telemetry_topic = f"sc/{SITE}/{ROOM}/telemetry"
    now = utcnow()  # not a test time: the hub prunes dead letters older than a week
    letters = [item(telemetry_topic, b"\xff{not json", now=now), item("x/y", b"{}", now=now)]
    store_of(client).write_batch(letters)
    letters = client.get(f"{API}/dead-letters").json()
    assert {d["reason"] for d in letters} == {"bad_json", "bad_topic"}
    assert any(d["payload_preview"].endswith("{not json") for d in letters)
    health = client.get(f"{API}/health").json()
    assert health["dead_letters_stored"] == {"bad_json": 1, "bad_topic": 1}


def test_a_bad_sites_file_stops_the_start(tmp_path: Path, database_url: str) -> None:
    sites = tmp_path / "sites.yaml"
    sites.write_text("sites:\n  - id: a\n    nme: A\n", encoding="utf-8")
    settings = HubSettings(database_url=database_url, sites_file=sites)
    from hub.registry import RegistryError

    with (
        pytest.raises(RegistryError, match=r"sites.yaml:3: sites.0.nme"),
        TestClient(create_app(settings, connect_mqtt=False)),
    ):
        pass
