"""IT manages the users of its schools through the API, on SQLite and PostgreSQL: a new user
with a password shown once, disabling and enabling, a new password, the rooms or schools
they reach; never beyond IT's own schools, every change audited without the password."""

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
from tests.unit.hub_helpers import ROOM, SITE, bearer, users_of

OTHER = "thcs-phan-boi-chau"
USERS = "/api/v1/users"


@pytest.fixture
def app(tmp_path: Path, database_url: str) -> FastAPI:
    sites = tmp_path / "sites.yaml"
    sites.write_text(
        f"sites:\n  - id: {SITE}\n    name: A\n    rooms: ['{ROOM}', '6a2']\n"
        f"  - id: {OTHER}\n    name: B\n    rooms: ['7b1']\n",
        encoding="utf-8",
    )
    settings = HubSettings(
        database_url=database_url, sites_file=sites, argon2_time_cost=1, argon2_memory_kib=8192
    )
    return create_app(settings, connect_mqtt=False)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as c:
        c.headers.update(bearer(app, Role.IT, username="it.minh"))
        yield c


def login(client: TestClient, username: str, password: str) -> int:
    r = client.post("/api/v1/auth/login", json={"username": username, "password": password})
    client.cookies.clear()
    return r.status_code


def add(client: TestClient, **body: Any) -> Any:
    r = client.post(USERS, json=body)
    assert r.status_code == 201, r.text
    return r.json()


def audit(client: TestClient) -> list[dict[str, Any]]:
    r = client.get("/api/v1/audit", params={"limit": 1000})
    assert r.status_code == 200, r.text
    return [e for e in r.json() if e["action"].startswith("user_")]


def test_a_new_teacher_signs_in_with_the_password_shown_once(client: TestClient) -> None:
    made = add(client, username="co.lan", display_name="Cô Lan", role="teacher",
               rooms=[f"{SITE}/{ROOM}"])  # fmt: skip
    assert made["user"] == {
        "username": "co.lan", "display_name": "Cô Lan", "role": "teacher", "sites": [],
        "rooms": [f"{SITE}/{ROOM}"], "disabled": False, "created_at": made["user"]["created_at"],
        "last_login_at": None,
    }  # fmt: skip
    password = made["password"]
    assert len(password) >= 16
    assert login(client, "co.lan", password) == 200
    listed = {u["username"]: u for u in client.get(USERS).json()}
    assert listed["co.lan"]["last_login_at"] is not None
    assert "password" not in listed["co.lan"], "a password is shown once, never listed"

    [entry] = audit(client)
    assert (entry["action"], entry["site"], entry["actor"]) == ("user_add", SITE, "it.minh")
    assert entry["detail"]["user"] == "co.lan"
    assert password not in repr(entry), "the audit log never holds a password"


def test_it_sees_and_manages_only_the_users_of_its_schools(
    app: FastAPI, client: TestClient
) -> None:
    users = users_of(app)
    users.add("it.other", Role.IT, None, sites=[OTHER])
    users.add("co.both", Role.TEACHER, None, rooms=[(SITE, ROOM), (OTHER, "7b1")])
    users.add("phong.gd", Role.DISTRICT, None)
    add(client, username="bgh.hoa", role="admin", sites=[SITE])
    names = [u["username"] for u in client.get(USERS).json()]
    assert names == ["bgh.hoa", "it.minh"], "nobody of another school, nor the district"
    for name in ("it.other", "co.both", "phong.gd", "nobody.at.all"):
        for action in ("disable", "enable", "password"):
            r = client.post(f"{USERS}/{name}/{action}")
            assert r.status_code == 404, (name, action, r.text)
        r = client.put(f"{USERS}/{name}/reach", json={"sites": [SITE]})
        assert r.status_code == 404, (name, r.text)
    assert users.by_name("it.other").disabled is False  # type: ignore[union-attr]


REFUSED: list[tuple[dict[str, Any], str]] = [
    ({"role": "teacher", "rooms": [f"{OTHER}/7b1"]}, "rooms"),
    ({"role": "teacher", "rooms": [f"{SITE}/9z9"]}, "rooms"),
    ({"role": "teacher", "sites": [SITE]}, "sites"),
    ({"role": "teacher"}, "rooms"),
    ({"role": "it", "sites": [OTHER]}, "sites"),
    ({"role": "admin", "rooms": [f"{SITE}/{ROOM}"]}, "rooms"),
    ({"role": "admin"}, "sites"),
    ({"role": "district"}, "role"),
    ({"role": "teacher", "rooms": [f"{SITE}/{ROOM}"], "username": "Bad Name"}, "username"),
]
"""Bodies IT may not send, and the field the refusal names."""


