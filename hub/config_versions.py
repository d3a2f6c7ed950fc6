"""Versions of configuration in the database: each change of a school's defaults or of a
room's overrides is a new row, never changed afterwards, with who made it, when and why.

A room's versions also hold its effective configuration (its school's document with its
own laid over it): that is what the agent gets, under the room's version number. A change
of the school's document makes a new version for each of its rooms whose effective
configuration it changes. Call from a worker thread, never the event loop.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    ForeignKeyConstraint,
    Integer,
    String,
    Text,
    and_,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.orm import Mapped, mapped_column

from hub.config_docs import ConfigInvalid, effective
from hub.db import Base, Room, Site
from protocol import utcnow

COMMENT_MAX = 500
"""Longest comment of a change."""
HISTORY_MAX = 1000
"""Most versions one listing returns."""


class SiteConfigVersion(Base):
    """One version of a school's defaults."""

    __tablename__ = "site_config_versions"
    __table_args__ = (ForeignKeyConstraint(["site"], ["sites.id"], ondelete="CASCADE"),)

    site: Mapped[str] = mapped_column(String(63), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    document: Mapped[dict[str, Any]]
    author: Mapped[str] = mapped_column(String(63))
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    comment: Mapped[str] = mapped_column(Text)


class RoomConfigVersion(Base):
    """One version of a room's configuration: its overrides and the effective result."""

    __tablename__ = "room_config_versions"
    __table_args__ = (
        ForeignKeyConstraint(
            ["site", "room"], ["rooms.site_id", "rooms.room_id"], ondelete="CASCADE"
        ),
    )

    site: Mapped[str] = mapped_column(String(63), primary_key=True)
    room: Mapped[str] = mapped_column(String(63), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    document: Mapped[dict[str, Any]]
    """The room's own overrides at this version."""
    site_version: Mapped[int] = mapped_column(Integer)
    """The school's version it was merged with (0: the school had none)."""
    effective: Mapped[dict[str, Any]]
    """What the agent runs under this version (the managed sections)."""
    cause: Mapped[str] = mapped_column(String(16))
    """``room`` (its overrides changed), ``school`` (its school's did) or ``new room``."""
    author: Mapped[str] = mapped_column(String(63))
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    comment: Mapped[str] = mapped_column(Text)


@dataclass(frozen=True, slots=True)
class Version:
    """One version as stored; version 0 stands for "nothing yet" (an empty document)."""

    version: int
    document: dict[str, Any]
    author: str = ""
    role: str = ""
    created_at: datetime | None = None
    comment: str = ""
    site_version: int = 0
    effective: dict[str, Any] | None = None
    """A room's effective configuration (None for a school's version)."""
    cause: str = ""


NONE_YET = Version(0, {})


@dataclass(frozen=True, slots=True)
class PushState:
    """A room's configuration as the hub made it, pushed it, and the agent took it."""

    latest: int
    """The room's newest version (0: none)."""
    pushed: int
    """The newest version the broker took from this hub (0: none)."""
    applied: int | None
    """The version the agent says it runs (None: it has not said; 0: its room file alone)."""
    applied_ok: bool | None
    refused: int | None
    """The version the agent refused, if it did."""
    applied_text: str | None


@dataclass(frozen=True, slots=True)
class Author:
    """Who makes a change (empty: the hub itself)."""

    username: str = ""
    role: str = ""


class ConfigVersions:
    """Reads and appends configuration versions."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # --- reading --------------------------------------------------------------------------

    def site_version(self, site: str, version: int | None = None) -> Version | None:
        """A version of the school's defaults (None: the newest, or NONE_YET); None if unknown."""
        v = SiteConfigVersion
        q = select(v.__table__).where(v.site == site)
        q = (
            q.order_by(v.version.desc()).limit(1)
            if version is None
            else q.where(v.version == version)
        )
        with self.engine.connect() as conn:
            row = conn.execute(q).first()
        if row is None:
            return NONE_YET if version in (None, 0) else None
        return _site_view(row._mapping)

    def room_version(self, site: str, room: str, version: int | None = None) -> Version | None:
        """A version of the room (None: the newest, or NONE_YET); None if unknown."""
        v = RoomConfigVersion
        q = select(v.__table__).where(v.site == site, v.room == room)
        q = (
            q.order_by(v.version.desc()).limit(1)
            if version is None
            else q.where(v.version == version)
        )
        with self.engine.connect() as conn:
            row = conn.execute(q).first()
        if row is None:
            return NONE_YET if version in (None, 0) else None
        return _room_view(row._mapping)

    def site_history(self, site: str, limit: int = 100) -> list[Version]:
        """The school's versions, newest first, without their documents."""
        v = SiteConfigVersion
        q = (
            select(v.version, v.author, v.role, v.created_at, v.comment)
            .where(v.site == site)
            .order_by(v.version.desc())
            .limit(min(limit, HISTORY_MAX))
        )
        with self.engine.connect() as conn:
            return [Version(document={}, **row._mapping) for row in conn.execute(q)]

    def room_history(self, site: str, room: str, limit: int = 100) -> list[Version]:
        """The room's versions, newest first, without their documents."""
        v = RoomConfigVersion
        q = (
            select(v.version, v.author, v.role, v.created_at, v.comment, v.site_version, v.cause)
            .where(v.site == site, v.room == room)
            .order_by(v.version.desc())
            .limit(min(limit, HISTORY_MAX))
        )
        with self.engine.connect() as conn:
            return [Version(document={}, **row._mapping) for row in conn.execute(q)]

    def push_state(self, site: str, room: str) -> PushState | None:
        r, v = Room, RoomConfigVersion
        latest = select(func.max(v.version)).where(v.site == site, v.room == room).scalar_subquery()
        q = select(
            latest.label("latest"),
            r.config_version_pushed,
            r.config_version_applied,
            r.config_applied_ok,
            r.config_refused_version,
            r.config_applied_text,
        ).where(r.site_id == site, r.room_id == room)
        with self.engine.connect() as conn:
            row = conn.execute(q).first()
        if row is None:
            return None
        return PushState(
            latest=row.latest or 0,
            pushed=row.config_version_pushed or 0,
            applied=row.config_version_applied,
            applied_ok=row.config_applied_ok,
            refused=row.config_refused_version or None,
            applied_text=row.config_applied_text,
        )

    def unpushed(self) -> list[tuple[str, str]]:
        """Rooms whose newest version the broker has not taken from a hub yet."""
        r, v = Room, RoomConfigVersion
        newest = (
            select(v.site, v.room, func.max(v.version).label("latest"))
            .group_by(v.site, v.room)
            .subquery()
        )
        q = (
            select(r.site_id, r.room_id)
            .join(newest, and_(newest.c.site == r.site_id, newest.c.room == r.room_id))
            .where(newest.c.latest > r.config_version_pushed)
            .order_by(r.site_id, r.room_id)
        )
        with self.engine.connect() as conn:
            return [(row.site_id, row.room_id) for row in conn.execute(q)]

    # --- changing ---------------------------------------------------------------------------

    def change_site(
        self, site: str, document: dict[str, Any], author: Author, comment: str
    ) -> tuple[Version, list[tuple[str, Version]]]:
        """Store a new version of the school's defaults, and a new version of each of its
        rooms whose effective configuration changes with it; ConfigInvalid (nothing stored)
        if the document, or any room's configuration with it, is not valid."""
        effective(document, {})  # the school's own must stand alone
        with self.engine.begin() as conn:
            _lock_site(conn, site)
            version = _next(conn, SiteConfigVersion, SiteConfigVersion.site == site)
            now = utcnow()
            conn.execute(
                insert(SiteConfigVersion),
                [{"site": site, "version": version, "document": document, "author":
                  author.username, "role": author.role, "created_at": now, "comment": comment}],
            )  # fmt: skip
            changed = []
            for room, current in _rooms_of(conn, site):
                try:
                    result = effective(document, current.document)
                except ConfigInvalid as exc:  # name the room whose overrides clash
                    for problem in exc.problems:
                        problem["msg"] = f"with the overrides of room {room}: {problem['msg']}"
                    raise
                if current.version and result == current.effective:
                    continue
                if not current.version and not result:
                    continue  # no configuration before, none now
                made = _add_room_version(
                    conn, site, room, current.document, version, result, "school", author,
                    comment, now,
                )  # fmt: skip
                changed.append((room, made))
        site_view = Version(version, document, author.username, author.role, now, comment)
        return site_view, changed

    def change_room(
        self, site: str, room: str, document: dict[str, Any], author: Author, comment: str
    ) -> Version:
        """Store a new version of the room's overrides and its effective configuration;
        ConfigInvalid (nothing stored) if they do not make a valid configuration."""
        with self.engine.begin() as conn:
            _lock_site(conn, site)
            school = _latest_site(conn, site)
            result = effective(school.document, document)
            return _add_room_version(
                conn, site, room, document, school.version, result, "room", author, comment,
                utcnow(),
            )  # fmt: skip

    def adopt_new_rooms(self) -> list[tuple[str, str, Version]]:
        """Give the school's configuration to each room that has no version yet although its
        school has a document (a room added to the registry since)."""
        made = []
        with self.engine.connect() as conn:
            sites = [row.site for row in conn.execute(select(SiteConfigVersion.site).distinct())]
        for site in sites:
            with self.engine.begin() as conn:
                _lock_site(conn, site)
                school = _latest_site(conn, site)
                result = effective(school.document, {})
                if not result:
                    continue
                for room, current in _rooms_of(conn, site):
                    if current.version:
                        continue
                    version = _add_room_version(
                        conn, site, room, {}, school.version, result, "new room", Author(),
                        "", utcnow(),
                    )  # fmt: skip
                    made.append((site, room, version))
        return made

    def mark_pushed(self, site: str, room: str, version: int) -> None:
        """The broker took ``version`` of the room (it never goes back to an older one)."""
        v = RoomConfigVersion
        settings = select(v.effective).where(v.site == site, v.room == room, v.version == version)
        with self.engine.begin() as conn:
            found = conn.execute(settings).scalar_one_or_none()
            conn.execute(
                update(Room)
                .where(
                    Room.site_id == site,
                    Room.room_id == room,
                    Room.config_version_pushed < version,
                )
                .values(
                    config_version_pushed=version,
                    config_settings=(found or {}).get("settings"),
                )
            )


def _lock_site(conn: Connection, site: str) -> None:
    """Serialise the configuration changes of one school (its rows' versions are max + 1):
    a row lock on PostgreSQL, the write lock on SQLite, taken before anything is read."""
    conn.execute(update(Site).where(Site.id == site).values(name=Site.name))


def _next(conn: Connection, table: Any, where: Any) -> int:
    current = conn.execute(select(func.max(table.version)).where(where)).scalar_one_or_none()
    return int(current or 0) + 1


def _latest_site(conn: Connection, site: str) -> Version:
    v = SiteConfigVersion
    row = conn.execute(
        select(v.__table__).where(v.site == site).order_by(v.version.desc()).limit(1)
    ).first()
    return NONE_YET if row is None else _site_view(row._mapping)


def _rooms_of(conn: Connection, site: str) -> Iterable[tuple[str, Version]]:
    """Each registered room of the site with its newest version (or NONE_YET)."""
    v = RoomConfigVersion
    newest = (
        select(v.room, func.max(v.version).label("latest"))
        .where(v.site == site)
        .group_by(v.room)
        .subquery()
    )
    latest = {
        row.room: _room_view(row._mapping)
        for row in conn.execute(
            select(v.__table__)
            .join(newest, and_(v.room == newest.c.room, v.version == newest.c.latest))
            .where(v.site == site)
        )
    }
    rooms = conn.execute(select(Room.room_id).where(Room.site_id == site).order_by(Room.room_id))
    return [(row.room_id, latest.get(row.room_id, NONE_YET)) for row in rooms]


def _add_room_version(
    conn: Connection, site: str, room: str, document: dict[str, Any], site_version: int,
    result: dict[str, Any], cause: str, author: Author, comment: str, now: datetime,
) -> Version:  # fmt: skip
    version = _next(
        conn,
        RoomConfigVersion,
        and_(RoomConfigVersion.site == site, RoomConfigVersion.room == room),
    )
    conn.execute(
        insert(RoomConfigVersion),
        [{"site": site, "room": room, "version": version, "document": document,
          "site_version": site_version, "effective": result, "cause": cause,
          "author": author.username, "role": author.role, "created_at": now,
          "comment": comment}],
    )  # fmt: skip
    return Version(
        version, document, author.username, author.role, now, comment, site_version, result,
        cause,
    )  # fmt: skip


def _site_view(row: Any) -> Version:
    return Version(
        row["version"], row["document"] or {}, row["author"], row["role"], row["created_at"],
        row["comment"],
    )  # fmt: skip


def _room_view(row: Any) -> Version:
    return Version(
        row["version"], row["document"] or {}, row["author"], row["role"], row["created_at"],
        row["comment"], row["site_version"], row["effective"] or {}, row["cause"],
    )  # fmt: skip


__all__ = [
    "COMMENT_MAX",
    "HISTORY_MAX",
    "NONE_YET",
    "Author",
    "ConfigVersions",
    "PushState",
    "RoomConfigVersion",
    "SiteConfigVersion",
    "Version",
]
