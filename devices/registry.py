"""Every device config a room file may hold, and the factory that builds the matching device."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import Field

from devices.base import Clock, Device
from devices.environment.config import EnvironmentConfig, I2cEnvironmentConfig, SimEnvironmentConfig
from devices.environment.i2c import I2cEnvironmentSensor, SensorFault
from devices.environment.sim import SimEnvironmentSensor
from devices.lighting.config import GpioLightingConfig, LightingConfig
from devices.lighting.gpio import GpioLighting
from devices.noise.config import NoiseConfig, PyAudioNoiseConfig, SimNoiseConfig
from devices.noise.sim import SimNoiseSensor
from devices.occupancy.config import OccupancyConfig, PirOccupancyConfig, SimOccupancyConfig
from devices.occupancy.pir import PirOccupancy
from devices.occupancy.sim import SimOccupancy
from devices.projector.config import PjlinkProjectorConfig, ProjectorConfig, SimProjectorConfig
from devices.projector.driver import PjlinkProjector

logger = logging.getLogger(__name__)

DeviceConfig = Annotated[
    EnvironmentConfig | LightingConfig | ProjectorConfig | NoiseConfig | OccupancyConfig,
    Field(discriminator="family"),
]
"""A device's config: ``family`` picks the family, then ``backend`` the implementation."""

AnyDeviceConfig = (
    SimEnvironmentConfig
    | I2cEnvironmentConfig
    | GpioLightingConfig
    | PyAudioNoiseConfig
    | SimNoiseConfig
    | PirOccupancyConfig
    | SimOccupancyConfig
    | PjlinkProjectorConfig
    | SimProjectorConfig
)
"""Any one member of DeviceConfig."""

Alert = Callable[[str, str, str, str, dict[str, Any]], None]
"""``alert(device_id, kind, severity, text, data)``: something the room should report."""


@dataclass(frozen=True, slots=True)
class DeviceHooks:
    """What a device may tell its owner, whatever its family: alerts and state changes."""

    alert: Alert | None = None
    changed: Callable[[str], None] | None = None
    """``changed(device_id)``: the device's state changed on its own (not by a command)."""


def create_device(
    device_id: str,
    config: AnyDeviceConfig,
    *,
    pin_factory: Any = None,
    clock: Clock | None = None,
    hooks: DeviceHooks | None = None,
) -> Device:
    """Build the device a config describes (GPIO: ``pin_factory``; simulators: ``clock``)."""
    hooks = hooks or DeviceHooks()
    if isinstance(config, SimEnvironmentConfig):
        return SimEnvironmentSensor(device_id, config, clock=clock)
    if isinstance(config, I2cEnvironmentConfig):
        return I2cEnvironmentSensor(device_id, config, on_fault=_fault_hook(device_id, hooks))
    if isinstance(config, GpioLightingConfig):
        return GpioLighting(device_id, config, pin_factory=pin_factory)
    if isinstance(config, PyAudioNoiseConfig):
        from devices.noise.microphone import MicrophoneNoiseSensor  # PyAudio only where it is used

        return MicrophoneNoiseSensor(device_id, config)
    if isinstance(config, SimNoiseConfig):
        return SimNoiseSensor(device_id, config, clock=clock)
    if isinstance(config, PirOccupancyConfig):
        return PirOccupancy(
            device_id, config, pin_factory=pin_factory, on_change=_change_hook(device_id, hooks)
        )
    if isinstance(config, SimOccupancyConfig):
        device = SimOccupancy(device_id, config)
        device.on_change = _change_hook(device_id, hooks)
        return device
    return PjlinkProjector(
        device_id, config, on_availability=_availability_hook(device_id, hooks), clock=clock
    )


def _fault_hook(device_id: str, hooks: DeviceHooks) -> Callable[[SensorFault, bool], None]:
    def on_fault(fault: SensorFault, active: bool) -> None:
        if hooks.alert is None:
            return
        kind = "sensor_fault" if active else "sensor_ok"
        severity = "warning" if active else "info"
        hooks.alert(device_id, kind, severity, fault.message, fault.as_dict())

    return on_fault


def _availability_hook(device_id: str, hooks: DeviceHooks) -> Callable[[bool, str], None]:
    def on_availability(available: bool, reason: str) -> None:
        if hooks.alert is not None:
            kind, severity = (
                ("device_available", "info") if available else ("device_unavailable", "warning")
            )
            hooks.alert(device_id, kind, severity, reason, {"available": available})
        if hooks.changed is not None:
            hooks.changed(device_id)

    return on_availability


def _change_hook(device_id: str, hooks: DeviceHooks) -> Callable[[bool], None]:
    def on_change(_value: bool) -> None:
        if hooks.changed is not None:
            hooks.changed(device_id)

    return on_change


__all__ = ["Alert", "AnyDeviceConfig", "DeviceConfig", "DeviceHooks", "create_device"]
