"""The permission matrix: every route, every role, own and someone else's rooms and schools.

The routes come from the app itself, so a new endpoint without an access rule fails here,
and so does one whose rule lets a role further than the table below (written by hand, and
checked against ``hub.access.POLICY``, so a change of rights is a deliberate change here too).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, routing
from fastapi.dependencies.models import Dependant
from starlette.exceptions import StarletteDeprecationWarning

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

from hub.access import POLICY, Action, Reach, Role
from hub.api.auth import Rule, rule_of
from hub.app import create_app
from hub.settings import HubSettings
from tests.unit.hub_helpers import bearer

SITE, OTHER_SITE = "thcs-nguyen-chi-thanh", "thcs-phan-boi-chau"
OWN_ROOM, COLLEAGUE_ROOM, OTHER_ROOM = (SITE, "6a1"), (SITE, "6a2"), (OTHER_SITE, "7b1")
TARGETS = {"own room": OWN_ROOM, "a colleague's room": COLLEAGUE_ROOM, "another school": OTHER_ROOM}

R, S, E = Reach.OWN_ROOMS, Reach.OWN_SITES, Reach.EVERYWHERE
EXPECTED: dict[Role, dict[Action, Reach]] = {
    Role.TEACHER: {
        Action.ROOM_READ: R,
        Action.ROOM_CONTROL: R,
        Action.CONFIG_READ: R,
        Action.PERSONAL_READ: R,
    },
    Role.IT: {
        Action.ROOM_READ: S,
        Action.ROOM_CONTROL: S,
        Action.FLEET_READ: S,
        Action.FLEET_OPERATE: S,
        Action.CONFIG_READ: S,
        Action.CONFIG_WRITE: S,
        Action.REPORT_READ: S,
        Action.AUDIT_READ: S,
        Action.HUB_ADMIN: E,
        Action.USERS_MANAGE: S,
        Action.PERSONAL_READ: S,
        Action.CONSENT_MANAGE: S,
    },
    Role.ADMIN: {
        Action.ROOM_READ: S,
        Action.FLEET_READ: S,
        Action.CONFIG_READ: S,
        Action.REPORT_READ: S,
        Action.AUDIT_READ: S,
        Action.PERSONAL_READ: S,
    },
    Role.DISTRICT: {
        Action.ROOM_READ: E,
        Action.FLEET_READ: E,
        Action.CONFIG_READ: E,
        Action.REPORT_READ: E,
    },
}
"""Who may do what: teachers their rooms; IT their schools and their users (and the hub's own
operations), their students' attendance and consent; admins their schools, read-only;
district staff every school, read-only."""


def reaches(reach: Reach | None, target: tuple[str, str], kind: str = "room") -> bool:
    """Whether a right of this reach covers a route of ``kind`` on ``target``: a route of a
    whole school (``site``) is never within reach of one's own rooms."""
    if reach is None:
        return False
    if reach is Reach.EVERYWHERE:
        return True
    if reach is Reach.OWN_SITES:
        return target[0] == SITE
    return kind == "room" and target == OWN_ROOM


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory, module_database_url: str) -> FastAPI:
    """The hub app; each test starts it (a lifespan of its own, never one inside another)."""
    tmp = tmp_path_factory.mktemp("permissions")
    sites = tmp / "sites.yaml"
    sites.write_text(
        f"sites:\n  - id: {SITE}\n    name: A\n    rooms: ['6a1', '6a2']\n"
        f"  - id: {OTHER_SITE}\n    name: B\n    rooms: ['7b1']\n",
        encoding="utf-8",
    )
    settings = HubSettings(database_url=module_database_url, sites_file=sites)
    return create_app(settings, connect_mqtt=False)


@pytest.fixture(scope="module")
def tokens(module_database_url: str) -> dict[Role, dict[str, str]]:
    """A teacher of OWN_ROOM, IT and an admin of SITE, a district user."""
    return {role: bearer(module_database_url, role) for role in Role}


def routes(app: FastAPI) -> list[Any]:
    """Every endpoint of the app, with the path and dependencies it is served with (FastAPI
    keeps included routers as such; this is how its own OpenAPI walks them)."""
    found = [c for c in routing.iter_route_contexts(app.routes) if getattr(c, "dependant", None)]
    assert len(found) >= 15
    return found


def rules_of(dependant: Dependant) -> list[Rule]:
    found = []
    for sub in dependant.dependencies:
        rule = rule_of(sub.call)
        if rule is not None:
            found.append(rule)
        found += rules_of(sub)
    return found


def the_rule(route: Any) -> Rule:
    rules = rules_of(route.dependant)
    assert len(rules) == 1, f"{route.methods} {route.path} needs exactly one access rule: {rules}"
    return rules[0]


