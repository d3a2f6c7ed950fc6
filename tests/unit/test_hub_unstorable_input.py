"""Input PostgreSQL cannot store or compare (a NUL, an id past 32 bits) is an answer of the
hub, never a server error, on PostgreSQL as on SQLite. Each was found by the API fuzz
(tests/unit/test_api_fuzz.py) on PostgreSQL."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from starlette.exceptions import StarletteDeprecationWarning

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

from hub.access import Role
from hub.app import create_app
from hub.settings import HubSettings
from protocol.messages import INT32_MAX
from tests.unit.hub_helpers import ROOM, SITE, bearer

API = "/api/v1"


@pytest.fixture
def client(tmp_path: Path, database_url: str) -> Iterator[TestClient]:
    sites = tmp_path / "sites.yaml"
    sites.write_text(f"sites:\n  - id: {SITE}\n    name: A\n    rooms: ['{ROOM}']\n")
    app: FastAPI = create_app(
        HubSettings(database_url=database_url, sites_file=sites), connect_mqtt=False
    )
    with TestClient(app) as c:
        c.headers.update(bearer(app, Role.IT))
        yield c


@pytest.mark.parametrize(("name", "kept"), [("\\u0000", "\ufffd"), ("lan\\u0000", "lan\ufffd")])
def test_a_sign_in_with_a_name_nobody_can_have_is_refused_and_audited(
    client: TestClient, name: str, kept: str
) -> None:
    body = f'{{"username": "{name}", "password": "whatever!"}}'  # JSON escapes, sent as they are
    r = client.post(f"{API}/auth/login", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 401, r.text
    found = client.get(f"{API}/audit", params={"action": "login_failed"})
    assert found.status_code == 200, found.text
    assert [e["actor"] for e in found.json()] == [kept]
    typed = name.replace("\\u0000", "\x00")  # the name as typed finds the entry
    by_name = client.get(f"{API}/audit", params={"user": typed})
    assert [e["actor"] for e in by_name.json()] == [kept]


@pytest.mark.parametrize(("after_id", "status"), [(INT32_MAX, 200), (INT32_MAX + 1, 422)])
def test_audit_pages_after_an_id_within_the_ids_range(
    client: TestClient, after_id: int, status: int
) -> None:
    for path in ("/audit", "/audit.csv"):
        r = client.get(f"{API}{path}", params={"after_id": after_id})
        assert r.status_code == status, (path, r.text)


def test_a_token_named_with_a_nul_is_refused_naming_the_field(client: TestClient) -> None:
    body = '{"name": "b\\u0000o c\\u00e1o"}'  # a JSON escape, sent as it is
    r = client.post(
        f"{API}/auth/tokens", content=body, headers={"content-type": "application/json"}
    )
    assert r.status_code == 422, r.text
    [problem] = r.json()["detail"]
    assert (problem["loc"], problem["msg"]) == (
        ["body", "name"], "Value error, text: must not contain NUL characters"
    )  # fmt: skip
    names = [t["name"] for t in client.get(f"{API}/auth/tokens").json()]
    assert names == ["tests"]  # the client's own, nothing more
