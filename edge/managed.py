"""The configuration the hub manages, on the agent: laid over the room file, checked against
it, and kept on disk so the agent starts with the last good one.

The room file stays the base: each pushed configuration is laid over the room file as it
was read at start (never over the previous push), so a section the hub stops managing
comes back to the room file's own value.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from devices.registry import REGISTRY
from edge.config import RoomFile
from protocol.messages import TEXT_MAX, PayloadError, RoomConfig, decode, encode
from protocol.room_config import ManagedConfig

logger = logging.getLogger(__name__)

SAVED_FILE = "config.json"
"""The last good configuration, in the room's data folder."""
PROBLEMS_SHOWN = 5
"""Most problems named in one refusal."""


class ConfigRefused(ValueError):  # noqa: N818 - says what happened, like DeviceUnavailable
    """A configuration the room cannot take; the message names each field and why."""


def overlay(room: RoomFile, config: ManagedConfig) -> RoomFile:
    """The room file with the configuration's sections in place, validated as a whole (the
    devices, scenes and pins it names must exist); ConfigRefused says what does not fit."""
    data: dict[str, Any] = room.model_dump()
    if config.settings is not None:
        data["telemetry_interval_s"] = config.settings.telemetry_interval_s
    if config.timetable is not None:
        data["timetable"] = config.timetable.model_dump()
    if config.rules is not None:
        data["rules"] = config.rules.model_dump()
    problems: list[str] = []
    for device_id, managed in config.devices.items():
        current = data["devices"].get(device_id)
        if current is None:
            known = ", ".join(data["devices"]) or "none"
            problems.append(f"devices.{device_id}: no such device in this room (has {known})")
        elif current["family"] != managed.family:
            problems.append(
                f"devices.{device_id}: a {current['family']} device, not {managed.family}"
            )
        else:
            current.update(managed.model_dump(exclude={"family"}, exclude_none=True))
    if problems:
        raise ConfigRefused(_joined(problems))
    try:
        return RoomFile.model_validate(data)
    except ValidationError as exc:
        raise ConfigRefused(describe(exc)) from exc


def describe(exc: ValidationError) -> str:
    """``key.path: message`` of each problem (the first few), on one line."""
    return _joined(f"{_dotted(err['loc'])}: {err['msg']}" for err in exc.errors(include_url=False))


def _dotted(loc: tuple[int | str, ...]) -> str:
    """The key path as the room file writes it: without the family and backend tags pydantic
    puts after a device id."""
    parts = list(loc)
    if len(parts) > 2 and parts[0] == "devices" and str(parts[2]) in REGISTRY.families:
        family = REGISTRY.families[str(parts.pop(2))]
        if len(parts) > 2 and parts[2] in family.backend_names:
            parts.pop(2)
    return ".".join(str(p) for p in parts) or "(config)"


def _joined(problems: Any) -> str:
    problems = list(problems)
    text = "; ".join(problems[:PROBLEMS_SHOWN])
    if len(problems) > PROBLEMS_SHOWN:
        text += f"; and {len(problems) - PROBLEMS_SHOWN} more"
    return text if len(text) <= TEXT_MAX else text[: TEXT_MAX - 1] + "…"


class SavedConfig:
    """The last good configuration of one room, as the hub pushed it, in one JSON file.

    Written atomically (a temporary file, fsync, rename, fsync of the folder): a power cut
    leaves the previous file or the new one, never half of one. Call ``save`` off the
    event loop: an SD card's fsync may take a while.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        """One save at a time (they share the temporary file)."""

    def load(self) -> RoomConfig | None:
        """The saved configuration; None if there is none. Raises ConfigRefused if the file
        cannot be read or is not a configuration."""
        try:
            payload = self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            msg = f"{self.path}: cannot read the saved configuration: {exc}"
            raise ConfigRefused(msg) from exc
        try:
            return decode(RoomConfig, payload)
        except PayloadError as exc:
            msg = f"{self.path}: {exc}"
            raise ConfigRefused(msg) from exc

    def save(self, config: RoomConfig) -> None:
        """Replace the saved configuration with ``config``; raises OSError."""
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(self.path.name + ".tmp")
            with tmp.open("wb") as f:
                f.write(encode(config))
                f.flush()
                os.fsync(f.fileno())
            tmp.replace(self.path)
            folder = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(folder)
            finally:
                os.close(folder)


def starting_config(room: RoomFile, saved: SavedConfig, label: str) -> tuple[RoomFile, int]:
    """The room the agent starts with and its configuration version: the saved last good
    configuration laid over the room file, or the room file alone (version 0) when none was
    saved or it no longer fits the room file (logged)."""
    try:
        config = saved.load()
        if config is None:
            return room, 0
        return overlay(room, config), config.version
    except ConfigRefused as exc:
        logger.warning("%s: starting with the room file alone: %s", label, exc)
        return room, 0


__all__ = ["SAVED_FILE", "ConfigRefused", "SavedConfig", "describe", "overlay", "starting_config"]
