"""What a configuration change would do, asked before making it, on SQLite and PostgreSQL:
the differences against the newest version, the rooms it would give a new version, the same
422 as a change (each problem by its field), and nothing stored."""

from __future__ import annotations

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

SCHOOL = f"/api/v1/sites/{SITE}/config"
MINE = f"/api/v1/rooms/{SITE}/{ROOM}/config"
MORNING = [
    {"period": 1, "start": "07:00", "end": "07:45"},
    {"period": 2, "start": "07:50", "end": "08:35"},
]


@pytest.fixture
def client(tmp_path: Path, database_url: str) -> Iterator[TestClient]:
    sites = tmp_path / "sites.yaml"
    sites.write_text(f"sites:\n  - id: {SITE}\n    name: A\n    rooms: ['{ROOM}', '6a2']\n")
    app: FastAPI = create_app(
        HubSettings(database_url=database_url, sites_file=sites), connect_mqtt=False
    )
    with TestClient(app) as c:
        c.headers.update(bearer(app, Role.IT))
        yield c


def preview(client: TestClient, url: str, config: dict[str, Any], status: int = 200) -> Any:
    r = client.post(f"{url}/preview", json={"config": config})
    assert r.status_code == status, r.text
    return r.json()


def test_a_school_change_says_what_and_which_rooms_before_it_is_made(client: TestClient) -> None:
    school = {"timetable": {"morning": MORNING}, "rules": {"co2": {"co2_ppm": 1100}}}
    seen = preview(client, SCHOOL, school)
    assert seen["version"] == 0
    assert [(c["path"], c["op"]) for c in seen["document"]] == [
        (["timetable"], "added"),
        (["rules"], "added"),
    ]
    assert seen["rooms"] == [ROOM, "6a2"]
    assert client.get(SCHOOL).json()["version"] == 0, "nothing stored"
    assert client.put(SCHOOL, json={"config": school}).status_code == 202

    room = {"rules": {"co2": {"co2_ppm": 900}}}
    seen = preview(client, MINE, room)
    assert seen["rooms"] == [ROOM]
    assert [(c["path"], c["op"], c["old"], c["new"]) for c in seen["effective"]] == [
        (["rules", "co2", "co2_ppm"], "changed", 1100, 900),
    ]
    assert client.get(MINE).json()["version"] == 1, "still the school's version only"

    same = preview(client, SCHOOL, school)
    assert (same["document"], same["rooms"]) == ([], []), "the same again changes nothing"


def test_a_document_that_does_not_fit_names_the_field(client: TestClient) -> None:
    bad = {"timetable": {"morning": [{"period": 1, "start": "07:00", "end": "25:00"}]}}
    problems = preview(client, MINE, bad, 422)["detail"]
    assert [p["loc"] for p in problems] == [
        ["body", "config", "timetable", "morning", 0, "end"],
    ]
    problems = preview(client, SCHOOL, {"rules": {"co2": {"co2_ppm": -5}}}, 422)["detail"]
    assert problems[0]["loc"][:5] == ["body", "config", "rules", "co2", "co2_ppm"]

    school = {"timetable": {"morning": MORNING}}
    assert client.put(SCHOOL, json={"config": school}).status_code == 202
    room = {"timetable": {"lesson_plan": {"mon": {"2": {"projector": True}}}}}
    assert client.put(MINE, json={"config": room}).status_code == 202
    shorter = {"timetable": {"morning": MORNING[:1]}}  # the room's lesson plan needs period 2
    clash = preview(client, SCHOOL, shorter, 422)["detail"]
    assert [p["loc"] for p in clash] == [["body", "config", "timetable"]]
    assert f"with the overrides of room {ROOM}" in clash[0]["msg"]
    assert client.get(SCHOOL).json()["version"] == 1, "nothing stored"


def test_only_those_who_may_change_may_ask(tmp_path: Path, client: TestClient) -> None:
    app = client.app
    for role in (Role.TEACHER, Role.ADMIN, Role.DISTRICT):
        r = client.post(f"{MINE}/preview", json={"config": {}}, headers=bearer(app, role))
        assert r.status_code == 403, role
