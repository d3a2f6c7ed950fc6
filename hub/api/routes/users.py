"""The users of IT's schools: list, add, disable and enable, a new password, their reach.

IT manages the people of its own schools only: a user is theirs to manage when every school
and room the user reaches is one of IT's schools (so a district user, or a teacher who also
teaches in another school, is left to the hub's command line), and what IT gives must be
within its schools too. Users outside are answered as unknown (404), so the list and the
errors tell nothing of other schools. A new user, or a password reset, gets a generated
password shown once in the answer; the hub keeps only its argon2id hash. Every change is
audited.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Request, status
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field

from hub.access import Action, Caller, Role, Scope
from hub.api.auth import Allowed, address_of
from hub.api.deps import ID_PATTERN, HubDep
from hub.api.responses import error_responses
from hub.api.routes.commands import UNREADABLE_BODY
from hub.users import USERNAME_PATTERN, UserError, UserView, generate_password

router = APIRouter(prefix="/users", tags=["users"])

Manager = Annotated[Caller, Depends(Allowed(Action.USERS_MANAGE))]
Username = Annotated[str, Path(pattern=USERNAME_PATTERN, examples=["co.lan"])]
RoomRefText = Annotated[
    str,
    Field(pattern=ID_PATTERN.removesuffix("$") + "/" + ID_PATTERN.removeprefix("^")),
]
SiteIdText = Annotated[str, Field(pattern=ID_PATTERN)]
REACH_MAX = 200
"""Most schools or rooms given to one user in one request."""

ONE_ERRORS = {404: "no such user among those of the caller's schools", 422: "a bad user name"}
CHANGE_ERRORS = {
    **ONE_ERRORS,
    400: UNREADABLE_BODY,
    409: "the change cannot be made: one's own account cannot be disabled",
}


class UserAdminPublic(BaseModel):
    """A user as IT sees them (never a hash)."""

    username: str
    display_name: str
    role: str
    sites: list[str]
    """The schools of an ``it`` or ``admin`` user."""
    rooms: list[str]
    """``site/room`` of each room of a teacher."""
    disabled: bool
    created_at: datetime
    last_login_at: datetime | None


class ReachChange(BaseModel):
    """Where a user works: schools for IT and admins, rooms for a teacher."""

    model_config = ConfigDict(extra="forbid")

    sites: list[SiteIdText] = Field(default_factory=list, max_length=REACH_MAX)
    rooms: list[RoomRefText] = Field(
        default_factory=list, max_length=REACH_MAX, examples=[["thcs-nguyen-chi-thanh/6a1"]]
    )


class UserCreate(ReachChange):
    """A new user of the caller's schools."""

    username: str = Field(pattern=USERNAME_PATTERN, examples=["co.lan"])
    display_name: str = Field(default="", max_length=200, examples=["Cô Lan"])
    role: Literal["teacher", "it", "admin"]
    """A district user reaches every school: only the hub's command line makes one."""


class UserCreatedPublic(BaseModel):
    user: UserAdminPublic
    password: str
    """The user's first password, shown this once: give it to them."""


class PasswordPublic(BaseModel):
    password: str
    """The new password, shown this once; the user's sessions have ended."""


def _public(user: UserView) -> UserAdminPublic:
    return UserAdminPublic(
        username=user.username, display_name=user.display_name, role=user.role.value,
        sites=list(user.sites), rooms=[f"{s}/{r}" for s, r in user.rooms],
        disabled=user.disabled, created_at=user.created_at, last_login_at=user.last_login_at,
    )  # fmt: skip


def manageable(user: UserView, scope: Scope) -> bool:
    """Every school and room the user reaches is within ``scope`` (and they reach some)."""
    if user.role is Role.DISTRICT or not (user.sites or user.rooms):
        return False
    return all(scope.allows(site) for site in user.sites) and all(
        scope.allows(site) for site, _ in user.rooms
    )


def _found(hub: HubDep, caller: Caller, username: str) -> UserView:
    user = hub.users.by_name(username)
    if user is None or not manageable(user, caller.scope(Action.USERS_MANAGE)):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no user {username!r} of your schools")
    return user


def _problem(field: str, kind: str, msg: str, value: Any) -> RequestValidationError:
    """A 422 naming the field; ``kind`` (``reach_required``, ``reach_kind``, ``reach_outside``)
    lets a page say it in the user's language."""
    return RequestValidationError(
        [{"type": kind, "loc": ("body", field), "msg": msg, "input": value}]
    )


