"""The attendance contract: what the attendance camera reports, and what the hub may ask of it.

Attendance travels in the room's ordinary ``event`` messages (``protocol.Event``), so it goes
through the agent's durable outbox and the hub's exactly-once store like every event: an
outage loses nothing and a replay is stored once. Each attendance event has one of the
``kind`` values below and its ``data`` is one of the models here, with a version of its own
(``av``). The hub reaches the camera's pipeline through ordinary commands to the device
``attendance`` (``protocol.Command``), with the params models below.

No model here has a field that can hold an image: ids are short, patterned strings, counts
are integers, and no free text is longer than a reason. The one list of numbers is the
``enrol_templates`` command's: at most 5 face templates of exactly 128 finite floats.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)

from protocol.bounds import check_text
from protocol.messages import UtcDatetime

ATTENDANCE_VERSION = 1
"""Written as ``av`` into every attendance payload (event data and command params)."""
ACCEPTED_ATTENDANCE_VERSIONS = frozenset({1})

DEVICE = "attendance"
"""The device id the hub's attendance commands go to (``cmd/attendance``)."""

KIND_MARK = "attendance"
"""One student's mark for one period (``AttendanceMark``)."""
KIND_SUMMARY = "attendance_summary"
"""A period's window closed: counts only (``AttendanceSummary``)."""
KIND_HEADCOUNT = "attendance_headcount"
"""Headcount mode: how many people, never who (``Headcount``)."""
KIND_CONSENT = "attendance_consent"
"""A student's consent was recorded, withdrawn or expired (``ConsentChange``)."""
KIND_ENROLLED = "attendance_enrolled"
"""A student's face templates were stored (``Enrolled``)."""
KIND_CARD_REFUSED = "attendance_card_refused"
"""A QR card was refused: forged, revoked or of another class (``CardRefused``), severity
``warning``: the hub raises an alert from it."""

EVENT_KINDS = frozenset(
    {KIND_MARK, KIND_SUMMARY, KIND_HEADCOUNT, KIND_CONSENT, KIND_ENROLLED, KIND_CARD_REFUSED}
)

STUDENT_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$"
StudentId = Annotated[str, Field(pattern=STUDENT_ID_PATTERN)]
"""A school's student id (1-32 characters of letters, digits, ``_ . -``): never a name."""
ClassId = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")]
"""The class (lớp), e.g. ``6a1``."""
CardSerial = Annotated[int, Field(ge=1, le=2**31 - 1)]
Person = Annotated[str, Field(min_length=1, max_length=64), AfterValidator(check_text)]
"""Who did something (a user name of the hub or the panel): never shown to students."""
Reason = Annotated[str, Field(max_length=200), AfterValidator(check_text)]
Period = Annotated[int, Field(ge=1, le=20)]
"""The period's number in the room's timetable (tiết)."""
Count = Annotated[int, Field(ge=0, le=500)]

Status = Literal["present", "late", "absent"]
Method = Literal["face", "qr", "headcount", "manual"]
"""How a mark was made. ``headcount`` never names anyone; ``manual``: a person marked it."""
StudentMethod = Literal["face", "qr", "headcount"]
"""How a class or a student takes attendance (set per class, overridden per student)."""

MAX_ROSTER = 80
"""Most students in one class roster."""


class AttendanceData(BaseModel):
    """The versioned body every attendance payload shares: unknown keys refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    av: int = ATTENDANCE_VERSION
    """The attendance payload's own version; readers refuse one they do not know."""

    @field_validator("av")
    @classmethod
    def _known_version(cls, value: int) -> int:
        if value not in ACCEPTED_ATTENDANCE_VERSIONS:
            msg = f"unsupported attendance version {value}"
            raise ValueError(msg)
        return value


class Slot(AttendanceData):
    """Which lesson: the class, the school's local date and the period."""

    class_id: ClassId
    date: dt.date
    period: Period


