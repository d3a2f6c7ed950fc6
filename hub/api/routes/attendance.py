"""Attendance: marks per lesson (personal data, every read audited), rates for the reports,
students' consent and class rosters, sent to the room's attendance camera by IT."""

from __future__ import annotations

import asyncio
import csv
import io
import time
from datetime import date, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, HTTPException, Query, Response, status

from hub.access import Action, Caller
from hub.api.attendance_models import (
    AttendanceCommandPublic,
    AttendancePublic,
    ConsentCreate,
    ConsentListPublic,
    MethodsPublic,
    RatesPublic,
    RosterCreate,
    WithdrawCreate,
)
from hub.api.auth import RoomAllowed, RoomRef, SiteAllowed, SiteRef
from hub.api.deps import HubDep, HubState
from hub.api.models import ErrorPublic, ValidationErrorPublic
from hub.api.responses import error_responses
from hub.api.routes.commands import REPLY_STATUS, UNREADABLE_BODY, raise_for_link
from hub.api.routes.reports import refuse
from hub.attendance import DAYS_MAX, AttendanceBook, Rate, RateGroup
from hub.errors import HubError
from protocol import utcnow
from protocol.attendance import (
    DEVICE,
    STUDENT_ID_PATTERN,
    AttendanceData,
    ConsentChange,
    ConsentParams,
    RosterEntry,
    RosterParams,
    as_data,
)

rooms = APIRouter(prefix="/rooms", tags=["attendance"])
sites = APIRouter(prefix="/sites", tags=["attendance"])
CSV_TYPE = "text/csv; charset=utf-8"
RATE_COLUMNS = ("class_id", "group", "key", "lessons", "roster", "present", "late", "absent",
                "rate")  # fmt: skip
CLASS_PATTERN = STUDENT_ID_PATTERN

Start = Annotated[
    date | None, Query(alias="from", description="first day (local); default: to - 6 days")
]
End = Annotated[date | None, Query(alias="to", description="last day (local); default: today")]
ClassQuery = Annotated[str | None, Query(pattern=CLASS_PATTERN, description="one class only")]
Group = Annotated[RateGroup, Query(description="class, period or week (ISO, from Monday)")]
READ_ERRORS = error_responses(
    {404: "unknown school or room", 422: "a bad parameter, or a range of more than a year"}
)
COMMAND_ERRORS = error_responses(
    {
        400: UNREADABLE_BODY,
        404: "unknown room; or the room has no attendance device",
        409: "the device replied `expired`",
        422: "the body does not fit, or the device refused it (`bad_params`: no consent, say)",
        502: "the device replied `device_error`",
        503: "the hub is not connected to the broker, or the device is unavailable",
        504: "no reply in time",
    },
    models={422: ValidationErrorPublic | ErrorPublic},
)


def _tz(hub: HubState) -> ZoneInfo:
    return hub.reports.tz if hub.reports is not None else ZoneInfo(hub.settings.report_timezone)


def date_range(hub: HubState, start: date | None, end: date | None) -> tuple[date, date]:
    """The days asked for, today (the school's zone) and the six before by default, or 422."""
    end = end or utcnow().astimezone(_tz(hub)).date()
    start = start or end - timedelta(days=6)
    if start > end:
        raise refuse("from", start.isoformat(), "from must not be after to")
    if (end - start).days >= DAYS_MAX:
        raise refuse("from", start.isoformat(), f"at most {DAYS_MAX} days at once")
    return start, end


def book(hub: HubState) -> AttendanceBook:
    return AttendanceBook(hub.store.engine)


async def _personal_read(
    hub: HubState, caller: Caller, what: str, site: str, room: str | None, detail: dict[str, Any]
) -> None:
    """Every read of personal data is in the audit log: who read which class and when."""
    await hub.audit.record(caller, what, site=site, room=room, detail=detail)


# --- marks --------------------------------------------------------------------------------


