"""Configuration through the API, on SQLite and PostgreSQL, without a broker: a school's
defaults and a room's overrides, versions and their differences, validation by field,
the audit log, and a room registered later."""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from starlette.exceptions import StarletteDeprecationWarning

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

from hub.access import Role
from hub.app import create_app
from hub.settings import HubSettings
from tests.unit.hub_helpers import ROOM, SITE, bearer

API = "/api/v1"
SCHOOL = f"{API}/sites/{SITE}/config"
ROOMS = f"{API}/rooms/{SITE}"
PERIODS = [
    {"period": 1, "start": "07:00", "end": "07:45"},
    {"period": 2, "start": "07:50", "end": "08:35"},
    {"period": 3, "start": "08:50", "end": "09:35"},
]
TIMETABLE = {"morning": PERIODS, "holidays": [{"start": "2026-02-14", "end": "2026-02-22"}]}


def write_sites(path: Path, rooms: list[str]) -> Path:
    path.write_text(f"sites:\n  - id: {SITE}\n    name: A\n    rooms: {rooms}\n")
    return path


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> HubSettings:
    sites = write_sites(tmp_path / "sites.yaml", [ROOM, "6a2"])
    return HubSettings(database_url=database_url, sites_file=sites)


@pytest.fixture
def app(settings: HubSettings) -> FastAPI:
    return create_app(settings, connect_mqtt=False)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as c:
        c.headers.update(bearer(app, Role.IT, username="lan"))
        yield c


def put(client: TestClient, url: str, config: dict[str, Any], comment: str = "") -> Any:
    r = client.put(url, json={"config": config, "comment": comment})
    assert r.status_code == 202, r.text
    return r.json()


def get(client: TestClient, url: str, expected: int = 200) -> Any:
    r = client.get(url)
    assert r.status_code == expected, r.text
    return r.json()


def test_school_defaults_with_room_overrides(client: TestClient) -> None:
    school = {"timetable": TIMETABLE, "rules": {"co2": {"co2_ppm": 1100}}}
    made = put(client, SCHOOL, school, "năm học 2025-2026")
    assert made["version"] == 1
    assert [(p["room"], p["version"], p["pushed"]) for p in made["pushes"]] == [
        (ROOM, 1, False),
        ("6a2", 1, False),
    ], "every room of the school gets it; no broker here, so none is pushed yet"
    override = {"timetable": {"lead_min": 10, "lesson_plan": {"mon": {"2": {"projector": True}}}}}
    assert put(client, f"{ROOMS}/{ROOM}/config", override)["version"] == 2

    mine = get(client, f"{ROOMS}/{ROOM}/config")
    assert (mine["version"], mine["site_version"], mine["cause"]) == (2, 1, "room")
    assert mine["document"] == override
    timetable = mine["effective"]["timetable"]
    assert (timetable["morning"], timetable["lead_min"]) == (PERIODS, 10)
    assert timetable["lesson_plan"]["mon"]["2"]["projector"] is True
    assert mine["effective"]["rules"]["co2"]["co2_ppm"] == 1100
    assert mine["status"] == {
        "latest": 2, "pushed": 0, "pending": True, "applied": None, "applied_ok": None,
        "refused": None, "applied_text": None,
    }  # fmt: skip
    other = get(client, f"{ROOMS}/6a2/config")
    assert (other["version"], other["cause"], other["document"]) == (1, "school", {})
    assert other["effective"]["timetable"]["lead_min"] == 5

    changed = put(client, SCHOOL, {**school, "timetable": {**TIMETABLE, "lead_min": 7}})
    assert [(p["room"], p["version"]) for p in changed["pushes"]] == [("6a2", 2)], (
        "a room whose own value hides the change keeps its version"
    )
    assert get(client, f"{ROOMS}/{ROOM}/config")["version"] == 2
    assert get(client, f"{ROOMS}/6a2/config")["effective"]["timetable"]["lead_min"] == 7

    school_now = get(client, SCHOOL)
    assert (school_now["version"], school_now["author"], school_now["role"]) == (2, "lan", "it")
    history = get(client, f"{SCHOOL}/versions")
    assert [(v["version"], v["comment"]) for v in history] == [
        (2, ""),
        (1, "năm học 2025-2026"),
    ]
    versions = get(client, f"{ROOMS}/6a2/config/versions")
    assert [(v["version"], v["cause"], v["site_version"]) for v in versions] == [
        (2, "school", 2),
        (1, "school", 1),
    ]


def locs(r: Any) -> list[tuple[Any, str]]:
    assert r.status_code == 422, r.text
    return [(tuple(p["loc"]), p["msg"]) for p in r.json()["detail"]]


