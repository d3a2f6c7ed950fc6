"""The schools and rooms a report caller may read, with their names from the registry."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Connection, select

from hub.db import Room, Site
from hub.reports import Visible


@dataclass(frozen=True)
class SchoolPlace:
    """A school and those of its rooms the caller may read (all of them, for a whole site)."""

    id: str
    name: str
    rooms: list[tuple[str, str]] = field(default_factory=list)
    """(room id, name) pairs, by id."""
    whole: bool = True
    """The caller may read the whole school (its totals), not only some rooms."""


def readable(visible: Visible | None, site: str, room: str | None = None) -> bool:
    """Within ``visible``: the whole site (room None), or the room."""
    if visible is None or site in visible.sites:
        return True
    return room is not None and (site, room) in visible.rooms


def school_names(conn: Connection, visible: Visible | None) -> dict[str, str]:
    """Site id → name of the schools the caller may read something of, by id."""
    s = Site.__table__.c
    stmt = select(s.id, s.name).order_by(s.id)
    if visible is not None:
        stmt = stmt.where(s.id.in_(sorted(visible.sites | {site for site, _ in visible.rooms})))
    return {str(site): str(name) for site, name in conn.execute(stmt).all()}


def room_names(conn: Connection, site: str, visible: Visible | None) -> dict[str, str]:
    """Room id → name of the school's rooms the caller may read, by id."""
    r = Room.__table__.c
    stmt = select(r.room_id, r.name).where(r.site_id == site).order_by(r.room_id)
    rows = conn.execute(stmt).all()
    return {str(room): str(name) for room, name in rows if readable(visible, site, room)}


def schools(conn: Connection, visible: Visible | None) -> list[SchoolPlace]:
    """Every school the caller may read something of, with its readable rooms."""
    names = school_names(conn, visible)
    r = Room.__table__.c
    rows = conn.execute(
        select(r.site_id, r.room_id, r.name)
        .where(r.site_id.in_(list(names)))
        .order_by(r.site_id, r.room_id)
    ).all()
    rooms: dict[str, list[tuple[str, str]]] = {}
    for site, room, name in rows:
        if readable(visible, site, room):
            rooms.setdefault(site, []).append((room, name))
    return [
        SchoolPlace(site, name, rooms.get(site, []), readable(visible, site))
        for site, name in names.items()
    ]


__all__ = ["SchoolPlace", "readable", "room_names", "school_names", "schools"]
