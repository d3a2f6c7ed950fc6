"""Attendance kept from the rooms' events: marks by revision, lesson counts and rates, consent
history, enrolments, and malformed payloads counted as dead letters."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from hub.attendance import AttendanceBook
from hub.attendance_tables import AttendanceMarkRow, EnrolmentRow
from hub.attendance_writes import BAD_ATTENDANCE
from hub.db import DeadLetter, EventRow
from hub.parsing import Parsed
from hub.store import Store
from protocol import Event, RoomTopics
from protocol.attendance import (
    KIND_CONSENT,
    KIND_ENROLLED,
    KIND_HEADCOUNT,
    KIND_MARK,
    KIND_SUMMARY,
)
from tests.unit.hub_helpers import AGENT, ROOM, ROOT, SITE, at, make_store, parsed

DAY = date(2025, 3, 3)
_seq = itertools.count(1)


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    store = make_store(database_url)
    yield store
    store.engine.dispose()


def attendance(
    kind: str, data: dict[str, Any], *, seq: int | None = None, room: str = ROOM
) -> Parsed:
    msg = Event(
        sender=f"edge/{SITE}/{room}", boot="b1", seq=seq or next(_seq), ts=at(0), kind=kind,
        data={"av": 1, **data},
    )  # fmt: skip
    return parsed(RoomTopics(SITE, room, ROOT).event, msg)


def mark(
    student: str, status: str = "present", *, revision: int = 0, method: str = "face",
    period: int = 1, day: date = DAY, seq: int | None = None, **extra: Any,
) -> Parsed:  # fmt: skip
    return attendance(
        KIND_MARK,
        {"class_id": "6a1", "date": day.isoformat(), "period": period, "student": student,
         "status": status, "method": method, "confidence": 0.9 if method == "face" else 1.0,
         "at": at(0).isoformat(), "revision": revision, **extra},
        seq=seq,
    )  # fmt: skip


def consent(student: str, state: str, *, by: str = "it.an", seconds: float = 0) -> Parsed:
    return attendance(
        KIND_CONSENT,
        {"student": student, "state": state, "parent": True, "student_own": True, "by": by,
         "at": at(seconds).isoformat(), "templates_deleted": 3 if state != "recorded" else 0},
    )  # fmt: skip


def marks_of(store: Store) -> dict[str, tuple[str, str, int, float | None]]:
    m = AttendanceMarkRow
    with store.engine.connect() as conn:
        rows = conn.execute(select(m.student, m.status, m.method, m.revision, m.confidence))
        return {r.student: (r.status, r.method, r.revision, r.confidence) for r in rows}


def everywhere() -> Any:
    from hub.access import Scope

    return Scope(everything=True)


def test_the_highest_revision_wins_and_a_replay_changes_nothing(store: Store) -> None:
    camera = mark("hs01", "absent", seq=1)
    store.write_batch([camera, mark("hs02", "late", seq=2)])
    correction = mark("hs01", "present", revision=1, method="manual", by="co.lan", seq=3)
    store.write_batch([correction])
    store.write_batch([camera, mark("hs01", "absent", seq=4)])  # a replay; a stale decision
    assert marks_of(store) == {
        "hs01": ("present", "manual", 1, 1.0),
        "hs02": ("late", "face", 0, 0.9),
    }
    [lesson] = AttendanceBook(store.engine).lessons(everywhere(), SITE, DAY, DAY)
    counts = {k: lesson[k] for k in ("present", "late", "absent", "manual", "roster")}
    assert counts == {"present": 1, "late": 1, "absent": 0, "manual": 1, "roster": 2}


def test_within_one_batch_the_highest_revision_wins_too(store: Store) -> None:
    two = mark("hs01", "absent", revision=2, method="manual", by="co.lan")
    one = mark("hs01", "present", revision=1, method="manual", by="co.lan")
    store.write_batch([two, one])
    assert marks_of(store)["hs01"][:3] == ("absent", "manual", 2)


def test_summaries_headcounts_and_rates_per_class_period_and_week(store: Store) -> None:
    summary = {"class_id": "6a1", "date": DAY.isoformat(), "period": 1, "method": "face",
               "roster": 4, "present": 1, "late": 1, "absent": 2, "unknown_faces": 1}  # fmt: skip
    store.write_batch([mark("hs01"), mark("hs02", "late"), mark("hs03", "absent"),
                       attendance(KIND_SUMMARY, summary)])  # fmt: skip
    next_week = DAY + timedelta(days=7)
    store.write_batch([mark("hs01", period=2, day=next_week), mark("hs02", "absent", period=2,
                       day=next_week)])  # fmt: skip
    head = {"class_id": "6a2", "date": DAY.isoformat(), "period": 3, "count": 31,
            "at": at(0).isoformat()}  # fmt: skip
    store.write_batch([attendance(KIND_HEADCOUNT, head)])
    book = AttendanceBook(store.engine)
    end = next_week
    by_class = {(r.class_id, r.key): (r.roster, r.present, r.late, r.rate)
                for r in book.rates(SITE, DAY, end, "class")}  # fmt: skip
    assert by_class[("6a1", "6a1")] == (6, 2, 1, 0.5)  # roster 4 (summary) + 2 marked
    by_period = {r.key: r.rate for r in book.rates(SITE, DAY, end, "period", class_id="6a1")}
    assert by_period == {"1": 0.5, "2": 0.5}
    by_week = {r.key: r.rate for r in book.rates(SITE, DAY, end, "week", class_id="6a1")}
    assert by_week == {"2025-03-03": 0.5, "2025-03-10": 0.5}
    lessons = book.lessons(everywhere(), SITE, DAY, DAY, class_id="6a2")
    assert [(x["method"], x["headcount"], x["marks"]) for x in lessons] == [("headcount", 31, [])]
    # a correction moves the rates at once
    store.write_batch([mark("hs03", "present", revision=1, method="manual", by="co.lan")])
    assert book.rates(SITE, DAY, DAY, "class")[0].rate == 0.75


def test_consent_history_and_withdrawal_erase_face_data(store: Store) -> None:
    enrolled = attendance(
        KIND_ENROLLED, {"student": "hs01", "templates": 3, "expires": "2026-06-01"}
    )
    store.write_batch([consent("hs01", "recorded"), enrolled, mark("hs01")])
    book = AttendanceBook(store.engine)
    [record] = book.consent(SITE)
    assert (record["state"], record["templates"]) == ("recorded", 3)
    withdrawal = consent("hs01", "withdrawn", seconds=10)
    store.write_batch([withdrawal, withdrawal])
    [record] = book.consent(SITE)
    assert record["state"] == "withdrawn"
    assert [(h["state"], h["by"], h["source"]) for h in record["history"]] == [
        ("withdrawn", "it.an", "agent"),
        ("recorded", "it.an", "agent"),
    ]
    assert record["templates"] == 0
    assert marks_of(store)["hs01"] == ("present", "face", 0, None)
    with store.engine.connect() as conn:
        assert conn.execute(select(EnrolmentRow)).all() == []
        datas = [r.data for r in conn.execute(select(EventRow).where(EventRow.agent == AGENT))]
    faces = [d for d in datas if ("confidence" in d and d["method"] == "face") or "templates" in d]
    assert faces == [], "no confidence or template count of the student is left"


@pytest.mark.parametrize(
    ("kind", "data"),
    [
        (KIND_MARK, {"class_id": "6a1", "student": "hs01"}),
        (KIND_CONSENT, {"student": "x" * 40, "state": "recorded"}),
        (KIND_SUMMARY, {"av": 99}),
        (KIND_MARK, {"image": "aGVsbG8="}),
    ],
)
def test_a_malformed_payload_is_a_dead_letter_not_a_crash(
    store: Store, kind: str, data: dict[str, Any]
) -> None:
    result = store.write_batch([attendance(kind, data), mark("hs09")])
    assert result.dead_letters_by_reason == {BAD_ATTENDANCE: 1}
    assert result.events == 2
    assert list(marks_of(store)) == ["hs09"]
    with store.engine.connect() as conn:
        [dead] = conn.execute(select(DeadLetter)).all()
    assert dead.reason == BAD_ATTENDANCE
    assert dead.detail.startswith("invalid ")
    assert (dead.payload, dead.size > 0) == (b"", True)  # it may name a student: none of it kept


def test_a_face_mark_arriving_after_the_withdrawal_keeps_no_confidence(store: Store) -> None:
    store.write_batch([consent("hs01", "recorded"), consent("hs01", "withdrawn", seconds=10)])
    store.write_batch([mark("hs01"), mark("hs02")])  # an outbox replay of an earlier lesson
    assert marks_of(store) == {
        "hs01": ("present", "face", 0, None),
        "hs02": ("present", "face", 0, 0.9),
    }
