"""The consent and enrolment page of a school: its students' consent to face recognition (who
recorded or withdrew it, and when), recording and withdrawing it, and each class's method.

It shows what ``GET /api/v1/sites/{site}/attendance/consent`` and ``.../methods`` answer (the
same ``AttendanceBook`` makes both) and changes it through the API's attendance routes, which
send the commands to the room's attendance camera. Reading it is a read of personal data: it
is audited as the API's read is.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from hub.access import Action, Caller
from hub.api.auth import Allowed, SiteAllowed, SiteRef
from hub.api.deps import HubDep
from hub.attendance import AttendanceBook
from hub.web.dashboard import views
from hub.web.dashboard.pages import render
from hub.web.pages import add_menu
from ui.i18n import N_

__all__ = ["CONSENT", "router"]

CONSENT = "/dashboard/consent"
add_menu(45, CONSENT, N_("Consent and enrolment"), Action.CONSENT_MANAGE)
router = APIRouter(include_in_schema=False)


@router.get(CONSENT)
def consent_start(
    caller: Annotated[Caller, Depends(Allowed(Action.CONSENT_MANAGE))], hub: HubDep
) -> Response:
    """The page of the caller's first school."""
    sites = sorted(caller.scope(Action.CONSENT_MANAGE).sites) or sorted(views.site_names(hub))
    if not sites:
        raise HTTPException(status.HTTP_404_NOT_FOUND)
    return RedirectResponse(f"{CONSENT}/{sites[0]}", status_code=status.HTTP_303_SEE_OTHER)


@router.get(CONSENT + "/{site}", response_class=HTMLResponse)
async def consent_page(
    ref: Annotated[SiteRef, Depends(SiteAllowed(Action.CONSENT_MANAGE))],
    hub: HubDep,
    request: Request,
    part: Literal["list", "methods"] | None = None,
) -> HTMLResponse:
    """The school's students and their consent, the forms to change it and to enrol a
    student's face from photos, each class's method."""
    caller = ref.caller
    book = AttendanceBook(hub.store.engine)
    students = await asyncio.to_thread(book.consent, ref.site)
    if hub.erasures is not None:
        await asyncio.to_thread(hub.erasures.annotate, ref.site, students)
    classes = await asyncio.to_thread(book.methods, ref.site)
    await hub.audit.record(
        caller, "consent.read", site=ref.site,
        detail={"page": "dashboard", "students": len(students)},
    )  # fmt: skip
    names = await asyncio.to_thread(views.site_names, hub)
    listed = await asyncio.to_thread(hub.store.list_rooms)
    rooms = [(r.room, r.name) for r in listed if r.site == ref.site]
    schools = [(s, names.get(s, s)) for s in sorted(caller.scope(Action.CONSENT_MANAGE).sites)]
    name = "consent.html" if part is None else f"consent_{part}.html"
    return render(
        request, caller, name, active=CONSENT, site=ref.site,
        school=names.get(ref.site, ref.site), schools=schools, rooms=rooms,
        students=students, classes=classes,
        photo_mb=f"{hub.settings.enrol_photo_max_bytes / 1024 / 1024:g}",
        photo_px=hub.settings.enrol_photo_max_px,
    )  # fmt: skip
