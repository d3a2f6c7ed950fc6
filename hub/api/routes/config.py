"""Configuration: a school's defaults and a room's overrides, their versions and differences,
the room's effective configuration, and pushing it to its agent."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, status
from fastapi.exceptions import RequestValidationError

from hub.access import Action
from hub.api.auth import RoomAllowed, RoomRef, SiteAllowed, SiteRef
from hub.api.config_models import (
    ChangePublic,
    ConfigChangeCreate,
    ConfigChangedPublic,
    ConfigDiffPublic,
    PushPublic,
    PushStatePublic,
    RoomConfigPublic,
    RoomVersionPublic,
    SiteConfigPublic,
    VersionSummaryPublic,
)
from hub.api.responses import error_responses
from hub.api.routes.commands import UNREADABLE_BODY, raise_for_link
from hub.config_docs import ConfigInvalid, diff
from hub.config_push import NothingToPush
from hub.config_versions import HISTORY_MAX, Version
from hub.configuration import Changed, Configuration
from hub.errors import HubError
from protocol.messages import INT32_MAX
from protocol.room_config import ManagedConfig

router = APIRouter(tags=["configuration"])

SITE = "/sites/{site}/config"
ROOM = "/rooms/{site}/{room}/config"
VersionNo = Annotated[int, Path(ge=1, le=INT32_MAX, description="a version number")]
Either = Annotated[int, Path(ge=0, le=INT32_MAX, description="a version (0: nothing yet)")]
Limit = Annotated[int, Query(ge=1, le=HISTORY_MAX, description="most versions, newest first")]

READ_ERRORS = {404: "unknown site or room", 422: "a bad id"}
VERSION_ERRORS = {404: "unknown site, room or version", 422: "a bad id or version number"}
CHANGE_ERRORS = {
    400: UNREADABLE_BODY,
    404: "unknown site or room",
    422: "the document does not make a valid configuration (each problem with its field"
    " path under `body.config`), or the body does not fit",
}


def get_configuration(request: Request) -> Configuration:
    configuration: Configuration = request.app.state.configuration
    return configuration


ConfigurationDep = Annotated[Configuration, Depends(get_configuration)]


def _invalid(exc: ConfigInvalid) -> RequestValidationError:
    return RequestValidationError(
        [{**p, "loc": ("body", "config", *p["loc"])} for p in exc.problems]
    )


def _site_public(site: str, v: Version) -> SiteConfigPublic:
    return SiteConfigPublic(
        site=site, version=v.version, document=v.document, author=v.author, role=v.role,
        created_at=v.created_at, comment=v.comment,
    )  # fmt: skip


def _room_public(site: str, room: str, v: Version) -> RoomVersionPublic:
    return RoomVersionPublic(
        site=site, room=room, version=v.version, document=v.document, author=v.author,
        role=v.role, created_at=v.created_at, comment=v.comment, cause=v.cause,
        site_version=v.site_version, effective=ManagedConfig.model_validate(v.effective or {}),
    )  # fmt: skip


def _summary(v: Version) -> VersionSummaryPublic:
    return VersionSummaryPublic(
        version=v.version, author=v.author, role=v.role, created_at=v.created_at,
        comment=v.comment, cause=v.cause, site_version=v.site_version,
    )  # fmt: skip


def _changed(site: str, room: str | None, changed: Changed) -> ConfigChangedPublic:
    return ConfigChangedPublic(
        site=site,
        room=room,
        version=changed.version.version,
        pushes=[PushPublic(room=p.room, version=p.version, pushed=p.pushed, error=p.error)
                for p in changed.pushes],
    )  # fmt: skip


def _changes(old: object, new: object) -> list[ChangePublic]:
    return [ChangePublic(path=list(c.path), op=c.op, old=c.old, new=c.new) for c in diff(old, new)]


def _found(version: Version | None, what: str) -> Version:
    if version is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no {what}")
    return version


# --- a school's defaults ------------------------------------------------------------------


@router.get(SITE, responses=error_responses(READ_ERRORS))
async def get_site_config(
    ref: Annotated[SiteRef, Depends(SiteAllowed(Action.CONFIG_READ))], config: ConfigurationDep
) -> SiteConfigPublic:
    """The school's newest defaults (version 0 and an empty document: none yet)."""
    found = await asyncio.to_thread(config.versions.site_version, ref.site)
    return _site_public(ref.site, _found(found, f"configuration of {ref.site}"))


@router.put(SITE, status_code=status.HTTP_202_ACCEPTED, responses=error_responses(CHANGE_ERRORS))
async def put_site_config(
    ref: Annotated[SiteRef, Depends(SiteAllowed(Action.CONFIG_WRITE))],
    change: ConfigChangeCreate,
    config: ConfigurationDep,
) -> ConfigChangedPublic:
    """A new version of the school's defaults; every room whose effective configuration it
    changes gets a new version too, pushed at once (or as soon as the broker is back)."""
    try:
        changed = await config.change_site(ref.caller, ref.site, change.config, change.comment)
    except ConfigInvalid as exc:
        raise _invalid(exc) from None
    return _changed(ref.site, None, changed)


@router.get(f"{SITE}/versions", responses=error_responses(READ_ERRORS))
async def list_site_versions(
    ref: Annotated[SiteRef, Depends(SiteAllowed(Action.CONFIG_READ))],
    config: ConfigurationDep,
    limit: Limit = 100,
) -> list[VersionSummaryPublic]:
    """The school's versions, newest first."""
    versions = await asyncio.to_thread(config.versions.site_history, ref.site, limit)
    return [_summary(v) for v in versions]