class AttendanceMark(Slot):
    """One student's attendance for one period: the agent sends one per student per period.

    A correction (a teacher's manual mark) is another event for the same slot and student with
    a higher ``revision``; the hub keeps the mark of the highest revision.
    """

    student: StudentId
    status: Status
    method: Method
    confidence: float = Field(ge=0.0, le=1.0, allow_inf_nan=False)
    """How sure: for faces, from the match's distance and margin; 1 for a card or a person."""
    at: UtcDatetime
    """When the student was seen (present, late) or the window closed (absent)."""
    revision: int = Field(default=0, ge=0, le=1000)
    """0: the camera's decision; each manual correction one more."""
    by: Person | None = None
    """Who made a manual mark (None for the camera's own)."""


class AttendanceSummary(Slot):
    """A period's window closed: how many of the roster were present, late and absent, and how
    many faces matched no one of the class (counted, never stored)."""

    method: StudentMethod
    roster: Count
    present: Count
    late: Count
    absent: Count
    unknown_faces: Count = 0
    """Most faces in one frame that matched no student of the class."""
    frames: int = Field(default=0, ge=0, le=100_000)


class Headcount(Slot):
    """Headcount mode: the most people seen in one frame of the window; no identity at all."""

    count: Count
    at: UtcDatetime


ConsentState = Literal["recorded", "withdrawn", "expired"]


class ConsentChange(AttendanceData):
    """A student's consent to face recognition changed: the hub keeps the history. On
    ``withdrawn`` and ``expired`` the agent has already deleted the student's templates."""

    student: StudentId
    state: ConsentState
    parent: bool
    student_own: bool | None
    """The student's own consent (required from age 7; None under 7)."""
    by: Person
    at: UtcDatetime
    templates_deleted: Count = 0


class Enrolled(AttendanceData):
    """Face templates were stored for a student (how many, never the templates)."""

    student: StudentId
    templates: Count
    expires: dt.date


CardRefusal = Literal["forged", "revoked", "other_class", "unreadable", "expired"]


class CardRefused(AttendanceData):
    """A QR card was refused. A forged card names no one (its content is not trusted)."""

    reason: CardRefusal
    serial: CardSerial | None = None
    """The card's serial, for a revoked card (a signed card of the school)."""


# --- commands to the device ``attendance`` ----------------------------------------------


class ConsentParams(AttendanceData):
    """``consent``: record a student's consent to face recognition (parent's, and the student's
    own from age 7), with who recorded it and when."""

    student: StudentId
    parent: bool
    age_7_or_over: bool
    student_own: bool | None = None
    by: Person
    at: UtcDatetime | None = None
    """When it was given (None: now)."""


class WithdrawParams(AttendanceData):
    """``withdraw``: consent withdrawn; the student's templates are deleted at once."""

    student: StudentId
    by: Person


class MarkParams(AttendanceData):
    """``mark``: a teacher's correction of one student's mark (the current period if the slot
    is not given)."""

    student: StudentId
    status: Status
    by: Person
    date: dt.date | None = None
    period: Period | None = None


class RosterEntry(AttendanceData):
    student: StudentId
    method: StudentMethod | None = None
    """None: the class's method."""


class RosterParams(AttendanceData):
    """``roster``: the class that this room's camera takes attendance of, and how."""

    class_id: ClassId
    method: StudentMethod = "face"
    students: list[RosterEntry] = Field(max_length=MAX_ROSTER)


class RevokeCardParams(AttendanceData):
    """``revoke_card``: a lost card's serial; the card is refused from now on."""

    serial: CardSerial
    by: Person


class EnrolParams(AttendanceData):
    """``enrol``: store a student's templates from the photos IT put in the agent's enrolment
    inbox (``{inbox}/{student}/``); the photos are deleted once read. Refused without consent."""

    student: StudentId
    by: Person


TEMPLATE_LENGTH = 128
"""Floats in one face template (both recognisers give 128)."""
ENROL_TEMPLATES_MAX = 5
"""Most templates one ``enrol_templates`` command carries (one per photo)."""
Template = Annotated[
    list[Annotated[float, Field(ge=-10, le=10, allow_inf_nan=False)]],
    Field(min_length=TEMPLATE_LENGTH, max_length=TEMPLATE_LENGTH),
]
"""One face template: 128 finite floats within ±10 (both recognisers' are within ±1), so five
of them at 6 decimals fit the command's 8 KiB; never pixels: no face can be redrawn from it."""
NO_CONSENT = "no_consent"
"""How the text of the room's ``bad_params`` reply to ``enrol_templates`` starts when the
student's consent is not recorded in the room."""
ModelName = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")]


