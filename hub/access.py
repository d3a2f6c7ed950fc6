"""Who may do what, where: the hub's one permission table.

A person has one role and a reach: the schools (sites) of an ``it`` or ``admin`` user, the
rooms assigned to a ``teacher``; ``district`` reaches every school. A right is an
``Action`` the role may take, within that reach. ``POLICY`` is the whole table; the API's
dependencies (``hub/api/auth.py``) and the permission-matrix test both read it, so a rule
lives in exactly one place.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, and_, false, or_, true, tuple_


class Role(StrEnum):
    TEACHER = "teacher"
    """The rooms assigned to them: their state, control, the help request."""
    IT = "it"
    """Every room of their schools: control, fleet operations, configuration, the audit log,
    the users of their schools, attendance and students' consent."""
    ADMIN = "admin"
    """Their schools, read-only: reports, the audit log, rooms and the fleet."""
    DISTRICT = "district"
    """Every school, read-only: rooms, the fleet and reports."""


class Action(StrEnum):
    ROOM_READ = "room.read"
    """A room's state, readings, history and alerts."""
    ROOM_CONTROL = "room.control"
    """Commands to a room's devices; a teacher's help request."""
    FLEET_READ = "fleet.read"
    """The fleet view and the alert lists."""
    FLEET_OPERATE = "fleet.operate"
    """Acknowledge and resolve alerts; remote operations on agents."""
    CONFIG_READ = "config.read"
    CONFIG_WRITE = "config.write"
    """Edit and push configuration and timetables."""
    REPORT_READ = "report.read"
    """Usage reports."""
    AUDIT_READ = "audit.read"
    """The audit log and its export."""
    PERSONAL_READ = "personal.read"
    """Personal data (attendance, consent records); every read is audited."""
    CONSENT_MANAGE = "consent.manage"
    """Record and withdraw students' consent to face recognition, push class rosters and
    their method to a room's attendance camera; each is audited."""
    HUB_ADMIN = "hub.admin"
    """The hub's own operations: dead letters, ingest health."""
    USERS_MANAGE = "users.manage"
    """Add, disable, enable and assign the users of one's schools, and reset their passwords."""


class Reach(StrEnum):
    """How far a role's right extends."""

    OWN_ROOMS = "own rooms"
    OWN_SITES = "own sites"
    EVERYWHERE = "everywhere"


POLICY: Mapping[Role, Mapping[Action, Reach]] = {
    Role.TEACHER: {
        Action.ROOM_READ: Reach.OWN_ROOMS,
        Action.ROOM_CONTROL: Reach.OWN_ROOMS,
        Action.CONFIG_READ: Reach.OWN_ROOMS,
        Action.PERSONAL_READ: Reach.OWN_ROOMS,
    },
    Role.IT: {
        Action.ROOM_READ: Reach.OWN_SITES,
        Action.ROOM_CONTROL: Reach.OWN_SITES,
        Action.FLEET_READ: Reach.OWN_SITES,
        Action.FLEET_OPERATE: Reach.OWN_SITES,
        Action.CONFIG_READ: Reach.OWN_SITES,
        Action.CONFIG_WRITE: Reach.OWN_SITES,
        Action.REPORT_READ: Reach.OWN_SITES,
        Action.AUDIT_READ: Reach.OWN_SITES,
        Action.HUB_ADMIN: Reach.EVERYWHERE,
        Action.USERS_MANAGE: Reach.OWN_SITES,
        Action.PERSONAL_READ: Reach.OWN_SITES,
        Action.CONSENT_MANAGE: Reach.OWN_SITES,
    },
    Role.ADMIN: {
        Action.ROOM_READ: Reach.OWN_SITES,
        Action.FLEET_READ: Reach.OWN_SITES,
        Action.CONFIG_READ: Reach.OWN_SITES,
        Action.REPORT_READ: Reach.OWN_SITES,
        Action.AUDIT_READ: Reach.OWN_SITES,
        Action.PERSONAL_READ: Reach.OWN_SITES,
    },
    Role.DISTRICT: {
        Action.ROOM_READ: Reach.EVERYWHERE,
        Action.FLEET_READ: Reach.EVERYWHERE,
        Action.CONFIG_READ: Reach.EVERYWHERE,
        Action.REPORT_READ: Reach.EVERYWHERE,
    },
}
"""Role → the actions it may take and how far. An action missing for a role is refused."""


