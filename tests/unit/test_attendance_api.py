"""The attendance API: who reads which lessons, each read in the audit log; consent recorded
and withdrawn through the room's attendance device; rosters; rates as JSON and CSV alike;
and the pages showing them as HTTP sees them (the API's figures, in Vietnamese, audited)."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from hub.access import Role
from hub.app import create_app
from hub.audit import AuditFilter
from hub.commands import Commander
from hub.erasures import Erasures
from hub.settings import HubSettings
from hub.store import Store
from protocol import Command, CommandReply, RoomTopics, Status, decode
from protocol.attendance import DEVICE, KIND_CONSENT, KIND_ENROLLED
from protocol.messages import ReplyCode
from tests.unit.hub_helpers import ROOM, SITE, at, bearer, parsed
from tests.unit.test_api_hardening import Agent
from tests.unit.test_attendance_store import DAY, attendance, mark

API = "/api/v1"
OTHER_SITE = "thcs-phan-boi-chau"
RANGE = {"from": DAY.isoformat(), "to": DAY.isoformat()}


@pytest.fixture
def app(tmp_path: Path, database_url: str) -> FastAPI:
    sites = tmp_path / "sites.yaml"
    sites.write_text(
        f"sites:\n  - id: {SITE}\n    name: S\n    rooms: ['{ROOM}', '6a2']\n"
        f"  - id: {OTHER_SITE}\n    name: B\n    rooms: ['7b1']\n",
        encoding="utf-8",
    )
    return create_app(HubSettings(database_url=database_url, sites_file=sites), connect_mqtt=False)


@pytest.fixture
async def http(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hub") as c,
    ):
        yield c


@pytest.fixture
def agent(app: FastAPI, http: httpx.AsyncClient) -> Agent:
    commander: Commander = app.state.hub.commander
    commander.publisher = agent = Agent(commander)
    return agent


def store_of(app: FastAPI) -> Store:
    store: Store = app.state.hub.store
    return store


def lessons(app: FastAPI) -> None:
    """Class 6a1 in room 6a1 (three students), class 6a2 in room 6a2 (one)."""
    store_of(app).write_batch(
        [mark("hs01"), mark("hs02", "late"), mark("hs03", "absent"),
         mark("hs03", "present", revision=1, method="manual", by="co.lan"),
         attendance("attendance", {"class_id": "6a2", "date": DAY.isoformat(), "period": 2,
                                   "student": "hs20", "status": "absent", "method": "qr",
                                   "confidence": 1.0, "at": "2025-03-03T01:00:00Z"},
                    room="6a2")]
    )  # fmt: skip


def audit_entries(app: FastAPI, action: str) -> list[Any]:
    from hub.access import Scope

    audit = app.state.hub.audit
    return list(audit.query(Scope(everything=True), AuditFilter(action=action), 100))


async def test_each_role_reads_the_lessons_within_reach_and_each_read_is_audited(
    app: FastAPI, http: httpx.AsyncClient
) -> None:
    lessons(app)
    teacher = bearer(app, Role.TEACHER, username="co.lan")
    r = await http.get(f"{API}/rooms/{SITE}/{ROOM}/attendance", params=RANGE, headers=teacher)
    assert r.status_code == 200, r.text
    [lesson] = r.json()["lessons"]
    assert (lesson["class_id"], lesson["present"], lesson["late"], lesson["absent"]) == (
        "6a1", 2, 1, 0,
    )  # fmt: skip
    marks = {m["student"]: (m["status"], m["method"], m["confidence"], m["manual"])
             for m in lesson["marks"]}  # fmt: skip
    assert marks == {
        "hs01": ("present", "face", 0.9, False),
        "hs02": ("late", "face", 0.9, False),
        "hs03": ("present", "manual", 1.0, True),
    }
    # another room, the whole school, another school: refused, and nothing is read
    for url in (f"rooms/{SITE}/6a2/attendance", f"sites/{SITE}/attendance",
                f"rooms/{OTHER_SITE}/7b1/attendance"):  # fmt: skip
        refused = await http.get(f"{API}/{url}", params=RANGE, headers=teacher)
        assert (refused.status_code, set(refused.json())) == (403, {"detail"}), url
    for role in (Role.ADMIN, Role.IT):
        staff = bearer(app, role)
        r = await http.get(f"{API}/sites/{SITE}/attendance", params=RANGE, headers=staff)
        assert [x["class_id"] for x in r.json()["lessons"]] == ["6a1", "6a2"]
        other = await http.get(f"{API}/sites/{OTHER_SITE}/attendance", headers=staff)
        assert other.status_code == 403
    district = bearer(app, Role.DISTRICT)
    assert (await http.get(f"{API}/sites/{SITE}/attendance", headers=district)).status_code == 403
    reads = audit_entries(app, "attendance.read")
    assert [(e.actor, e.role, e.site, e.room) for e in reads][:1] == [
        ("co.lan", "teacher", SITE, ROOM)
    ]
    assert reads[0].detail["classes"] == ["6a1"]
    assert reads[0].detail["from"] == DAY.isoformat()
    assert [(e.role, e.room) for e in reads[1:]] == [("admin", None), ("it", None)]


async def test_a_room_s_recent_events_name_no_student(
    app: FastAPI, http: httpx.AsyncClient
) -> None:
    """The room's detail (``room.read``: district staff too) is no way around the audit."""
    lessons(app)
    store_of(app).write_batch([attendance("attendance_card_refused", {"reason": "forged"})])
    r = await http.get(f"{API}/rooms/{SITE}/{ROOM}", headers=bearer(app, Role.DISTRICT))
    assert [e["kind"] for e in r.json()["events"]] == ["attendance_card_refused"]