def test_the_policy_is_the_table_above() -> None:
    assert {role: dict(rights) for role, rights in POLICY.items()} == EXPECTED


def test_every_route_has_exactly_one_rule(app: FastAPI) -> None:
    public = sorted(r.path for r in routes(app) if the_rule(r).kind == "public")
    expected = ["/api/v1/auth/login", "/healthz", "/lang/{code}", "/login"]
    assert public == expected, "only these need no sign-in (the sign-in and the language)"
    for route in routes(app):
        rule = the_rule(route)
        params = set(route.param_convertors)
        if rule.kind == "room":
            assert {"site", "room"} <= params, route.path
        elif rule.kind == "site":
            assert "site" in params, route.path
        else:
            assert "site" not in params, f"{route.path}: a route under a site checks the site"


def url_of(route: Any, target: tuple[str, str]) -> str:
    values = {
        "site": target[0], "room": target[1], "device": "lights", "token_id": "1", "alert_id": "1",
        "version": "1", "a": "0", "b": "1", "code": "en", "username": "no.such.user",
    }  # fmt: skip
    path = route.path
    for name in route.param_convertors:
        path = path.replace(f"{{{name}}}", values[name])
    return path


def cases(app: FastAPI) -> Iterator[tuple[Any, str, Rule]]:
    for route in routes(app):
        for method in sorted(route.methods):
            yield route, method, the_rule(route)


def is_page_path(path: str) -> bool:
    return not path.startswith(("/api/", "/healthz", "/metrics", "/openapi.json"))


def call(client: TestClient, method: str, url: str, headers: dict[str, str]) -> Any:
    """The answer, read whole unless it is an endless event stream (its status is enough)."""
    body = {} if method in ("POST", "PUT", "PATCH") else None
    with client.stream(method, url, headers=headers, json=body, follow_redirects=False) as r:
        if r.headers.get("content-type", "").startswith("text/event-stream"):
            return httpx.Response(r.status_code, headers=r.headers, content=b"")
        r.read()
    return r


def test_nothing_but_the_public_routes_answers_without_credentials(app: FastAPI) -> None:
    with TestClient(app) as client:
        for route, method, rule in cases(app):
            r = call(client, method, url_of(route, OWN_ROOM), {})
            if rule.kind == "public":
                assert r.status_code != 401, (method, route.path)
            elif is_page_path(route.path):  # a page sends the browser to sign in first
                assert r.status_code == 303, (method, route.path, r.status_code)
                assert r.headers["location"].startswith("/login?next=%2F"), route.path
            else:
                assert r.status_code == 401, (method, route.path, r.status_code)
                assert r.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("role", list(Role))
def test_each_role_reaches_exactly_what_the_table_says(
    app: FastAPI, tokens: dict[Role, dict[str, str]], role: Role
) -> None:
    checked = 0
    with TestClient(app) as client:
        for route, method, rule in cases(app):
            if rule.kind in ("public", "authenticated") or route.path.startswith("/api/v1/auth"):
                continue
            assert rule.action is not None
            reach = EXPECTED[role].get(rule.action)
            targets = TARGETS.items() if rule.kind in ("room", "site") else [("hub", OWN_ROOM)]
            for where, target in targets:
                allowed = (
                    reach is not None if rule.kind == "hub" else reaches(reach, target, rule.kind)
                )
                r = call(client, method, url_of(route, target), tokens[role])
                what = (role.value, method, route.path, where, r.status_code, r.text[:200])
                if allowed:
                    assert r.status_code not in (401, 403), what
                else:
                    assert r.status_code == 403, what
                    if is_page_path(route.path):
                        assert r.headers["content-type"].startswith("text/html"), what
                        assert target[1] not in r.text, "a refused page shows nothing of the room"
                    else:
                        assert set(r.json()) == {"detail"}, "a refusal carries no data"
                checked += 1
    assert checked >= 15, "every room route three times, every hub route once"


def test_lists_show_only_what_the_caller_may_see(
    app: FastAPI, tokens: dict[Role, dict[str, str]]
) -> None:
    seen = {}
    with TestClient(app) as client:
        for role in Role:
            rooms = client.get("/api/v1/rooms", headers=tokens[role]).json()
            seen[role] = {(r["site"], r["room"]) for r in rooms}
    assert seen[Role.TEACHER] == {OWN_ROOM}
    assert seen[Role.IT] == seen[Role.ADMIN] == {OWN_ROOM, COLLEAGUE_ROOM}
    assert seen[Role.DISTRICT] == set(TARGETS.values())