@rooms.get("/{site}/{room}/attendance", responses=READ_ERRORS)
async def room_attendance(
    ref: Annotated[RoomRef, Depends(RoomAllowed(Action.PERSONAL_READ))],
    hub: HubDep,
    start: Start = None,
    end: End = None,
    class_id: ClassQuery = None,
) -> AttendancePublic:
    """The room's lessons in the range: counts, and each student's mark (status, method,
    confidence, manual or not). Personal data: the read is audited."""
    return await _lessons(hub, ref.caller, ref.site, ref.room, start, end, class_id)


@sites.get("/{site}/attendance", responses=READ_ERRORS)
async def site_attendance(
    ref: Annotated[SiteRef, Depends(SiteAllowed(Action.PERSONAL_READ))],
    hub: HubDep,
    start: Start = None,
    end: End = None,
    class_id: ClassQuery = None,
) -> AttendancePublic:
    """The school's lessons (of one class, or all) in the range, whichever room they were
    in. Personal data: the read is audited."""
    return await _lessons(hub, ref.caller, ref.site, None, start, end, class_id)


async def _lessons(
    hub: HubState, caller: Caller, site: str, room: str | None,
    start: date | None, end: date | None, class_id: str | None,
) -> AttendancePublic:  # fmt: skip
    """The lessons of a room (or of the whole school with ``room`` None), the read audited."""
    first, last = date_range(hub, start, end)
    scope = caller.scope(Action.PERSONAL_READ)
    lessons = await asyncio.to_thread(
        book(hub).lessons, scope, site, first, last, room=room, class_id=class_id
    )
    await _personal_read(
        hub, caller, "attendance.read", site, room,
        {"class_id": class_id, "from": first.isoformat(), "to": last.isoformat(),
         "classes": sorted({x["class_id"] for x in lessons}), "lessons": len(lessons)},
    )  # fmt: skip
    return AttendancePublic.model_validate(
        {"site": site, "room": room, "class_id": class_id, "start": first, "end": last,
         "lessons": lessons}
    )  # fmt: skip


# --- rates (the admin reports) ---------------------------------------------------------------


async def _rates(
    hub: HubState, site: str, start: date | None, end: date | None, group: RateGroup,
    class_id: str | None,
) -> tuple[date, date, list[Rate]]:  # fmt: skip
    first, last = date_range(hub, start, end)
    found = await asyncio.to_thread(book(hub).rates, site, first, last, group, class_id=class_id)
    return first, last, found


def rate_row(rate: Rate) -> dict[str, Any]:
    return {"class_id": rate.class_id, "key": rate.key, "lessons": rate.lessons,
            "roster": rate.roster, "present": rate.present, "late": rate.late,
            "absent": rate.absent, "rate": rate.rate}  # fmt: skip


@sites.get("/{site}/attendance/rates", responses=READ_ERRORS)
async def attendance_rates(
    ref: Annotated[SiteRef, Depends(SiteAllowed(Action.REPORT_READ))],
    hub: HubDep,
    group: Group = "class",
    start: Start = None,
    end: End = None,
    class_id: ClassQuery = None,
) -> RatesPublic:
    """Attendance rates, (present + late) / roster, per class, period or week: counts only,
    no student."""
    first, last, found = await _rates(hub, ref.site, start, end, group, class_id)
    return RatesPublic.model_validate(
        {"site": ref.site, "group": group, "start": first, "end": last,
         "rates": [rate_row(r) for r in found]}
    )  # fmt: skip


