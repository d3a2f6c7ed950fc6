"""Room rules as data: vacancy, CO2 and projector maintenance.

The agent runs them (``edge.rules``); the hub validates the rules it manages with the same
models before it pushes them.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from protocol.bounds import check_json
from protocol.timetable import DeviceRef

PARAMS_MAX_BYTES = 4096
"""Longest params of a rule's action, as JSON (a command's bound)."""

Severity = Literal["info", "warning", "critical"]
ActionName = Field(pattern=r"^[a-z][a-z0-9_]{0,62}$", description="Device action, e.g. 'on'.")


class ActionSpec(BaseModel):
    """A device action with its params, e.g. ``{action: set, params: {zone: fan, on: true}}``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    action: str = ActionName
    params: Annotated[
        dict[str, Any],
        AfterValidator(lambda v: check_json(v, max_depth=8, max_bytes=PARAMS_MAX_BYTES)),
    ] = Field(default_factory=dict, description="The action's params.")


class FanSpec(BaseModel):
    """The ventilation output the CO2 rule switches."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    device: DeviceRef = Field(description="Device id of the fan or ventilation relay.")
    on: ActionSpec = Field(default=ActionSpec(action="on"), description="Action that starts it.")
    off: ActionSpec = Field(default=ActionSpec(action="off"), description="Action that stops it.")


class VacancyRule(BaseModel):
    """No one seen for ``vacancy_min`` while something is on: warn, then switch off."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = Field(default=True, description="Run this rule.")
    vacancy_min: float = Field(
        default=15, gt=0, le=1440, description="Minutes without anyone before the warning."
    )
    grace_min: float = Field(
        default=5, ge=0, le=240, description="Minutes from the warning to switching off."
    )
    sensors: list[DeviceRef] | None = Field(
        default=None, description="Occupancy device ids; omitted: every occupancy device."
    )
    lights: list[DeviceRef] | None = Field(default=None, description="Lights; omitted: every one.")
    projectors: list[DeviceRef] | None = Field(
        default=None, description="Projectors; omitted: every one."
    )


class Co2Rule(BaseModel):
    """CO2 at or above ``co2_ppm``: alert (and ventilate); clear below it minus the hysteresis."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = Field(default=True, description="Run this rule.")
    co2_ppm: float = Field(default=1200, gt=0, description="Alert at or above this CO2, ppm.")
    hysteresis_ppm: float = Field(
        default=100, ge=0, description="Clear only below co2_ppm minus this, so it cannot flap."
    )
    sensors: list[DeviceRef] | None = Field(
        default=None, description="Device ids read; omitted: every device reporting co2_ppm."
    )
    fan: FanSpec | None = Field(default=None, description="Ventilation to switch; omitted: none.")


class MaintenanceRule(BaseModel):
    """Projector lamp or filter hours at or over their limits, or errors: one alert each."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = Field(default=True, description="Run this rule.")
    lamp_hours: int = Field(default=4000, gt=0, description="Lamp hours that call for service.")
    filter_hours: int = Field(default=1000, gt=0, description="Filter hours that call for service.")
    errors: bool = Field(default=True, description="Alert on errors the projector reports.")
    projectors: list[DeviceRef] | None = Field(
        default=None, description="Projectors watched; omitted: every one."
    )


class RulesConfig(BaseModel):
    """The room's rules; each can be tuned or disabled."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    vacancy: VacancyRule = Field(default_factory=VacancyRule, description="Empty-room switch-off.")
    co2: Co2Rule = Field(default_factory=Co2Rule, description="CO2 alert and ventilation.")
    maintenance: MaintenanceRule = Field(
        default_factory=MaintenanceRule, description="Projector service alerts."
    )

    def device_refs(self) -> list[tuple[str, str, str | None]]:
        """(key path, device id, family it must have or None) for every device named."""
        v, c, m = self.vacancy, self.co2, self.maintenance
        refs: list[tuple[str, str, str | None]] = []
        for key, ids, family in (
            ("vacancy.sensors", v.sensors, "occupancy"),
            ("vacancy.lights", v.lights, "lighting"),
            ("vacancy.projectors", v.projectors, "projector"),
            ("co2.sensors", c.sensors, None),
            ("maintenance.projectors", m.projectors, "projector"),
        ):
            refs.extend((key, device, family) for device in ids or ())
        if c.fan is not None:
            refs.append(("co2.fan.device", c.fan.device, None))
        return refs


__all__ = [
    "ActionSpec",
    "Co2Rule",
    "FanSpec",
    "MaintenanceRule",
    "RulesConfig",
    "Severity",
    "VacancyRule",
]