def _reach(
    hub: HubDep, caller: Caller, role: Role, change: ReachChange
) -> tuple[list[str], list[tuple[str, str]]]:
    """The schools and rooms asked for, if they fit the role and are the caller's; else a
    422 naming the field (``sites`` or ``rooms``)."""
    scope = caller.scope(Action.USERS_MANAGE)
    sites = sorted(set(change.sites))
    rooms = sorted({(ref.partition("/")[0], ref.partition("/")[2]) for ref in change.rooms})
    if role is Role.TEACHER:
        if sites:
            raise _problem("sites", "reach_kind", "a teacher is given rooms, not schools", sites)
        if not rooms:
            raise _problem("rooms", "reach_required", "a teacher needs at least one room", rooms)
    else:
        if rooms:
            msg = f"an {role.value} user is given schools, not rooms"
            raise _problem("rooms", "reach_kind", msg, change.rooms)
        if not sites:
            msg = f"an {role.value} user needs at least one school"
            raise _problem("sites", "reach_required", msg, sites)
    for site in sites:
        if not scope.allows(site) or not hub.store.site_exists(site):
            raise _problem("sites", "reach_outside", f"{site} is not one of your schools", site)
    for site, room in rooms:
        if not scope.allows(site) or not hub.store.room_exists(site, room):
            msg = f"{site}/{room} is not a room of your schools"
            raise _problem("rooms", "reach_outside", msg, f"{site}/{room}")
    return sites, rooms


async def _audit(
    hub: HubDep, caller: Caller, request: Request, action: str, user: UserView, **detail: Any
) -> None:
    first = user.sites[0] if user.sites else (user.rooms[0][0] if user.rooms else None)
    await hub.audit.record(
        caller, action, site=first, address=address_of(request),
        detail={"user": user.username, **detail},
    )  # fmt: skip


@router.get("", responses=error_responses({}))
def list_users(caller: Manager, hub: HubDep) -> list[UserAdminPublic]:
    """The users of the caller's schools, by name."""
    scope = caller.scope(Action.USERS_MANAGE)
    return [_public(u) for u in hub.users.all() if manageable(u, scope)]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(
        {
            400: UNREADABLE_BODY,
            409: "a user of that name exists already",
            422: "the body does not fit, or the schools or rooms are not the caller's (the"
            " problem names `sites` or `rooms`)",
        }
    ),
)
async def add_user(
    caller: Manager, body: UserCreate, request: Request, hub: HubDep
) -> UserCreatedPublic:
    """A new user with a generated password, shown once in this answer."""
    role = Role(body.role)
    sites, rooms = await asyncio.to_thread(_reach, hub, caller, role, body)
    password = generate_password()
    try:
        user = await asyncio.to_thread(
            hub.users.add, body.username, role, password, sites=sites, rooms=rooms,
            display_name=body.display_name,
        )  # fmt: skip
    except UserError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    await _audit(hub, caller, request, "user_add", user, role=role.value, sites=sites,
                 rooms=[f"{s}/{r}" for s, r in rooms])  # fmt: skip
    return UserCreatedPublic(user=_public(user), password=password)


@router.post("/{username}/disable", responses=error_responses(CHANGE_ERRORS))
async def disable_user(
    caller: Manager, username: Username, request: Request, hub: HubDep
) -> UserAdminPublic:
    """The user can no longer sign in; their sessions end and their tokens stop working."""
    user = await asyncio.to_thread(_found, hub, caller, username)
    if user.id == caller.user_id:
        raise HTTPException(status.HTTP_409_CONFLICT, "you cannot disable your own account")
    changed = await asyncio.to_thread(hub.users.set_disabled, username, True)
    await _audit(hub, caller, request, "user_disable", changed)
    return _public(changed)


@router.post("/{username}/enable", responses=error_responses(ONE_ERRORS))
async def enable_user(
    caller: Manager, username: Username, request: Request, hub: HubDep
) -> UserAdminPublic:
    """The user may sign in again (with the password they had)."""
    await asyncio.to_thread(_found, hub, caller, username)
    changed = await asyncio.to_thread(hub.users.set_disabled, username, False)
    await _audit(hub, caller, request, "user_enable", changed)
    return _public(changed)


@router.post("/{username}/password", responses=error_responses(ONE_ERRORS))
async def reset_password(
    caller: Manager, username: Username, request: Request, hub: HubDep
) -> PasswordPublic:
    """A new generated password, shown once in this answer; the user's sessions end."""
    user = await asyncio.to_thread(_found, hub, caller, username)
    password = generate_password()
    await asyncio.to_thread(hub.users.set_password, username, password)
    await _audit(hub, caller, request, "user_password_reset", user)
    return PasswordPublic(password=password)


@router.put(
    "/{username}/reach",
    responses=error_responses(
        {
            **ONE_ERRORS,
            400: UNREADABLE_BODY,
            422: "the body does not fit, or the schools or rooms are not the caller's",
        }
    ),
)
async def set_reach(
    caller: Manager, username: Username, body: ReachChange, request: Request, hub: HubDep
) -> UserAdminPublic:
    """The schools (IT, admin) or rooms (teacher) of the user, in place of the ones before."""
    user = await asyncio.to_thread(_found, hub, caller, username)
    sites, rooms = await asyncio.to_thread(_reach, hub, caller, user.role, body)
    changed = await asyncio.to_thread(hub.users.set_reach, username, sites=sites, rooms=rooms)
    await _audit(hub, caller, request, "user_reach", changed, sites=sites,
                 rooms=[f"{s}/{r}" for s, r in rooms])  # fmt: skip
    return _public(changed)


__all__ = ["UserAdminPublic", "manageable", "router"]
