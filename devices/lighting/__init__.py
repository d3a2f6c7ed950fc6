"""The lighting family: zones of lights and their scenes; the table of its backends."""

from __future__ import annotations

from devices.base import Device
from devices.family import DeviceContext, Family
from devices.lighting.config import GpioLightingConfig
from devices.lighting.gpio import GpioLighting


def _gpio(device_id: str, config: GpioLightingConfig, context: DeviceContext) -> Device:
    return GpioLighting(device_id, config, pin_factory=context.pin_factory)


FAMILY = Family("lighting", {GpioLightingConfig: _gpio})
"""``gpio``: relay and PWM dimmer zones on gpiozero outputs (MockFactory pins in tests)."""

__all__ = ["FAMILY"]
