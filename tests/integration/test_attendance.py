"""Attendance on a real agent, broker and hub process: taken while the broker is down, it
reaches the broker and the hub afterwards, once per student; no message the agent sends
carries image data."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import math
import re
import time
from pathlib import Path
from typing import Any

import cv2
import pytest
from sqlalchemy import create_engine, select

from devices.camera import Camera
from devices.camera.config import SimCameraConfig
from devices.camera.sim import SimSource
from edge.attendance.service import AttendanceService
from edge.attendance.vault import new_key
from edge.clock import FakeClock
from hub.db import CommandLog
from protocol.attendance import ConsentParams, event_data
from protocol.messages import Event, decode
from smartclass.broker import Mosquitto
from smartclass.faceset import CLASS_A, CLASS_B, STRANGERS, ensure_faces
from tests import attendance_faces as faces
from tests.faultproxy import FaultProxy
from tests.integration.system import (
    QUIET_SUNDAY,
    HubProcess,
    eventually,
    make_agent,
    mqtt_client,
    running,
)

pytestmark = pytest.mark.integration

HERE = ["obama", "biden", "hanks", "t1-a", "t1-b"]
SITE = "thcs-nguyen-chi-thanh"
BASE64_RUN = re.compile(r"[A-Za-z0-9+/=_-]{120,}")


def _portraits(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, image in faces.faceset().heads.items():
        cv2.imwrite(str(folder / f"{name}.png"), image)
    return folder


def _no_image_data(topic: str, payload: bytes) -> None:
    """A message that could not carry a frame or a face crop: small JSON, no long base64 run,
    no long list of numbers, no image file's signature. The one exception is the hub's
    ``enrol_templates`` command: at most 5 templates, each exactly 128 floats, as numbers
    (nothing binary, no base64), which are checked as such and then set aside."""
    assert len(payload) < 16_384, f"{topic}: {len(payload)} bytes"
    for magic in (b"\xff\xd8\xff", b"\x89PNG", b"GIF8", b"BM"):
        assert not payload.startswith(magic), topic
    value = json.loads(payload)  # binary would not decode
    if isinstance(value, dict) and value.get("action") == "enrol_templates":
        templates = value["params"].pop("templates")
        assert 1 <= len(templates) <= 5, f"{topic}: {len(templates)} templates"
        for template in templates:
            assert len(template) == 128, f"{topic}: a template of {len(template)} numbers"
            assert all(isinstance(x, float) and math.isfinite(x) for x in template), topic
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            assert sum(isinstance(x, int | float) for x in item) < 64, f"{topic}: a long array"
            stack.extend(item)
        elif isinstance(item, str):
            assert not BASE64_RUN.search(item), f"{topic}: a base64-like string"


async def test_attendance_taken_while_the_broker_is_down_arrives_once_and_carries_no_image(
    own_broker: Mosquitto, topic_root: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SC_TEST_ATTENDANCE_KEY", new_key())
    clock = FakeClock(QUIET_SUNDAY)
    camera = SimCameraConfig(backend="sim", photos=_portraits(tmp_path / "portraits"), retry_s=0.1,
                             fps=10)  # fmt: skip
    attendance = {
        "camera": "camera", "class_id": "6a1", "students": dict.fromkeys(CLASS_A),
        "key_env": "SC_TEST_ATTENDANCE_KEY", "sample_interval_s": 0.05, "min_frames": 2,
    }  # fmt: skip
    seen: list[tuple[str, bytes]] = []
    hub = HubProcess(own_broker, topic_root, tmp_path / "hub")  # on the broker, not the proxy
    hub.start()
    try:
        await hub.wait_connected()
        await _take_offline(own_broker, topic_root, tmp_path, clock, camera, attendance, seen)
        day = QUIET_SUNDAY.date().isoformat()
        async with hub.client() as http:

            async def at_the_hub() -> list[dict[str, Any]] | None:
                r = await http.get(f"/api/v1/rooms/{SITE}/6a1/attendance",
                                   params={"from": day, "to": day})  # fmt: skip
                assert r.status_code == 200, r.text
                lessons = r.json()["lessons"]
                marks = [m for lesson in lessons for m in lesson["marks"]]
                return marks if len(marks) >= len(CLASS_A) else None

            stored = await eventually(at_the_hub, 20, "every mark at the hub")
        assert sorted(m["student"] for m in stored) == sorted(CLASS_A), "each student once"
        assert {m["student"] for m in stored if m["status"] == "present"} == set(HERE)
        assert {m["method"] for m in stored} == {"face"}
    finally:
        hub.close()


async def _take_offline(
    own_broker: Mosquitto, topic_root: str, tmp_path: Path, clock: FakeClock,
    camera: SimCameraConfig, attendance: dict[str, Any], seen: list[tuple[str, bytes]],
) -> None:  # fmt: skip
    """The broker out of the agent's reach while it takes attendance, then back; what the
    room sent is in ``seen``, checked here at the broker."""
    async with FaultProxy(own_broker.host, own_broker.port) as proxy, mqtt_client(
        own_broker, topic_root, "watcher"
    ) as watcher:  # fmt: skip
        await watcher.subscribe(f"{topic_root}/#", qos=1)

        async def watch() -> None:
            async for message in watcher.messages:
                seen.append((str(message.topic), bytes(message.payload)))  # type: ignore[arg-type, unused-ignore]

        watching = asyncio.create_task(watch())
        agent, _ = make_agent(
            proxy, topic_root, tmp_path / "edge", interval=0.5, clock=clock, auth=own_broker,  # type: ignore[arg-type, unused-ignore]
            devices={"camera": camera}, attendance=attendance,
        )  # fmt: skip
        service = agent.devices["attendance"]
        assert isinstance(service, AttendanceService)
        service._engine = faces.engine()  # the models once per test session
        for student in CLASS_A:  # consent through the command path, templates from cache
            reply = await agent.local_command("attendance", "consent", {
                "student": student, "parent": True, "age_7_or_over": True,
                "student_own": True, "by": "it-lan",
            }, issuer="it-lan")  # fmt: skip
            assert reply.ok, reply.text
            service.vault.enrol(student, faces.templates()[student], clock.now().date())
        refused = await agent.local_command("attendance", "consent", {
            "student": "hs-x", "parent": True, "age_7_or_over": True, "by": "it-lan",
        }, issuer="it-lan")  # fmt: skip
        assert refused.code == "bad_params"
        sim = agent.devices["camera"]
        assert isinstance(sim, Camera)
        assert isinstance(sim.source, SimSource)
        sim.source.present = [*HERE, *CLASS_B, *STRANGERS]
        async with running(agent):
            proxy.reset(refuse_new=True)  # the broker out of reach
            await eventually(lambda: _false(agent.connected.is_set()), 10, "the link down")
            reply = await agent.local_command("attendance", "take", {}, issuer="gv-hoa")
            assert reply.ok, reply.text

            async def all_here() -> bool:
                take = service.take
                return take is not None and set(take.marks) >= set(HERE)

            await eventually(all_here, 20, "everyone present recognised")
            await clock.advance(dt.timedelta(minutes=30))
            await eventually(lambda: _true(service.take is None and bool(service.closed)), 10,
                             "the window closed")  # fmt: skip
            assert not agent.connected.is_set()
            proxy.pass_through()
            await agent.connected.wait()

            async def marks() -> list[Any]:
                return [m for m in _marks(seen) if m] if len(_marks(seen)) >= len(CLASS_A) else []

            await eventually(marks, 20, "the marks at the broker")
        watching.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watching
    received = _marks(seen)
    by_student: dict[str, list[Any]] = {}
    for mark in received:
        by_student.setdefault(mark.student, []).append(mark)
    assert set(by_student) == set(CLASS_A), "a student of another class or a stranger named"
    assert all(len(v) == 1 for v in by_student.values()), "a mark delivered twice"
    assert {s for s, [m] in by_student.items() if m.status == "present"} == set(HERE)
    assert {s for s, [m] in by_student.items() if m.status == "absent"} == set(CLASS_A) - set(HERE)
    kinds = {decode(Event, p).kind for t, p in seen if t.endswith("/event")}
    assert {"attendance", "attendance_summary", "attendance_consent"} <= kinds
    for topic, payload in seen:  # every message of the room, retained ones too
        _no_image_data(topic, payload)


async def _false(value: bool) -> bool:
    return not value


async def _true(value: bool) -> bool:
    return value


def _marks(seen: list[tuple[str, bytes]]) -> list[Any]:
    events = [decode(Event, p) for t, p in seen if t.endswith("/event")]
    unique = {(e.boot, e.seq): e for e in events}
    assert len(unique) == len(events), "an event delivered twice"
    return [event_data(e.kind, e.data) for e in unique.values() if e.kind == "attendance"]


async def test_the_panel_shows_the_periods_attendance_and_takes_a_manual_mark(
    broker: Mosquitto, topic_root: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.integration.test_panel import pair, panel

    monkeypatch.setenv("SC_TEST_ATTENDANCE_KEY", new_key())
    camera = SimCameraConfig(backend="sim", photos=_portraits(tmp_path / "portraits"), fps=10)
    attendance = {
        "camera": "camera", "class_id": "6a1", "students": dict.fromkeys(CLASS_A),
        "key_env": "SC_TEST_ATTENDANCE_KEY", "sample_interval_s": 0.05,
    }  # fmt: skip
    agent, _ = make_agent(broker, topic_root, tmp_path / "edge", interval=0.5,
                          devices={"camera": camera}, attendance=attendance)  # fmt: skip
    service = agent.devices["attendance"]
    assert isinstance(service, AttendanceService)
    service._engine = faces.engine()
    for student in ("obama", "biden"):
        service.vault.record_consent(ConsentParams(student=student, parent=True,
                                                   age_7_or_over=False, by="it"))  # fmt: skip
        service.vault.enrol(student, faces.templates()[student], dt.date(2025, 10, 12))
    sim = agent.devices["camera"]
    assert isinstance(sim, Camera)
    assert isinstance(sim.source, SimSource)
    sim.source.present = ["obama", "biden", "t1-e"]
    async with panel(agent) as http:
        await pair(agent, http)
        page = await http.get("/")
        assert "Điểm danh" in page.text
        assert (await agent.local_command("attendance", "take", {}, issuer="gv")).ok

        async def shown() -> dict[str, Any] | None:
            view = (await http.get("/api/state")).json()["attendance"]
            return view if set(view.get("present", [])) == {"obama", "biden"} else None

        view = await eventually(shown, 20, "both present on the panel")
        assert view["open"] is True
        assert set(view["missing"]) == set(CLASS_A) - {"obama", "biden"}
        r = await http.post("/api/attendance/mark", json={"student": "hopper", "status": "late"})
        assert r.status_code == 200, r.text
        view = (await http.get("/api/state")).json()["attendance"]
        assert view["late"] == ["hopper"]
        r = await http.post("/api/attendance/mark", json={"student": "Nguyễn An", "status": "late"})
        assert r.status_code == 422
        take = service.take
        assert take is not None
        mark = take.marks["hopper"]
        assert (mark.method, mark.by, mark.revision) == ("manual", "teacher (panel)", 1)


async def test_a_camera_that_disappears_is_reported_to_the_hub_and_recovered(
    broker: Mosquitto, topic_root: str, tmp_path: Path
) -> None:
    camera = SimCameraConfig(backend="sim", photos=_portraits(tmp_path / "portraits"),
                             retry_s=0.1)  # fmt: skip
    agent, _ = make_agent(broker, topic_root, tmp_path / "edge", interval=0.5,
                          devices={"camera": camera})  # fmt: skip
    sim = agent.devices["camera"]
    assert isinstance(sim, Camera)
    assert isinstance(sim.source, SimSource)
    seen: list[Event] = []
    async with mqtt_client(broker, topic_root, "watcher") as watcher:
        await watcher.subscribe(f"{topic_root}/+/+/event", qos=1)

        async def watch() -> None:
            async for message in watcher.messages:
                seen.append(decode(Event, bytes(message.payload)))  # type: ignore[arg-type, unused-ignore]

        watching = asyncio.create_task(watch())

        async def kinds(kind: str) -> bool:
            return any(e.kind == kind and e.device == "camera" for e in seen)

        async with running(agent):
            await eventually(lambda: kinds("device_available"), 10, "the camera available")
            sim.source.plugged.clear()  # unplugged
            await eventually(lambda: kinds("device_unavailable"), 10, "the camera reported lost")
            assert (await sim.state())["available"] is False
            seen.clear()
            sim.source.plugged.set()
            await eventually(lambda: kinds("device_available"), 10, "the camera back")
            assert (await sim.state())["available"] is True
        watching.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watching


async def test_it_enrols_a_student_through_the_hub_and_the_room_then_recognises_them(
    own_broker: Mosquitto, topic_root: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Photos to a real hub process, templates over the real broker to a real agent: stored
    with consent and used at once, refused without; no photo is ever a file at the hub, no
    message carries an image, the audit says who enrolled whom."""
    monkeypatch.setenv("SC_TEST_ATTENDANCE_KEY", new_key())
    hub_tmp = tmp_path / "hub-tmp"
    hub_tmp.mkdir()
    hub = HubProcess(own_broker, topic_root, tmp_path / "hub", env={"TMPDIR": str(hub_tmp)})
    hub.start()
    camera = SimCameraConfig(backend="sim", photos=_portraits(tmp_path / "portraits"), fps=10)
    attendance = {
        "camera": "camera", "class_id": "6a1", "students": dict.fromkeys(CLASS_A),
        "key_env": "SC_TEST_ATTENDANCE_KEY", "sample_interval_s": 0.05, "min_frames": 2,
    }  # fmt: skip
    seen: list[tuple[str, bytes]] = []
    try:
        await hub.wait_connected()
        agent, _ = make_agent(own_broker, topic_root, tmp_path / "edge", interval=0.5,
                              devices={"camera": camera}, attendance=attendance)  # fmt: skip
        service = agent.devices["attendance"]
        assert isinstance(service, AttendanceService)
        service._engine = faces.engine()
        sim = agent.devices["camera"]
        assert isinstance(sim, Camera)
        assert isinstance(sim.source, SimSource)
        folder = ensure_faces()
        photos = [("photos", (n, (folder / n).read_bytes(), "image/jpeg"))
                  for n in ("obama.jpg", "obama2.jpg")]  # fmt: skip
        enrol = f"/api/v1/rooms/{SITE}/6a1/attendance/enrol"
        async with mqtt_client(own_broker, topic_root, "watcher") as watcher, running(agent), \
                hub.client() as http:  # fmt: skip
            await watcher.subscribe(f"{topic_root}/#", qos=1)

            async def watch() -> None:
                async for message in watcher.messages:
                    seen.append((str(message.topic), bytes(message.payload)))  # type: ignore[arg-type, unused-ignore]

            watching = asyncio.create_task(watch())
            await agent.connected.wait()
            r = await http.post(f"/api/v1/rooms/{SITE}/6a1/attendance/consent", json={
                "student": "obama", "parent": True, "age_7_or_over": True, "student_own": True,
            })  # fmt: skip
            assert r.status_code == 200, r.text
            before = _files(tmp_path / "hub"), _files(hub_tmp)
            started = time.perf_counter()
            r = await http.post(enrol, data={"student": "obama"}, files=photos, timeout=60)
            took = time.perf_counter() - started
            assert r.status_code == 200, r.text
            assert service.vault.summary()["obama"]["templates"] == 2
            refused = await http.post(enrol, data={"student": "biden"}, files=photos[:1])
            assert refused.status_code == 409, refused.text
            assert "no_consent" in refused.json()["detail"]
            assert "biden" not in service.vault.summary()
            assert (_files(tmp_path / "hub"), _files(hub_tmp)) == before, "a file at the hub"
            sim.source.present = ["obama", "t1-e"]
            assert (await agent.local_command("attendance", "take", {}, issuer="gv")).ok

            async def named() -> set[str] | None:
                take = service.take
                return set(take.marks) if take is not None and take.marks else None

            assert await eventually(named, 20, "obama recognised") == {"obama"}
            audit = (await http.get("/api/v1/audit", params={"action": "attendance.enrol"})).json()
            watching.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watching
        entries = audit
        assert sorted(e["detail"]["result"] for e in entries) == ["enrolled", "no_consent"]
        assert all(len(json.dumps(e["detail"])) < 200 for e in entries), "no image, no template"
        commands = [json.loads(p) for t, p in seen if b"enrol_templates" in p]
        assert len(commands) == 2, "one command per enrolment, none for a refused photo"
        for topic, payload in seen:
            _no_image_data(topic, payload)
        engine = create_engine(hub.database_url)
        try:
            with engine.connect() as conn:
                logged = conn.execute(select(CommandLog.params).where(
                    CommandLog.action == "enrol_templates")).scalars().all()  # fmt: skip
        finally:
            engine.dispose()
        assert sorted(p["templates"] for p in logged) == [1, 2], "the hub's command log: counts"
        log = (tmp_path / "hub" / "hub.log").read_text(errors="replace")
        assert not re.search(r"(-?0\.\d+, ){20}", log), "templates in the hub's log"
        print(f"enrolment of 2 photos through the hub: {took:.2f} s")
    finally:
        hub.close()


def _files(folder: Path) -> set[str]:
    """The files of a folder but the hub's log and its database's own (SQLite journal)."""
    return {
        str(p.relative_to(folder)) for p in folder.rglob("*")
        if p.is_file() and not p.name.startswith(("hub.log", "hub.sqlite"))
    }  # fmt: skip