async def test_a_bad_range_is_a_422(app: FastAPI, http: httpx.AsyncClient) -> None:
    it = bearer(app, Role.IT)
    url = f"{API}/sites/{SITE}/attendance"
    later = (DAY + timedelta(days=1)).isoformat()
    r = await http.get(url, params={"from": later, "to": DAY.isoformat()}, headers=it)
    assert r.status_code == 422
    r = await http.get(url, params={"from": "2024-01-01", "to": DAY.isoformat()}, headers=it)
    assert r.status_code == 422
    r = await http.get(url, params={"class_id": "../x"}, headers=it)
    assert r.status_code == 422


async def test_rates_json_and_csv_agree(app: FastAPI, http: httpx.AsyncClient) -> None:
    lessons(app)
    admin = bearer(app, Role.ADMIN)
    for group in ("class", "period", "week"):
        query = {**RANGE, "group": group}
        as_json = (await http.get(f"{API}/sites/{SITE}/attendance/rates", params=query,
                                  headers=admin)).json()  # fmt: skip
        r = await http.get(f"{API}/sites/{SITE}/attendance/rates.csv", params=query, headers=admin)
        assert r.headers["content-type"] == "text/csv; charset=utf-8"
        rows = list(csv.DictReader(io.StringIO(r.text)))
        assert [(x["class_id"], x["key"], float(x["rate"])) for x in rows] == [
            (x["class_id"], x["key"], x["rate"]) for x in as_json["rates"]
        ]
    assert [(x["class_id"], x["rate"]) for x in as_json["rates"]] == [("6a1", 1.0), ("6a2", 0.0)]


