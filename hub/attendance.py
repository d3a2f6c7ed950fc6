"""Reading attendance: marks per lesson, attendance rates, consent history, rosters.

Sync, on the hub's engine (call it from a worker thread). What a caller may see is the
route's business; each function here takes the rooms or the school to read.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import Engine, func, select

from hub.access import Scope
from hub.attendance_tables import (
    AttendanceMarkRow,
    AttendanceSlotRow,
    ConsentRow,
    EnrolmentRow,
    RosterRow,
)
from hub.attendance_writes import forget_face_data, insert_for, record_consent
from protocol.attendance import ConsentChange

RateGroup = Literal["class", "period", "week"]
RATE_GROUPS: tuple[RateGroup, ...] = ("class", "period", "week")
DAYS_MAX = 366
"""Longest range of dates one read covers."""


@dataclass(frozen=True, slots=True)
class Rate:
    """Attendance of a set of lessons: (present + late) / roster."""

    class_id: str
    key: str
    """The class itself (``class``), the period's number (``period``) or the ISO week's
    Monday (``week``)."""
    lessons: int
    roster: int
    present: int
    late: int
    absent: int

    @property
    def rate(self) -> float | None:
        return round((self.present + self.late) / self.roster, 4) if self.roster else None


def week_of(day: date) -> date:
    """The Monday of ``day``'s ISO week."""
    return day - timedelta(days=day.weekday())


