"""What the usage rollups and forecasts assume of each device: its power and its limits.

From the sites file where it says (``devices`` of a room), else the hub's per-family
defaults (settings: the watts of each family; the lamp and filter hours at which the alerts
call for service).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the registry needs the store, which needs the rollups, which need this
    from hub.registry import DeviceEntry, SitesFile
    from hub.settings import HubSettings

DeviceKey = tuple[str, str, str]
"""(site, room, device)."""


@dataclass(frozen=True)
class Ratings:
    """Power and limits per device, with defaults per family."""

    projector_watts: float = 250.0
    lighting_watts: float = 200.0
    lamp_limit_h: float = 4000.0
    filter_limit_h: float = 1000.0
    devices: Mapping[DeviceKey, DeviceEntry] = field(default_factory=dict)

    @classmethod
    def of(cls, settings: HubSettings, sites: SitesFile | None) -> Ratings:
        """The settings' defaults and the devices the sites file describes."""
        devices = {
            (site.id, room.id, device): entry
            for site in (sites.sites if sites is not None else ())
            for room in site.room_entries()
            for device, entry in room.devices.items()
        }
        return cls(
            projector_watts=settings.projector_watts,
            lighting_watts=settings.lighting_watts,
            lamp_limit_h=settings.alert_lamp_hours,  # the alerts' thresholds: one "due"
            filter_limit_h=settings.alert_filter_hours,
            devices=devices,
        )

    def _entry(self, site: str, room: str, device: str) -> DeviceEntry | None:
        return self.devices.get((site, room, device))

    def projector(self, site: str, room: str, device: str) -> float:
        """Watts of a projector while on."""
        entry = self._entry(site, room, device)
        return (
            entry.watts if entry is not None and entry.watts is not None else self.projector_watts
        )

    def zone(self, site: str, room: str, device: str, zone: str, zones: int) -> float:
        """Watts of one lighting zone while lit: its own, or the device's shared by ``zones``."""
        entry = self._entry(site, room, device)
        if entry is not None and zone in entry.zone_watts:
            return entry.zone_watts[zone]
        watts = entry.watts if entry is not None else None
        return (self.lighting_watts if watts is None else watts) / max(zones, 1)

    def lamp_limit(self, site: str, room: str, device: str) -> float:
        entry = self._entry(site, room, device)
        limit = entry.lamp_limit_h if entry is not None else None
        return self.lamp_limit_h if limit is None else limit

    def filter_limit(self, site: str, room: str, device: str) -> float:
        entry = self._entry(site, room, device)
        limit = entry.filter_limit_h if entry is not None else None
        return self.filter_limit_h if limit is None else limit


__all__ = ["DeviceKey", "Ratings"]