async def test_it_records_consent_through_the_room_and_the_history_keeps_it_once(
    app: FastAPI, http: httpx.AsyncClient, agent: Agent
) -> None:
    it = bearer(app, Role.IT, username="it.an")
    body = {"student": "hs01", "parent": True, "age_7_or_over": True, "student_own": True}
    r = await http.post(f"{API}/rooms/{SITE}/{ROOM}/attendance/consent", json=body, headers=it)
    assert r.status_code == 200, r.text
    [command] = agent.published
    assert (command.device, command.action, command.issuer) == (DEVICE, "consent", "user:it.an")
    params = command.params
    assert {k: params[k] for k in ("av", "student", "parent", "age_7_or_over", "by")} == {
        "av": 1, "student": "hs01", "parent": True, "age_7_or_over": True, "by": "it.an",
    }  # fmt: skip
    # the room reports the same change: kept once
    change = {"student": "hs01", "state": "recorded", "parent": True, "student_own": True,
              "by": "it.an", "at": params["at"]}  # fmt: skip
    store_of(app).write_batch([attendance(KIND_CONSENT, change)])
    r = await http.get(f"{API}/sites/{SITE}/attendance/consent", headers=it)
    [record] = r.json()["students"]
    assert (record["state"], record["by"]) == ("recorded", "it.an")
    assert [(h["state"], h["source"]) for h in record["history"]] == [("recorded", "hub")]
    [entry] = audit_entries(app, "attendance.consent")
    assert (entry.actor, entry.room, entry.device, entry.outcome) == ("it.an", ROOM, DEVICE, "ok")
    assert entry.detail["student"] == "hs01"
    assert [e.actor for e in audit_entries(app, "consent.read")] == ["it.an"]


async def test_a_consent_the_room_refuses_is_a_422_and_not_recorded(
    app: FastAPI, http: httpx.AsyncClient, agent: Agent
) -> None:
    agent.code = "bad_params"
    it = bearer(app, Role.IT)
    body = {"student": "hs01", "parent": True, "age_7_or_over": True, "student_own": False}
    r = await http.post(f"{API}/rooms/{SITE}/{ROOM}/attendance/consent", json=body, headers=it)
    assert r.status_code == 422
    assert (await http.get(f"{API}/sites/{SITE}/attendance/consent", headers=it)).json()[
        "students"
    ] == []
    [entry] = audit_entries(app, "attendance.consent")
    assert entry.outcome == "bad_params"


async def test_withdrawal_sends_the_command_and_erases_the_face_data(
    app: FastAPI, http: httpx.AsyncClient, agent: Agent
) -> None:
    lessons(app)
    it = bearer(app, Role.IT, username="it.an")
    body = {"student": "hs01", "parent": True, "age_7_or_over": False}
    assert (await http.post(f"{API}/rooms/{SITE}/{ROOM}/attendance/consent", json=body,
                            headers=it)).status_code == 200  # fmt: skip
    r = await http.post(f"{API}/rooms/{SITE}/{ROOM}/attendance/withdraw",
                        json={"student": "hs01"}, headers=it)  # fmt: skip
    assert r.status_code == 200, r.text
    command = agent.published[-1]
    assert (command.device, command.action) == (DEVICE, "withdraw")
    assert command.params == {"av": 1, "student": "hs01", "by": "it.an"}
    [record] = (await http.get(f"{API}/sites/{SITE}/attendance/consent", headers=it)).json()[
        "students"
    ]
    assert [h["state"] for h in record["history"]] == ["withdrawn", "recorded"]
    r = await http.get(f"{API}/rooms/{SITE}/{ROOM}/attendance", params=RANGE, headers=it)
    marks = {m["student"]: m["confidence"] for m in r.json()["lessons"][0]["marks"]}
    assert marks == {"hs01": None, "hs02": 0.9, "hs03": 1.0}
    assert [e.detail["student"] for e in audit_entries(app, "attendance.withdraw")] == ["hs01"]


class Rooms(Agent):
    """A broker link where each room's agent answers from its own room (``codes``: a room's
    code, None: it never answers; others answer ``ok``)."""

    def __init__(self, commander: Commander) -> None:
        super().__init__(commander)
        self.codes: dict[str, ReplyCode | None] = {}
        self.told: list[tuple[str, Command]] = []

    async def publish(
        self, topic: str, payload: bytes, *, retain: bool, ack_timeout_s: float,
        expiry_s: float | None = None,
    ) -> None:  # fmt: skip
        _, site, room, *_ = topic.split("/")
        command = decode(Command, payload)
        self.told.append((room, command))
        code = self.codes.get(room, "ok")
        if code is not None:
            reply = CommandReply(
                sender=f"edge/{site}/{room}", id=command.id, device=command.device, code=code,
                text="" if code == "ok" else "from the device",
            )  # fmt: skip
            self.commander.resolve(reply, site, room)