@dataclass(frozen=True, slots=True)
class Scope:
    """Where one caller may take one action: everywhere, or some sites and rooms."""

    everything: bool = False
    sites: frozenset[str] = frozenset()
    rooms: frozenset[tuple[str, str]] = frozenset()

    @property
    def empty(self) -> bool:
        return not (self.everything or self.sites or self.rooms)

    def allows(self, site: str, room: str | None = None) -> bool:
        """Within reach: the site (when ``room`` is None: the whole site), or the room."""
        if self.everything or site in self.sites:
            return True
        return room is not None and (site, room) in self.rooms

    def allows_any_of(self, site: str) -> bool:
        """Some part of ``site`` is within reach (a teacher's room in it, say)."""
        return self.allows(site) or any(s == site for s, _ in self.rooms)

    def where(self, site: Any, room: Any | None = None) -> ColumnElement[bool]:
        """The SQL condition on (site, room) columns that keeps only what is within reach."""
        if self.everything:
            return true()
        clauses: list[ColumnElement[bool]] = []
        if self.sites:
            clauses.append(site.in_(sorted(self.sites)))
        if self.rooms and room is not None:
            clauses.append(tuple_(site, room).in_(sorted(self.rooms)))
        if not clauses:
            return false()
        return or_(*clauses) if len(clauses) > 1 else and_(clauses[0])


NOWHERE = Scope()


@dataclass(frozen=True, slots=True)
class Caller:
    """An authenticated person (or script, through their token), as one request sees them."""

    user_id: int
    username: str
    role: Role
    sites: frozenset[str] = frozenset()
    """The schools of an ``it`` or ``admin`` user."""
    rooms: frozenset[tuple[str, str]] = frozenset()
    """The (site, room) pairs assigned to a teacher."""
    via: str = "session"
    """How they came: ``session`` (the web pages) or ``token`` (a script)."""
    token_id: int | None = None
    _scopes: dict[Action, Scope] = field(default_factory=dict, compare=False, repr=False)

    def scope(self, action: Action) -> Scope:
        """Where this caller may take ``action`` (possibly nowhere)."""
        found = self._scopes.get(action)
        if found is None:
            found = self._scopes[action] = _scope_of(self, POLICY[self.role].get(action))
        return found

    def may(self, action: Action, site: str | None = None, room: str | None = None) -> bool:
        """May take ``action`` at all (no site), on the whole ``site``, or in ``room``."""
        scope = self.scope(action)
        if site is None:
            return not scope.empty
        return scope.allows(site, room)


def _scope_of(caller: Caller, reach: Reach | None) -> Scope:
    if reach is None:
        return NOWHERE
    if reach is Reach.EVERYWHERE:
        return Scope(everything=True)
    if reach is Reach.OWN_SITES:
        return Scope(sites=caller.sites)
    return Scope(rooms=caller.rooms)


def reach_of(role: Role, action: Action) -> Reach | None:
    return POLICY[role].get(action)


def roles_that_may(action: Action) -> list[Role]:
    return [role for role in Role if action in POLICY[role]]


def parse_room_ref(value: str) -> tuple[str, str]:
    """``site/room`` → (site, room), for the command line."""
    site, sep, room = value.partition("/")
    if not sep or not site or not room or "/" in room:
        msg = f"a room is written site/room, not {value!r}"
        raise ValueError(msg)
    return site, room


def frozen_rooms(rooms: Iterable[tuple[str, str]]) -> frozenset[tuple[str, str]]:
    return frozenset((s, r) for s, r in rooms)


__all__ = [
    "NOWHERE",
    "POLICY",
    "Action",
    "Caller",
    "Reach",
    "Role",
    "Scope",
    "frozen_rooms",
    "parse_room_ref",
    "reach_of",
    "roles_that_may",
]
