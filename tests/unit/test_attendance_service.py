"""Taking attendance on real composed frames through OpenCV and dlib: the right present and
absent lists, never a student of another class, QR cards, headcount, late arrivals."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from devices.camera.sources import Frame
from edge.attendance.cards import Card, card_image, issue, new_key_pair
from edge.attendance.config import AttendanceConfig
from edge.attendance.service import AttendanceService
from edge.attendance.vault import Vault, new_key
from edge.clock import FakeClock
from protocol.attendance import ConsentParams, event_data
from protocol.timetable import TimetableConfig
from smartclass.faceset import CLASS_A, CLASS_B, STRANGERS
from tests import attendance_faces as faces

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
MONDAY = dt.datetime(2026, 11, 30, 7, 0, tzinfo=TZ)
TIMETABLE = TimetableConfig.model_validate(
    {"morning": [{"period": 1, "start": "07:00", "end": "07:45"},
                 {"period": 2, "start": "07:50", "end": "08:35"}]}
)  # fmt: skip


class Feed:
    """A camera that hands out the frames a test queues."""

    def __init__(self) -> None:
        self.frames: list[Frame] = []
        self.wanted = False

    def want(self, on: bool) -> None:
        self.wanted = on

    async def frame(self, timeout: float) -> Frame | None:
        return self.frames.pop(0) if self.frames else None


class Events(list[tuple[str, dict[str, Any]]]):
    def __call__(self, kind: str, **fields: Any) -> None:
        json.dumps(fields["data"])  # what goes to the outbox is plain JSON
        self.append((kind, fields))

    def of(self, kind: str) -> list[Any]:
        return [event_data(k, f["data"]) for k, f in self if k == kind]


def _service(
    tmp_path: Path, *, roster: dict[str, Any] | None = None, method: str = "face",
    enrolled: tuple[str, ...] = CLASS_A + CLASS_B, **config: Any,
) -> tuple[AttendanceService, Feed, Events, FakeClock]:  # fmt: skip
    import base64

    vault = Vault(tmp_path / "v.sealed", base64.b64decode(new_key()))
    templates = faces.templates()
    for student in enrolled:
        vault.record_consent(ConsentParams(student=student, parent=True, age_7_or_over=True,
                                           student_own=True, by="it"))  # fmt: skip
        vault.enrol(student, templates[student], MONDAY.date())
    vault.take_history()
    cfg = AttendanceConfig.model_validate({
        "camera": "cam", "class_id": "6a1", "method": method,
        "students": roster if roster is not None else dict.fromkeys(CLASS_A),
        "window_min": 10, "late_min": 15, "min_frames": 2, **config,
    })  # fmt: skip
    feed, events, clock = Feed(), Events(), FakeClock(MONDAY)
    service = AttendanceService(
        cfg, camera=feed, vault=vault, emit=events, clock=clock, timetable=lambda: TIMETABLE,
        tz=TZ, data_dir=tmp_path, engine=faces.engine(),
    )  # fmt: skip
    return service, feed, events, clock


async def _frames(service: AttendanceService, feed: Feed, frames: list[Frame]) -> None:
    feed.frames.extend(frames)
    while feed.frames:
        await service.step()


async def test_a_composed_classroom_gives_the_right_present_and_absent_lists(
    tmp_path: Path,
) -> None:
    service, feed, events, clock = _service(tmp_path)
    room = faces.classroom(seed=3)
    here = ["obama", "biden", "hanks", "t1-a", "t1-b"]  # hopper and t1-c stay home
    visitors = [*CLASS_B, *STRANGERS]  # enrolled in another class, or never enrolled
    frames = [room.compose(here + visitors, blur=b)[0] for b in (0.0, 0.8, 1.2)]
    await _frames(service, feed, frames)
    assert feed.wanted
    present = {m.student for m in events.of("attendance")}
    assert present == set(here)
    await clock.advance(dt.timedelta(minutes=26))  # window and late window over
    await service.step()
    marks = {m.student: m for m in events.of("attendance")}
    assert {s for s, m in marks.items() if m.status == "absent"} == {"hopper", "t1-c"}
    assert set(marks) == set(CLASS_A), "a student of another class or a stranger was named"
    assert all(m.method == "face" and m.period == 1 for m in marks.values())
    assert all(0 < m.confidence <= 1 for m in marks.values() if m.status == "present")
    [summary] = events.of("attendance_summary")
    assert (summary.present, summary.late, summary.absent) == (5, 0, 2)
    assert summary.unknown_faces >= 3
    assert not feed.wanted


async def test_a_student_of_another_class_is_never_named_even_alone(tmp_path: Path) -> None:
    service, feed, events, _ = _service(tmp_path)
    room = faces.classroom(seed=5)
    await _frames(service, feed, [room.compose(list(CLASS_B))[0] for _ in range(4)])
    assert events.of("attendance") == []
    assert service.take is not None
    assert service.take.unknown_max == len(CLASS_B)


async def test_arrivals_after_the_window_are_late(tmp_path: Path) -> None:
    service, feed, events, clock = _service(tmp_path)
    room = faces.classroom(seed=7)
    await _frames(service, feed, [room.compose(["obama"])[0] for _ in range(2)])
    await clock.advance(dt.timedelta(minutes=12))
    await _frames(service, feed, [room.compose(["obama", "biden"])[0] for _ in range(2)])
    marks = {m.student: m.status for m in events.of("attendance")}
    assert marks == {"obama": "present", "biden": "late"}


async def test_a_teacher_corrects_a_mark_recorded_as_manual(tmp_path: Path) -> None:
    service, feed, events, _ = _service(tmp_path)
    await _frames(service, feed, [faces.classroom().compose(["obama"])[0]])
    state = await service.execute("mark", {"student": "hopper", "status": "present",
                                           "by": "gv-hoa"})  # fmt: skip
    [mark] = events.of("attendance")
    assert (mark.student, mark.method, mark.by, mark.revision) == ("hopper", "manual", "gv-hoa", 1)
    assert state["period"]["marks"] == {"hopper": "present"}


def _paste(frame: Frame, card: Frame, x: int, y: int) -> Frame:
    h, w = card.shape[:2]
    frame = frame.copy()
    frame[y : y + h, x : x + w] = card
    return frame


async def test_a_qr_card_marks_its_student_and_a_forged_or_revoked_one_is_refused(
    tmp_path: Path,
) -> None:
    new_key_pair(tmp_path / "school.key", tmp_path / "school.pub")
    from edge.attendance.cards import load_private_key

    school = load_private_key(tmp_path / "school.key")
    roster = {"hs-001": "qr", "hs-002": "qr", "hs-003": "qr"}
    service, feed, events, _ = _service(
        tmp_path, roster=roster, method="qr", enrolled=(), card_public_key=tmp_path / "school.pub"
    )
    until = dt.date(2027, 5, 31)
    good = issue(school, Card("hs-001", 11, "6a1", until))
    forged = issue(Ed25519PrivateKey.generate(), Card("hs-002", 12, "6a1", until))
    revoked = issue(school, Card("hs-003", 13, "6a1", until))
    await service.execute("revoke_card", {"serial": 13, "by": "it"})
    blank = faces.classroom().compose([])[0]
    frames = [_paste(blank, card_image(t, "hs"), 40, 40) for t in (good, forged, revoked)]
    await _frames(service, feed, [frames[0], frames[1], frames[1], frames[2]])
    [mark] = events.of("attendance")
    assert (mark.student, mark.method, mark.status) == ("hs-001", "qr", "present")
    refusals = [(r.reason, r.serial) for r in events.of("attendance_card_refused")]
    assert refusals == [("forged", None), ("revoked", 13)]  # the forged card alerted once
    assert all(f["severity"] == "warning" for k, f in events if k == "attendance_card_refused")


async def test_headcount_mode_sends_no_identity(tmp_path: Path) -> None:
    service, feed, events, clock = _service(
        tmp_path, method="headcount", roster=dict.fromkeys(CLASS_A)
    )
    room = faces.classroom(seed=2)
    await _frames(service, feed, [room.compose(["obama", "biden", "t1-e"])[0] for _ in range(2)])
    await clock.advance(dt.timedelta(minutes=30))
    await service.step()
    assert [k for k, _ in events] == ["attendance_headcount"]
    [count] = events.of("attendance_headcount")
    assert count.count == 3
    text = json.dumps([f for _, f in events])
    assert not any(s in text for s in [*CLASS_A, *CLASS_B, *STRANGERS])


async def test_a_frame_the_models_cannot_read_is_counted_and_the_window_goes_on(
    tmp_path: Path,
) -> None:
    service, feed, events, _ = _service(tmp_path)
    await _frames(service, feed, [np.zeros((4, 4), np.uint8)])
    assert service.errors == 1
    await _frames(service, feed, [faces.classroom().compose(["obama"])[0] for _ in range(2)])
    assert [m.student for m in events.of("attendance")] == ["obama"]


@pytest.mark.parametrize("method", ["face", "qr"])
async def test_no_event_data_can_carry_pixels(tmp_path: Path, method: str) -> None:
    service, feed, events, clock = _service(tmp_path, method=method)
    await _frames(service, feed, [faces.classroom().compose(list(CLASS_A))[0] for _ in range(2)])
    await clock.advance(dt.timedelta(minutes=30))
    await service.step()
    for _, fields in events:
        assert len(json.dumps(fields)) < 1024


async def test_the_hubs_enrol_reads_the_inbox_and_deletes_the_photos_even_when_refused(
    tmp_path: Path,
) -> None:
    import cv2

    service, _, events, _ = _service(tmp_path, enrolled=())
    inbox = tmp_path / "inbox" / "obama"
    inbox.mkdir(parents=True)
    for i, image in enumerate(faces.faceset().enrol["obama"]):
        cv2.imwrite(str(inbox / f"{i}.jpg"), image)
    with pytest.raises(ValueError, match="no consent"):
        await service.execute("enrol", {"student": "obama", "by": "it"})
    assert list(inbox.iterdir()) == [], "a refused enrolment kept the photos"
    consent = {"student": "obama", "parent": True, "age_7_or_over": True, "student_own": True}
    await service.execute("consent", {**consent, "by": "it"})
    for i, image in enumerate(faces.faceset().enrol["obama"]):
        cv2.imwrite(str(inbox / f"{i}.jpg"), image)
    await service.execute("enrol", {"student": "obama", "by": "it"})
    assert list(inbox.iterdir()) == []
    assert [e.templates for e in events.of("attendance_enrolled")] == [2]
    assert [c.state for c in events.of("attendance_consent")] == ["recorded"]


async def test_a_withdrawal_during_a_window_stops_the_student_being_named(tmp_path: Path) -> None:
    service, feed, events, _ = _service(tmp_path)
    room = faces.classroom(seed=9)
    await _frames(service, feed, [room.compose(["biden"])[0]])  # the window is open
    await service.execute("withdraw", {"student": "obama", "by": "parent"})
    [change] = events.of("attendance_consent")
    assert (change.student, change.state, change.templates_deleted) == ("obama", "withdrawn", 2)
    await _frames(service, feed, [room.compose(["obama", "biden"])[0] for _ in range(3)])
    assert [m.student for m in events.of("attendance")] == ["biden"]
    assert "obama" not in service.vault.templates()


async def test_templates_past_retention_are_deleted_and_reported(tmp_path: Path) -> None:
    service, _, events, clock = _service(tmp_path, enrolled=("obama",))
    await clock.advance_to(dt.datetime(2027, 6, 1, 8, 0, tzinfo=TZ))
    await service.step()
    [change] = events.of("attendance_consent")
    assert (change.student, change.state) == ("obama", "expired")
    assert service.vault.templates() == {}


async def test_a_roster_from_the_hub_is_used_and_outlives_a_restart(tmp_path: Path) -> None:
    service, _, _, _ = _service(tmp_path)
    students = [{"student": "hs-9"}, {"student": "hs-8", "method": "headcount"}]
    roster = {"class_id": "6a2", "method": "qr", "students": students}
    state = await service.execute("roster", roster)
    assert (state["class_id"], state["method"], state["roster"]) == ("6a2", "qr", 2)

    def restarted() -> AttendanceService:  # the same data folder and vault
        return AttendanceService(
            service.config, camera=Feed(), vault=service.vault, emit=Events(),
            clock=FakeClock(MONDAY), timetable=lambda: TIMETABLE, tz=TZ, data_dir=tmp_path,
        )  # fmt: skip

    again = restarted()
    assert again.class_id == "6a2"
    assert again.roster == {"hs-9": "qr", "hs-8": "headcount"}
    (tmp_path / "roster.json").write_text("{broken")
    assert restarted().class_id == "6a1"  # logged; the room file's roster
