"""People of the hub, their API tokens and web sessions, in the hub's database.

Passwords are hashed with argon2id (``argon2-cffi``'s defaults, RFC 9106's low-memory
profile); there is no default password anywhere: the first user is made on the command
line (``smartclass hub users add``). Tokens and session ids are 256-bit random secrets, so
a SHA-256 of them is enough to store (a slow hash protects guessable secrets, not these);
a leaked table gives nobody a way in. The secret is shown once, when it is made.
"""

from __future__ import annotations

import functools
import hashlib
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import (
    Boolean,
    Engine,
    ForeignKey,
    Integer,
    String,
    delete,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from hub.access import Caller, Role, frozen_rooms
from hub.db import Base
from protocol import utcnow, validate_id

USERNAME_PATTERN = r"^[a-z0-9][a-z0-9._-]{1,62}$"
PASSWORD_MIN = 10
"""Shortest password accepted (a generated one is far longer)."""
PASSWORD_MAX = 256
"""Longest password read: argon2 would hash a megabyte, but nobody types one."""
TOKEN_PREFIX = "sct_"  # noqa: S105 - a prefix, not a secret
SESSION_PREFIX = "scs_"
TOKEN_NAME_MAX = 80
TOKENS_PER_USER_MAX = 20
LAST_USED_EVERY = timedelta(minutes=1)
"""A token's or session's ``last_used_at`` is written at most this often, not per request."""

NO_PASSWORD = "!"  # noqa: S105 - a marker, not a password
"""The stored hash of a user without a password (tokens only): matches no password."""

ARGON2_TIME_COST = 3
ARGON2_MEMORY_KIB = 64 * 1024
"""argon2-cffi's defaults (RFC 9106's second recommendation: 3 passes over 64 MiB)."""


@functools.cache
def _hasher(time_cost: int, memory_kib: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib)


@functools.cache
def _dummy_hash(hasher: PasswordHasher) -> str:
    """A hash to verify against when there is no user or no password: the same work."""
    return hasher.hash(secrets.token_urlsafe(16))


class UserError(ValueError):
    """A user-management request that cannot be done; the text says why."""


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(63), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(255))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]
    password_changed_at: Mapped[datetime]
    last_login_at: Mapped[datetime | None]


class UserSite(Base):
    """A school an ``it`` or ``admin`` user works for."""

    __tablename__ = "user_sites"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    site_id: Mapped[str] = mapped_column(String(63), primary_key=True)


class UserRoom(Base):
    """A room assigned to a teacher."""

    __tablename__ = "user_rooms"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    site_id: Mapped[str] = mapped_column(String(63), primary_key=True)
    room_id: Mapped[str] = mapped_column(String(63), primary_key=True)


class ApiToken(Base):
    """A bearer token for scripts; only its SHA-256 is kept."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(TOKEN_NAME_MAX))
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class WebSession(Base):
    """A signed-in browser; the cookie holds the secret, the table its SHA-256."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    csrf: Mapped[str] = mapped_column(String(64))
    """The anti-CSRF token state-changing requests must echo in ``X-CSRF-Token``."""
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    address: Mapped[str] = mapped_column(String(64), default="")


@dataclass(frozen=True, slots=True)
class UserView:
    id: int
    username: str
    display_name: str
    role: Role
    sites: tuple[str, ...]
    rooms: tuple[tuple[str, str], ...]
    disabled: bool
    created_at: datetime
    last_login_at: datetime | None

    def caller(self, *, via: str = "session", token_id: int | None = None) -> Caller:
        return Caller(
            user_id=self.id,
            username=self.username,
            role=self.role,
            sites=frozenset(self.sites),
            rooms=frozen_rooms(self.rooms),
            via=via,
            token_id=token_id,
        )


@dataclass(frozen=True, slots=True)
class TokenView:
    id: int
    name: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class NewSession:
    secret: str
    csrf: str
    expires_at: datetime
    user: UserView


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def generate_password() -> str:
    """A password to print once: 20 URL-safe characters (about 120 bits)."""
    return secrets.token_urlsafe(15)