def test_validation_names_the_field_and_stores_nothing(client: TestClient) -> None:
    url = f"{ROOMS}/{ROOM}/config"
    r = client.put(url, json={"config": {"timetable": {**TIMETABLE, "lead_min": -1}}})
    assert locs(r) == [
        (("body", "config", "timetable", "lead_min"), "Input should be greater than or equal to 0")
    ]
    r = client.put(url, json={"config": {"devices": {"lights": {"family": "lighting", "pin": 4}}}})
    assert locs(r) == [
        (("body", "config", "devices", "lights", "pin"), "Extra inputs are not permitted")
    ]
    r = client.put(url, json={"config": {"rules": {"co2": {"co2_ppm": 1000}}}, "by": "me"})
    assert locs(r) == [(("body", "by"), "Extra inputs are not permitted")]
    assert get(client, f"{url}/versions") == []

    put(client, SCHOOL, {"timetable": TIMETABLE})
    put(client, url, {"timetable": {"lesson_plan": {"mon": {"3": {"projector": True}}}}})
    r = client.put(SCHOOL, json={"config": {"timetable": {**TIMETABLE, "morning": PERIODS[:2]}}})
    assert locs(r) == [
        (
            ("body", "config", "timetable"),
            "with the overrides of room 6a1: Value error, lesson_plan.mon: no period 3 in the"
            " timetable",
        )
    ], "a school's change that breaks a room's overrides is refused, naming the room"
    assert get(client, SCHOOL)["version"] == 1
    assert [v["version"] for v in get(client, f"{url}/versions")] == [2, 1]
    r = client.put(SCHOOL, json={"config": {"timetable": {"lead_min": 3}}})
    assert locs(r) == [
        (
            ("body", "config", "timetable"),
            "Value error, the timetable has no periods (give morning and/or afternoon)",
        )
    ], "a school's defaults must stand on their own"


def test_versions_and_their_differences(client: TestClient) -> None:
    url = f"{ROOMS}/{ROOM}/config"
    put(client, url, {"timetable": TIMETABLE}, "first")
    put(client, url, {"timetable": {**TIMETABLE, "lead_min": 10}, "settings": {}}, "second")
    first = get(client, f"{url}/versions/1")
    assert (first["version"], first["comment"], first["document"]) == (
        1,
        "first",
        {"timetable": TIMETABLE},
    )
    assert first["effective"]["timetable"]["holidays"] == [
        {"start": "2026-02-14", "end": "2026-02-22", "name": ""}
    ]
    diff = get(client, f"{url}/versions/1/diff/2")
    assert diff["document"] == [
        {"path": ["timetable", "lead_min"], "op": "added", "old": None, "new": 10},
        {"path": ["settings"], "op": "added", "old": None, "new": {}},
    ]
    assert diff["effective"] == [
        {"path": ["timetable", "lead_min"], "op": "changed", "old": 5, "new": 10},
        {"path": ["settings"], "op": "added", "old": None,
         "new": {"telemetry_interval_s": 10.0}},
    ]  # fmt: skip
    back = get(client, f"{url}/versions/2/diff/0")
    assert [(c["path"], c["op"]) for c in back["effective"]] == [
        (["settings"], "removed"),
        (["timetable"], "removed"),
    ]
    assert get(client, f"{url}/versions/3", 404) == {"detail": "no version 3 of this room"}
    assert get(client, f"{url}/versions/1/diff/9", 404) == {"detail": "no version 9"}
    assert get(client, f"{SCHOOL}/versions/0/diff/0") == {
        "a": 0, "b": 0, "document": [], "effective": None
    }  # fmt: skip
    assert get(client, f"{ROOMS}/9z9/config", 404)["detail"] == f"unknown room {SITE}/9z9"


def test_every_change_and_push_is_audited(app: FastAPI, client: TestClient) -> None:
    put(client, SCHOOL, {"rules": {"co2": {"co2_ppm": 1000}}}, "thresholds")
    client.put(f"{ROOMS}/{ROOM}/config", json={"config": {"rules": {"co2": {"co2_ppm": -1}}}})
    entries = get(client, f"{API}/audit?site={SITE}")
    seen = [(e["action"], e["room"], e["outcome"], e["detail"]) for e in entries]
    assert seen[0] == (
        "config_change", None, "ok",
        {"version": 1, "comment": "thresholds", "rooms": {ROOM: 1, "6a2": 1}},
    )  # fmt: skip
    assert sorted(seen[1:3]) == [
        ("config_push", ROOM, "NotConnected", {"version": 1, "retry": False}),
        ("config_push", "6a2", "NotConnected", {"version": 1, "retry": False}),
    ], "the rooms are pushed at once, each audited"
    assert seen[3:] == [
        ("config_change", ROOM, "invalid",
         {"problems": "rules.co2.co2_ppm: Input should be greater than 0"}),
    ]  # fmt: skip
    assert {e["actor"] for e in entries} == {"lan"}


def test_a_room_registered_later_gets_its_school_s_configuration(
    tmp_path: Path, settings: HubSettings
) -> None:
    app = create_app(settings, connect_mqtt=False)
    with TestClient(app) as client:
        client.headers.update(bearer(app, Role.IT))
        put(client, SCHOOL, {"settings": {"telemetry_interval_s": 30}})
    sites = write_sites(tmp_path / "more.yaml", [ROOM, "6a2", "9a1"])
    again = create_app(settings.model_copy(update={"sites_file": sites}), connect_mqtt=False)
    with TestClient(again) as client:
        client.headers.update(bearer(again, Role.IT))
        deadline = time.monotonic() + 10
        while (found := get(client, f"{ROOMS}/9a1/config"))["version"] == 0:
            assert time.monotonic() < deadline, "the new room never got a version"
            time.sleep(0.02)
    assert (found["version"], found["cause"], found["author"]) == (1, "new room", "")
    assert found["effective"]["settings"] == {"telemetry_interval_s": 30.0}
    assert found["status"]["pending"] is True
