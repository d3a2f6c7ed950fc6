"""The sites file: a YAML registry of sites and their rooms, validated and loaded at start."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    model_validator,
)

from hub.store import SiteSpec
from protocol import validate_id


class RegistryError(ValueError):
    """A sites file that cannot be read or does not validate; the message names file and line."""


SiteId = Annotated[str, AfterValidator(lambda v: validate_id(v, "site id"))]
RoomId = Annotated[str, AfterValidator(lambda v: validate_id(v, "room id"))]
DeviceId = Annotated[str, AfterValidator(lambda v: validate_id(v, "device id"))]
Watts = Annotated[float, Field(ge=0, le=100_000)]
Hours = Annotated[float, Field(gt=0, le=1_000_000)]


class DeviceEntry(BaseModel):
    """What the hub's usage reports need to know of one device: its power and its limits.

    Whatever is left out comes from the hub's per-family defaults (settings).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    watts: Watts | None = None
    """Power drawn while on (a lighting device: with all its zones lit)."""
    zone_watts: dict[str, Watts] = Field(default_factory=dict, max_length=64)
    """Lighting: a zone's own power; zones not listed share ``watts`` equally."""
    lamp_limit_h: Hours | None = None
    """Projector: lamp hours at which the lamp is due for replacement."""
    filter_limit_h: Hours | None = None
    """Projector: filter hours at which the filter is due for cleaning or replacement."""


class RoomEntry(BaseModel):
    """A room with a display name; a bare id in the file means the name is the id."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: RoomId
    name: str | None = Field(default=None, max_length=200)
    devices: dict[DeviceId, DeviceEntry] = Field(default_factory=dict, max_length=256)
    """Power and limits of the room's devices, for usage reports (optional)."""

    @property
    def display_name(self) -> str:
        return self.name or self.id


RoomItem = Annotated[
    Annotated[RoomId, Tag("RoomId")] | Annotated[RoomEntry, Tag("RoomEntry")],
    Discriminator(lambda v: "RoomEntry" if isinstance(v, dict | RoomEntry) else "RoomId"),
]
"""A room is written as a bare id or as ``{id, name}``."""
_TAGS = {"RoomId", "RoomEntry"}


class SiteEntry(BaseModel):
    """A school or centre and its rooms."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: SiteId
    name: str = Field(min_length=1, max_length=200)
    rooms: list[RoomItem] = Field(default_factory=list)

    def room_entries(self) -> list[RoomEntry]:
        return [r if isinstance(r, RoomEntry) else RoomEntry(id=r) for r in self.rooms]

    @model_validator(mode="after")
    def _unique_rooms(self) -> SiteEntry:
        ids = [r.id for r in self.room_entries()]
        twice = sorted({i for i in ids if ids.count(i) > 1})
        if twice:
            msg = f"room listed twice in site {self.id!r}: {', '.join(twice)}"
            raise ValueError(msg)
        return self


class SitesFile(BaseModel):
    """The whole sites file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sites: list[SiteEntry]

    @model_validator(mode="after")
    def _unique_sites(self) -> SitesFile:
        ids = [s.id for s in self.sites]
        twice = sorted({i for i in ids if ids.count(i) > 1})
        if twice:
            msg = f"site listed twice: {', '.join(twice)}"
            raise ValueError(msg)
        return self

    def specs(self) -> list[SiteSpec]:
        """The registry in the form the store takes."""
        return [
            SiteSpec(s.id, s.name, [(r.id, r.display_name) for r in s.room_entries()])
            for s in self.sites
        ]


def _line_of(node: yaml.Node | None, loc: tuple[int | str, ...]) -> int | None:
    """1-based line of the YAML node at ``loc`` (or of its nearest parent that exists)."""
    line = node.start_mark.line + 1 if node is not None else None
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            match = [v for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == key]
            if not match:
                break
            node = match[0]
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
        else:
            break
        line = node.start_mark.line + 1
    return line


def load_sites(path: Path) -> SitesFile:
    """Read and validate a sites file; raise RegistryError with file, key and line."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        msg = f"{path}: cannot read the sites file: {exc.strerror or exc}"
        raise RegistryError(msg) from exc
    try:
        data = yaml.safe_load(text)
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        msg = f"{path}: not valid YAML: {exc}"
        raise RegistryError(msg) from exc
    try:
        return SitesFile.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors(include_url=False)[:5]:
            loc = tuple(p for p in err["loc"] if p not in _TAGS)
            where = ".".join(str(p) for p in loc) or "(file)"
            line = _line_of(root, loc)
            prefix = f"{path}:{line}" if line else f"{path}"
            problems.append(f"{prefix}: {where}: {err['msg']}")
        raise RegistryError("\n".join(problems)) from exc


__all__ = ["DeviceEntry", "RegistryError", "RoomEntry", "SiteEntry", "SitesFile", "load_sites"]
