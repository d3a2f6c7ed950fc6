"""Enrolment through the hub, in process: IT's photos become templates at the hub (never a
file, never in the audit log), a real attendance service behind the command path stores them
only with consent and then recognises the student; every refusal names its field."""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import cv2
import httpx
import numpy as np
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from devices.base import BadCommand
from edge.attendance.config import AttendanceConfig
from edge.attendance.service import AttendanceService
from edge.attendance.vault import Vault, new_key
from edge.clock import FakeClock
from edge.dispatch import run_command
from hub.access import Role, Scope
from hub.app import create_app
from hub.audit import AuditFilter
from hub.commands import Commander
from hub.db import CommandLog
from hub.settings import HubSettings
from protocol import Command, decode
from protocol.attendance import ConsentParams
from smartclass.faceset import FACES_DIR, ensure_faces
from tests import attendance_faces as faces
from tests.unit.hub_helpers import ROOM, SITE, bearer
from tests.unit.test_attendance_service import TIMETABLE, Events, Feed

API = "/api/v1"
ENROL = f"{API}/rooms/{SITE}/{ROOM}/attendance/enrol"
OTHER_SITE = "thcs-phan-boi-chau"
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
MONDAY = dt.datetime(2026, 11, 30, 7, 0, tzinfo=TZ)


def photo(name: str) -> bytes:
    return (ensure_faces(FACES_DIR) / name).read_bytes()


def png(image: Any) -> bytes:
    ok, data = cv2.imencode(".png", np.asarray(image, np.uint8))
    assert ok
    return bytes(data)


class Room:
    """The room's side of the command path: each command the hub publishes is run by a real
    attendance service (real vault, real face engine) and its reply handed back."""

    def __init__(self, commander: Commander, service: AttendanceService) -> None:
        self.commander = commander
        self.service = service
        self.published: list[tuple[Command, bytes]] = []
        self.online = True

    @property
    def connected(self) -> bool:
        return self.online

    async def publish(
        self, topic: str, payload: bytes, *, retain: bool, ack_timeout_s: float,
        expiry_s: float | None = None,
    ) -> None:  # fmt: skip
        command = decode(Command, payload)
        self.published.append((command, payload))
        reply = await run_command(
            {"attendance": self.service}, command, sender=f"edge/{SITE}/{ROOM}"
        )
        self.commander.resolve(reply, SITE, ROOM)


@pytest.fixture
def app(tmp_path: Path, database_url: str) -> FastAPI:
    sites = tmp_path / "sites.yaml"
    sites.write_text(
        f"sites:\n  - id: {SITE}\n    name: S\n    rooms: ['{ROOM}']\n"
        f"  - id: {OTHER_SITE}\n    name: B\n    rooms: ['7b1']\n",
        encoding="utf-8",
    )
    settings = HubSettings(database_url=database_url, sites_file=sites)
    return create_app(settings, connect_mqtt=False)


@pytest.fixture
async def http(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hub") as c,
    ):
        yield c


@pytest.fixture
def events() -> Events:
    return Events()


@pytest.fixture
def service(tmp_path: Path, events: Events) -> AttendanceService:
    """Class 6a1's camera: obama's and biden's consent recorded, nobody enrolled."""
    vault = Vault(tmp_path / "edge" / "v.sealed", base64.b64decode(new_key()))
    for student in ("obama", "biden"):
        vault.record_consent(ConsentParams(student=student, parent=True, age_7_or_over=True,
                                           student_own=True, by="it"))  # fmt: skip
    vault.take_history()
    config = AttendanceConfig.model_validate(
        {"camera": "cam", "class_id": "6a1", "students": dict.fromkeys(["obama", "biden", "hanks"]),
         "min_frames": 2}
    )  # fmt: skip
    return AttendanceService(
        config, camera=Feed(), vault=vault, emit=events, clock=FakeClock(MONDAY),
        timetable=lambda: TIMETABLE, tz=TZ, data_dir=tmp_path / "edge", engine=faces.engine(),
    )  # fmt: skip


