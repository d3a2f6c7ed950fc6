"""Device families behind one small interface: lights, environment sensors and their backends."""

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
