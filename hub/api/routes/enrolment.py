"""Enrolment through the hub: IT sends a student's photos, the hub makes the face templates
in memory with the room's own face engine and sends them (never the photos) to the room's
attendance camera, which stores them only if the student's consent is recorded there."""

from __future__ import annotations

import re
import time
from typing import Any

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.exceptions import RequestValidationError

from hub.api.attendance_models import AttendanceCommandPublic
from hub.api.deps import HubDep, HubState
from hub.api.models import ErrorPublic, ValidationErrorPublic
from hub.api.multipart import FormError, Part, parse_form
from hub.api.responses import error_responses
from hub.api.routes.attendance import Manage
from hub.api.routes.commands import REPLY_STATUS, raise_for_link
from hub.enrolment import Enroller, PhotoError
from hub.errors import HubError
from protocol.attendance import (
    DEVICE,
    ENROL_TEMPLATES_MAX,
    NO_CONSENT,
    STUDENT_ID_PATTERN,
    EnrolTemplatesParams,
    as_data,
)

router = APIRouter(prefix="/rooms", tags=["attendance"])

ENROL_PATH = r"/api/v1/rooms/[^/]+/[^/]+/attendance/enrol"
"""The one path whose body may hold photos (``BodyLimit``'s larger limit)."""
FIELDS = {"student", "photos", "timeout_s"}
TIMEOUT_DEFAULT_S = 10.0


def enrol_body_bytes(photo_max_bytes: int) -> int:
    """The largest enrolment body: the photos at their largest and 64 KiB for the rest."""
    return ENROL_TEMPLATES_MAX * photo_max_bytes + 64 * 1024


def refuse(field: str, message: str, value: Any = None) -> RequestValidationError:
    """A 422 in FastAPI's shape, naming the form field."""
    return RequestValidationError(
        [{"type": "value_error", "loc": ("body", field), "msg": message, "input": value}]
    )


def _form(content_type: str, body: bytes) -> tuple[str, list[tuple[str, bytes]], float]:
    """The student, the photos (each named ``photos[i]`` and its file name), the timeout."""
    try:
        parts = parse_form(content_type, body)
    except FormError as exc:
        raise refuse("(body)", str(exc)) from None
    by_name: dict[str, list[Part]] = {}
    for part in parts:
        if part.name not in FIELDS:
            raise refuse(part.name, "unknown field (student, photos, timeout_s)")
        by_name.setdefault(part.name, []).append(part)
    students = by_name.get("student", [])
    if len(students) != 1:
        raise refuse("student", "one student id is required")
    try:
        student = students[0].text().strip()
        timeout_text = [p.text().strip() for p in by_name.get("timeout_s", [])]
    except FormError as exc:
        raise refuse("student", str(exc)) from None
    if not re.fullmatch(STUDENT_ID_PATTERN, student):
        raise refuse("student", f"not a student id ({STUDENT_ID_PATTERN})", student[:40])
    photos = by_name.get("photos", [])
    if not 1 <= len(photos) <= ENROL_TEMPLATES_MAX:
        raise refuse("photos", f"1 to {ENROL_TEMPLATES_MAX} photos, not {len(photos)}",
                     len(photos))  # fmt: skip
    timeout_s = TIMEOUT_DEFAULT_S
    if timeout_text:
        try:
            timeout_s = float(timeout_text[-1])
        except ValueError:
            raise refuse("timeout_s", "not a number", timeout_text[-1]) from None
        if not 0.5 <= timeout_s <= 60:  # NaN fails too
            raise refuse("timeout_s", "between 0.5 and 60 seconds", timeout_text[-1])
    named = [(f"photos[{i}] ({p.filename or 'no name'})", p.data) for i, p in enumerate(photos)]
    return student, named, timeout_s


def _enroller(hub: HubState) -> Enroller:
    if hub.enroller is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "enrolment is not set up")
    return hub.enroller


