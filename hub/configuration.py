"""Changes of configuration as people make them: checked, stored as new versions, audited,
and pushed to the rooms whose effective configuration they change."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from hub.access import Caller
from hub.audit import Audit
from hub.config_docs import ConfigInvalid, check_document
from hub.config_push import ConfigPusher
from hub.config_versions import Author, ConfigVersions, Version
from hub.errors import HubError

PUSHES_AT_ONCE = 16
"""Rooms pushed at the same time after a change of their school's defaults."""


@dataclass(frozen=True, slots=True)
class Pushed:
    """The outcome of pushing one room's new version."""

    room: str
    version: int
    pushed: bool
    """The broker took it; else it is pushed again once the link is back."""
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Changed:
    """A stored change: its version, and the pushes it made."""

    version: Version
    pushes: list[Pushed]


class Configuration:
    """The API's way to change and push configuration."""

    def __init__(self, versions: ConfigVersions, pusher: ConfigPusher, audit: Audit) -> None:
        self.versions = versions
        self.pusher = pusher
        self.audit = audit

    async def change_site(self, caller: Caller, site: str, document: Any, comment: str) -> Changed:
        """A new version of the school's defaults, and of each room it changes, pushed to
        them; ConfigInvalid (nothing stored) names what does not fit, for which room."""
        checked = await self._checked(caller, document, site=site)
        try:
            version, rooms = await asyncio.to_thread(
                self.versions.change_site, site, checked, _author(caller), comment
            )
        except ConfigInvalid as exc:
            await self._refused(caller, exc, site=site)
            raise
        await self.audit.record(
            caller, "config_change", site=site,
            detail={"version": version.version, "comment": comment,
                    "rooms": {room: v.version for room, v in rooms}},
        )  # fmt: skip
        limit = asyncio.Semaphore(PUSHES_AT_ONCE)

        async def push(room: str, made: Version) -> Pushed:
            async with limit:
                return await self._push(caller, site, room, made)

        pushes = await asyncio.gather(*(push(room, made) for room, made in rooms))
        return Changed(version, list(pushes))

    async def change_room(
        self, caller: Caller, site: str, room: str, document: Any, comment: str
    ) -> Changed:
        """A new version of the room's overrides, pushed to its agent; ConfigInvalid
        (nothing stored) names what does not fit."""
        checked = await self._checked(caller, document, site=site, room=room)
        try:
            version = await asyncio.to_thread(
                self.versions.change_room, site, room, checked, _author(caller), comment
            )
        except ConfigInvalid as exc:
            await self._refused(caller, exc, site=site, room=room)
            raise
        await self.audit.record(
            caller, "config_change", site=site, room=room,
            detail={"version": version.version, "comment": comment,
                    "site_version": version.site_version},
        )  # fmt: skip
        return Changed(version, [await self._push(caller, site, room, version)])

    async def push_again(self, caller: Caller, site: str, room: str) -> int:
        """Push the room's newest version again; raises NothingToPush or the link's error."""
        return await self.pusher.push(site, room, caller)

    async def _push(self, caller: Caller, site: str, room: str, made: Version) -> Pushed:
        try:
            version = await self.pusher.push(site, room, caller)
        except HubError as exc:  # kept pending: pushed again once the link is back
            return Pushed(room, made.version, False, str(exc))
        return Pushed(room, version, True)

    async def _checked(self, caller: Caller, document: Any, **where: str) -> dict[str, Any]:
        try:
            return check_document(document)
        except ConfigInvalid as exc:
            await self._refused(caller, exc, **where)
            raise

    async def _refused(self, caller: Caller, exc: ConfigInvalid, **where: str) -> None:
        await self.audit.record(
            caller, "config_change", **where, outcome="invalid", detail={"problems": str(exc)}
        )


def _author(caller: Caller) -> Author:
    return Author(caller.username, caller.role.value)


__all__ = ["PUSHES_AT_ONCE", "Changed", "Configuration", "Pushed"]