@pytest.fixture
def room(app: FastAPI, http: httpx.AsyncClient, service: AttendanceService) -> Room:
    commander: Commander = app.state.hub.commander
    commander.publisher = found = Room(commander, service)
    return found


def form(student: str, *photos: tuple[str, bytes, str]) -> dict[str, Any]:
    return {"data": {"student": student}, "files": [("photos", p) for p in photos]}


def hub_files(tmp_path: Path) -> set[str]:
    """Every file of the test's folder (the hub's database too) but the room's own."""
    return {str(p) for p in tmp_path.rglob("*") if "edge" not in p.relative_to(tmp_path).parts}


def command_log(app: FastAPI) -> list[dict[str, Any]]:
    with app.state.hub.store.engine.connect() as conn:
        return [dict(p) for p in conn.execute(select(CommandLog.params)).scalars()]


def audit_of(app: FastAPI) -> list[Any]:
    audit = app.state.hub.audit
    return list(audit.query(Scope(everything=True), AuditFilter(action="attendance.enrol"), 100))


async def test_a_consented_student_is_enrolled_from_photos_and_then_recognised(
    app: FastAPI, http: httpx.AsyncClient, room: Room, service: AttendanceService,
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    it = bearer(app, Role.IT, username="it.lan")
    tmp = tmp_path / "tmp"  # the process's temporary folder, for this test
    tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    before = hub_files(tmp_path), set(os.listdir(tmp))
    r = await http.post(ENROL, headers=it, **form(
        "obama", ("obama.jpg", photo("obama.jpg"), "image/jpeg"),
        ("obama2.jpg", photo("obama2.jpg"), "image/jpeg"),
    ))  # fmt: skip
    assert r.status_code == 200, r.text
    assert r.json()["student"] == "obama"
    assert (hub_files(tmp_path), set(os.listdir(tmp))) == before, "the hub wrote a file"
    assert service.vault.summary()["obama"]["templates"] == 2
    [(command, payload)] = room.published
    assert (command.device, command.action) == ("attendance", "enrol_templates")
    assert len(payload) < 16_384
    assert command.params["recogniser"] == "dlib-resnet"
    assert [len(t) for t in command.params["templates"]] == [128, 128]
    # the room now knows obama's face: a composed classroom frame names him
    feed = service.camera
    assert isinstance(feed, Feed)
    classroom = faces.classroom(seed=2)
    feed.frames.extend(classroom.compose(["obama", "t1-e"], blur=b)[0] for b in (0.0, 0.6, 1.0))
    while feed.frames:
        await service.step()
    assert service.take is not None
    assert set(service.take.marks) == {"obama"}
    [logged] = command_log(app)
    assert logged["templates"] == 2, "the hub's command log keeps the count, not the templates"
    [entry] = audit_of(app)
    assert (entry.actor, entry.site, entry.room, entry.outcome) == ("it.lan", SITE, ROOM, "ok")
    assert entry.detail == {"student": "obama", "photos": 2, "result": "enrolled", "templates": 2}
    text = json.dumps(entry.detail)
    assert len(text) < 200, "no image data and no template in the audit log"


async def test_without_consent_in_the_room_the_answer_is_409_and_nothing_is_stored(
    app: FastAPI, http: httpx.AsyncClient, room: Room, service: AttendanceService
) -> None:
    r = await http.post(ENROL, headers=bearer(app, Role.IT), **form(
        "hanks", ("hanks.png", photo("Tom_Hanks_54745.png"), "image/png"),
    ))  # fmt: skip
    assert r.status_code == 409, r.text
    assert r.json()["detail"].startswith("no_consent:")
    assert "hanks" not in service.vault.summary()
    assert [e.detail["result"] for e in audit_of(app)] == ["no_consent"]


@pytest.mark.parametrize("who", [Role.TEACHER, Role.ADMIN, Role.DISTRICT, "other school's IT"])
async def test_anyone_but_it_of_the_school_is_refused_with_403(
    app: FastAPI, http: httpx.AsyncClient, room: Room, who: Role | str
) -> None:
    headers = bearer(app, Role.IT, sites=[OTHER_SITE]) if isinstance(who, str) else bearer(app, who)
    r = await http.post(ENROL, headers=headers, **form(
        "obama", ("obama.jpg", photo("obama.jpg"), "image/jpeg"),
    ))  # fmt: skip
    assert r.status_code == 403, r.text
    assert room.published == []


def _problem(r: httpx.Response) -> tuple[str, str]:
    assert r.status_code == 422, r.text
    [problem] = r.json()["detail"]
    return str(problem["loc"][1]), problem["msg"]


async def test_each_bad_photo_is_a_422_naming_it_and_nothing_is_sent(
    app: FastAPI, http: httpx.AsyncClient, room: Room
) -> None:
    it = bearer(app, Role.IT)
    good = ("obama.jpg", photo("obama.jpg"), "image/jpeg")
    gif = ("face.gif", b"GIF89a" + bytes(100), "image/gif")
    loc, msg = _problem(await http.post(ENROL, headers=it, **form("obama", good, gif)))
    assert (loc, msg) == ("photos[1] (face.gif)", "not a JPEG or PNG image")
    big = ("big.jpg", b"\xff\xd8\xff\xe0" + bytes(2 * 1024 * 1024), "image/jpeg")
    loc, msg = _problem(await http.post(ENROL, headers=it, **form("obama", big)))
    assert (loc, "more than 2097152" in msg) == ("photos[0] (big.jpg)", True)
    wide = ("wide.png", png(np.zeros((8, 4001, 3))), "image/png")
    loc, msg = _problem(await http.post(ENROL, headers=it, **form("obama", wide)))
    assert (loc, "4001x8 pixels" in msg) == ("photos[0] (wide.png)", True)
    blank = ("wall.png", png(np.full((400, 400, 3), 128)), "image/png")
    loc, msg = _problem(await http.post(ENROL, headers=it, **form("obama", good, blank)))
    assert (loc, msg.startswith("no face")) == ("photos[1] (wall.png)", True), msg
    group = ("class.jpg", photo("t1.jpg"), "image/jpeg")
    loc, msg = _problem(await http.post(ENROL, headers=it, **form("obama", group)))
    assert (loc, msg.startswith("6 faces")) == ("photos[0] (class.jpg)", True), msg
    six = [good] * 6
    assert _problem(await http.post(ENROL, headers=it, **form("obama", *six)))[0] == "photos"
    no_photo = {"files": [("student", (None, b"obama"))]}  # multipart, with no photo
    assert _problem(await http.post(ENROL, headers=it, **no_photo))[0] == "photos"
    assert _problem(await http.post(ENROL, headers=it, **form("Nguyễn Văn An", good)))[0] == (
        "student"
    )
    json_body = await http.post(ENROL, headers=it, json={"student": "obama"})
    assert _problem(json_body)[0] == "(body)"
    assert room.published == [], "a refused form sends nothing to the room"
    metrics = (await http.get("/metrics", headers=it)).text
    for result in ("not_an_image", "too_large", "too_many_pixels", "no_face", "several_faces"):
        assert f'smartclass_hub_enrolments_total{{result="{result}"}} 1.0' in metrics, result
    results = [e.detail["result"] for e in audit_of(app)]
    assert results == ["not_an_image", "too_large", "too_many_pixels", "no_face",
                       "several_faces"]  # fmt: skip
    assert all(len(json.dumps(e.detail)) < 200 for e in audit_of(app))


async def test_a_body_past_five_photos_at_their_largest_is_a_413(
    app: FastAPI, http: httpx.AsyncClient, room: Room
) -> None:
    huge = ("huge.jpg", b"\xff\xd8\xff\xe0" + bytes(11 * 1024 * 1024), "image/jpeg")
    r = await http.post(ENROL, headers=bearer(app, Role.IT), **form("obama", huge))
    assert r.status_code == 413
    small = await http.post(f"{API}/rooms/{SITE}/{ROOM}/attendance/consent",
                            headers=bearer(app, Role.IT), content=b"{" + b" " * 70_000 + b"}",
                            )  # fmt: skip
    assert small.status_code == 413, "other routes keep the small limit"


async def test_a_room_that_is_offline_is_a_503_and_nothing_is_kept(
    app: FastAPI, http: httpx.AsyncClient, room: Room, service: AttendanceService
) -> None:
    room.online = False
    r = await http.post(ENROL, headers=bearer(app, Role.IT), **form(
        "obama", ("obama.jpg", photo("obama.jpg"), "image/jpeg"),
    ))  # fmt: skip
    assert r.status_code == 503, r.text
    assert room.published == []
    assert service.vault.summary()["obama"]["templates"] == 0
    assert [e.detail["result"] for e in audit_of(app)] == ["NotConnected"]


async def test_the_plain_command_route_cannot_send_consent_or_templates(
    app: FastAPI, http: httpx.AsyncClient, room: Room
) -> None:
    url = f"{API}/rooms/{SITE}/{ROOM}/devices/attendance/commands"
    for role in (Role.TEACHER, Role.IT):
        for action in ("enrol_templates", "consent", "withdraw"):
            body = {"action": action, "params": {"student": "obama"}}
            r = await http.post(url, headers=bearer(app, role), json=body)
            assert r.status_code == 403, (role, action, r.text)
    assert room.published == []


def _templates_params(**over: Any) -> dict[str, Any]:
    engine = faces.engine()
    assert engine.recogniser is not None
    base: dict[str, Any] = {
        "student": "biden",
        "templates": [[0.01] * 128],
        "recogniser": engine.recogniser.name,
        "recogniser_version": engine.recogniser.version,
        "by": "it.lan",
    }
    base.update(over)
    return base


@pytest.mark.parametrize(
    ("over", "reason"),
    [
        ({"templates": [[float("nan")] + [0.0] * 127]}, "templates.0.0"),
        ({"templates": [[0.0] * 129]}, "templates.0"),
        ({"templates": [[0.0] * 128] * 6}, "templates"),
        ({"templates": [[11.0] * 128]}, "templates.0.0"),
        ({"recogniser": "sface"}, "recogniser: templates of sface"),
        ({"recogniser_version": "dlib_face_recognition_resnet_model_v1:000000000000"},
         "recogniser: templates of dlib-resnet"),
        ({"student": "hanks"}, "no_consent: hanks"),
    ],
)  # fmt: skip
async def test_the_room_refuses_bad_templates_with_bad_params(
    service: AttendanceService, events: Events, over: dict[str, Any], reason: str
) -> None:
    """The room's own check (a command that reached it: NaN is no JSON, a hub cannot even
    build a Command holding one, but the room does not rely on that)."""
    with pytest.raises(BadCommand) as refused:
        await service.execute("enrol_templates", _templates_params(**over))
    assert refused.value.code == "bad_params"
    assert reason in str(refused.value)
    assert service.vault.summary().get("biden", {}).get("templates", 0) == 0
    await service.execute("enrol_templates", _templates_params())
    assert service.vault.summary()["biden"]["templates"] == 1
    assert [e.templates for e in events.of("attendance_enrolled")] == [1], "reported once"


def test_a_command_with_more_than_the_templates_room_is_refused_by_the_contract() -> None:
    expires = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)
    five = _templates_params(templates=[[-0.123456] * 128] * 5)
    command = Command(sender="hub/h", id="c1", device="attendance", action="enrol_templates",
                      params=five, issuer="user:it", expires=expires)  # fmt: skip
    assert 4096 < len(json.dumps(command.params, separators=(",", ":"))) <= 8192
    with pytest.raises(ValueError, match="4096"):  # another action keeps the usual bound
        Command(sender="hub/h", id="c2", device="attendance", action="consent", params=five,
                issuer="user:it", expires=expires)  # fmt: skip
    with pytest.raises(ValueError, match="not a JSON number"):
        Command(sender="hub/h", id="c3", device="attendance", action="enrol_templates",
                params=_templates_params(templates=[[float("nan")] * 128]), issuer="user:it",
                expires=expires)  # fmt: skip
