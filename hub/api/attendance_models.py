"""Bodies and answers of the attendance routes (``hub/api/routes/attendance.py``)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from protocol.attendance import MAX_ROSTER, ClassId, StudentId, StudentMethod


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ConsentCreate(_Body):
    """A parent's (and from age 7 the student's own) consent to face recognition."""

    student: StudentId
    parent: bool
    age_7_or_over: bool
    student_own: bool | None = None
    timeout_s: float = Field(default=10.0, ge=0.5, le=60, allow_inf_nan=False)


class WithdrawCreate(_Body):
    """Consent withdrawn: the room's agent deletes the student's templates at once."""

    student: StudentId
    timeout_s: float = Field(default=10.0, ge=0.5, le=60, allow_inf_nan=False)


class RosterStudent(_Body):
    student: StudentId
    method: StudentMethod | None = None
    """None: the class's method."""


class RosterCreate(_Body):
    """The class this room's camera takes attendance of, and how."""

    class_id: ClassId
    method: StudentMethod = "face"
    students: list[RosterStudent] = Field(max_length=MAX_ROSTER)
    timeout_s: float = Field(default=10.0, ge=0.5, le=60, allow_inf_nan=False)


class MarkPublic(BaseModel):
    student: str
    status: str
    method: str
    confidence: float | None
    """None for a face mark whose student withdrew consent since."""
    revision: int
    manual: bool
    by: str | None
    at: datetime


class LessonPublic(BaseModel):
    """One class's lesson: its counts and, student by student, the marks."""

    site: str
    room: str
    class_id: str
    date: date
    period: int
    method: str | None
    roster: int
    present: int
    late: int
    absent: int
    manual: int
    unknown_faces: int
    headcount: int | None
    marks: list[MarkPublic]


class AttendancePublic(BaseModel):
    site: str
    room: str | None
    class_id: str | None
    start: date
    end: date
    lessons: list[LessonPublic]


class RatePublic(BaseModel):
    class_id: str
    key: str
    """The class, the period's number or the week's Monday (ISO date)."""
    lessons: int
    roster: int
    present: int
    late: int
    absent: int
    rate: float | None
    """(present + late) / roster, None without a roster."""


class RatesPublic(BaseModel):
    site: str
    group: str
    start: date
    end: date
    rates: list[RatePublic]


class ConsentChangePublic(BaseModel):
    state: str
    parent: bool
    student_own: bool | None
    by: str
    at: datetime
    room: str
    source: str
    """``hub``: recorded by IT through the hub; ``agent``: reported by the room."""
    templates_deleted: int


class ConsentPublic(BaseModel):
    student: str
    state: str
    by: str
    at: datetime
    templates: int
    """Face templates the room's agent reported holding (0 once withdrawn)."""
    expires: date | None
    history: list[ConsentChangePublic]
    pending_rooms: list[str] = []
    """Rooms that have not confirmed the deletion of the student's templates after a
    withdrawal yet: the hub sends it again whenever they are online."""


class ConsentListPublic(BaseModel):
    site: str
    students: list[ConsentPublic]


class MethodStudentPublic(BaseModel):
    student: str
    method: str
    consent: str | None
    face_allowed: bool


class ClassMethodPublic(BaseModel):
    class_id: str
    room: str
    method: str
    by: str
    at: datetime
    students: list[MethodStudentPublic]


class MethodsPublic(BaseModel):
    site: str
    classes: list[ClassMethodPublic]


class AttendanceCommandPublic(BaseModel):
    """The room's answer to an attendance command."""

    student: str | None = None
    class_id: str | None = None
    code: str
    text: str
    rooms: dict[str, str] = {}
    """A withdrawal: each room told, with its answer's code or ``pending``."""
    pending_rooms: list[str] = []
    """A withdrawal: the rooms that have not confirmed it yet (it is sent again)."""


__all__ = [
    "AttendanceCommandPublic",
    "AttendancePublic",
    "ClassMethodPublic",
    "ConsentChangePublic",
    "ConsentCreate",
    "ConsentListPublic",
    "ConsentPublic",
    "LessonPublic",
    "MarkPublic",
    "MethodStudentPublic",
    "MethodsPublic",
    "RatePublic",
    "RatesPublic",
    "RosterCreate",
    "RosterStudent",
    "WithdrawCreate",
]
