"""Signing in: sessions with CSRF protection, bearer tokens stored hashed, the sign-in limit,
disabled users, and the audit entries all of it leaves."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy import select, update
from starlette.exceptions import StarletteDeprecationWarning

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

from hub.access import Role
from hub.app import create_app
from hub.audit import AuditEntry
from hub.login_limit import LoginLimiter, Window
from hub.settings import HubSettings
from hub.users import ApiToken, User, Users, WebSession
from protocol import utcnow
from tests.unit.hub_helpers import ROOM, SITE, bearer

API = "/api/v1"
PASSWORD = "correct horse battery"
CHEAP = {"argon2_time_cost": 1, "argon2_memory_kib": 8192}
"""Lower argon2 costs than the default (3 passes, 64 MiB), to keep the tests quick."""


@pytest.fixture
def app(tmp_path: Path, database_url: str) -> Iterator[FastAPI]:
    sites = tmp_path / "sites.yaml"
    sites.write_text(f"sites:\n  - id: {SITE}\n    name: A\n    rooms: ['{ROOM}', '6a2']\n")
    settings = HubSettings(database_url=database_url, sites_file=sites, **CHEAP)
    hub_app = create_app(settings, connect_mqtt=False)
    with TestClient(hub_app):
        users: Users = hub_app.state.hub.users
        users.add("lan", Role.IT, PASSWORD, sites=[SITE])
        users.add("thu", Role.TEACHER, PASSWORD, rooms=[(SITE, ROOM)])
        yield hub_app


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


def users_of(app: FastAPI) -> Users:
    users: Users = app.state.hub.users
    return users


def audit_actions(app: FastAPI) -> list[tuple[str, str, str]]:
    with users_of(app).engine.connect() as conn:
        rows = conn.execute(
            select(AuditEntry.action, AuditEntry.actor, AuditEntry.outcome).order_by(AuditEntry.id)
        )
        return [(r[0], r[1], r[2]) for r in rows]


def sign_in(client: TestClient, username: str = "lan", password: str = PASSWORD) -> str:
    r = client.post(f"{API}/auth/login", json={"username": username, "password": password})
    assert r.status_code == 200, r.text
    csrf: str = r.json()["csrf_token"]
    return csrf


def test_a_session_cookie_is_httponly_samesite_and_carries_a_csrf_token(
    client: TestClient,
) -> None:
    r = client.post(f"{API}/auth/login", json={"username": "lan", "password": PASSWORD})
    assert r.status_code == 200
    cookies = r.headers.get_list("set-cookie")
    [session] = [c for c in cookies if c.startswith("smartclass_session=")]
    [csrf] = [c for c in cookies if c.startswith("smartclass_csrf=")]
    assert "HttpOnly" in session
    assert "SameSite=strict" in session
    assert "Secure" not in session, "plain HTTP: auto leaves Secure off"
    assert "HttpOnly" not in csrf, "the page reads it to send it back"
    body = r.json()
    assert body["user"]["role"] == "it"
    assert body["user"]["sites"] == [SITE]
    assert f"smartclass_csrf={body['csrf_token']}" in csrf
    assert client.get(f"{API}/auth/me").json()["username"] == "lan"


def test_a_secure_cookie_over_https(app: FastAPI) -> None:
    with TestClient(app, base_url="https://hub.school") as c:
        r = c.post(f"{API}/auth/login", json={"username": "lan", "password": PASSWORD})
        [session] = [x for x in r.headers.get_list("set-cookie") if "smartclass_session" in x]
        assert "Secure" in session


def test_a_state_change_with_the_cookie_needs_the_csrf_token(client: TestClient) -> None:
    csrf = sign_in(client)
    made = {"name": "script"}
    assert client.post(f"{API}/auth/tokens", json=made).status_code == 403
    wrong = {"X-CSRF-Token": csrf[:-1] + ("A" if csrf[-1] != "A" else "B")}
    assert client.post(f"{API}/auth/tokens", json=made, headers=wrong).status_code == 403
    ok = client.post(f"{API}/auth/tokens", json=made, headers={"X-CSRF-Token": csrf})
    assert ok.status_code == 201
    assert client.get(f"{API}/auth/tokens").status_code == 200, "reads need no CSRF token"


def test_a_bearer_token_needs_no_csrf_token_and_is_stored_hashed(
    app: FastAPI, client: TestClient
) -> None:
    headers = bearer(app, Role.IT)
    r = client.post(f"{API}/auth/tokens", json={"name": "nightly"}, headers=headers)
    assert r.status_code == 201
    secret = r.json()["token"]
    assert secret.startswith("sct_")
    mine = {"Authorization": f"Bearer {secret}"}
    listed = client.get(f"{API}/auth/tokens", headers=mine).json()
    assert [t["name"] for t in listed] == ["tests", "nightly"]
    assert all("token" not in t for t in listed), "a secret is shown once"
    with users_of(app).engine.connect() as conn:
        stored = [row[0] for row in conn.execute(select(ApiToken.digest))]
    assert secret not in stored
    assert all(len(d) == 64 for d in stored)


def test_a_revoked_token_stops_at_once_and_others_tokens_cannot_be_revoked(
    app: FastAPI, client: TestClient
) -> None:
    mine, theirs = bearer(app, Role.IT), bearer(app, Role.IT)
    [their_token] = client.get(f"{API}/auth/tokens", headers=theirs).json()
    gone = client.delete(f"{API}/auth/tokens/{their_token['id']}", headers=mine)
    assert gone.status_code == 404
    assert client.get(f"{API}/auth/me", headers=theirs).status_code == 200
    assert (
        client.delete(f"{API}/auth/tokens/{their_token['id']}", headers=theirs).status_code == 204
    )
    r = client.get(f"{API}/auth/me", headers=theirs)
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == "Bearer"


def test_bad_credentials_are_refused_and_audited(app: FastAPI, client: TestClient) -> None:
    for body in (
        {"username": "lan", "password": "wrong password!"},
        {"username": "nobody", "password": PASSWORD},
    ):
        r = client.post(f"{API}/auth/login", json=body)
        assert (r.status_code, r.json()) == (401, {"detail": "wrong user name or password"})
    for header in ("Bearer sct_nope", "Basic abc", "Bearer "):
        assert client.get(f"{API}/rooms", headers={"Authorization": header}).status_code == 401
    client.cookies.set("smartclass_session", "scs_made-up")
    assert client.get(f"{API}/rooms").status_code == 401
    client.cookies.clear()
    sign_in(client)
    assert audit_actions(app) == [
        ("login_failed", "lan", "denied"),
        ("login_failed", "nobody", "denied"),
        ("login", "lan", "ok"),
    ]


def test_failed_sign_ins_are_limited_per_account_and_per_address(
    app: FastAPI, client: TestClient
) -> None:
    now = [0.0]
    app.state.hub.limiter = LoginLimiter(
        max_failures=5, address_failures=8, window_s=900, clock=lambda: now[0]
    )
    for _ in range(5):
        r = client.post(f"{API}/auth/login", json={"username": "lan", "password": "guess-guess"})
        assert r.status_code == 401
    r = client.post(f"{API}/auth/login", json={"username": "lan", "password": PASSWORD})
    assert r.status_code == 429, "even the right password waits out the limit"
    assert 0 < int(r.headers["retry-after"]) <= 900
    for i in range(3):  # other names from the same address: the address limit
        other = {"username": f"who{i}", "password": "guess-guess"}
        assert client.post(f"{API}/auth/login", json=other).status_code == 401
    thu = {"username": "thu", "password": PASSWORD}
    assert client.post(f"{API}/auth/login", json=thu).status_code == 429
    now[0] = 901  # the failures have left the window
    sign_in(client)
    assert ("login_refused", "lan", "rate_limited") in audit_actions(app)


def test_the_limit_remembers_a_bounded_number_of_names() -> None:
    window = Window(limit=2, window_s=60, keys_max=100, clock=lambda: 0.0)
    for i in range(10_000):
        window.fail(f"made-up-{i}")
    assert len(window._failures) == 100
    window.fail("x")
    window.fail("x")
    assert window.retry_after("x") == 60


def test_logout_ends_the_session(client: TestClient) -> None:
    csrf = sign_in(client)
    assert client.post(f"{API}/auth/logout", headers={"X-CSRF-Token": csrf}).status_code == 204
    assert client.get(f"{API}/auth/me").status_code == 401


def test_a_disabled_user_loses_sessions_and_tokens(app: FastAPI, client: TestClient) -> None:
    sign_in(client, "thu")
    _, secret = users_of(app).create_token(users_of(app).by_name("thu").id, "x")  # type: ignore[union-attr]
    users_of(app).set_disabled("thu", True)
    assert client.get(f"{API}/auth/me").status_code == 401
    assert (
        client.get(f"{API}/auth/me", headers={"Authorization": f"Bearer {secret}"}).status_code
        == 401
    )
    r = client.post(f"{API}/auth/login", json={"username": "thu", "password": PASSWORD})
    assert r.status_code == 401
    users_of(app).set_disabled("thu", False)
    assert (
        client.get(f"{API}/auth/me", headers={"Authorization": f"Bearer {secret}"}).status_code
        == 200
    )


def test_a_new_password_ends_every_session(app: FastAPI, client: TestClient) -> None:
    sign_in(client)
    users_of(app).set_password("lan", "a brand new secret")
    assert client.get(f"{API}/auth/me").status_code == 401
    sign_in(client, "lan", "a brand new secret")


def test_an_idle_or_old_session_ends(app: FastAPI, client: TestClient) -> None:
    sign_in(client)
    users = users_of(app)
    with users.engine.begin() as conn:
        conn.execute(update(WebSession).values(last_used_at=utcnow() - timedelta(hours=13)))
    assert client.get(f"{API}/auth/me").status_code == 401, "idle past 12 h"
    sign_in(client)
    with users.engine.begin() as conn:
        conn.execute(update(WebSession).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert client.get(f"{API}/auth/me").status_code == 401, "past its absolute end"


def test_passwords_are_argon2id_hashes_rehashed_when_the_costs_change(app: FastAPI) -> None:
    def hashes() -> list[str]:
        with users_of(app).engine.connect() as conn:
            return [row[0] for row in conn.execute(select(User.password_hash).order_by(User.id))]

    assert all(h.startswith("$argon2id$v=19$m=8192,t=1,") for h in hashes())
    assert all(PASSWORD not in h for h in hashes())
    stronger = Users(users_of(app).engine, argon2_time_cost=2, argon2_memory_kib=16384)
    assert stronger.verify("lan", PASSWORD) is not None, "an older hash still verifies"
    assert hashes()[0].startswith("$argon2id$v=19$m=16384,t=2,"), "and is made anew"


def test_a_user_without_a_password_uses_tokens_only(app: FastAPI, client: TestClient) -> None:
    headers = bearer(app, Role.IT, username="nightly-script")  # made without a password
    assert client.get(f"{API}/auth/me", headers=headers).status_code == 200
    for guess in ("!", "", "nightly-script"):
        r = client.post(f"{API}/auth/login", json={"username": "nightly-script", "password": guess})
        assert r.status_code in (401, 422), guess