class AttendanceBook:
    """The hub's attendance records, read and (for what IT does through the hub) written."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # --- marks ------------------------------------------------------------------------------

    def lessons(
        self,
        scope: Scope,
        site: str,
        start: date,
        end: date,
        *,
        room: str | None = None,
        class_id: str | None = None,
    ) -> list[dict[str, Any]]:
        """Each lesson in reach with its counts and its students' marks, oldest first."""
        s, m = AttendanceSlotRow, AttendanceMarkRow
        where = [s.site == site, s.date >= start, s.date <= end, scope.where(s.site, s.room)]
        if room is not None:
            where.append(s.room == room)
        if class_id is not None:
            where.append(s.class_id == class_id)
        with self.engine.connect() as conn:
            slots = conn.execute(
                select(s).where(*where).order_by(s.date, s.period, s.class_id)
            ).all()
            mwhere = [m.site == site, m.date >= start, m.date <= end, scope.where(m.site, m.room)]
            if room is not None:
                mwhere.append(m.room == room)
            if class_id is not None:
                mwhere.append(m.class_id == class_id)
            marks = conn.execute(select(m).where(*mwhere).order_by(m.student)).all()
        by_slot: dict[tuple[str, date, int], list[dict[str, Any]]] = {}
        for r in marks:
            by_slot.setdefault((r.class_id, r.date, r.period), []).append(
                {"student": r.student, "status": r.status, "method": r.method,
                 "confidence": r.confidence, "revision": r.revision, "by": r.by, "at": r.at,
                 "manual": r.method == "manual"}
            )  # fmt: skip
        return [
            {"site": r.site, "room": r.room, "class_id": r.class_id, "date": r.date,
             "period": r.period, "method": r.method, "roster": r.roster, "present": r.present,
             "late": r.late, "absent": r.absent, "manual": r.manual,
             "unknown_faces": r.unknown_faces, "headcount": r.headcount,
             "marks": by_slot.get((r.class_id, r.date, r.period), [])}
            for r in slots
        ]  # fmt: skip

    # --- rates --------------------------------------------------------------------------------

    def rates(
        self, site: str, start: date, end: date, group: RateGroup, *, class_id: str | None = None
    ) -> list[Rate]:
        """Attendance rates of the school's classes per class, period or week, from the
        lessons' rollup (``attendance_slots``)."""
        s = AttendanceSlotRow
        where = [s.site == site, s.date >= start, s.date <= end]
        if class_id is not None:
            where.append(s.class_id == class_id)
        sums = (func.count(), func.sum(s.roster), func.sum(s.present), func.sum(s.late),
                func.sum(s.absent))  # fmt: skip
        out: dict[tuple[str, str], list[int]] = {}
        with self.engine.connect() as conn:
            if group == "week":
                days = conn.execute(
                    select(s.class_id, s.date, *sums).where(*where).group_by(s.class_id, s.date)
                ).all()
                for row in days:
                    key = (row[0], week_of(row[1]).isoformat())
                    acc = out.setdefault(key, [0, 0, 0, 0, 0])
                    for i, v in enumerate(row[2:]):
                        acc[i] += int(v or 0)
            else:
                keys = (s.class_id,) if group == "class" else (s.class_id, s.period)
                rows: Any = conn.execute(select(*keys, *sums).where(*where).group_by(*keys))
                for row in rows:
                    key = (row[0], row[0] if group == "class" else str(row[1]))
                    out[key] = [int(v or 0) for v in row[len(keys) :]]
        order = (lambda k: (k[0], int(k[1]))) if group == "period" else (lambda k: k)
        return [Rate(c, k, *out[(c, k)]) for c, k in sorted(out, key=order)]

    # --- consent -----------------------------------------------------------------------------

    def consent(self, site: str, student: str | None = None) -> list[dict[str, Any]]:
        """Each student of the school with a consent record: the state now (the newest
        change), the history newest first, and whether templates are held for them."""
        c, e = ConsentRow, EnrolmentRow
        where = [c.site == site] + ([c.student == student] if student else [])
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(c).where(*where).order_by(c.student, c.at.desc(), c.id.desc())
            ).all()
            enrolled = {
                r.student: r
                for r in conn.execute(
                    select(e).where(e.site == site, *([e.student == student] if student else []))
                )
            }
        out: dict[str, dict[str, Any]] = {}
        for r in rows:
            entry = out.get(r.student)
            change = {"state": r.state, "parent": r.parent, "student_own": r.student_own,
                      "by": r.by, "at": r.at, "room": r.room, "source": r.source,
                      "templates_deleted": r.templates_deleted}  # fmt: skip
            if entry is None:
                enrol = enrolled.get(r.student)
                entry = out[r.student] = {
                    "student": r.student, "state": r.state, "by": r.by, "at": r.at,
                    "templates": enrol.templates if enrol else 0,
                    "expires": enrol.expires if enrol else None, "history": [],
                }  # fmt: skip
            entry["history"].append(change)
        return list(out.values())

    def record(self, site: str, room: str, change: ConsentChange) -> None:
        """Keep a change IT made through the hub; a withdrawal also erases the face data."""
        with self.engine.begin() as conn:
            record_consent(conn, insert_for(conn), site, room, change, source="hub")
            if change.state in ("withdrawn", "expired"):
                forget_face_data(conn, site, change.student)

    def forget(self, site: str, student: str) -> int:
        """Erase what the hub holds derived from the student's face (``forget_face_data``)."""
        with self.engine.begin() as conn:
            return forget_face_data(conn, site, student)

    # --- rosters -----------------------------------------------------------------------------

    def save_roster(
        self,
        site: str,
        room: str,
        class_id: str,
        method: str,
        students: list[dict[str, Any]],
        by: str,
        at: datetime,
    ) -> None:
        with self.engine.begin() as conn:
            stmt = insert_for(conn)(RosterRow).values(
                site=site, class_id=class_id, room=room, method=method, students=students,
                by=by, at=at,
            )  # fmt: skip
            cols = ("room", "method", "students", "by", "at")
            conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=[RosterRow.site, RosterRow.class_id],
                    set_={k: stmt.excluded[k] for k in cols},
                )
            )

    def methods(self, site: str, rooms: Iterable[str] | None = None) -> list[dict[str, Any]]:
        """Each class roster of the school, each student with the method that applies to
        them and whether face recognition may be used (consent recorded now)."""
        r = RosterRow
        with self.engine.connect() as conn:
            query = select(r).where(r.site == site).order_by(r.class_id)
            if rooms is not None:
                query = query.where(r.room.in_(list(rooms)))
            rosters = conn.execute(query).all()
        consent = {c["student"]: c for c in self.consent(site)}
        out = []
        for row in rosters:
            students = []
            for entry in row.students:
                sid = str(entry.get("student", ""))
                method = entry.get("method") or row.method
                state = consent.get(sid, {}).get("state")
                students.append(
                    {"student": sid, "method": method, "consent": state,
                     "face_allowed": state == "recorded"}
                )  # fmt: skip
            out.append(
                {"class_id": row.class_id, "room": row.room, "method": row.method,
                 "by": row.by, "at": row.at, "students": students}
            )  # fmt: skip
        return out


__all__ = ["DAYS_MAX", "RATE_GROUPS", "AttendanceBook", "Rate", "RateGroup", "week_of"]
