"""The dashboard's pages: each with one access rule, as the API's routes, and the same data.

A page is rendered whole; ``?part=NAME`` renders one of its parts alone, which the page's
script fetches again when the live stream says that part changed (so what a page shows is
always what the hub has stored, in the user's language, and the script never builds text).
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from hub.access import Action, Caller
from hub.api.auth import Allowed, RoomAllowed, RoomRef, SiteAllowed, SiteRef
from hub.api.deps import ID_PATTERN, HubDep
from hub.web.dashboard import views
from hub.web.dashboard.consent import router as consent_router
from hub.web.dashboard.pages import DASHBOARD_STATIC_DIR, DASHBOARD_STATIC_PATH, render
from hub.web.pages import add_menu
from ui.i18n import N_

__all__ = ["OVERVIEW", "router"]

OVERVIEW = "/dashboard"
ALERTS = "/dashboard/alerts"
FLEET = "/dashboard/fleet"
CONFIG = "/dashboard/config"
USERS = "/dashboard/users"

add_menu(10, OVERVIEW, N_("Overview"), Action.ROOM_READ)
add_menu(20, ALERTS, N_("Alerts"), Action.FLEET_READ)
add_menu(30, FLEET, N_("Fleet"), Action.FLEET_READ)
add_menu(40, CONFIG, N_("Configuration"), Action.CONFIG_WRITE)
add_menu(50, USERS, N_("Users"), Action.USERS_MANAGE)

router = APIRouter(include_in_schema=False)
router.mount(DASHBOARD_STATIC_PATH, StaticFiles(directory=DASHBOARD_STATIC_DIR), name="dashboard")
router.include_router(consent_router)


def _page(name: str, part: str | None) -> str:
    return f"{name}.html" if part is None else f"{name}_{part}.html"


@router.get(OVERVIEW, response_class=HTMLResponse)
def overview_page(
    caller: Annotated[Caller, Depends(Allowed(Action.ROOM_READ))],
    hub: HubDep,
    request: Request,
    part: Literal["rooms"] | None = None,
) -> HTMLResponse:
    """The caller's schools and rooms at a glance, worst first."""
    return render(
        request, caller, _page("overview", part), active=OVERVIEW,
        schools=views.overview(hub, caller),
    )  # fmt: skip


@router.get(ALERTS, response_class=HTMLResponse)
def alerts_page(
    caller: Annotated[Caller, Depends(Allowed(Action.FLEET_READ))],
    hub: HubDep,
    request: Request,
    part: Literal["list"] | None = None,
) -> HTMLResponse:
    """Open and acknowledged alerts of the caller's schools, help requests first."""
    alerts = views.active_alerts(hub, caller.scope(Action.FLEET_READ))
    alerts.sort(key=lambda a: (a.kind != "help", a.state != "open", -a.id))
    rooms = {(r.site, r.room): r.name for r in hub.store.list_rooms()}
    return render(
        request, caller, _page("alerts", part), active=ALERTS, alerts=alerts, rooms=rooms,
        may_operate=caller.may(Action.FLEET_OPERATE),
    )  # fmt: skip


@router.get("/dashboard/rooms/{site}/{room}", response_class=HTMLResponse)
def room_page(
    ref: Annotated[RoomRef, Depends(RoomAllowed(Action.ROOM_READ))],
    hub: HubDep,
    request: Request,
    part: Literal["head", "devices", "alerts", "config"] | None = None,
) -> HTMLResponse:
    """One room: its devices and their control, charts, alerts, configuration and tablets."""
    caller = ref.caller
    detail = views.room_detail(hub, caller, ref.site, ref.room)
    if detail is None:  # removed in between
        raise HTTPException(status.HTTP_404_NOT_FOUND)
    return render(
        request, caller, _page("room", part), active=OVERVIEW, detail=detail,
        may_control=caller.may(Action.ROOM_CONTROL, ref.site, ref.room),
        may_operate=caller.may(Action.FLEET_OPERATE, ref.site, ref.room),
        may_configure=caller.may(Action.CONFIG_WRITE, ref.site, ref.room),
    )  # fmt: skip


@router.get(FLEET, response_class=HTMLResponse)
def fleet_page(
    caller: Annotated[Caller, Depends(Allowed(Action.FLEET_READ))],
    hub: HubDep,
    request: Request,
    part: Literal["table"] | None = None,
) -> HTMLResponse:
    """Every room's agent: version, configuration applied, backlog, gaps, clock offset."""
    rooms, schools = views.fleet_rows(hub, caller)
    return render(request, caller, _page("fleet", part), active=FLEET, rooms=rooms, schools=schools)


@router.get(CONFIG)
def config_start(
    caller: Annotated[Caller, Depends(Allowed(Action.CONFIG_WRITE))], hub: HubDep
) -> Response:
    """The configuration of the caller's first school."""
    scope = caller.scope(Action.CONFIG_WRITE)
    sites = sorted(scope.sites) or sorted(views.site_names(hub))
    if not sites:
        raise HTTPException(status.HTTP_404_NOT_FOUND)
    return RedirectResponse(f"{CONFIG}/{sites[0]}", status_code=status.HTTP_303_SEE_OTHER)


@router.get(CONFIG + "/{site}", response_class=HTMLResponse)
def config_page(
    ref: Annotated[SiteRef, Depends(SiteAllowed(Action.CONFIG_WRITE))],
    hub: HubDep,
    request: Request,
    room: Annotated[str | None, Query(pattern=ID_PATTERN)] = None,
    part: Literal["status"] | None = None,
) -> HTMLResponse:
    """A school's defaults, or a room's overrides (``?room=``): edit, check, compare, push."""
    caller = ref.caller
    if room is not None and not hub.store.room_exists(ref.site, room):
        raise HTTPException(status.HTTP_404_NOT_FOUND)
    names = views.site_names(hub)
    schools = [(s, names.get(s, s)) for s in sorted(caller.scope(Action.CONFIG_WRITE).sites)]
    return render(
        request, caller, _page("config", part), active=CONFIG,
        config=views.config_view(hub, ref.site, room), schools=schools,
    )  # fmt: skip


@router.get(USERS, response_class=HTMLResponse)
def users_page(
    caller: Annotated[Caller, Depends(Allowed(Action.USERS_MANAGE))],
    hub: HubDep,
    request: Request,
    part: Literal["list"] | None = None,
) -> HTMLResponse:
    """The users of the caller's schools: add, disable, enable, a new password, their rooms."""
    scope = caller.scope(Action.USERS_MANAGE)
    rooms = [(r.site, r.room, r.name) for r in hub.store.list_rooms() if scope.allows(r.site)]
    names = views.site_names(hub)
    return render(
        request, caller, _page("users", part), active=USERS,
        users=views.users_of_caller(hub, caller), rooms=rooms,
        schools=[(s, names.get(s, s)) for s in sorted(scope.sites)],
    )  # fmt: skip
