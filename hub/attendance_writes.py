"""Attendance from the rooms' events, written in the ingest batch's own transaction.

The store calls ``AttendanceWriter.write`` with the events the batch stores for the first
time, so attendance is kept exactly when its event is: a crash before the commit loses
neither, a redelivery adds nothing. Every write is idempotent besides: a mark is replaced
only by a higher ``revision``, a consent change is unique by (student, state, at, by), a
lesson's counts are recounted from its marks. An event whose data is not a valid attendance
payload is stored as the event it is and also kept as a dead letter (``bad_attendance``),
counted in the health like every dead letter; it changes no attendance.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, case, delete, func, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite

from hub.attendance_tables import (
    AttendanceMarkRow,
    AttendanceSlotRow,
    ConsentRow,
    EnrolmentRow,
)
from hub.db import EventRow
from hub.parsing import Parsed, Rejected, rejected
from protocol import Event, encode
from protocol.attendance import (
    EVENT_KINDS,
    KIND_ENROLLED,
    KIND_MARK,
    AttendanceMark,
    AttendanceSummary,
    ConsentChange,
    Enrolled,
    Headcount,
    event_data,
)

logger = logging.getLogger(__name__)

BAD_ATTENDANCE = "bad_attendance"
"""The dead-letter reason of an attendance event whose data cannot be read."""
SlotKey = tuple[str, str, date, int]
"""(site, class, date, period)."""
InsertFactory = Callable[[Any], Any]


def insert_for(conn: Connection) -> InsertFactory:
    """The dialect's ``insert``, which knows ON CONFLICT."""
    return postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert


class AttendanceWriter:
    """Keeps marks, lesson counts, consent history and enrolments from attendance events."""

    def __init__(self, conn: Connection, insert: InsertFactory, now: datetime) -> None:
        self.conn = conn
        self.insert = insert
        self.now = now
        self.rejected: list[Rejected] = []

    def write(self, items: Sequence[Parsed]) -> list[Rejected]:
        """Apply the attendance events of ``items`` (other kinds are passed over)."""
        marks: dict[tuple[SlotKey, str], tuple[str, AttendanceMark]] = {}
        touched: dict[SlotKey, str] = {}
        for item in items:
            msg = item.message
            if not isinstance(msg, Event) or msg.kind not in EVENT_KINDS:
                continue
            try:
                data = event_data(msg.kind, msg.data)
            except ValueError as exc:
                logger.warning("room %s: attendance event refused: %s", item.agent, exc)
                self.rejected.append(
                    rejected(item.source, encode(msg), BAD_ATTENDANCE, str(exc), self.now)
                )
                continue
            site, room = item.topic.site, item.topic.room
            if isinstance(data, AttendanceMark):
                key = ((site, data.class_id, data.date, data.period), data.student)
                have = marks.get(key)
                if have is None or have[1].revision < data.revision:
                    marks[key] = (room, data)
                touched[key[0]] = room
            elif isinstance(data, AttendanceSummary):
                slot = (site, data.class_id, data.date, data.period)
                self._summary(slot, room, data)
                touched[slot] = room
            elif isinstance(data, Headcount):
                slot = (site, data.class_id, data.date, data.period)
                self._headcount(slot, room, data)
                touched[slot] = room
            elif isinstance(data, ConsentChange):
                self._consent(site, room, data)
            elif isinstance(data, Enrolled):
                self._enrolled(site, room, data, msg.ts)
        self._marks(marks)
        faces = {(slot[0], student) for (slot, student), (_, d) in marks.items()
                 if d.method == "face"}  # fmt: skip
        for site, student in withdrawn(self.conn, faces):
            forget_face_data(self.conn, site, student)  # a mark from before the withdrawal
        for slot, room in sorted(touched.items()):
            self._recount(slot, room)
        return self.rejected

    # --- marks and lessons ------------------------------------------------------------------

    def _marks(self, marks: dict[tuple[SlotKey, str], tuple[str, AttendanceMark]]) -> None:
        if not marks:
            return
        m = AttendanceMarkRow
        rows = [
            {"site": slot[0], "class_id": slot[1], "date": slot[2], "period": slot[3],
             "student": student, "room": room, "status": d.status, "method": d.method,
             "confidence": d.confidence, "at": d.at, "revision": d.revision, "by": d.by}
            for (slot, student), (room, d) in sorted(marks.items())  # one lock order
        ]  # fmt: skip
        stmt = self.insert(m)
        columns = ("room", "status", "method", "confidence", "at", "revision", "by")
        self.conn.execute(
            stmt.on_conflict_do_update(
                index_elements=[m.site, m.class_id, m.date, m.period, m.student],
                set_={c: stmt.excluded[c] for c in columns},
                where=m.revision < stmt.excluded.revision,
            ),
            rows,
        )

    def _slot_row(self, slot: SlotKey, room: str) -> dict[str, Any]:
        return {"site": slot[0], "class_id": slot[1], "date": slot[2], "period": slot[3],
                "room": room}  # fmt: skip

    def _upsert_slot(self, slot: SlotKey, room: str, values: dict[str, Any]) -> None:
        s = AttendanceSlotRow
        stmt = self.insert(s).values(**self._slot_row(slot, room), **values)
        self.conn.execute(
            stmt.on_conflict_do_update(
                index_elements=[s.site, s.class_id, s.date, s.period],
                set_={c: stmt.excluded[c] for c in ("room", *values)},
            )
        )

    def _summary(self, slot: SlotKey, room: str, data: AttendanceSummary) -> None:
        self._upsert_slot(
            slot,
            room,
            {"method": data.method, "summary_roster": data.roster,
             "unknown_faces": data.unknown_faces},
        )  # fmt: skip

    def _headcount(self, slot: SlotKey, room: str, data: Headcount) -> None:
        self._upsert_slot(slot, room, {"method": "headcount", "headcount": data.count})

    def _recount(self, slot: SlotKey, room: str) -> None:
        """The lesson's counts from its marks as they now are (the rollup of the reports)."""
        m = AttendanceMarkRow
        site, class_id, day, period = slot
        where = (m.site == site, m.class_id == class_id, m.date == day, m.period == period)

        def count(condition: Any) -> Any:
            return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

        row = self.conn.execute(
            select(
                count(m.status == "present"),
                count(m.status == "late"),
                count(m.status == "absent"),
                count(m.method == "manual"),
                func.count(),
            ).where(*where)
        ).one()
        present, late, absent, manual, marked = (int(v) for v in row)
        self._upsert_slot(
            slot,
            room,
            {"present": present, "late": late, "absent": absent, "manual": manual,
             "marked": marked},
        )  # fmt: skip
        s = AttendanceSlotRow
        larger = func.greatest if self.conn.dialect.name == "postgresql" else func.max
        roster: Any = larger(func.coalesce(s.summary_roster, 0), s.marked)
        self.conn.execute(
            update(s)
            .where(s.site == site, s.class_id == class_id, s.date == day, s.period == period)
            .values(roster=roster)
        )

    # --- consent and enrolment --------------------------------------------------------------

    def _consent(self, site: str, room: str, data: ConsentChange) -> None:
        record_consent(self.conn, self.insert, site, room, data, source="agent")
        if data.state in ("withdrawn", "expired"):
            forget_face_data(self.conn, site, data.student)

    def _enrolled(self, site: str, room: str, data: Enrolled, at: datetime) -> None:
        e = EnrolmentRow
        stmt = self.insert(e).values(
            site=site, student=data.student, room=room, templates=data.templates,
            expires=data.expires, at=at,
        )  # fmt: skip
        self.conn.execute(
            stmt.on_conflict_do_update(
                index_elements=[e.site, e.student],
                set_={c: stmt.excluded[c] for c in ("room", "templates", "expires", "at")},
            )
        )


