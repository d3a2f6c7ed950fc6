"""Device families behind one small interface: one package per family, shared buses in ``bus``."""

from devices.base import (
    Action,
    BadCommand,
    Device,
    DeviceError,
    DeviceTimeout,
    DeviceUnavailable,
    Sensor,
)

__all__ = [
    "Action",
    "BadCommand",
    "Device",
    "DeviceError",
    "DeviceTimeout",
    "DeviceUnavailable",
    "Sensor",
]
