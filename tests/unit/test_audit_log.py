"""The audit log: an entry for every command and configuration push, read by school,
filtered, paged and exported as CSV, never edited through the API, pruned by retention."""

from __future__ import annotations

import csv
import io
import warnings
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from starlette.exceptions import StarletteDeprecationWarning

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

from hub.access import Role, Scope
from hub.app import create_app
from hub.audit import Audit, AuditFilter
from hub.settings import HubSettings
from protocol import utcnow
from tests.unit.hub_helpers import ROOM, SITE, bearer

API = "/api/v1"
OTHER = "thcs-phan-boi-chau"


@pytest.fixture
def app(tmp_path: Path, database_url: str) -> Iterator[FastAPI]:
    sites = tmp_path / "sites.yaml"
    sites.write_text(
        f"sites:\n  - id: {SITE}\n    name: A\n    rooms: ['{ROOM}', '6a2']\n"
        f"  - id: {OTHER}\n    name: B\n    rooms: ['7b1']\n"
    )
    hub_app = create_app(
        HubSettings(database_url=database_url, sites_file=sites), connect_mqtt=False
    )
    with TestClient(hub_app):
        yield hub_app


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


def entries(client: TestClient, headers: dict[str, str], **query: str) -> list[dict[str, object]]:
    r = client.get(f"{API}/audit", headers=headers, params=query)
    assert r.status_code == 200, r.text
    found: list[dict[str, object]] = r.json()
    return found


def test_every_command_and_config_push_is_audited_with_its_outcome(
    app: FastAPI, client: TestClient
) -> None:
    it = bearer(app, Role.IT, username="lan")
    command = {"action": "on", "params": {"zone": "front"}}
    r = client.post(f"{API}/rooms/{SITE}/{ROOM}/devices/lights/commands", json=command, headers=it)
    assert r.status_code == 503, "no broker in this test: the command cannot go"
    change = {"config": {"settings": {"telemetry_interval_s": 30}}, "comment": "slower"}
    r = client.put(f"{API}/rooms/{SITE}/{ROOM}/config", json=change, headers=it)
    assert r.status_code == 202, "stored; pushed once the broker is there"
    assert r.json()["pushes"][0]["pushed"] is False
    found = entries(client, it, site=SITE)
    assert [(e["action"], e["actor"], e["role"], e["via"]) for e in found] == [
        ("command", "lan", "it", "token"),
        ("config_change", "lan", "it", "token"),
        ("config_push", "lan", "it", "token"),
    ]
    sent, changed, pushed = found
    assert (sent["site"], sent["room"], sent["device"]) == (SITE, ROOM, "lights")
    assert sent["detail"] == {"action": "on", "params": {"zone": "front"}}
    assert sent["outcome"] == "NotConnected"
    assert isinstance(sent["duration_ms"], float)
    assert changed["detail"] == {"version": 1, "comment": "slower", "site_version": 0}
    assert (changed["room"], changed["outcome"]) == (ROOM, "ok")
    assert (pushed["detail"], pushed["outcome"]) == ({"version": 1, "retry": False}, "NotConnected")


def test_a_school_reads_only_its_own_entries(app: FastAPI, client: TestClient) -> None:
    audit: Audit = app.state.hub.audit
    audit.record_sync(None, "command", site=SITE, room=ROOM, device="lights")
    audit.record_sync(None, "command", site=OTHER, room="7b1", device="lights")
    audit.record_sync(None, "login_failed", actor_name="someone")
    ours = bearer(app, Role.ADMIN)
    theirs = bearer(app, Role.ADMIN, sites=[OTHER])
    it = bearer(app, Role.IT)
    assert [e["site"] for e in entries(client, ours)] == [SITE]
    assert [e["site"] for e in entries(client, theirs)] == [OTHER]
    assert [e["site"] for e in entries(client, it)] == [SITE, None], "IT also sees sign-ins"
    teacher = client.get(f"{API}/audit", headers=bearer(app, Role.TEACHER))
    assert teacher.status_code == 403


def test_filters_and_paging(app: FastAPI, client: TestClient) -> None:
    audit: Audit = app.state.hub.audit
    for i in range(5):
        audit.record_sync(None, "command", site=SITE, room=ROOM if i % 2 else "6a2", device="d")
    audit.record_sync(None, "config_push", site=SITE, room=ROOM, actor_name="x")
    it = bearer(app, Role.IT)
    assert len(entries(client, it, room=ROOM)) == 3
    assert len(entries(client, it, action="config_push")) == 1
    assert len(entries(client, it, user="x")) == 1
    first = entries(client, it, limit="2")
    assert len(first) == 2
    rest = entries(client, it, after_id=str(first[-1]["id"]))
    assert len(rest) == 4
    assert {e["id"] for e in first}.isdisjoint({e["id"] for e in rest})
    soon = (utcnow() + timedelta(minutes=1)).isoformat()
    assert entries(client, it, since=soon) == []
    assert len(entries(client, it, until=soon)) == 6
    bad = client.get(f"{API}/audit", headers=it, params={"since": "0001-01-01T00:00:00Z"})
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["query", "since"]


def test_the_csv_export(app: FastAPI, client: TestClient) -> None:
    audit: Audit = app.state.hub.audit
    audit.record_sync(None, "command", site=SITE, room=ROOM, device="lights",
                      detail={"action": "on", "text": "Bật đèn, \"lớp\" 6A1"})  # fmt: skip
    r = client.get(f"{API}/audit.csv", headers=bearer(app, Role.ADMIN))
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(r.text)))
    assert rows[0][:7] == ["id", "at", "actor", "role", "via", "address", "action"]
    [entry] = rows[1:]
    assert entry[6:10] == ["command", SITE, ROOM, "lights"]
    assert "Bật đèn" in entry[-1]


def test_nothing_in_the_api_edits_or_deletes_an_entry(app: FastAPI) -> None:
    paths = app.openapi()["paths"]
    methods = {m for path, ops in paths.items() if path.startswith(f"{API}/audit") for m in ops}
    assert methods == {"get"}


def test_retention_prunes_old_entries_only(app: FastAPI) -> None:
    engine = app.state.hub.audit.engine
    audit = Audit(engine, retention=timedelta(days=30))
    audit.record_sync(None, "command", site=SITE)
    assert audit.prune(now=utcnow() + timedelta(days=29)) == 0
    assert audit.prune(now=utcnow() + timedelta(days=31)) == 1
    assert Audit(engine).prune(now=utcnow() + timedelta(days=9999)) == 0, "no retention: kept"
    everything = Scope(everything=True)
    assert audit.query(everything, AuditFilter()) == []