def rates_csv(group: str, found: list[Rate]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(RATE_COLUMNS)
    for r in found:
        rate = "" if r.rate is None else f"{r.rate:.4f}"
        writer.writerow([r.class_id, group, r.key, r.lessons, r.roster, r.present, r.late,
                         r.absent, rate])  # fmt: skip
    return out.getvalue()


@sites.get(
    "/{site}/attendance/rates.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "the rates as CSV"},
               **READ_ERRORS},
)  # fmt: skip
async def attendance_rates_csv(
    ref: Annotated[SiteRef, Depends(SiteAllowed(Action.REPORT_READ))],
    hub: HubDep,
    group: Group = "class",
    start: Start = None,
    end: End = None,
    class_id: ClassQuery = None,
) -> Response:
    """The same rates as CSV (UTF-8), the same figures as the JSON."""
    first, last, found = await _rates(hub, ref.site, start, end, group, class_id)
    name = f"attendance-{ref.site}-{group}-{first.isoformat()}-{last.isoformat()}.csv"
    return Response(
        rates_csv(group, found),
        media_type=CSV_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


# --- consent and rosters ------------------------------------------------------------------------


@sites.get("/{site}/attendance/consent", responses=READ_ERRORS)
async def consent_records(
    ref: Annotated[SiteRef, Depends(SiteAllowed(Action.PERSONAL_READ))],
    hub: HubDep,
    student: Annotated[str | None, Query(pattern=STUDENT_ID_PATTERN)] = None,
) -> ConsentListPublic:
    """Each student's consent to face recognition now, with its history (who, when, from
    where). Personal data: the read is audited."""
    found = await asyncio.to_thread(book(hub).consent, ref.site, student)
    if hub.erasures is not None:
        await asyncio.to_thread(hub.erasures.annotate, ref.site, found, student)
    await _personal_read(
        hub, ref.caller, "consent.read", ref.site, None,
        {"student": student, "students": len(found)},
    )  # fmt: skip
    return ConsentListPublic.model_validate({"site": ref.site, "students": found})


@sites.get("/{site}/attendance/methods", responses=READ_ERRORS)
async def consent_methods(
    ref: Annotated[SiteRef, Depends(SiteAllowed(Action.PERSONAL_READ))],
    hub: HubDep,
) -> MethodsPublic:
    """Each class roster the hub pushed: every student's method and whether face
    recognition may be used for them (consent recorded). Personal data: audited."""
    found = await asyncio.to_thread(book(hub).methods, ref.site)
    await _personal_read(
        hub, ref.caller, "consent.read", ref.site, None,
        {"classes": [c["class_id"] for c in found]},
    )  # fmt: skip
    return MethodsPublic.model_validate({"site": ref.site, "classes": found})


async def _command(
    hub: HubState, ref: RoomRef, action: str, params: AttendanceData, timeout_s: float,
    detail: dict[str, Any],
) -> tuple[str, str]:  # fmt: skip
    """Send an attendance command through the hub's command path, audited; raise the
    matching HTTP error for a refusal. Returns the reply's (code, text)."""
    started = time.perf_counter()
    what = {"action": action, **detail}
    try:
        reply = await hub.commander.send(
            ref.site, ref.room, DEVICE, action, as_data(params),
            issuer=f"user:{ref.caller.username}", timeout_s=timeout_s,
        )  # fmt: skip
    except HubError as exc:
        await hub.audit.record(
            ref.caller, f"attendance.{action}", site=ref.site, room=ref.room, device=DEVICE,
            detail=what, outcome=type(exc).__name__,
            duration_ms=(time.perf_counter() - started) * 1000,
        )  # fmt: skip
        raise_for_link(exc)
    await hub.audit.record(
        ref.caller, f"attendance.{action}", site=ref.site, room=ref.room, device=DEVICE,
        detail={**what, "reply": reply.code}, outcome="ok" if reply.ok else reply.code,
        duration_ms=(time.perf_counter() - started) * 1000,
    )  # fmt: skip
    if not reply.ok:
        text = f"{reply.code}: {reply.text}" if reply.text else reply.code
        raise HTTPException(REPLY_STATUS.get(reply.code, 502), text)
    return reply.code, reply.text


Manage = Annotated[RoomRef, Depends(RoomAllowed(Action.CONSENT_MANAGE))]


@rooms.post("/{site}/{room}/attendance/consent", responses=COMMAND_ERRORS)
async def record_consent(ref: Manage, body: ConsentCreate, hub: HubDep) -> AttendanceCommandPublic:
    """Record a student's consent (the parent's; from age 7 the student's own too) on the
    room's attendance camera, then in the hub's history. The room refuses an incomplete one."""
    at = utcnow()
    params = ConsentParams(
        student=body.student, parent=body.parent, age_7_or_over=body.age_7_or_over,
        student_own=body.student_own, by=ref.caller.username, at=at,
    )  # fmt: skip
    code, text = await _command(hub, ref, "consent", params, body.timeout_s,
                                {"student": body.student})  # fmt: skip
    change = ConsentChange(
        student=body.student, state="recorded", parent=body.parent,
        student_own=body.student_own, by=ref.caller.username, at=at,
    )  # fmt: skip
    await asyncio.to_thread(book(hub).record, ref.site, ref.room, change)
    return AttendanceCommandPublic(student=body.student, code=code, text=text)


WITHDRAW_RESPONSES = {
    **COMMAND_ERRORS,
    202: {
        "model": AttendanceCommandPublic,
        "description": "consent withdrawn; a room that may hold the student's templates "
        "has not confirmed their deletion yet: the hub sends it again until it does "
        "(`pending_rooms`)",
    },
}


@rooms.post("/{site}/{room}/attendance/withdraw", responses=WITHDRAW_RESPONSES)
async def withdraw_consent(
    ref: Manage, body: WithdrawCreate, hub: HubDep, response: Response
) -> AttendanceCommandPublic:
    """Withdraw a student's consent. Every room of the school that may hold their face
    templates (this one, the one they were enrolled in, each a roster with them went to) is
    told to delete them at once; a room that cannot be reached now keeps the withdrawal
    pending, and the hub sends it again whenever the room is online until it confirms
    (202 with `pending_rooms`). The hub erases what it holds derived from their face at
    once and records the withdrawal in the history; it holds no template."""
    erasures = hub.erasures
    assert erasures is not None  # the app always makes it
    by, at = ref.caller.username, utcnow()
    started = time.perf_counter()
    rooms = await asyncio.to_thread(erasures.rooms_holding, ref.site, body.student, ref.room)
    await asyncio.to_thread(erasures.add, ref.site, rooms, body.student, by, at)
    change = ConsentChange(
        student=body.student, state="withdrawn", parent=False, student_own=None, by=by, at=at,
    )  # fmt: skip
    await asyncio.to_thread(book(hub).record, ref.site, ref.room, change)  # erases face data
    outcomes = await asyncio.gather(
        *(erasures.send(ref.site, room, body.student, by, body.timeout_s) for room in rooms)
    )
    answers = {o.room: ("pending" if o.pending else o.code) for o in outcomes}
    pending = sorted(o.room for o in outcomes if o.pending)
    await hub.audit.record(
        ref.caller, "attendance.withdraw", site=ref.site, room=ref.room, device=DEVICE,
        detail={"action": "withdraw", "student": body.student, "rooms": answers},
        outcome="pending" if pending else "ok",
        duration_ms=(time.perf_counter() - started) * 1000,
    )  # fmt: skip
    if pending:
        erasures.wake()
        response.status_code = status.HTTP_202_ACCEPTED
    asked = next(o for o in outcomes if o.room == ref.room)
    return AttendanceCommandPublic(
        student=body.student,
        code="pending" if asked.pending else (asked.code or "ok"),
        text=asked.text,
        rooms=answers,
        pending_rooms=pending,
    )


@rooms.post("/{site}/{room}/attendance/roster", responses=COMMAND_ERRORS)
async def push_roster(ref: Manage, body: RosterCreate, hub: HubDep) -> AttendanceCommandPublic:
    """Push a class roster and its method (each student may have a method of their own) to
    the room's attendance camera; the hub keeps it for the consent report."""
    students = [RosterEntry(student=s.student, method=s.method) for s in body.students]
    params = RosterParams(class_id=body.class_id, method=body.method, students=students)
    code, text = await _command(hub, ref, "roster", params, body.timeout_s,
                                {"class_id": body.class_id, "method": body.method,
                                 "students": len(students)})  # fmt: skip
    rows = [{"student": s.student, "method": s.method} for s in body.students]
    await asyncio.to_thread(
        book(hub).save_roster, ref.site, ref.room, body.class_id, body.method, rows,
        ref.caller.username, utcnow(),
    )  # fmt: skip
    return AttendanceCommandPublic(class_id=body.class_id, code=code, text=text)


__all__ = ["RATE_COLUMNS", "date_range", "rate_row", "rates_csv", "rooms", "sites"]