@pytest.fixture
def rooms(app: FastAPI, http: httpx.AsyncClient) -> Rooms:
    commander: Commander = app.state.hub.commander
    commander.publisher = link = Rooms(commander)
    return link


def withdrawals(link: Rooms) -> list[tuple[str, str]]:
    return [(room, c.params["student"]) for room, c in link.told if c.action == "withdraw"]


def online(app: FastAPI, room: str) -> None:
    msg = Status(sender=f"edge/{SITE}/{room}", state="online", boot="b1", ts=at(0), keepalive=5)
    store_of(app).write_batch([parsed(RoomTopics(SITE, room, "sc").status, msg)])


async def test_a_withdrawal_the_room_does_not_answer_is_kept_and_sent_when_it_is_back(
    app: FastAPI, http: httpx.AsyncClient, rooms: Rooms
) -> None:
    lessons(app)
    rooms.codes[ROOM] = None  # the room does not answer (offline, the broker away)
    it = bearer(app, Role.IT)
    r = await http.post(f"{API}/rooms/{SITE}/{ROOM}/attendance/withdraw",
                        json={"student": "hs01", "timeout_s": 0.5}, headers=it)  # fmt: skip
    assert r.status_code == 202, r.text
    assert (r.json()["code"], r.json()["pending_rooms"]) == ("pending", [ROOM])
    # the hub's own copy is erased at once, and the withdrawal is in the history
    r = await http.get(f"{API}/rooms/{SITE}/{ROOM}/attendance", params=RANGE, headers=it)
    assert {m["student"]: m["confidence"] for m in r.json()["lessons"][0]["marks"]}["hs01"] is None
    [record] = (await http.get(f"{API}/sites/{SITE}/attendance/consent", headers=it)).json()[
        "students"
    ]
    assert (record["state"], record["pending_rooms"]) == ("withdrawn", [ROOM])
    [entry] = audit_entries(app, "attendance.withdraw")
    assert (entry.outcome, entry.detail["rooms"]) == ("pending", {ROOM: "pending"})
    page = await http.get(f"/dashboard/consent/{SITE}", headers=it)
    assert f"Đang chờ {ROOM} xoá mẫu khuôn mặt" in page.text

    erasures: Erasures = app.state.hub.erasures
    assert await erasures.send_due() == 0, "an offline room is not tried"
    rooms.codes[ROOM] = "device_error"  # back, but its vault fails: still pending
    online(app, ROOM)
    assert await erasures.send_due() == 0
    assert erasures.pending(SITE) == {"hs01": [ROOM]}
    rooms.codes[ROOM] = "ok"
    assert await erasures.send_due() == 1
    assert erasures.pending(SITE) == {}
    assert withdrawals(rooms) == [(ROOM, "hs01")] * 3
    assert await erasures.send_due() == 0, "a confirmed withdrawal is not sent again"
    [record] = (await http.get(f"{API}/sites/{SITE}/attendance/consent", headers=it)).json()[
        "students"
    ]
    assert record["pending_rooms"] == []
    page = await http.get(f"/dashboard/consent/{SITE}", headers=it)
    assert "data-pending-rooms" not in page.text


async def test_a_withdrawal_reaches_every_room_that_may_hold_the_templates(
    app: FastAPI, http: httpx.AsyncClient, rooms: Rooms
) -> None:
    store_of(app).write_batch(
        [attendance(KIND_ENROLLED, {"student": "hs01", "templates": 3,
                                    "expires": "2026-05-31"}, room="6a2")]
    )  # fmt: skip
    it = bearer(app, Role.IT)
    roster = {"class_id": "6a1", "method": "face", "students": [{"student": "hs01"}]}
    assert (await http.post(f"{API}/rooms/{SITE}/{ROOM}/attendance/roster", json=roster,
                            headers=it)).status_code == 200  # fmt: skip
    rooms.told.clear()
    r = await http.post(f"{API}/rooms/{SITE}/6a2/attendance/withdraw", json={"student": "hs01"},
                        headers=it)  # fmt: skip
    assert r.status_code == 200, r.text
    assert r.json()["rooms"] == {ROOM: "ok", "6a2": "ok"}
    assert sorted(withdrawals(rooms)) == [(ROOM, "hs01"), ("6a2", "hs01")]
    assert app.state.hub.erasures.pending(SITE) == {}
    # a room of another school is never told, nor a room the student was never in
    assert {room for room, _ in rooms.told} == {ROOM, "6a2"}


