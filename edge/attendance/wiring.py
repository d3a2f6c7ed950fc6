"""Builds a room's attendance device from its room file, or an unavailable one saying why."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from zoneinfo import ZoneInfo

from devices.base import Device, UnavailableDevice
from devices.camera import Camera
from edge.attendance.config import AttendanceConfig
from edge.attendance.service import AttendanceService, Emit, WallClock
from edge.attendance.vault import Vault, VaultError, load_key
from protocol.attendance import DEVICE
from protocol.timetable import TimetableConfig

logger = logging.getLogger(__name__)

VAULT_FILE = "templates.sealed"


def attendance_dir(room_dir: Path) -> Path:
    """Where a room's attendance data lives (the sealed templates, revoked cards)."""
    return room_dir / "attendance"


def make_attendance(
    config: AttendanceConfig,
    devices: Mapping[str, Device],
    room_dir: Path,
    *,
    emit: Emit,
    clock: WallClock,
    timetable: Callable[[], TimetableConfig | None],
    tz: ZoneInfo,
    label: str,
    changed: Callable[[], None] | None = None,
) -> Device:
    """The attendance device; if its key or camera is missing, one that says so (the room
    goes on without attendance, and an alert tells IT)."""
    data_dir = attendance_dir(room_dir)
    camera = devices.get(config.camera)
    try:
        if not isinstance(camera, Camera):
            msg = f"attendance.camera: {config.camera!r} is not a working camera of the room"
            raise VaultError(msg)
        key = load_key(env=config.key_env, file=config.key_file, data_dir=data_dir)
        vault = Vault(data_dir / VAULT_FILE, key, label=label, retention_end=config.retention_end)
        return AttendanceService(
            config, camera=camera, vault=vault, emit=emit, clock=clock, timetable=timetable,
            tz=tz, data_dir=data_dir, label=label, changed=changed,
        )  # fmt: skip
    except (VaultError, OSError, ValueError) as exc:
        logger.error("%s: attendance cannot start: %s", label, exc)
        emit("device_unavailable", severity="critical", device=DEVICE, text=str(exc),
             data={"available": False})  # fmt: skip
        return UnavailableDevice.of("attendance", DEVICE, str(exc))


__all__ = ["VAULT_FILE", "attendance_dir", "make_attendance"]