def test_what_does_not_fit_is_refused_naming_the_field(client: TestClient) -> None:
    for body, field in REFUSED:
        r = client.post(USERS, json={"username": "co.mai", **body})
        assert r.status_code == 422, (body, r.text)
        assert [p["loc"][:2] for p in r.json()["detail"]] == [["body", field]], body
    assert "co.mai" not in [u["username"] for u in client.get(USERS).json()]


def test_a_name_taken_is_a_conflict(client: TestClient) -> None:
    add(client, username="co.lan", role="teacher", rooms=[f"{SITE}/{ROOM}"])
    r = client.post(USERS, json={"username": "co.lan", "role": "admin", "sites": [SITE]})
    assert r.status_code == 409, r.text


def test_disable_enable_and_a_new_password(client: TestClient) -> None:
    first = add(client, username="co.lan", role="teacher", rooms=[f"{SITE}/{ROOM}"])["password"]
    with TestClient(client.app) as teacher:
        assert (
            teacher.post(
                "/api/v1/auth/login", json={"username": "co.lan", "password": first}
            ).status_code
            == 200
        )
        assert teacher.get("/api/v1/auth/me").status_code == 200

        r = client.post(f"{USERS}/co.lan/disable")
        assert (r.status_code, r.json()["disabled"]) == (200, True)
        assert teacher.get("/api/v1/auth/me").status_code == 401, "the session ended"
        assert login(client, "co.lan", first) == 401
        r = client.post(f"{USERS}/co.lan/enable")
        assert (r.status_code, r.json()["disabled"]) == (200, False)
        assert login(client, "co.lan", first) == 200

        assert (
            teacher.post(
                "/api/v1/auth/login", json={"username": "co.lan", "password": first}
            ).status_code
            == 200
        )
        r = client.post(f"{USERS}/co.lan/password")
        assert r.status_code == 200, r.text
        second = r.json()["password"]
        assert second != first
        assert teacher.get("/api/v1/auth/me").status_code == 401, "a new password ends sessions"
    assert login(client, "co.lan", first) == 401
    assert login(client, "co.lan", second) == 200
    assert [e["action"] for e in audit(client)] == [
        "user_add", "user_disable", "user_enable", "user_password_reset",
    ]  # fmt: skip
    assert second not in repr(audit(client))


def test_it_cannot_disable_itself(client: TestClient) -> None:
    r = client.post(f"{USERS}/it.minh/disable")
    assert r.status_code == 409, r.text
    assert client.get(USERS).status_code == 200


def test_rooms_are_assigned_within_the_school(client: TestClient) -> None:
    add(client, username="co.lan", role="teacher", rooms=[f"{SITE}/{ROOM}"])
    r = client.put(f"{USERS}/co.lan/reach", json={"rooms": [f"{SITE}/{ROOM}", f"{SITE}/6a2"]})
    assert r.status_code == 200, r.text
    assert r.json()["rooms"] == [f"{SITE}/{ROOM}", f"{SITE}/6a2"]
    r = client.put(f"{USERS}/co.lan/reach", json={"rooms": [f"{OTHER}/7b1"]})
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"] == ["body", "rooms"]
    r = client.put(f"{USERS}/co.lan/reach", json={"sites": [SITE]})
    assert r.status_code == 422, "a teacher is given rooms"
    [me] = [u for u in client.get(USERS).json() if u["username"] == "co.lan"]
    assert me["rooms"] == [f"{SITE}/{ROOM}", f"{SITE}/6a2"], "a refused change changes nothing"
    reach = [e for e in audit(client) if e["action"] == "user_reach"]
    assert [e["detail"]["rooms"] for e in reach] == [[f"{SITE}/{ROOM}", f"{SITE}/6a2"]]


def test_only_it_manages_users(app: FastAPI, client: TestClient) -> None:
    for role in (Role.TEACHER, Role.ADMIN, Role.DISTRICT):
        headers = bearer(app, role)
        assert client.get(USERS, headers=headers).status_code == 403
        r = client.post(USERS, headers=headers, json={"username": "x.y", "role": "teacher",
                                                      "rooms": [f"{SITE}/{ROOM}"]})  # fmt: skip
        assert r.status_code == 403
