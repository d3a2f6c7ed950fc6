"""One period's attendance: the window in which students are marked present, the late window
after it, and what is decided when it closes. Pure logic: time comes in with every call."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from edge.attendance.roster import Match
from protocol.attendance import (
    AttendanceMark,
    AttendanceSummary,
    Headcount,
    Slot,
    Status,
    StudentMethod,
)
from protocol.timetable import TimetableConfig


@dataclass(frozen=True)
class Window:
    """When one period's attendance opens, stops marking present, and closes."""

    slot: Slot
    opens: dt.datetime
    late_from: dt.datetime
    closes: dt.datetime


def window_at(
    timetable: TimetableConfig | None,
    now: dt.datetime,
    tz: ZoneInfo,
    *,
    class_id: str,
    window_min: float,
    late_min: float,
    periods: list[int] | None,
) -> Window | None:
    """The attendance window open at ``now`` (UTC), from the room's timetable, if any."""
    if timetable is None:
        return None
    local = now.astimezone(tz)
    day = local.date()
    if not timetable.is_school_day(day):
        return None
    for _, session in timetable.sessions():
        for period in session:
            if periods is not None and period.period not in periods:
                continue
            opens = dt.datetime.combine(day, period.start, tzinfo=tz).astimezone(dt.UTC)
            late_from = opens + dt.timedelta(minutes=window_min)
            closes = late_from + dt.timedelta(minutes=late_min)
            if opens <= now < closes:
                slot = Slot(class_id=class_id, date=day, period=period.period)
                return Window(slot, opens, late_from, closes)
    return None


@dataclass
class Take:
    """Attendance being taken for one window: matches counted per student, marks decided."""

    window: Window
    roster: Mapping[str, StudentMethod]
    """Every student of the class and its method."""
    class_method: StudentMethod
    min_frames: int
    hits: dict[str, list[float]] = field(default_factory=dict)
    marks: dict[str, AttendanceMark] = field(default_factory=dict)
    unknown_max: int = 0
    headcount_max: int = 0
    frames: int = 0

    @property
    def slot(self) -> Slot:
        return self.window.slot

    def _status(self, at: dt.datetime) -> Status:
        return "present" if at < self.window.late_from else "late"

    def _mark(
        self, student: str, status: Status, method: str, confidence: float, at: dt.datetime,
        *, revision: int = 0, by: str | None = None,
    ) -> AttendanceMark:  # fmt: skip
        mark = AttendanceMark.model_validate({
            **self.slot.model_dump(), "student": student, "status": status, "method": method,
            "confidence": round(min(max(confidence, 0.0), 1.0), 3), "at": at,
            "revision": revision, "by": by,
        })  # fmt: skip
        self.marks[student] = mark
        return mark

    def feed_faces(
        self, matches: Iterable[Match], *, faces: int, unknown: int, at: dt.datetime
    ) -> list[AttendanceMark]:
        """One frame's faces: the matches of students identified by face, how many faces in
        all and how many named no one. Returns the marks decided by this frame."""
        self.frames += 1
        self.headcount_max = max(self.headcount_max, faces)
        self.unknown_max = max(self.unknown_max, unknown)
        decided = []
        for match in matches:
            if self.roster.get(match.student) != "face" or match.student in self.marks:
                continue
            seen = self.hits.setdefault(match.student, [])
            seen.append(match.distance)
            if len(seen) >= self.min_frames:
                confidence = 1.0 - sum(seen) / len(seen)
                decided.append(self._mark(match.student, self._status(at), "face", confidence, at))
        return decided

    def feed_card(self, student: str, at: dt.datetime) -> AttendanceMark | None:
        """A genuine card of the class: its student is marked at once (once)."""
        if student not in self.roster or student in self.marks:
            return None
        return self._mark(student, self._status(at), "qr", 1.0, at)

    def manual(self, student: str, status: Status, by: str, at: dt.datetime) -> AttendanceMark:
        """A teacher's correction: recorded as manual, with who made it."""
        previous = self.marks.get(student)
        revision = previous.revision + 1 if previous is not None else 1
        return self._mark(student, status, "manual", 1.0, at, revision=revision, by=by)

    def identified(self) -> list[str]:
        """Students who are marked by identity (face or card), not only counted."""
        return [s for s, m in self.roster.items() if m != "headcount"]

    def close(self, at: dt.datetime) -> tuple[list[AttendanceMark], AttendanceSummary, Headcount]:
        """The window closed: everyone identified but not seen is absent."""
        absent = [
            self._mark(s, "absent", self.roster[s], 0.0, at)
            for s in self.identified()
            if s not in self.marks
        ]
        marks = [self.marks[s] for s in self.identified()]
        summary = AttendanceSummary.model_validate({
            **self.slot.model_dump(), "method": self.class_method,
            "roster": len(marks), "present": sum(m.status == "present" for m in marks),
            "late": sum(m.status == "late" for m in marks),
            "absent": sum(m.status == "absent" for m in marks),
            "unknown_faces": min(self.unknown_max, 500), "frames": self.frames,
        })  # fmt: skip
        headcount = Headcount.model_validate(
            {**self.slot.model_dump(), "count": min(self.headcount_max, 500), "at": at}
        )
        return absent, summary, headcount

    def view(self) -> dict[str, object]:
        """The period as the panel shows it: ids and statuses, counts; no face data."""
        marks = {s: m.status for s, m in self.marks.items()}
        return {
            "class_id": self.slot.class_id, "date": self.slot.date.isoformat(),
            "period": self.slot.period, "late_from": self.window.late_from.isoformat(),
            "closes": self.window.closes.isoformat(), "marks": marks,
            "missing": [s for s in self.identified() if s not in self.marks],
            "headcount": self.headcount_max, "frames": self.frames,
        }  # fmt: skip


__all__ = ["Take", "Window", "window_at"]