def check_password(password: str) -> None:
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        msg = f"a password has {PASSWORD_MIN} to {PASSWORD_MAX} characters"
        raise UserError(msg)


def check_username(username: str) -> str:
    if not re.fullmatch(USERNAME_PATTERN, username):
        msg = (
            f"a user name is 2 to 63 characters a-z, 0-9, '.', '_' or '-', starting with a"
            f" letter or digit, not {username!r}"
        )
        raise UserError(msg)
    return username


class Users:
    """Users, tokens and sessions: every call is one short transaction (call off the loop)."""

    def __init__(
        self,
        engine: Engine,
        *,
        session_idle: timedelta = timedelta(hours=12),
        session_max: timedelta = timedelta(days=14),
        argon2_time_cost: int = ARGON2_TIME_COST,
        argon2_memory_kib: int = ARGON2_MEMORY_KIB,
    ) -> None:
        self.engine = engine
        self.hasher = _hasher(argon2_time_cost, argon2_memory_kib)
        """A stored hash made with other costs still verifies; it is re-hashed at sign-in."""
        self.session_idle = session_idle
        self.session_max = session_max

    # --- users ----------------------------------------------------------------------

    def add(
        self,
        username: str,
        role: Role,
        password: str | None,
        *,
        sites: Iterable[str] = (),
        rooms: Iterable[tuple[str, str]] = (),
        display_name: str = "",
    ) -> UserView:
        """Make a user; the reach must fit the role (a teacher has rooms, it/admin sites).
        Without a password the user cannot sign in, only use tokens (a script's account)."""
        check_username(username)
        if password is not None:
            check_password(password)
        site_list, room_list = _reach(role, sites, rooms)
        now = utcnow()
        with Session(self.engine) as s, s.begin():
            user = User(
                username=username,
                display_name=display_name[:200],
                role=role.value,
                password_hash=NO_PASSWORD if password is None else self.hasher.hash(password),
                disabled=False,
                created_at=now,
                password_changed_at=now,
            )
            s.add(user)
            try:
                s.flush()
            except IntegrityError:
                msg = f"a user named {username!r} exists already"
                raise UserError(msg) from None
            s.add_all(UserSite(user_id=user.id, site_id=site) for site in site_list)
            s.add_all(UserRoom(user_id=user.id, site_id=st, room_id=rm) for st, rm in room_list)
            user_id = user.id
        found = self.get(user_id)
        assert found is not None
        return found

    def get(self, user_id: int) -> UserView | None:
        with Session(self.engine) as s:
            user = s.get(User, user_id)
            return None if user is None else _view(s, user)

    def by_name(self, username: str) -> UserView | None:
        with Session(self.engine) as s:
            user = s.scalar(select(User).where(User.username == username))
            return None if user is None else _view(s, user)

    def all(self) -> list[UserView]:
        with Session(self.engine) as s:
            return [_view(s, u) for u in s.scalars(select(User).order_by(User.username))]

    def count(self) -> int:
        with Session(self.engine) as s:
            return len(s.scalars(select(User.id)).all())

    def set_disabled(self, username: str, disabled: bool) -> UserView:
        """Disable (or enable) a user; disabling also ends their sessions and tokens' use."""
        with Session(self.engine) as s, s.begin():
            user = self._user(s, username)
            user.disabled = disabled
            if disabled:
                s.execute(delete(WebSession).where(WebSession.user_id == user.id))
            user_id = user.id
        found = self.get(user_id)
        assert found is not None
        return found

    def set_password(self, username: str, password: str) -> None:
        """A new password; every session of the user ends (tokens stay until revoked)."""
        check_password(password)
        with Session(self.engine) as s, s.begin():
            user = self._user(s, username)
            user.password_hash = self.hasher.hash(password)
            user.password_changed_at = utcnow()
            s.execute(delete(WebSession).where(WebSession.user_id == user.id))

    def set_reach(
        self, username: str, *, sites: Iterable[str] = (), rooms: Iterable[tuple[str, str]] = ()
    ) -> UserView:
        with Session(self.engine) as s, s.begin():
            user = self._user(s, username)
            site_list, room_list = _reach(Role(user.role), sites, rooms)
            s.execute(delete(UserSite).where(UserSite.user_id == user.id))
            s.execute(delete(UserRoom).where(UserRoom.user_id == user.id))
            s.add_all(UserSite(user_id=user.id, site_id=site) for site in site_list)
            s.add_all(UserRoom(user_id=user.id, site_id=st, room_id=rm) for st, rm in room_list)
            user_id = user.id
        found = self.get(user_id)
        assert found is not None
        return found

    def verify(self, username: str, password: str) -> UserView | None:
        """The user if the password is theirs and they are enabled; else None.

        An unknown name costs the same argon2 work as a wrong password, so timing does not
        tell which names exist.
        """
        if len(password) > PASSWORD_MAX:
            return None
        with Session(self.engine) as s, s.begin():
            user = s.scalar(select(User).where(User.username == username))
            stored = user.password_hash if user is not None else NO_PASSWORD
            if stored == NO_PASSWORD:
                stored = _dummy_hash(self.hasher)
            try:
                self.hasher.verify(stored, password)
            except (VerifyMismatchError, VerificationError, InvalidHashError):
                return None
            if user is None or user.disabled:
                return None
            if self.hasher.check_needs_rehash(stored):
                user.password_hash = self.hasher.hash(password)
            user.last_login_at = utcnow()
            return _view(s, user)

    @staticmethod
    def _user(s: Session, username: str) -> User:
        user = s.scalar(select(User).where(User.username == username))
        if user is None:
            msg = f"no user named {username!r}"
            raise UserError(msg)
        return user

    # --- tokens -----------------------------------------------------------------------

    def create_token(
        self, user_id: int, name: str, *, expires_in: timedelta | None = None
    ) -> tuple[TokenView, str]:
        """A new token for a user: its record and the secret, which is never shown again."""
        name = name.strip()[:TOKEN_NAME_MAX] or "token"
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        now = utcnow()
        with Session(self.engine) as s, s.begin():
            live = s.scalars(
                select(ApiToken.id).where(
                    ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None)
                )
            ).all()
            if len(live) >= TOKENS_PER_USER_MAX:
                msg = f"a user has at most {TOKENS_PER_USER_MAX} tokens; revoke one first"
                raise UserError(msg)
            token = ApiToken(
                user_id=user_id,
                name=name,
                digest=digest(secret),
                created_at=now,
                expires_at=now + expires_in if expires_in is not None else None,
            )
            s.add(token)
            s.flush()
            view = _token_view(token)
        return view, secret

    def tokens(self, user_id: int) -> list[TokenView]:
        with Session(self.engine) as s:
            rows = s.scalars(
                select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id)
            )
            return [_token_view(t) for t in rows]

    def revoke_token(self, user_id: int, token_id: int) -> bool:
        """Revoke one of the user's tokens; False if they have no such live token."""
        with Session(self.engine) as s, s.begin():
            result = s.execute(
                update(ApiToken)
                .where(
                    ApiToken.id == token_id,
                    ApiToken.user_id == user_id,
                    ApiToken.revoked_at.is_(None),
                )
                .values(revoked_at=utcnow())
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def by_token(self, secret: str) -> tuple[UserView, int] | None:
        """The enabled user a live token belongs to, and the token's id."""
        if not secret.startswith(TOKEN_PREFIX) or len(secret) > 100:
            return None
        now = utcnow()
        with Session(self.engine) as s, s.begin():
            token = s.scalar(select(ApiToken).where(ApiToken.digest == digest(secret)))
            if token is None or token.revoked_at is not None:
                return None
            if token.expires_at is not None and token.expires_at <= now:
                return None
            user = s.get(User, token.user_id)
            if user is None or user.disabled:
                return None
            if token.last_used_at is None or now - token.last_used_at >= LAST_USED_EVERY:
                token.last_used_at = now
            return _view(s, user), token.id

    # --- sessions ---------------------------------------------------------------------

    def open_session(self, user: UserView, *, address: str = "") -> NewSession:
        secret = SESSION_PREFIX + secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32)
        now = utcnow()
        expires = now + self.session_max
        with Session(self.engine) as s, s.begin():
            s.execute(delete(WebSession).where(WebSession.expires_at <= now))
            s.add(
                WebSession(
                    user_id=user.id,
                    digest=digest(secret),
                    csrf=csrf,
                    created_at=now,
                    last_used_at=now,
                    expires_at=expires,
                    address=address[:64],
                )
            )
        return NewSession(secret, csrf, expires, user)

    def by_session(self, secret: str) -> tuple[UserView, str] | None:
        """The enabled user of a live session, and its CSRF token; touches its idle timer."""
        if not secret.startswith(SESSION_PREFIX) or len(secret) > 100:
            return None
        now = utcnow()
        with Session(self.engine) as s, s.begin():
            session = s.scalar(select(WebSession).where(WebSession.digest == digest(secret)))
            if session is None:
                return None
            if session.expires_at <= now or now - session.last_used_at > self.session_idle:
                s.delete(session)
                return None
            user = s.get(User, session.user_id)
            if user is None or user.disabled:
                return None
            if now - session.last_used_at >= LAST_USED_EVERY:
                session.last_used_at = now
            return _view(s, user), session.csrf

    def close_session(self, secret: str) -> None:
        with Session(self.engine) as s, s.begin():
            s.execute(delete(WebSession).where(WebSession.digest == digest(secret)))


