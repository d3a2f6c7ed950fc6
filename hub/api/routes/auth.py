"""Signing in and out, one's own account, and one's API tokens."""

from __future__ import annotations

import asyncio
import math
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Request, Response, status
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from hub.access import Caller
from hub.api.auth import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    Authenticated,
    Public,
    address_of,
    user_public,
)
from hub.api.deps import HubDep
from hub.api.responses import error_responses
from hub.api.routes.commands import UNREADABLE_BODY
from hub.users import PASSWORD_MAX, TOKEN_NAME_MAX, TokenView, UserError
from protocol.bounds import check_text

router = APIRouter(prefix="/auth", tags=["auth"])

PublicDep = Annotated[None, Depends(Public())]
SignedIn = Annotated[Caller, Depends(Authenticated())]
UNAUTHORIZED = {401: "not signed in, or the token or session is no longer valid"}


class Login(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=63)
    password: str = Field(min_length=1, max_length=PASSWORD_MAX)


class UserPublic(BaseModel):
    username: str
    display_name: str
    role: str
    sites: list[str]
    rooms: list[str]
    """``site/room`` of each room assigned to a teacher."""
    actions: list[str]
    """What the role may do (within its sites or rooms)."""


class SessionPublic(BaseModel):
    user: UserPublic
    csrf_token: str
    """Send it as ``X-CSRF-Token`` with every state-changing request made with the cookie."""
    expires_at: datetime


class TokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[  # no NUL, no lone surrogate: PostgreSQL stores neither
        str,
        Field(min_length=1, max_length=TOKEN_NAME_MAX, examples=["nightly report"]),
        AfterValidator(check_text),
    ]
    expires_days: int | None = Field(default=None, ge=1, le=3650)
    """Days the token lives; none: until revoked."""


@dataclass(frozen=True, slots=True)
class TokenCreated(TokenView):
    token: str
    """The secret, shown this once: send it as ``Authorization: Bearer <token>``."""


def _secure(request: Request, hub: HubDep) -> bool:
    mode = hub.settings.cookie_secure
    if mode == "auto":
        return request.url.scheme == "https"
    return mode == "always"


@router.post(
    "/login",
    responses=error_responses(
        {
            400: UNREADABLE_BODY,
            401: "wrong user name or password, or the user is disabled",
            422: "the body does not fit",
            429: "too many failed attempts for this account or address; see Retry-After",
        }
    ),
)
async def login(
    _: PublicDep, body: Login, request: Request, response: Response, hub: HubDep
) -> SessionPublic:
    """Sign in: sets the session cookie and answers with the CSRF token."""
    address = address_of(request)
    wait = hub.limiter.retry_after(body.username, address)
    if wait > 0:
        await hub.audit.record(
            None, "login_refused", actor_name=body.username[:63], address=address,
            outcome="rate_limited",
        )  # fmt: skip
        seconds = max(math.ceil(wait), 1)
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            f"too many failed sign-ins; try again in {seconds} s",
            headers={"Retry-After": str(seconds)},
        )
    user = await asyncio.to_thread(hub.users.verify, body.username, body.password)
    if user is None:
        hub.limiter.failed(body.username, address)
        await hub.audit.record(
            None, "login_failed", actor_name=body.username[:63], address=address,
            outcome="denied",
        )  # fmt: skip
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "wrong user name or password")
    hub.limiter.succeeded(body.username)
    session = await asyncio.to_thread(hub.users.open_session, user, address=address)
    caller = user.caller(via="session")
    await hub.audit.record(caller, "login", address=address)
    secure = _secure(request, hub)
    max_age = int(hub.users.session_max.total_seconds())
    response.set_cookie(
        SESSION_COOKIE,
        session.secret,
        max_age=max_age,
        httponly=True,
        samesite="strict",
        secure=secure,
        path="/",
    )
    response.set_cookie(
        CSRF_COOKIE, session.csrf, max_age=max_age, samesite="strict", secure=secure, path="/"
    )
    return SessionPublic(
        user=UserPublic(**user_public(user)), csrf_token=session.csrf, expires_at=session.expires_at
    )


@router.post(
    "/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses({**UNAUTHORIZED, 403: "the CSRF token is missing or wrong"}),
)
async def logout(caller: SignedIn, request: Request, response: Response, hub: HubDep) -> None:
    """End this session (a bearer token stays valid: revoke it instead)."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if caller.via == "session" and cookie is not None:
        await asyncio.to_thread(hub.users.close_session, cookie)
    await hub.audit.record(caller, "logout", address=address_of(request))
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")


@router.get("/me", responses=error_responses(UNAUTHORIZED))
def me(caller: SignedIn, hub: HubDep) -> UserPublic:
    """Who is signed in, their role, schools, rooms and what they may do."""
    user = hub.users.get(caller.user_id)
    if user is None:  # deleted in between
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "the user no longer exists")
    return UserPublic(**user_public(user))


@router.get("/tokens", responses=error_responses(UNAUTHORIZED))
def list_tokens(caller: SignedIn, hub: HubDep) -> list[TokenView]:
    """The caller's own API tokens (never their secrets)."""
    return hub.users.tokens(caller.user_id)


@router.post(
    "/tokens",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(
        {
            **UNAUTHORIZED,
            400: UNREADABLE_BODY,
            403: "the CSRF token is missing or wrong",
            409: "the user has as many tokens as allowed",
            422: "the body does not fit",
        }
    ),
)
async def create_token(
    caller: SignedIn, body: TokenCreate, request: Request, hub: HubDep
) -> TokenCreated:
    """A new token for scripts; its secret is in this answer only."""
    expires = timedelta(days=body.expires_days) if body.expires_days else None
    try:
        view, secret = await asyncio.to_thread(
            hub.users.create_token, caller.user_id, body.name, expires_in=expires
        )
    except UserError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    await hub.audit.record(
        caller,
        "token_create",
        address=address_of(request),
        detail={"token": view.id, "name": view.name},
    )
    return TokenCreated(**asdict(view), token=secret)


@router.delete(
    "/tokens/{token_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(
        {
            **UNAUTHORIZED,
            403: "the CSRF token is missing or wrong",
            404: "no such live token of yours",
        }
    ),
)
async def revoke_token(
    caller: SignedIn,
    token_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    request: Request,
    hub: HubDep,
) -> None:
    """Revoke one of the caller's tokens; it stops working at once."""
    if not await asyncio.to_thread(hub.users.revoke_token, caller.user_id, token_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"you have no live token {token_id}")
    await hub.audit.record(
        caller, "token_revoke", address=address_of(request), detail={"token": token_id}
    )


__all__ = ["router"]
