"""The fleet view: each room's agent from what the hub keeps, the worst rooms first."""

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

from hub.access import Role, Scope
from hub.app import create_app
from hub.fleet import fleet
from hub.parsing import Parsed
from hub.settings import HubSettings
from hub.store import Store
from protocol import DeviceState, Health, RoomTopics, Status
from protocol.messages import OutboxHealth
from tests.unit.hub_helpers import ROOT, SITE, at, bearer, parsed, telemetry

OK_ERRORS = {"fan": "ok", "lamp": "ok", "temperature": "ok", "cover": "ok", "filter": "ok"}


def status(room: str) -> Parsed:
    msg = Status(sender=f"edge/{SITE}/{room}", state="online", boot="b1", ts=at(0),
                 keepalive=5, agent_version="0.1.0")  # fmt: skip
    return parsed(RoomTopics(SITE, room, ROOT).status, msg)


def health(room: str, *, backlog: int, clock_offset_s: float) -> Parsed:
    msg = Health(sender=f"edge/{SITE}/{room}", boot="b1", boot_no=1, n=1, ts=at(0),
                 started_at=at(-3600), outbox=OutboxHealth(backlog=backlog, oldest_s=2.0),
                 clock_offset_s=clock_offset_s)  # fmt: skip
    return parsed(RoomTopics(SITE, room, ROOT).health, msg)


def projector(room: str, *, lamp_hours: int, errors: dict[str, str]) -> Parsed:
    values = {"power": "on", "lamp_hours": lamp_hours, "errors": errors}
    msg = DeviceState(sender=f"edge/{SITE}/{room}", boot="b1", boot_no=1, n=1, ts=at(0),
                      device="projector", family="projector", state=values)  # fmt: skip
    return parsed(RoomTopics(SITE, room, ROOT).state("projector"), msg)


def scenario(store: Store) -> None:
    """6a1 well; 6a2 online with every kind of trouble; 9a1 never seen."""
    store.write_batch(
        [
            status("6a1"),
            health("6a1", backlog=3, clock_offset_s=0.4),
            projector("6a1", lamp_hours=120, errors=OK_ERRORS),
            status("6a2"),
            health("6a2", backlog=5000, clock_offset_s=45.0),
            projector("6a2", lamp_hours=3500, errors={**OK_ERRORS, "lamp": "error"}),
            *(telemetry(seq, room="6a2", ts=seq) for seq in (1, 2, 5)),
        ]
    )


@pytest.fixture
def app(tmp_path: Path, database_url: str) -> Iterator[FastAPI]:
    sites = tmp_path / "sites.yaml"
    sites.write_text(f"sites:\n  - id: {SITE}\n    name: A\n    rooms: ['6a1', '6a2', '9a1']\n")
    hub_app = create_app(
        HubSettings(database_url=database_url, sites_file=sites), connect_mqtt=False
    )
    with TestClient(hub_app):
        scenario(hub_app.state.hub.store)
        yield hub_app


def test_each_room_with_its_problems_worst_first(app: FastAPI) -> None:
    rooms = fleet(app.state.hub.store.engine, Scope(everything=True), now=at(0))
    assert [(r.room, r.problems) for r in rooms] == [
        ("9a1", ("offline",)),
        ("6a2", ("device_fault", "gaps", "clock_offset", "backlog", "lamp_hours")),
        ("6a1", ()),
    ]
    never, troubled, well = rooms
    assert (never.online, never.last_seen, never.agent_version) == (False, None, None)
    assert troubled.missing == 2, "seq 3 and 4 never came"
    assert troubled.backlog == 5000
    assert troubled.clock_offset_s == 45.0
    [device] = troubled.devices
    assert (device.lamp_hours, device.faults) == (3500, ("lamp",))
    assert well.uptime_s == 3600
    assert well.agent_version == "0.1.0"
    assert (well.backlog, well.oldest_s, well.storage_ok) == (3, 2.0, True)
    assert never.attention > troubled.attention > well.attention == 0


def test_the_api_sorts_filters_and_shows_only_the_callers_schools(app: FastAPI) -> None:
    with TestClient(app) as client:
        it = bearer(app, Role.IT)
        listed = client.get("/api/v1/fleet", headers=it).json()
        assert [r["room"] for r in listed] == ["9a1", "6a2", "6a1"]
        assert listed[1]["devices"][0]["faults"] == ["lamp"]
        gaps = client.get("/api/v1/fleet", headers=it, params={"problem": "gaps"}).json()
        assert [r["room"] for r in gaps] == ["6a2"]
        trouble = client.get("/api/v1/fleet", headers=it, params={"attention": True}).json()
        assert [r["room"] for r in trouble] == ["9a1", "6a2"]
        online = client.get("/api/v1/fleet", headers=it, params={"online": False}).json()
        assert [r["room"] for r in online] == ["9a1"]
        by_room = client.get("/api/v1/fleet", headers=it, params={"sort": "room"}).json()
        assert [r["room"] for r in by_room] == ["6a1", "6a2", "9a1"]
        bad = client.get("/api/v1/fleet", headers=it, params={"problem": "sad"})
        assert bad.status_code == 422
        assert bad.json()["detail"][0]["loc"] == ["query", "problem"]
        elsewhere = bearer(app, Role.ADMIN, sites=["thcs-khac"])
        assert client.get("/api/v1/fleet", headers=elsewhere).json() == []
        district = client.get("/api/v1/fleet", headers=bearer(app, Role.DISTRICT)).json()
        assert len(district) == 3


def test_one_rooms_fleet_view_tells_a_rollout_its_agents_version_boot_and_configuration(
    app: FastAPI,
) -> None:
    with TestClient(app) as client:
        it = bearer(app, Role.IT)
        room = client.get(f"/api/v1/fleet/{SITE}/6a1", headers=it)
        assert room.status_code == 200
        view = room.json()
        assert (view["online"], view["agent_version"], view["boot"]) == (True, "0.1.0", "b1")
        assert view["problems"] == []
        assert view["config_ok"] is None  # nothing pushed: nothing refused
        listed = client.get("/api/v1/fleet", headers=it).json()
        same = next(r for r in listed if r["room"] == "6a1")
        assert {**view, "uptime_s": None} == {**same, "uptime_s": None}  # uptime: a moment later
        never_seen = client.get(f"/api/v1/fleet/{SITE}/9a1", headers=it).json()
        assert never_seen["online"] is False
        assert never_seen["problems"][0] == "offline"
        assert client.get(f"/api/v1/fleet/{SITE}/nope", headers=it).status_code == 404
        elsewhere = bearer(app, Role.ADMIN, sites=["thcs-khac"])
        assert client.get(f"/api/v1/fleet/{SITE}/6a1", headers=elsewhere).status_code == 403
        assert client.get(f"/api/v1/fleet/{SITE}/6a1").status_code == 401