class EnrolTemplatesParams(AttendanceData):
    """``enrol_templates``: store templates the hub computed from IT's photos (the photos
    never leave the hub's memory). Refused without consent (``no_consent: ...``) and for
    templates of another model than the room's recogniser (name and version)."""

    student: StudentId
    templates: list[Template] = Field(min_length=1, max_length=ENROL_TEMPLATES_MAX)
    recogniser: ModelName
    """The recogniser that made them (``dlib-resnet``, ``sface``)."""
    recogniser_version: ModelName
    """Its model file's name and SHA-256 start (``faces.models.model_version``)."""
    by: Person


class TakeParams(AttendanceData):
    """``take``: open an attendance window now (outside the timetable's)."""

    period: Period | None = None


COMMAND_PARAMS: dict[str, type[AttendanceData]] = {
    "consent": ConsentParams,
    "withdraw": WithdrawParams,
    "mark": MarkParams,
    "roster": RosterParams,
    "revoke_card": RevokeCardParams,
    "enrol": EnrolParams,
    "enrol_templates": EnrolTemplatesParams,
    "take": TakeParams,
}
"""Each action of the device ``attendance`` and its params (``status`` takes none)."""

EVENT_DATA: dict[str, type[AttendanceData]] = {
    KIND_MARK: AttendanceMark,
    KIND_SUMMARY: AttendanceSummary,
    KIND_HEADCOUNT: Headcount,
    KIND_CONSENT: ConsentChange,
    KIND_ENROLLED: Enrolled,
    KIND_CARD_REFUSED: CardRefused,
}
"""Each attendance event kind and the model of its ``data``."""

D = TypeVar("D", bound=AttendanceData)


def read_data(model: type[D], data: dict[str, Any]) -> D:
    """Parse an attendance payload; raise ValueError naming the field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(data)'}: {err['msg']}"
            for err in exc.errors(include_url=False)[:5]
        )
        msg = f"invalid {model.__name__}: {problems}"
        raise ValueError(msg) from None


def event_data(kind: str, data: dict[str, Any]) -> AttendanceData:
    """The attendance model of an event's data (ValueError for another kind or bad data)."""
    model = EVENT_DATA.get(kind)
    if model is None:
        msg = f"{kind!r} is not an attendance event kind"
        raise ValueError(msg)
    return read_data(model, data)


def as_data(payload: AttendanceData) -> dict[str, Any]:
    """A payload as an event's JSON-ready ``data``."""
    return payload.model_dump(mode="json")


__all__ = [
    "ACCEPTED_ATTENDANCE_VERSIONS",
    "ENROL_TEMPLATES_MAX",
    "ATTENDANCE_VERSION",
    "COMMAND_PARAMS",
    "DEVICE",
    "EVENT_DATA",
    "EVENT_KINDS",
    "KIND_CARD_REFUSED",
    "KIND_CONSENT",
    "KIND_ENROLLED",
    "KIND_HEADCOUNT",
    "KIND_MARK",
    "KIND_SUMMARY",
    "MAX_ROSTER",
    "NO_CONSENT",
    "STUDENT_ID_PATTERN",
    "TEMPLATE_LENGTH",
    "AttendanceData",
    "AttendanceMark",
    "AttendanceSummary",
    "CardRefusal",
    "CardRefused",
    "CardSerial",
    "ClassId",
    "ConsentChange",
    "ConsentParams",
    "ConsentState",
    "EnrolParams",
    "EnrolTemplatesParams",
    "Enrolled",
    "Headcount",
    "MarkParams",
    "Method",
    "RevokeCardParams",
    "RosterEntry",
    "RosterParams",
    "Slot",
    "Status",
    "StudentId",
    "StudentMethod",
    "TakeParams",
    "Template",
    "WithdrawParams",
    "as_data",
    "event_data",
    "read_data",
]
