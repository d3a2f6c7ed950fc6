"""Who is asking: bearer tokens and session cookies, CSRF, and each route's access rule.

Every route declares exactly one rule, a dependency made here: ``Public()`` (login,
``/healthz``), ``Authenticated()`` (one's own account and tokens), ``Allowed(action)`` (a
list or a hub-wide view, filtered by the caller's scope), ``SiteAllowed(action)`` and
``RoomAllowed(action)`` (a route under ``{site}`` or ``{site}/{room}``). The rule checks
the role and the object before the route runs, so a teacher asking for another teacher's
room gets 403 and never the data. ``tests/unit/test_permissions.py`` walks every route and
fails for one without a rule.

Credentials:
- ``Authorization: Bearer sct_…``: a token made per user (scripts). No CSRF check: a
  browser never adds this header by itself.
- The ``smartclass_session`` cookie (HttpOnly, SameSite=Strict) set by ``POST
  /api/v1/auth/login`` for the web pages. A state-changing request (POST, PUT, PATCH,
  DELETE) made with it must carry the session's CSRF token in ``X-CSRF-Token``: the login
  answer holds it, and a readable ``smartclass_csrf`` cookie too (double submit).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, status

from hub.access import Action, Caller, Role, reach_of
from hub.api.deps import HubDep, RoomId, SiteId
from hub.users import UserView

SESSION_COOKIE = "smartclass_session"
CSRF_COOKIE = "smartclass_csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
BEARER = {"WWW-Authenticate": "Bearer"}


def address_of(request: Request) -> str:
    return request.client.host if request.client else ""


def unauthorized(detail: str = "sign in, or send a bearer token") -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail, headers=BEARER)


def forbidden(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_403_FORBIDDEN, detail)


def authenticate(request: Request, hub: HubDep) -> Caller:
    """The caller of this request, from its bearer token or session cookie; else 401."""
    users = hub.users
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, secret = header.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise unauthorized("the Authorization header must be 'Bearer <token>'")
        found = users.by_token(secret.strip())
        if found is None:
            raise unauthorized("the token is unknown, revoked or expired, or its user disabled")
        user, token_id = found
        return user.caller(via="token", token_id=token_id)
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie is None:
        raise unauthorized()
    session = users.by_session(cookie)
    if session is None:
        raise unauthorized("the session has ended; sign in again")
    user, csrf = session
    if request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        if not hmac.compare_digest(sent.encode(), csrf.encode()):
            raise forbidden(f"a request made with the session cookie needs its {CSRF_HEADER}")
    return user.caller(via="session")


CallerDep = Annotated[Caller, Depends(authenticate)]


def require(caller: Caller, action: Action, site: str, room: str | None = None) -> None:
    """403 unless ``caller`` may take ``action`` on ``site`` (or its ``room``)."""
    if not caller.may(action, site, room):
        where = f"{site}/{room}" if room is not None else site
        raise forbidden(f"{caller.role.value} {caller.username!r} may not {action.value} {where}")


def _role_refused(caller: Caller, action: Action) -> HTTPException:
    return forbidden(f"the {caller.role.value} role may not {action.value}")


@dataclass(frozen=True, slots=True)
class Rule:
    """What a route demands, for the permission-matrix test and the docs."""

    kind: str
    """``public``, ``authenticated``, ``hub``, ``site`` or ``room``."""
    action: Action | None = None


class Public:
    """Anyone, signed in or not (login, ``/healthz``)."""

    def __init__(self) -> None:
        self.rule = Rule("public")

    def __call__(self) -> None:
        return None


class Authenticated:
    """Anyone signed in; the route acts on the caller's own account only."""

    def __init__(self) -> None:
        self.rule = Rule("authenticated")

    def __call__(self, caller: CallerDep) -> Caller:
        return caller


class Allowed:
    """A caller whose role may take ``action`` somewhere; the route filters by its scope."""

    def __init__(self, action: Action) -> None:
        self.action = action
        self.rule = Rule("hub", action)

    def __call__(self, caller: CallerDep) -> Caller:
        if not caller.may(self.action):
            raise _role_refused(caller, self.action)
        return caller


@dataclass(frozen=True, slots=True)
class SiteRef:
    site: str
    caller: Caller


@dataclass(frozen=True, slots=True)
class RoomRef:
    site: str
    room: str
    caller: Caller


class SiteAllowed:
    """A route under ``{site}``: the caller may take ``action`` on the whole site."""

    def __init__(self, action: Action) -> None:
        self.action = action
        self.rule = Rule("site", action)

    def __call__(self, caller: CallerDep, hub: HubDep, site: SiteId) -> SiteRef:
        if reach_of(caller.role, self.action) is None:
            raise _role_refused(caller, self.action)
        require(caller, self.action, site)
        if not hub.store.site_exists(site):
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"unknown site {site}")
        return SiteRef(site, caller)


class RoomAllowed:
    """A route under ``{site}/{room}``: 403 unless the caller may take ``action`` there,
    then 404 if the hub does not know the room (so a refusal tells nothing of the room)."""

    def __init__(self, action: Action) -> None:
        self.action = action
        self.rule = Rule("room", action)

    def __call__(self, caller: CallerDep, hub: HubDep, site: SiteId, room: RoomId) -> RoomRef:
        if reach_of(caller.role, self.action) is None:
            raise _role_refused(caller, self.action)
        require(caller, self.action, site, room)
        if not hub.store.room_exists(site, room):
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"unknown room {site}/{room}")
        return RoomRef(site, room, caller)


def rule_of(dependency: Any) -> Rule | None:
    rule = getattr(dependency, "rule", None)
    return rule if isinstance(rule, Rule) else None


def user_public(user: UserView) -> dict[str, Any]:
    """A user as the API shows them (never a hash)."""
    return {
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role.value,
        "sites": list(user.sites),
        "rooms": [f"{s}/{r}" for s, r in user.rooms],
        "actions": [a.value for a in Action if reach_of(user.role, a) is not None],
    }


__all__ = [
    "CSRF_COOKIE",
    "CSRF_HEADER",
    "SESSION_COOKIE",
    "Allowed",
    "Authenticated",
    "CallerDep",
    "Public",
    "Role",
    "RoomAllowed",
    "RoomRef",
    "Rule",
    "SiteAllowed",
    "SiteRef",
    "address_of",
    "authenticate",
    "require",
    "rule_of",
    "user_public",
]