def provision_token(
    database_url: str, username: str, role: Role, *, sites: Iterable[str] = (), name: str = "tool"
) -> str:
    """A new token of ``username`` (made with a random password if new) on the hub's
    database: for the project's own tools (benchmarks) that read the hub's API."""
    from hub.db import create_schema, make_engine

    engine = make_engine(database_url)
    try:
        create_schema(engine)
        users = Users(engine)
        user = users.by_name(username) or users.add(username, role, None, sites=sites)
        _, secret = users.create_token(user.id, name)
    finally:
        engine.dispose()
    return secret


def _reach(
    role: Role, sites: Iterable[str], rooms: Iterable[tuple[str, str]]
) -> tuple[list[str], list[tuple[str, str]]]:
    try:
        site_list = sorted({validate_id(site, "site") for site in sites})
        room_list = sorted({(validate_id(st, "site"), validate_id(rm, "room")) for st, rm in rooms})
    except ValueError as exc:
        raise UserError(str(exc)) from None
    if role is Role.TEACHER:
        if site_list:
            msg = "a teacher is given rooms (--room site/room), not whole schools"
            raise UserError(msg)
    elif role is Role.DISTRICT:
        if site_list or room_list:
            msg = "a district user reaches every school; give no --site or --room"
            raise UserError(msg)
    else:
        if room_list:
            msg = f"an {role.value} user is given schools (--site), not rooms"
            raise UserError(msg)
        if not site_list:
            msg = f"an {role.value} user needs at least one school (--site)"
            raise UserError(msg)
    return site_list, room_list


def _view(s: Session, user: User) -> UserView:
    sites: Sequence[str] = s.scalars(
        select(UserSite.site_id).where(UserSite.user_id == user.id).order_by(UserSite.site_id)
    ).all()
    rooms = s.execute(
        select(UserRoom.site_id, UserRoom.room_id)
        .where(UserRoom.user_id == user.id)
        .order_by(UserRoom.site_id, UserRoom.room_id)
    ).all()
    return UserView(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=Role(user.role),
        sites=tuple(sites),
        rooms=tuple((r[0], r[1]) for r in rooms),
        disabled=user.disabled,
        created_at=user.created_at,
        last_login_at=user.last_login_at,
    )


def _token_view(t: ApiToken) -> TokenView:
    return TokenView(t.id, t.name, t.created_at, t.expires_at, t.last_used_at, t.revoked_at)


__all__ = [
    "PASSWORD_MIN",
    "TOKEN_PREFIX",
    "ApiToken",
    "NewSession",
    "TokenView",
    "User",
    "UserError",
    "UserRoom",
    "UserSite",
    "UserView",
    "Users",
    "WebSession",
    "generate_password",
    "provision_token",
]
