"""The audit log page: who did what, where and when, newest first, filtered and paged.

It reads what ``GET /api/v1/audit?order=desc`` answers for the same filter (the same
``Audit.query``) and links to ``GET /api/v1/audit.csv`` with that filter. The filter's days
are local days of the reports' time zone: ``from`` is its midnight, ``to`` the midnight
after it. Times are shown in that zone and the user's locale.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import datetime, time, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from hub.access import Action, Caller, Role
from hub.api.auth import Allowed
from hub.api.deps import HubDep
from hub.audit import AuditFilter, AuditRow
from hub.report_places import schools
from hub.web.reports.forms import ORDER, Problems, parse_day
from hub.web.reports.pages import render, text
from hub.web.reports.places import Place, parse_place, visible_of
from ui.i18n import N_
from ui.pages import locale_of

__all__ = ["ACTIONS", "OUTCOMES", "ROLES", "router"]

router = APIRouter()

ACTIONS: dict[str, str] = {
    "login": N_("Signed in"),
    "logout": N_("Signed out"),
    "login_failed": N_("Sign-in failed"),
    "login_refused": N_("Sign-in refused (too many attempts)"),
    "token_create": N_("API token made"),
    "token_revoke": N_("API token revoked"),
    "command": N_("Command to a device"),
    "config_change": N_("Configuration changed"),
    "config_push": N_("Configuration sent to a room"),
    "alert_ack": N_("Alert acknowledged"),
    "alert_resolve": N_("Alert resolved"),
}
"""The actions the hub writes, in words; any other is shown as it is written."""
OUTCOMES: dict[str, str] = {
    "ok": N_("Done"),
    "denied": N_("Refused"),
    "rate_limited": N_("Too many attempts"),
    "invalid": N_("Invalid"),
    "conflict": N_("Already done by someone else"),
}
ROLES: dict[str, str] = {
    Role.TEACHER.value: N_("Teacher"),
    Role.IT.value: N_("IT staff"),
    Role.ADMIN.value: N_("School administration"),
    Role.DISTRICT.value: N_("District office"),
}
USER = re.compile(r"^.{1,63}$")
ACTION = re.compile(r"^[a-z_.]{1,40}$")


def detail_text(detail: dict[str, Any]) -> str:
    """An entry's detail as the CSV export writes it (compact JSON, keys sorted)."""
    return json.dumps(detail, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _link(filters: dict[str, str], **more: str) -> str:
    return "/audit?" + urlencode({**filters, **more})


@router.get("/audit", response_class=HTMLResponse)
def audit_page(
    caller: Annotated[Caller, Depends(Allowed(Action.AUDIT_READ))],
    hub: HubDep,
    request: Request,
    user: str = "",
    action: str = "",
    place: str = "",
    start: Annotated[str | None, Query(alias="from")] = None,
    end: Annotated[str | None, Query(alias="to")] = None,
    before: Annotated[int | None, Query(ge=1, le=2**53)] = None,
    after: Annotated[int | None, Query(ge=0, le=2**53)] = None,
) -> HTMLResponse:
    """The caller's schools' entries (for IT also the hub-wide ones), newest first."""
    locale = locale_of(request)
    tz = ZoneInfo(hub.settings.report_timezone)
    visible = visible_of(caller, Action.AUDIT_READ)
    with hub.store.engine.connect() as conn:
        places = schools(conn, visible)
    chosen = parse_place(place) if place else Place()
    chosen.check(caller, hub, Action.AUDIT_READ)
    problems: Problems = {}
    user = user.strip()
    if user and not USER.fullmatch(user):
        user = ""
    if action and not ACTION.fullmatch(action):
        action = ""
    first = parse_day("from", start, locale, problems)
    last = parse_day("to", end, locale, problems)
    if first is not None and last is not None and first > last:
        problems["from"] = text(locale, ORDER)
    since = datetime.combine(first, time(), tz) if first is not None else None
    until = datetime.combine(last + timedelta(days=1), time(), tz) if last is not None else None
    f = AuditFilter(
        site=chosen.site, room=chosen.room, actor=user or None, action=action or None,
        since=since, until=until,
    )  # fmt: skip
    size = hub.settings.audit_page_rows
    scope = caller.scope(Action.AUDIT_READ)
    hub_wide = caller.may(Action.HUB_ADMIN)
    rows: list[AuditRow] = []
    newer = older = False
    if not problems:
        if after is not None:  # a page back towards the newest: read upwards, show downwards
            found = hub.audit.query(scope, replace(f, after_id=after), size + 1, hub_wide=hub_wide)
            newer, older = len(found) > size, True
            rows = list(reversed(found[:size]))
        else:
            paged = replace(f, before_id=before)
            found = hub.audit.query(scope, paged, size + 1, hub_wide=hub_wide, newest_first=True)
            newer, older = before is not None, len(found) > size
            rows = found[:size]
    filters = {k: v for k, v in (("user", user), ("action", action), ("place", chosen.value),
               ("from", first.isoformat() if first else ""),
               ("to", last.isoformat() if last else "")) if v}  # fmt: skip
    api = {k: v for k, v in (("site", chosen.site), ("room", chosen.room), ("user", user or None),
           ("action", action or None), ("since", since.isoformat() if since else None),
           ("until", until.isoformat() if until else None)) if v}  # fmt: skip
    names = {s.id: s for s in places}
    actions = dict(ACTIONS)
    if action and action not in actions:
        actions[action] = action
    return render(
        request,
        caller,
        "audit.html",
        tz=tz,
        schools=places,
        place=chosen,
        all_label=text(locale, N_("Everything I may see")),
        user=user,
        action=action,
        actions=actions,
        outcomes=OUTCOMES,
        roles=ROLES,
        detail_text=detail_text,
        first=first,
        last=last,
        problems=problems,
        rows=rows,
        school_name=lambda site: names[site].name if site in names else site,
        room_name=lambda site, room: (
            dict(names[site].rooms).get(room, room) if site in names else room
        ),
        newer_url=_link(filters, after=str(rows[0].id)) if newer and rows else None,
        older_url=_link(filters, before=str(rows[-1].id)) if older and rows else None,
        newest_url=_link(filters) if before is not None or after is not None else None,
        csv_url="/api/v1/audit.csv?" + urlencode(api),
    )