@router.get(f"{SITE}/versions/{{version}}", responses=error_responses(VERSION_ERRORS))
async def get_site_version(
    ref: Annotated[SiteRef, Depends(SiteAllowed(Action.CONFIG_READ))],
    config: ConfigurationDep,
    version: VersionNo,
) -> SiteConfigPublic:
    """One version of the school's defaults."""
    found = await asyncio.to_thread(config.versions.site_version, ref.site, version)
    return _site_public(ref.site, _found(found, f"version {version} of {ref.site}"))


@router.get(f"{SITE}/versions/{{a}}/diff/{{b}}", responses=error_responses(VERSION_ERRORS))
async def diff_site_versions(
    ref: Annotated[SiteRef, Depends(SiteAllowed(Action.CONFIG_READ))],
    config: ConfigurationDep,
    a: Either,
    b: Either,
) -> ConfigDiffPublic:
    """What changed in the school's document from version ``a`` to ``b``."""
    old = await asyncio.to_thread(config.versions.site_version, ref.site, a)
    new = await asyncio.to_thread(config.versions.site_version, ref.site, b)
    old, new = _found(old, f"version {a}"), _found(new, f"version {b}")
    return ConfigDiffPublic(a=a, b=b, document=_changes(old.document, new.document))


# --- a room's overrides and its effective configuration -----------------------------------


@router.get(ROOM, responses=error_responses(READ_ERRORS))
async def get_room_config(
    ref: Annotated[RoomRef, Depends(RoomAllowed(Action.CONFIG_READ))], config: ConfigurationDep
) -> RoomConfigPublic:
    """The room's newest version (its overrides, the effective configuration) and the
    versions pushed and applied, with the agent's reason if it refused one."""
    site, room = ref.site, ref.room
    found = await asyncio.to_thread(config.versions.room_version, site, room)
    state = await asyncio.to_thread(config.versions.push_state, site, room)
    if found is None or state is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"unknown room {site}/{room}")
    public = _room_public(site, room, found)
    return RoomConfigPublic(
        **public.model_dump(exclude={"effective"}),
        effective=public.effective,
        status=PushStatePublic(
            latest=state.latest, pushed=state.pushed, pending=state.latest > state.pushed,
            applied=state.applied, applied_ok=state.applied_ok, refused=state.refused,
            applied_text=state.applied_text,
        ),
    )  # fmt: skip


@router.put(ROOM, status_code=status.HTTP_202_ACCEPTED, responses=error_responses(CHANGE_ERRORS))
async def put_room_config(
    ref: Annotated[RoomRef, Depends(RoomAllowed(Action.CONFIG_WRITE))],
    change: ConfigChangeCreate,
    config: ConfigurationDep,
) -> ConfigChangedPublic:
    """A new version of the room's overrides, laid over its school's defaults and pushed to
    its agent at once (or as soon as the broker is back); the agent reports what it applied."""
    try:
        changed = await config.change_room(
            ref.caller, ref.site, ref.room, change.config, change.comment
        )
    except ConfigInvalid as exc:
        raise _invalid(exc) from None
    return _changed(ref.site, ref.room, changed)


@router.get(f"{ROOM}/versions", responses=error_responses(READ_ERRORS))
async def list_room_versions(
    ref: Annotated[RoomRef, Depends(RoomAllowed(Action.CONFIG_READ))],
    config: ConfigurationDep,
    limit: Limit = 100,
) -> list[VersionSummaryPublic]:
    """The room's versions, newest first."""
    versions = await asyncio.to_thread(config.versions.room_history, ref.site, ref.room, limit)
    return [_summary(v) for v in versions]


@router.get(f"{ROOM}/versions/{{version}}", responses=error_responses(VERSION_ERRORS))
async def get_room_version(
    ref: Annotated[RoomRef, Depends(RoomAllowed(Action.CONFIG_READ))],
    config: ConfigurationDep,
    version: VersionNo,
) -> RoomVersionPublic:
    """One version of the room: its overrides and the effective configuration."""
    found = await asyncio.to_thread(config.versions.room_version, ref.site, ref.room, version)
    return _room_public(ref.site, ref.room, _found(found, f"version {version} of this room"))


@router.get(f"{ROOM}/versions/{{a}}/diff/{{b}}", responses=error_responses(VERSION_ERRORS))
async def diff_room_versions(
    ref: Annotated[RoomRef, Depends(RoomAllowed(Action.CONFIG_READ))],
    config: ConfigurationDep,
    a: Either,
    b: Either,
) -> ConfigDiffPublic:
    """What changed from version ``a`` to ``b``: in the room's overrides, and in the
    effective configuration its agent runs."""
    old = await asyncio.to_thread(config.versions.room_version, ref.site, ref.room, a)
    new = await asyncio.to_thread(config.versions.room_version, ref.site, ref.room, b)
    old, new = _found(old, f"version {a}"), _found(new, f"version {b}")
    return ConfigDiffPublic(
        a=a,
        b=b,
        document=_changes(old.document, new.document),
        effective=_changes(old.effective or {}, new.effective or {}),
    )


@router.post(
    f"{ROOM}/push",
    status_code=status.HTTP_202_ACCEPTED,
    responses=error_responses(
        {
            404: "unknown room",
            409: "the room has no configuration version yet",
            422: "a bad id",
            503: "the hub is not connected to the broker, or the broker refused the publish",
        }
    ),
)
async def push_room_config(
    ref: Annotated[RoomRef, Depends(RoomAllowed(Action.CONFIG_WRITE))], config: ConfigurationDep
) -> PushPublic:
    """Push the room's newest version again (retained), e.g. after the broker lost its
    retained messages, or for an agent that refused it and whose room file was fixed."""
    try:
        version = await config.push_again(ref.caller, ref.site, ref.room)
    except NothingToPush as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    except HubError as exc:
        raise_for_link(exc)
    return PushPublic(room=ref.room, version=version, pushed=True)


__all__ = ["router"]
