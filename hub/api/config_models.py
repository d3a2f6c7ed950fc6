"""Shapes of the configuration API: changes in, versions, push state and differences out."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from hub.config_versions import COMMENT_MAX
from protocol.bounds import check_text
from protocol.room_config import ManagedConfig

DOCS = "docs/configuration.md#configuration-managed-by-the-hub"


class ConfigChangeCreate(BaseModel):
    """A new version of a school's defaults or of a room's overrides."""

    model_config = ConfigDict(extra="forbid")

    config: dict[str, Any] = Field(
        description="The whole document of this version (it replaces the previous one): "
        "`settings`, `timetable`, `rules`, `devices`, as in ManagedConfig. A school's must be "
        "valid on its own; a room's is laid over its school's as a JSON Merge Patch (maps "
        f"merge, lists and values replace, null removes). See {DOCS}.",
        examples=[{"timetable": {"lead_min": 10}, "rules": {"co2": {"co2_ppm": 1000}}}],
    )
    comment: Annotated[str, Field(max_length=COMMENT_MAX), AfterValidator(check_text)] = Field(
        default="", description="Why, for the version history."
    )


class VersionSummaryPublic(BaseModel):
    """One version in a history, without its documents."""

    version: int
    author: str
    """Who made it (empty: the hub itself, for a room added to a school with defaults)."""
    role: str
    created_at: datetime | None
    comment: str
    cause: str = ""
    """A room's: ``room`` (its overrides changed), ``school`` (its school's), ``new room``."""
    site_version: int = 0
    """A room's: the school's version it was merged with (0: none)."""


class SiteConfigPublic(VersionSummaryPublic):
    """A version of a school's defaults (version 0: none yet)."""

    site: str
    document: dict[str, Any]


class RoomVersionPublic(VersionSummaryPublic):
    """A version of a room: its overrides and the effective configuration pushed under it."""

    site: str
    room: str
    document: dict[str, Any]
    """The room's own overrides."""
    effective: ManagedConfig
    """What its agent runs under this version (a section left null: the room file's own)."""


class PushStatePublic(BaseModel):
    """The room's configuration as made, pushed and applied."""

    latest: int
    """The room's newest version (0: none)."""
    pushed: int
    """The newest version the broker took (0: none)."""
    pending: bool
    """The newest version is not pushed yet: the hub pushes it once the link is back."""
    applied: int | None
    """The version the agent runs (0: its room file alone; null: it has not said)."""
    applied_ok: bool | None
    """False when the agent refused the newest version it got."""
    refused: int | None
    """The version it refused (it goes on running ``applied``)."""
    applied_text: str | None
    """The agent's reason for refusing, or its note."""


class RoomConfigPublic(RoomVersionPublic):
    """A room's newest version, and how far it got."""

    status: PushStatePublic


class PushPublic(BaseModel):
    room: str
    version: int
    pushed: bool
    """The broker took it; else the hub pushes it again once the link is back."""
    error: str | None = None


class ConfigChangedPublic(BaseModel):
    """A change stored, and the pushes it made (a school's: one per room it changed)."""

    site: str
    room: str | None
    version: int
    pushes: list[PushPublic]


class ChangePublic(BaseModel):
    """One difference: its path in the document, and the values before and after."""

    path: list[str | int]
    op: Literal["added", "removed", "changed"]
    old: Any = None
    new: Any = None


class ConfigDiffPublic(BaseModel):
    """What changed from version ``a`` to version ``b`` (0: nothing yet)."""

    a: int
    b: int
    document: list[ChangePublic]
    """In the school's or room's own document."""
    effective: list[ChangePublic] | None = None
    """A room's: in the effective configuration its agent runs."""


__all__ = [
    "ChangePublic",
    "ConfigChangeCreate",
    "ConfigChangedPublic",
    "ConfigDiffPublic",
    "PushPublic",
    "PushStatePublic",
    "RoomConfigPublic",
    "RoomVersionPublic",
    "SiteConfigPublic",
    "VersionSummaryPublic",
]
