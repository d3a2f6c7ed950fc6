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
from tests.unit.hub_helpers import ROOM, SITE, at, event, item, state, status, telemetry

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


def test_rooms_from_the_registry_and_from_mqtt(client: TestClient) -> None:
    store_of(client).write_batch(
        [status("online", ts=5), telemetry(1, ts=10, co2_ppm=612), telemetry(1, room="9a1", ts=3)]
    )
    rooms = {(r["site"], r["room"]): r for r in client.get(f"{API}/rooms").json()}
    assert set(rooms) == {(SITE, ROOM), (SITE, "6a2"), (SITE, "9a1")}
    mine = rooms[(SITE, ROOM)]
    assert (mine["name"], mine["online"]) == ("Lớp 6A1", True)
    assert mine["readings"]["co2_ppm"]["value"] == 612
    assert mine["last_seen"] == "2025-03-03T01:00:10Z"
    assert rooms[(SITE, "9a1")]["name"] == "9a1"  # announced itself, not in the registry


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


def test_commands_and_config_without_mqtt_are_503(client: TestClient) -> None:
    r = client.post(f"{API}/rooms/{SITE}/{ROOM}/devices/lights/commands", json={"action": "on"})
    assert r.status_code == 503
    assert "not connected" in r.json()["detail"]
    r = client.put(f"{API}/rooms/{SITE}/{ROOM}/config", json={"telemetry_interval_s": 5})
    assert r.status_code == 503


def test_command_body_and_room_are_checked_first(client: TestClient) -> None:
    url = f"{API}/rooms/{SITE}/{ROOM}/devices/lights/commands"
    assert client.post(url, json={"action": "on", "colour": "red"}).status_code == 422
    assert client.post(url, json={"action": "on", "timeout_s": 0}).status_code == 422
    assert client.post(url.replace(ROOM, "nope"), json={"action": "on"}).status_code == 404
    r = client.put(f"{API}/rooms/{SITE}/{ROOM}/config", json={"telemetry_interval_s": 0})
    assert r.status_code == 422


def test_dead_letters_listed_with_reasons(client: TestClient) -> None:
    store_of(client).write_batch([item("sc/a/b/telemetry", b"\xff{not json"), item("x/y", b"{}")])
    letters = client.get(f"{API}/dead-letters").json()
    assert {d["reason"] for d in letters} == {"bad_json", "bad_topic"}
    assert any(d["payload_preview"].endswith("{not json") for d in letters)
    health = client.get(f"{API}/health").json()
    assert health["dead_letters_stored"] == {"bad_json": 1, "bad_topic": 1}


def test_a_bad_sites_file_stops_the_start(tmp_path: Path) -> None:
    sites = tmp_path / "sites.yaml"
    sites.write_text("sites:\n  - id: a\n    nme: A\n", encoding="utf-8")
    settings = HubSettings(database_url=f"sqlite:///{tmp_path / 'h.sqlite'}", sites_file=sites)
    from hub.registry import RegistryError

    with (
        pytest.raises(RegistryError, match=r"sites.yaml:3: sites.0.nme"),
        TestClient(create_app(settings, connect_mqtt=False)),
    ):
        pass
