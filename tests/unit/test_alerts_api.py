"""The alerts API on SQLite and PostgreSQL, with real tokens: the fleet list (filters, pages,
the caller's schools only), one alert with its history, a room's own alerts for its teacher,
and IT's acknowledgement and resolution with a comment, each in the audit log."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.exceptions import StarletteDeprecationWarning

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

from hub.access import Role
from hub.alerts.engine import AlertEngine, room_events
from hub.alerts.rules import Limits
from hub.alerts.store import AlertStore
from hub.app import create_app
from hub.parsing import Parsed
from hub.settings import HubSettings
from hub.store import SiteSpec
from protocol import Kind, ParsedTopic, Telemetry
from tests.unit.hub_helpers import NOW, ROOM, SITE, T0, bearer, event, make_store, telemetry

API = "/api/v1"
OTHER_SITE, OTHER_ROOM = "thcs-phan-boi-chau", "7b1"


def co2_in(site: str, room: str, seq: int, ppm: float = 1500.0) -> Parsed:
    msg = Telemetry(
        sender=f"edge/{site}/{room}", boot="b1", seq=seq, ts=T0, device="env",
        readings={"co2_ppm": ppm},
    )  # fmt: skip
    return Parsed(ParsedTopic(site, room, Kind.TELEMETRY), msg, NOW)


@pytest.fixture
def client(tmp_path: Path, database_url: str) -> Iterator[TestClient]:
    """A hub whose database holds alerts: a help request and a CO2 alert in 6a1, CO2 in 6a2
    (one school) and in 7b1 (another school)."""
    store = make_store(database_url)
    store.upsert_sites([SiteSpec(OTHER_SITE, "THCS Phan Bội Châu", [(OTHER_ROOM, "7B1")])])
    engine = AlertEngine(AlertStore(store.engine), Limits(), now=lambda: NOW)
    engine.start()
    batch = [
        event(1, kind="help", text="máy chiếu không lên"),
        telemetry(2, co2_ppm=1300),
        telemetry(1, room="6a2", co2_ppm=1250),
        co2_in(OTHER_SITE, OTHER_ROOM, 1),
    ]
    store.write_batch(batch, now=NOW)
    rooms = {(p.topic.site, p.topic.room) for p in batch}
    assert len(engine.evaluate(rooms, room_events(batch))) == 4
    store.engine.dispose()
    sites = tmp_path / "sites.yaml"
    sites.write_text(
        f"sites:\n  - id: {SITE}\n    name: A\n    rooms: ['{ROOM}', 6a2, 9a1]\n"
        f"  - id: {OTHER_SITE}\n    name: B\n    rooms: ['{OTHER_ROOM}']\n",
        encoding="utf-8",
    )
    settings = HubSettings(database_url=database_url, sites_file=sites)
    with TestClient(create_app(settings, connect_mqtt=False)) as c:
        yield c


def alerts(client: TestClient, headers: dict[str, str], **query: Any) -> list[dict[str, Any]]:
    r = client.get(f"{API}/alerts", params=query, headers=headers)
    assert r.status_code == 200, r.text
    found: list[dict[str, Any]] = r.json()["alerts"]
    return found


def where(found: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    return [(a["kind"], a["site"], a["room"]) for a in found]


def test_the_list_filters_pages_and_keeps_to_the_callers_schools(client: TestClient) -> None:
    it = bearer(client, Role.IT)
    assert where(alerts(client, it)) == [
        ("co2_high", SITE, "6a2"), ("co2_high", SITE, ROOM), ("help", SITE, ROOM),
    ]  # fmt: skip
    district = bearer(client, Role.DISTRICT)
    assert len(alerts(client, district)) == 4
    assert where(alerts(client, it, kind="help")) == [("help", SITE, ROOM)]
    assert where(alerts(client, it, room="6a2")) == [("co2_high", SITE, "6a2")]
    assert len(alerts(client, it, severity="warning")) == 2
    assert len(alerts(client, it, state=["open", "acknowledged"])) == 3
    assert alerts(client, it, state="resolved") == []
    assert alerts(client, it, site=OTHER_SITE) == []  # not theirs
    assert len(alerts(client, district, site=OTHER_SITE)) == 1
    at = NOW.isoformat()
    assert len(alerts(client, it, since=at)) == 3
    assert alerts(client, it, until=at) == []
    first = client.get(f"{API}/alerts", params={"limit": 2}, headers=it).json()
    assert len(first["alerts"]) == 2
    rest = client.get(
        f"{API}/alerts", params={"limit": 2, "before": first["next_before"]}, headers=it
    ).json()
    assert (where(rest["alerts"]), rest["next_before"]) == ([("help", SITE, ROOM)], None)
    for bad in ({"limit": 501}, {"kind": "fire"}, {"state": "closed"}, {"since": "9999-01-01"}):
        assert client.get(f"{API}/alerts", params=bad, headers=it).status_code == 422, bad
    assert client.get(f"{API}/alerts", headers=bearer(client, Role.TEACHER)).status_code == 403


def test_one_alert_with_its_history_within_reach_only(client: TestClient) -> None:
    it = bearer(client, Role.IT)
    [help_alert] = alerts(client, it, kind="help")
    r = client.get(f"{API}/alerts/{help_alert['id']}", headers=it)
    assert r.status_code == 200
    body = r.json()
    assert (body["state"], body["severity"], body["device"], body["data"]["reason"]) == (
        "open", "critical", None, "máy chiếu không lên",
    )  # fmt: skip
    assert [(h["action"], h["actor"]) for h in body["history"]] == [("raised", "")]
    [far] = alerts(client, bearer(client, Role.DISTRICT), site=OTHER_SITE)
    assert client.get(f"{API}/alerts/{far['id']}", headers=it).status_code == 403
    assert client.get(f"{API}/alerts/99999", headers=it).status_code == 404


def test_it_acknowledges_and_resolves_with_a_comment_in_the_audit_log(client: TestClient) -> None:
    it = bearer(client, Role.IT, username="it-anh")
    [alert] = alerts(client, it, kind="help")
    url = f"{API}/alerts/{alert['id']}"
    r = client.post(f"{url}/ack", json={"comment": "  on my way  "}, headers=it)
    assert r.status_code == 200, r.text
    assert (r.json()["state"], r.json()["acknowledged_by"], r.json()["ack_comment"]) == (
        "acknowledged", "it-anh", "on my way",
    )  # fmt: skip
    again = client.post(f"{url}/ack", json={"comment": "me too"}, headers=it)
    assert (again.status_code, again.json()["detail"]) == (
        409, f"alert {alert['id']} cannot be acknowledged: acknowledged already by it-anh",
    )  # fmt: skip
    r = client.post(f"{url}/resolve", json={"comment": "cable replaced"}, headers=it)
    assert (r.status_code, r.json()["state"], r.json()["resolve_comment"]) == (
        200, "resolved", "cable replaced",
    )  # fmt: skip
    assert client.post(f"{url}/resolve", json={"comment": "x"}, headers=it).status_code == 409
    history = client.get(url, headers=it).json()["history"]
    assert [(h["action"], h["actor"], h["comment"]) for h in history] == [
        ("raised", "", ""), ("acknowledged", "it-anh", "on my way"),
        ("resolved", "it-anh", "cable replaced"),
    ]  # fmt: skip
    log = client.get(f"{API}/audit", params={"user": "it-anh"}, headers=it).json()
    assert [(e["action"], e["outcome"], e["room"], e["detail"]["comment"]) for e in log] == [
        ("alert_ack", "ok", ROOM, "on my way"),
        ("alert_ack", "conflict", ROOM, "me too"),
        ("alert_resolve", "ok", ROOM, "cable replaced"),
        ("alert_resolve", "conflict", ROOM, "x"),
    ]


def test_who_may_acknowledge_and_what_a_comment_must_be(client: TestClient) -> None:
    it = bearer(client, Role.IT)
    [alert] = alerts(client, it, kind="help")
    url = f"{API}/alerts/{alert['id']}/ack"
    for role in (Role.ADMIN, Role.DISTRICT, Role.TEACHER):
        r = client.post(url, json={"comment": "seen"}, headers=bearer(client, role))
        assert r.status_code == 403, role
    [far] = alerts(client, bearer(client, Role.DISTRICT), site=OTHER_SITE)
    far_url = f"{API}/alerts/{far['id']}/ack"
    assert client.post(far_url, json={"comment": "x"}, headers=it).status_code == 403
    for bad in ({}, {"comment": ""}, {"comment": "   "}, {"comment": "x" * 2001},
                {"comment": "a\x00b"}, {"comment": "x", "by": "me"}):  # fmt: skip
        assert client.post(url, json=bad, headers=it).status_code == 422, bad
    assert client.get(f"{API}/alerts/{alert['id']}", headers=it).json()["state"] == "open"


def test_a_teacher_sees_the_alerts_of_their_room(client: TestClient) -> None:
    teacher = bearer(client, Role.TEACHER)  # of SITE/ROOM
    r = client.get(f"{API}/rooms/{SITE}/{ROOM}/alerts", headers=teacher)
    assert r.status_code == 200
    assert sorted(a["kind"] for a in r.json()["alerts"]) == ["co2_high", "help"]
    r = client.get(f"{API}/rooms/{SITE}/{ROOM}/alerts", params={"kind": "help"}, headers=teacher)
    assert [a["kind"] for a in r.json()["alerts"]] == ["help"]
    assert client.get(f"{API}/rooms/{SITE}/6a2/alerts", headers=teacher).status_code == 403


def test_health_counts_the_active_alerts(client: TestClient) -> None:
    body = client.get(f"{API}/health", headers=bearer(client, Role.IT)).json()
    assert body["alerts"]["active"] == {"critical": 1, "warning": 3}
    assert (body["alerts"]["webhook"], body["warnings"]) == (None, [])


def test_metrics_count_the_active_alerts(client: TestClient) -> None:
    r = client.get("/metrics", headers=bearer(client, Role.IT))
    assert r.status_code == 200
    lines = set(r.text.splitlines())
    assert 'smartclass_hub_alerts_active{severity="critical"} 1.0' in lines
    assert 'smartclass_hub_alerts_active{severity="warning"} 3.0' in lines
    assert 'smartclass_hub_alerts_active{severity="info"} 0.0' in lines
    assert not any(line.startswith("smartclass_hub_webhook") for line in lines)  # none set
