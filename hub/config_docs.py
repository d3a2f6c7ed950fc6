"""Configuration documents: a school's defaults, a room's overrides, the room's effective
configuration made of both, and the difference between two versions.

A room document is laid over its school's as a JSON Merge Patch (RFC 7386): maps merge key
by key, all the way down; a list or a value replaces the school's whole; ``null`` removes
what the school set. The result must be a valid ``ManagedConfig``, checked with the models
the agent uses, and small enough for the agent to read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import ValidationError

from protocol import RoomConfig, encode
from protocol.bounds import check_json
from protocol.messages import INT32_MAX
from protocol.room_config import CONFIG_MAX_BYTES, MANAGED_FAMILIES, ManagedConfig

DOCUMENT_MAX_DEPTH = 12
"""Deepest nesting of a document (``devices.lights.scenes.reading.front`` is 5)."""
DOCUMENT_MAX_BYTES = 64 * 1024
"""Longest document, as compact JSON."""

Json = Any
Path = tuple[str | int, ...]


class ConfigInvalid(ValueError):  # noqa: N818 - says what happened, like the hub's others
    """A document that does not make a valid configuration; ``problems`` in FastAPI's shape
    (``type``, ``loc`` within the document, ``msg``, ``input``)."""

    def __init__(self, problems: list[dict[str, Any]]) -> None:
        super().__init__("; ".join(f"{_dotted(p['loc'])}: {p['msg']}" for p in problems[:5]))
        self.problems = problems


def merge(base: Json, patch: Json) -> Json:
    """``patch`` laid over ``base`` as a JSON Merge Patch (RFC 7386); neither is changed."""
    if not isinstance(patch, Mapping):
        return patch
    merged = dict(base) if isinstance(base, Mapping) else {}
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = merge(merged.get(key), value)
    return merged


def check_document(document: Json) -> dict[str, Any]:
    """The document if it is a JSON object within the bounds; ConfigInvalid if not."""
    if not isinstance(document, dict):
        raise ConfigInvalid([_problem((), "a configuration document is a JSON object", document)])
    try:
        return check_json(document, max_depth=DOCUMENT_MAX_DEPTH, max_bytes=DOCUMENT_MAX_BYTES)
    except ValueError as exc:
        raise ConfigInvalid([_problem((), str(exc), None)]) from None


def effective(school: Mapping[str, Json], room: Mapping[str, Json]) -> dict[str, Any]:
    """The room's effective configuration: ``room`` over ``school``, validated, as JSON
    (defaults filled in, nothing null or empty: ``{}`` when nothing is managed).
    ConfigInvalid names each problem's field path."""
    merged = merge(school, room)
    try:
        config = ManagedConfig.model_validate(merged)
    except ValidationError as exc:
        raise ConfigInvalid(
            [
                _problem(_path(err["loc"]), err["msg"], err.get("input"), err["type"])
                for err in exc.errors(include_url=False)
            ]
        ) from None
    result: dict[str, Any] = config.model_dump(mode="json", exclude_none=True)
    if not result["devices"]:
        del result["devices"]  # nothing managed is nothing: ``{}``
    size = len(encode(RoomConfig(sender="hub/size-check", version=INT32_MAX, **result)))
    if size > CONFIG_MAX_BYTES:
        msg = f"the configuration is {size} bytes as a message, over the agent's {CONFIG_MAX_BYTES}"
        raise ConfigInvalid([_problem((), msg, None)])
    return result


def _path(loc: Path) -> Path:
    """The field path as written: without the family tag pydantic puts after a device id."""
    if len(loc) > 2 and loc[0] == "devices" and loc[2] in MANAGED_FAMILIES:
        return (*loc[:2], *loc[3:])
    return tuple(loc)


def _problem(loc: Path, msg: str, value: Any, kind: str = "value_error") -> dict[str, Any]:
    return {"type": kind, "loc": loc, "msg": msg, "input": value}


def _dotted(path: Path) -> str:
    return ".".join(str(p) for p in path) or "(document)"


@dataclass(frozen=True, slots=True)
class Change:
    """One difference between two documents: where, what kind, the values before and after."""

    path: Path
    op: Literal["added", "removed", "changed"]
    old: Json = None
    new: Json = None


def diff(old: Json, new: Json, path: Path = ()) -> list[Change]:
    """What changed from ``old`` to ``new``, path by path, in document order: maps key by
    key, lists item by item (a longer or shorter list adds or removes its last items)."""
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        changes: list[Change] = []
        for key in [*old, *(k for k in new if k not in old)]:
            if key not in new:
                changes.append(Change((*path, key), "removed", old=old[key]))
            elif key not in old:
                changes.append(Change((*path, key), "added", new=new[key]))
            else:
                changes += diff(old[key], new[key], (*path, key))
        return changes
    if isinstance(old, list) and isinstance(new, list):
        changes = []
        for i in range(max(len(old), len(new))):
            if i >= len(new):
                changes.append(Change((*path, i), "removed", old=old[i]))
            elif i >= len(old):
                changes.append(Change((*path, i), "added", new=new[i]))
            else:
                changes += diff(old[i], new[i], (*path, i))
        return changes
    if old == new and isinstance(old, bool) == isinstance(new, bool):  # 1 == 1.0, not True
        return []
    return [Change(path, "changed", old=old, new=new)]


__all__ = [
    "DOCUMENT_MAX_BYTES",
    "DOCUMENT_MAX_DEPTH",
    "Change",
    "ConfigInvalid",
    "check_document",
    "diff",
    "effective",
    "merge",
]