def record_consent(
    conn: Connection,
    insert: InsertFactory,
    site: str,
    room: str,
    data: ConsentChange,
    *,
    source: str,
) -> None:
    """Add a change to the student's consent history (once, however often it is given)."""
    stmt = insert(ConsentRow).values(
        site=site, room=room, student=data.student, state=data.state, parent=data.parent,
        student_own=data.student_own, by=data.by, at=data.at, source=source,
        templates_deleted=data.templates_deleted,
    )  # fmt: skip
    conn.execute(stmt.on_conflict_do_nothing())


def withdrawn(conn: Connection, students: set[tuple[str, str]]) -> list[tuple[str, str]]:
    """Of these (site, student) pairs, those whose newest consent change is a withdrawal or
    an expiry (one query for the lot)."""
    if not students:
        return []
    c = ConsentRow
    rows = conn.execute(
        select(c.site, c.student, c.state)
        .where(tuple_(c.site, c.student).in_(sorted(students)))
        .order_by(c.site, c.student, c.at, c.id)
    ).all()
    newest = {(r.site, r.student): r.state for r in rows}  # the last of each wins
    return sorted(k for k, state in newest.items() if state != "recorded")


def forget_face_data(conn: Connection, site: str, student: str) -> int:
    """Erase what the hub holds that was derived from the student's face: the enrolment
    record, and the match confidence of their face marks (in the marks and in the stored
    events). The marks themselves (present, late, absent) stay: they are the attendance
    record, not biometric data. The hub holds no template or image to delete. Returns the
    rows changed."""
    changed = conn.execute(
        delete(EnrolmentRow).where(EnrolmentRow.site == site, EnrolmentRow.student == student)
    ).rowcount
    m = AttendanceMarkRow
    changed += conn.execute(
        update(m)
        .where(m.site == site, m.student == student, m.method == "face", m.confidence.is_not(None))
        .values(confidence=None)
    ).rowcount
    e = EventRow
    found = conn.execute(
        select(e.id, e.kind, e.data).where(
            e.kind.in_((KIND_MARK, KIND_ENROLLED)),
            e.agent.like(f"{site}/%"),
            e.data["student"].as_string() == student,
        )
    ).all()
    for row in found:
        data = dict(row.data)
        if row.kind == KIND_MARK and data.get("method") == "face" and "confidence" in data:
            data.pop("confidence")
        elif row.kind == KIND_ENROLLED and ("templates" in data or "expires" in data):
            data.pop("templates", None)
            data.pop("expires", None)
        else:
            continue
        conn.execute(update(e).where(e.id == row.id).values(data=data))
        changed += 1
    return changed


__all__ = [
    "BAD_ATTENDANCE",
    "AttendanceWriter",
    "withdrawn",
    "forget_face_data",
    "insert_for",
    "record_consent",
]