ENROL_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["student", "photos"],
                "properties": {
                    "student": {"type": "string", "pattern": STUDENT_ID_PATTERN},
                    "photos": {
                        "type": "array", "minItems": 1, "maxItems": ENROL_TEMPLATES_MAX,
                        "items": {"type": "string", "format": "binary"},
                        "description": "JPEG or PNG photos of the student, one face each",
                    },
                    "timeout_s": {"type": "number", "minimum": 0.5, "maximum": 60},
                },
            }
        }
    },
}  # fmt: skip


@router.post(
    "/{site}/{room}/attendance/enrol",
    openapi_extra={"requestBody": ENROL_BODY},
    responses=error_responses(
        {
            404: "unknown room; or the room has no attendance device",
            409: "the room has no consent recorded for the student (`no_consent`), or the "
            "command expired",
            422: "a field that does not fit: the student id, the number of photos, a photo "
            "that is not JPEG or PNG, too large, with no face or several; or the room refused "
            "the templates (another recogniser)",
            502: "the device replied `device_error`",
            503: "the hub is not connected to the broker, or the device is unavailable",
            504: "no reply in time",
        },
        models={422: ValidationErrorPublic | ErrorPublic},
    ),
)
async def enrol(ref: Manage, request: Request, hub: HubDep) -> AttendanceCommandPublic:
    """Enrol a student from 1 to 5 photos (multipart: ``student``, ``photos``). The hub makes
    one face template per photo in memory (never on disk, never logged) and sends the
    templates to the room, which stores them only if the student's consent is recorded
    there. The hub keeps no template. Audited: who, the student, the room, the result."""
    started = time.perf_counter()
    body = await request.body()
    student, photos, timeout_s = _form(request.headers.get("content-type", ""), body)
    del body
    caller, count = ref.caller, len(photos)
    enroller = _enroller(hub)

    async def audit(outcome: str, detail: dict[str, Any] | None = None) -> None:
        enroller.results[outcome] += 1
        await hub.audit.record(
            caller, "attendance.enrol", site=ref.site, room=ref.room, device=DEVICE,
            detail={"student": student, "photos": count, "result": outcome,
                    **(detail or {})},
            outcome="ok" if outcome == "enrolled" else outcome,
            duration_ms=(time.perf_counter() - started) * 1000,
        )  # fmt: skip

    try:
        recogniser, templates = await enroller.templates(photos)
    except PhotoError as exc:
        await audit(exc.reason, {"photo": exc.field.split(" ")[0]})
        raise refuse(exc.field, str(exc).partition(": ")[2]) from None
    finally:
        photos.clear()  # the photos' bytes go now: only templates from here on
    try:
        params = EnrolTemplatesParams(
            student=student, templates=templates, recogniser=recogniser.name,
            recogniser_version=recogniser.version, by=caller.username,
        )  # fmt: skip
    except ValueError as exc:  # a model whose templates the contract cannot carry
        await audit("bad_templates")
        raise refuse("photos", "the hub's face model made templates the contract refuses") from exc
    sent = as_data(params)
    logged = {**sent, "templates": len(templates)}  # the hub's command log keeps the count
    try:
        reply = await hub.commander.send(
            ref.site, ref.room, DEVICE, "enrol_templates", sent,
            issuer=f"user:{caller.username}", timeout_s=timeout_s, logged_params=logged,
        )  # fmt: skip
    except HubError as exc:
        await audit(type(exc).__name__)
        raise_for_link(exc)
    if reply.ok:
        await audit("enrolled", {"templates": len(templates)})
        return AttendanceCommandPublic(student=student, code=reply.code, text=reply.text)
    no_consent = reply.code == "bad_params" and reply.text.startswith(NO_CONSENT)
    await audit(NO_CONSENT if no_consent else reply.code)
    if no_consent:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            f"{NO_CONSENT}: the room has no consent recorded for {student}; record the "
            "consent first (nothing was stored)",
        )
    text = f"{reply.code}: {reply.text}" if reply.text else reply.code
    raise HTTPException(REPLY_STATUS.get(reply.code, status.HTTP_502_BAD_GATEWAY), text)


__all__ = ["ENROL_PATH", "enrol_body_bytes", "router"]
