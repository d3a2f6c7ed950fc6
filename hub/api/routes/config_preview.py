"""What a configuration change would do, before it is made: checked and compared, not stored.

A ``PUT`` of a configuration stores it and pushes it at once; these routes take the same body
and answer with the same 422 for a document that does not fit (each problem's path under
``body.config``), or with the differences the change would make: in the document, in the
room's effective configuration, and (for a school) which rooms would get a new version. The
dashboard shows them before IT pushes.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel

from hub.access import Action
from hub.api.auth import RoomAllowed, RoomRef, SiteAllowed, SiteRef
from hub.api.config_models import ChangePublic, ConfigChangeCreate
from hub.api.deps import HubDep
from hub.api.responses import error_responses
from hub.api.routes.commands import UNREADABLE_BODY
from hub.api.routes.config import ConfigurationDep
from hub.config_docs import ConfigInvalid, check_document, diff, effective
from hub.config_versions import ConfigVersions

router = APIRouter(tags=["configuration"])

ERRORS = error_responses(
    {
        400: UNREADABLE_BODY,
        404: "unknown site or room",
        422: "the document does not make a valid configuration (each problem with its field"
        " path under `body.config`), or the body does not fit",
    }
)


class ConfigPreviewPublic(BaseModel):
    """The differences a change would make against the newest version; nothing is stored."""

    version: int
    """The newest version it is compared with (0: none yet)."""
    document: list[ChangePublic]
    """In the school's or the room's own document."""
    effective: list[ChangePublic]
    """In the room's effective configuration (for a school: its defaults on their own)."""
    rooms: list[str]
    """For a school: the rooms whose effective configuration would change (a new version
    each, pushed); for a room: itself, if its effective configuration would change."""


def _changes(old: object, new: object) -> list[ChangePublic]:
    return [ChangePublic(path=list(c.path), op=c.op, old=c.old, new=c.new) for c in diff(old, new)]


def _invalid(exc: ConfigInvalid) -> RequestValidationError:
    return RequestValidationError(
        [{**p, "loc": ("body", "config", *p["loc"])} for p in exc.problems]
    )


def _room_preview(
    versions: ConfigVersions, site: str, room: str, document: object
) -> ConfigPreviewPublic:
    checked = check_document(document)
    school = versions.site_version(site)
    current = versions.room_version(site, room)
    assert school is not None  # NONE_YET when there is none
    assert current is not None
    result = effective(school.document, checked)
    changes = _changes(current.effective or {}, result)
    return ConfigPreviewPublic(
        version=current.version,
        document=_changes(current.document, checked),
        effective=changes,
        rooms=[room] if changes else [],
    )


def _site_preview(
    versions: ConfigVersions, rooms: list[str], site: str, document: object
) -> ConfigPreviewPublic:
    checked = check_document(document)
    current = versions.site_version(site)
    assert current is not None
    alone = effective(checked, {})  # a school's defaults must stand on their own
    changed = []
    for room in rooms:
        mine = versions.room_version(site, room)
        assert mine is not None
        try:
            result = effective(checked, mine.document)
        except ConfigInvalid as exc:  # name the room whose overrides clash, as a PUT does
            for problem in exc.problems:
                problem["msg"] = f"with the overrides of room {room}: {problem['msg']}"
            raise
        if result != (mine.effective or {}) and (mine.version or result):
            changed.append(room)
    return ConfigPreviewPublic(
        version=current.version,
        document=_changes(current.document, checked),
        effective=_changes(effective(current.document, {}), alone),
        rooms=changed,
    )


@router.post("/rooms/{site}/{room}/config/preview", responses=ERRORS)
async def preview_room_config(
    ref: Annotated[RoomRef, Depends(RoomAllowed(Action.CONFIG_WRITE))],
    change: ConfigChangeCreate,
    config: ConfigurationDep,
) -> ConfigPreviewPublic:
    """Check new overrides for the room and say what they would change; nothing is stored."""
    try:
        return await asyncio.to_thread(
            _room_preview, config.versions, ref.site, ref.room, change.config
        )
    except ConfigInvalid as exc:
        raise _invalid(exc) from None


@router.post("/sites/{site}/config/preview", responses=ERRORS)
async def preview_site_config(
    ref: Annotated[SiteRef, Depends(SiteAllowed(Action.CONFIG_WRITE))],
    change: ConfigChangeCreate,
    config: ConfigurationDep,
    hub: HubDep,
) -> ConfigPreviewPublic:
    """Check new defaults for the school, with each room's overrides, and say what they would
    change and for which rooms; nothing is stored."""
    rooms = [r.room for r in await asyncio.to_thread(hub.store.list_rooms) if r.site == ref.site]
    try:
        return await asyncio.to_thread(
            _site_preview, config.versions, rooms, ref.site, change.config
        )
    except ConfigInvalid as exc:
        raise _invalid(exc) from None


__all__ = ["ConfigPreviewPublic", "router"]
