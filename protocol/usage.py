"""The readings and context by which telemetry tells how a room is used (contract v3).

The hub keeps its usage rollups from these alone: a projector's ``power_on`` and lamp and
filter hours, a lighting zone's level, an occupancy sensor's ``occupied``, CO2, temperature
and noise; and, on every telemetry message, the interval it covers and whether the room was
occupied and in a lesson at its ``ts`` (``protocol.Telemetry``). Metric names are the
contract's; both sides import them from here.
"""

from __future__ import annotations

from typing import Literal

POWER_ON = "power_on"
"""Projector: 1 while its lamp is lit (on, or warming up), 0 otherwise."""
LAMP_HOURS = "lamp_hours"
"""Projector: the lamp's hours as the projector counts them."""
FILTER_HOURS = "filter_hours"
"""Projector: the filter's hours as the projector counts them."""
OCCUPIED = "occupied"
"""Occupancy sensor: 1 while it sees the room occupied, 0 otherwise."""
CO2 = "co2_ppm"
TEMPERATURE = "temperature_c"
NOISE = "noise_dba"

Schedule = Literal["lesson", "break", "closed"]
"""What the room's timetable says at an instant: ``lesson`` inside a period (tiết);
``break`` inside a session otherwise (between periods, and its preparation before the first
period and closing after the last); ``closed`` outside every session, on days off too."""

_ZONE_PREFIX = "level_"
_ZONE_SUFFIX = "_pct"
ZONE_ID_MAX = 63 - len(_ZONE_PREFIX) - len(_ZONE_SUFFIX)
"""Longest lighting zone id whose level fits a metric name."""


def zone_metric(zone: str) -> str:
    """The metric of a lighting zone's level, 0..100 (``front`` → ``level_front_pct``).

    Metric names allow no ``-``: it becomes ``_``, so zone ids of one device must differ
    otherwise than by that (the lighting config checks it).
    """
    return f"{_ZONE_PREFIX}{zone.replace('-', '_')}{_ZONE_SUFFIX}"


def zone_of(metric: str) -> str | None:
    """The zone a level metric names (as in ``zone_metric``, ``-`` read as ``_``), or None."""
    if metric.startswith(_ZONE_PREFIX) and metric.endswith(_ZONE_SUFFIX):
        zone = metric[len(_ZONE_PREFIX) : -len(_ZONE_SUFFIX)]
        return zone or None
    return None


__all__ = [
    "CO2",
    "FILTER_HOURS",
    "LAMP_HOURS",
    "NOISE",
    "OCCUPIED",
    "POWER_ON",
    "TEMPERATURE",
    "ZONE_ID_MAX",
    "Schedule",
    "zone_metric",
    "zone_of",
]
