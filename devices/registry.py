"""Every device config a room file may hold, and the factory that builds the matching device."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from devices.base import Device
from devices.environment import Clock, SimEnvironmentConfig, SimEnvironmentSensor
from devices.lighting import GpioLighting, GpioLightingConfig

DeviceConfig = Annotated[
    Annotated[SimEnvironmentConfig, Field(discriminator="backend")]
    | Annotated[GpioLightingConfig, Field(discriminator="backend")],
    Field(discriminator="family"),
]
"""A device's config: ``family`` picks the family, then ``backend`` the implementation."""


def create_device(
    device_id: str,
    config: SimEnvironmentConfig | GpioLightingConfig,
    *,
    pin_factory: Any = None,
    clock: Clock | None = None,
) -> Device:
    """Build the device a config describes (GPIO: ``pin_factory``; simulators: ``clock``)."""
    if isinstance(config, SimEnvironmentConfig):
        return SimEnvironmentSensor(device_id, config, clock=clock)
    return GpioLighting(device_id, config, pin_factory=pin_factory)


__all__ = ["DeviceConfig", "create_device"]
