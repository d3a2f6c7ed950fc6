"""Ties a simulated room together: people counted by the occupancy simulator fill the room."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from devices.base import Device
from devices.environment.sim import SimEnvironmentSensor
from devices.noise.sim import SimNoiseSensor
from devices.occupancy.sim import SimOccupancy

logger = logging.getLogger(__name__)


class SimulatedRoom:
    """When a simulated occupancy sensor sees the class come or go, the simulated air and
    noise follow: the class size (the environment simulator's starting ``occupancy``) is in
    the room while it is occupied, nobody otherwise. Real devices are never touched."""

    def __init__(self, devices: Mapping[str, Device]) -> None:
        self.occupancy = [d for d in devices.values() if isinstance(d, SimOccupancy)]
        self.environment = [d for d in devices.values() if isinstance(d, SimEnvironmentSensor)]
        self.noise = [d for d in devices.values() if isinstance(d, SimNoiseSensor)]
        self.class_size = {d.id: d.config.occupancy for d in self.environment}

    @property
    def active(self) -> bool:
        return bool(self.occupancy and (self.environment or self.noise))

    def follow(self, device_id: str) -> None:
        """Called when ``device_id`` changed: move the people in or out if it is the PIR sim."""
        source = next((d for d in self.occupancy if d.id == device_id), None)
        if source is None:
            return
        self.apply(source.occupied)

    def apply(self, occupied: bool) -> None:
        for env in self.environment:
            env.set_occupancy(self.class_size[env.id] if occupied else 0)
        people = max(self.class_size.values(), default=30) if occupied else 0
        for noise in self.noise:
            noise.set_occupancy(people)


__all__ = ["SimulatedRoom"]
