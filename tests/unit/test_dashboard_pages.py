"""The dashboard's pages as the server renders them: what each role sees and may do, the rooms
worst first, a part of a page alone (what the script fetches again), and a teacher kept to
their own rooms, page and API alike."""

from __future__ import annotations

import re
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
from protocol import DeviceState, RoomTopics, Status
from tests.unit.hub_helpers import ROOT, SITE, at, bearer, parsed, state, status, telemetry

OTHER = "6a2"
PAGES = [
    "/dashboard",
    "/dashboard/alerts",
    f"/dashboard/rooms/{SITE}/6a1",
    "/dashboard/fleet",
    f"/dashboard/config/{SITE}",
    f"/dashboard/config/{SITE}?room=6a1",
    "/dashboard/users",
]
PARTS = [
    "/dashboard?part=rooms",
    "/dashboard/alerts?part=list",
    f"/dashboard/rooms/{SITE}/6a1?part=head",
    f"/dashboard/rooms/{SITE}/6a1?part=devices",
    f"/dashboard/rooms/{SITE}/6a1?part=alerts",
    f"/dashboard/rooms/{SITE}/6a1?part=config",
    "/dashboard/fleet?part=table",
    f"/dashboard/config/{SITE}?part=status",
    "/dashboard/users?part=list",
]


def projector(room: str, **values: object) -> object:
    msg = DeviceState(sender=f"edge/{SITE}/{room}", boot="b1", device="projector",
                      family="projector", state=values, ts=at(0))  # fmt: skip
    return parsed(RoomTopics(SITE, room, ROOT).state("projector"), msg)


def offline(room: str) -> object:
    msg = Status(sender=f"edge/{SITE}/{room}", state="offline", boot="b9", ts=at(0))
    return parsed(RoomTopics(SITE, room, ROOT).status, msg)


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    tmp: Path = tmp_path_factory.mktemp("dashboard")
    sites = tmp / "sites.yaml"
    sites.write_text(
        f"sites:\n  - id: {SITE}\n    name: THCS Nguyễn Chí Thanh\n"
        f"    rooms: [{{id: '6a1', name: 'Lớp 6A1'}}, {{id: '{OTHER}', name: 'Lớp 6A2'}}]\n",
        encoding="utf-8",
    )
    settings = HubSettings(database_url=f"sqlite:///{tmp / 'hub.sqlite'}", sites_file=sites)
    hub_app = create_app(settings, connect_mqtt=False)
    with TestClient(hub_app):
        hub_app.state.hub.store.write_batch(
            [
                status("online", ts=1),
                state("lights", ts=2, family="lighting", front={"on": True, "level": 60}),
                telemetry(1, co2_ppm=850.0, temperature_c=29.5),
                offline(OTHER),
                projector(OTHER, power="unavailable", lamp_hours=4200.0),
            ]
        )
        yield hub_app


@pytest.fixture(scope="module")
def headers(app: FastAPI) -> dict[Role, dict[str, str]]:
    return {role: bearer(app, role) for role in Role}


def get(app: FastAPI, url: str, headers: dict[str, str], status: int = 200) -> str:
    with TestClient(app) as client:
        r = client.get(url, headers=headers, follow_redirects=False)
    assert r.status_code == status, (url, r.status_code, r.text[:300])
    return r.text


def test_every_page_and_part_renders_in_vietnamese_for_it(
    app: FastAPI, headers: dict[Role, dict[str, str]]
) -> None:
    for url in PAGES:
        html = get(app, url, headers[Role.IT])
        assert '<html lang="vi">' in html, url
        assert "data-dashboard" in html, url
    for url in PARTS:
        part = get(app, url, headers[Role.IT])
        assert re.match(r"\s*<(div|section)[^>]* data-part=", part), url
        assert "<html" not in part, "a part is a fragment, not a page"
    assert get(app, "/dashboard/config", headers[Role.IT], 303) == ""


def test_the_rooms_are_worst_first_with_what_needs_attention(
    app: FastAPI, headers: dict[Role, dict[str, str]]
) -> None:
    html = get(app, "/dashboard?part=rooms", headers[Role.IT])
    cards = re.findall(r'data-room-card="[^/]+/([^"]+)"', html)
    assert cards == [OTHER, "6a1"], "the offline room with an unavailable projector first"
    other = html[html.index(f'data-room-card="{SITE}/{OTHER}"') :]
    assert "Mất kết nối" in other.split("</article>")[0]
    assert "Đến hạn thay bóng đèn" in other.split("</article>")[0], "lamp hours past the limit"
    assert "CO₂ 850 ppm" in html


def test_a_room_shows_its_confirmed_state_and_controls_by_role(
    app: FastAPI, headers: dict[Role, dict[str, str]]
) -> None:
    room = f"/dashboard/rooms/{SITE}/6a1"
    it = get(app, room, headers[Role.IT])
    assert "Bật · 60 %" in it
    assert 'data-command="scene"' in it
    assert "data-pair" in it, "IT pairs the room's tablet"
    teacher = get(app, room, headers[Role.TEACHER])
    assert 'data-command="scene"' in teacher, "the teacher controls their room"
    assert "data-pair" not in teacher
    assert f"/dashboard/config/{SITE}" not in teacher, "no configuration changes"
    admin = get(app, room, headers[Role.ADMIN])
    assert "Bật · 60 %" in admin
    assert "data-command" not in admin, "an admin reads, never controls"


def test_a_teacher_sees_only_their_own_rooms(
    app: FastAPI, headers: dict[Role, dict[str, str]]
) -> None:
    teacher = headers[Role.TEACHER]  # of 6a1
    overview = get(app, "/dashboard", teacher)
    assert re.findall(r'data-room-card="[^/]+/([^"]+)"', overview) == ["6a1"]
    menu = re.findall(r'<nav aria-label="[^"]*">(.*?)</nav>', overview, re.S)[0]
    assert re.findall(r'href="([^"]+)"', menu) == ["/dashboard"], "no fleet, alerts or config"
    colleague = bearer(app, Role.TEACHER, rooms=[(SITE, OTHER)])
    assert "Lớp 6A1" not in get(app, f"/dashboard/rooms/{SITE}/6a1", colleague, 403)
    with TestClient(app) as client:
        assert client.get(f"/api/v1/rooms/{SITE}/6a1", headers=colleague).status_code == 403
        assert client.get(f"/api/v1/rooms/{SITE}/{OTHER}", headers=colleague).status_code == 200
    for url in ("/dashboard/fleet", "/dashboard/alerts", f"/dashboard/config/{SITE}",
                "/dashboard/users"):  # fmt: skip
        get(app, url, teacher, 403)
