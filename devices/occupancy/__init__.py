"""The occupancy family: whether someone is in the room; the table of its backends."""

from __future__ import annotations

from devices.base import Device
from devices.family import DeviceContext, Family
from devices.occupancy.base import OnChange
from devices.occupancy.config import PirOccupancyConfig, SimOccupancyConfig
from devices.occupancy.pir import PirOccupancy
from devices.occupancy.sim import SimOccupancy


def _on_change(device_id: str, context: DeviceContext) -> OnChange:
    def on_change(_occupied: bool) -> None:
        context.changed(device_id)

    return on_change


def _gpio(device_id: str, config: PirOccupancyConfig, context: DeviceContext) -> Device:
    return PirOccupancy(
        device_id,
        config,
        pin_factory=context.pin_factory,
        on_change=_on_change(device_id, context),
    )


def _sim(device_id: str, config: SimOccupancyConfig, context: DeviceContext) -> Device:
    return SimOccupancy(
        device_id, config, now=context.now, on_change=_on_change(device_id, context)
    )


FAMILY = Family("occupancy", {PirOccupancyConfig: _gpio, SimOccupancyConfig: _sim})
"""``gpio``: a PIR motion sensor; ``sim``: a set value or a schedule. A change is a state change."""

__all__ = ["FAMILY"]
