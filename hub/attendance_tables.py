"""The attendance tables: marks per student and lesson, each lesson's counts, consent history.

Kept from the rooms' attendance events (``protocol.attendance``) in the ingest batch's own
transaction (``hub.attendance_writes``). No table holds a face, an image or a template: the
hub never receives one. What is derived from faces (the match confidence of a face mark, the
enrolment record of how many templates a student has) is erased when consent is withdrawn.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Float, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import Base

ID = 63
"""Site and room ids."""
STUDENT = 32
"""Student and class ids (``protocol.attendance``)."""


class AttendanceMarkRow(Base):
    """One student's mark for one lesson: the highest revision received wins."""

    __tablename__ = "attendance_marks"
    __table_args__ = (Index("ix_attendance_marks_room_date", "site", "room", "date"),)

    site: Mapped[str] = mapped_column(String(ID), primary_key=True)
    class_id: Mapped[str] = mapped_column(String(STUDENT), primary_key=True)
    date: Mapped[date] = mapped_column(Date, primary_key=True)
    period: Mapped[int] = mapped_column(Integer, primary_key=True)
    student: Mapped[str] = mapped_column(String(STUDENT), primary_key=True)
    room: Mapped[str] = mapped_column(String(ID))
    status: Mapped[str] = mapped_column(String(16))
    method: Mapped[str] = mapped_column(String(16))
    confidence: Mapped[float | None] = mapped_column(Float)
    """None once the student's face data is erased (consent withdrawn)."""
    at: Mapped[datetime]
    revision: Mapped[int] = mapped_column(Integer)
    by: Mapped[str | None] = mapped_column(String(64))


class AttendanceSlotRow(Base):
    """One lesson of a class: the counts of its marks, its summary and headcount (the rollup
    the reports add up: a rate is ``(present + late) / roster`` over any set of lessons)."""

    __tablename__ = "attendance_slots"
    __table_args__ = (Index("ix_attendance_slots_site_date", "site", "date"),)

    site: Mapped[str] = mapped_column(String(ID), primary_key=True)
    class_id: Mapped[str] = mapped_column(String(STUDENT), primary_key=True)
    date: Mapped[date] = mapped_column(Date, primary_key=True)
    period: Mapped[int] = mapped_column(Integer, primary_key=True)
    room: Mapped[str] = mapped_column(String(ID))
    method: Mapped[str | None] = mapped_column(String(16))
    present: Mapped[int] = mapped_column(Integer, default=0)
    late: Mapped[int] = mapped_column(Integer, default=0)
    absent: Mapped[int] = mapped_column(Integer, default=0)
    manual: Mapped[int] = mapped_column(Integer, default=0)
    """Marks whose winning revision a person made."""
    marked: Mapped[int] = mapped_column(Integer, default=0)
    summary_roster: Mapped[int | None] = mapped_column(Integer)
    """The roster the camera's summary counted (None: no summary yet)."""
    roster: Mapped[int] = mapped_column(Integer, default=0)
    """The larger of the summary's roster and the students marked: the rate's denominator."""
    unknown_faces: Mapped[int] = mapped_column(Integer, default=0)
    headcount: Mapped[int | None] = mapped_column(Integer)


class ConsentRow(Base):
    """One change of a student's consent to face recognition, as IT recorded it through the
    hub (``hub``) or as the room reported it (``agent``): the same change (student, state,
    time, person) is kept once, whichever came first."""

    __tablename__ = "attendance_consent"
    __table_args__ = (
        UniqueConstraint("site", "student", "state", "at", "by", name="uq_consent"),
        Index("ix_attendance_consent_student", "site", "student"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    site: Mapped[str] = mapped_column(String(ID))
    room: Mapped[str] = mapped_column(String(ID))
    student: Mapped[str] = mapped_column(String(STUDENT))
    state: Mapped[str] = mapped_column(String(16))
    parent: Mapped[bool] = mapped_column(Boolean)
    student_own: Mapped[bool | None] = mapped_column(Boolean)
    by: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime]
    source: Mapped[str] = mapped_column(String(8))
    templates_deleted: Mapped[int] = mapped_column(Integer, default=0)


class EnrolmentRow(Base):
    """That a student has face templates in a room's agent: how many and until when (never
    the templates). Deleted when consent is withdrawn."""

    __tablename__ = "attendance_enrolments"

    site: Mapped[str] = mapped_column(String(ID), primary_key=True)
    student: Mapped[str] = mapped_column(String(STUDENT), primary_key=True)
    room: Mapped[str] = mapped_column(String(ID))
    templates: Mapped[int] = mapped_column(Integer)
    expires: Mapped[date] = mapped_column(Date)
    at: Mapped[datetime]


class ErasureRow(Base):
    """A withdrawal of consent a room has not confirmed yet (``hub.erasures``): sent again
    while the room is online until its agent answers. Names no face data."""

    __tablename__ = "attendance_erasures"

    site: Mapped[str] = mapped_column(String(ID), primary_key=True)
    room: Mapped[str] = mapped_column(String(ID), primary_key=True)
    student: Mapped[str] = mapped_column(String(STUDENT), primary_key=True)
    by: Mapped[str] = mapped_column(String(64))
    requested_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(String(500), default="")
    last_try_at: Mapped[datetime | None]


class RosterRow(Base):
    """The roster IT pushed to a room's camera for a class, and its method."""

    __tablename__ = "attendance_rosters"

    site: Mapped[str] = mapped_column(String(ID), primary_key=True)
    class_id: Mapped[str] = mapped_column(String(STUDENT), primary_key=True)
    room: Mapped[str] = mapped_column(String(ID))
    method: Mapped[str] = mapped_column(String(16))
    students: Mapped[list[Any]] = mapped_column(JSON)
    """``[{"student": id, "method": None or a method of its own}]``."""
    by: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime]


__all__ = [
    "AttendanceMarkRow",
    "AttendanceSlotRow",
    "ConsentRow",
    "EnrolmentRow",
    "ErasureRow",
    "RosterRow",
]