async def test_roster_push_and_the_method_report(
    app: FastAPI, http: httpx.AsyncClient, agent: Agent
) -> None:
    it = bearer(app, Role.IT)
    consent = {"student": "hs01", "parent": True, "age_7_or_over": False}
    await http.post(f"{API}/rooms/{SITE}/{ROOM}/attendance/consent", json=consent, headers=it)
    roster = {"class_id": "6a1", "method": "face",
              "students": [{"student": "hs01"}, {"student": "hs02", "method": "qr"},
                           {"student": "hs03"}]}  # fmt: skip
    r = await http.post(f"{API}/rooms/{SITE}/{ROOM}/attendance/roster", json=roster, headers=it)
    assert r.status_code == 200, r.text
    command = agent.published[-1]
    assert (command.action, command.params["class_id"], len(command.params["students"])) == (
        "roster", "6a1", 3,
    )  # fmt: skip
    [klass] = (await http.get(f"{API}/sites/{SITE}/attendance/methods", headers=it)).json()[
        "classes"
    ]
    assert [(s["student"], s["method"], s["face_allowed"]) for s in klass["students"]] == [
        ("hs01", "face", True), ("hs02", "qr", False), ("hs03", "face", False),
    ]  # fmt: skip
    # a teacher and an admin may not push or record
    for role in (Role.TEACHER, Role.ADMIN):
        r = await http.post(f"{API}/rooms/{SITE}/{ROOM}/attendance/roster", json=roster,
                            headers=bearer(app, role))  # fmt: skip
        assert r.status_code == 403
    too_many = {**roster, "students": [{"student": f"hs{i}"} for i in range(81)]}
    r = await http.post(f"{API}/rooms/{SITE}/{ROOM}/attendance/roster", json=too_many, headers=it)
    assert r.status_code == 422


# --- the pages ---------------------------------------------------------------------


async def test_the_report_page_shows_the_api_rates(app: FastAPI, http: httpx.AsyncClient) -> None:
    lessons(app)
    admin = bearer(app, Role.ADMIN)
    r = await http.get(
        f"/reports/attendance?place={SITE}&from={DAY}&to={DAY}&group=period", headers=admin
    )
    assert r.status_code == 200, r.text
    assert 'data-class="6a1" data-group-key="1"' in r.text
    assert 'data-value="1.0000"' in r.text
    assert "Tiết 1" in r.text
    assert f"/api/v1/sites/{SITE}/attendance/rates.csv?group=period" in r.text
    teacher = bearer(app, Role.TEACHER)
    assert (await http.get("/reports/attendance", headers=teacher)).status_code == 403


async def test_the_consent_page_lists_students_and_is_audited(
    app: FastAPI, http: httpx.AsyncClient, agent: object
) -> None:
    it = bearer(app, Role.IT, username="it.an")
    body = {"student": "hs01", "parent": True, "age_7_or_over": False}
    await http.post(f"/api/v1/rooms/{SITE}/{ROOM}/attendance/consent", json=body, headers=it)
    r = await http.get(f"/dashboard/consent/{SITE}", headers=it)
    assert r.status_code == 200, r.text
    assert 'data-student-row="hs01" data-state="recorded"' in r.text
    assert "Đã ghi nhận đồng ý" in r.text
    assert [e.detail.get("page") for e in audit_entries(app, "consent.read")] == ["dashboard"]
    r = await http.get("/dashboard/consent", headers=it, follow_redirects=False)
    assert r.headers["location"] == f"/dashboard/consent/{SITE}"
    admin = bearer(app, Role.ADMIN)
    assert (await http.get(f"/dashboard/consent/{SITE}", headers=admin)).status_code == 403
