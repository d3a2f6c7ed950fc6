"""Room rules (vacancy, CO2, projector maintenance): a pure engine over readings and states."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from protocol.rules import (
    ActionSpec,
    Co2Rule,
    FanSpec,
    MaintenanceRule,
    RulesConfig,
    Severity,
    VacancyRule,
)


@dataclass(frozen=True)
class RuleAction:
    """A device action a rule asks for."""

    rule: str
    device: str
    action: str
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RuleEvent:
    """An event a rule raises (``kind`` as in protocol.Event)."""

    rule: str
    kind: str
    severity: Severity
    text: str
    device: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class Outcome:
    """What one evaluation asks for: actions to run and events to record, in order."""

    actions: list[RuleAction] = field(default_factory=list)
    events: list[RuleEvent] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.actions or self.events)


def _pick(ids: list[str] | None, families: Mapping[str, str], family: str) -> set[str]:
    return set(ids) if ids is not None else {d for d, f in families.items() if f == family}


def _is_on(family: str, state: Mapping[str, Any]) -> bool:
    if family == "projector":
        return state.get("power") in ("on", "warming")
    return any(isinstance(z, Mapping) and z.get("on") for z in state.values())


class RuleEngine:
    """Evaluates the rules on what it is fed; keeps only the small state the rules need.

    ``observe`` takes a device's readings or state at an instant, ``tick`` lets
    timers expire; both return the Outcome. ``next_deadline`` says when ``tick``
    has something to do.
    """

    def __init__(self, config: RulesConfig, families: Mapping[str, str]) -> None:
        self.config = config
        v, m = config.vacancy, config.maintenance
        self._occupancy = _pick(v.sensors, families, "occupancy") if v.enabled else set()
        self._switched: dict[str, str] = {}
        """Device id to family, of what the vacancy rule switches off."""
        if v.enabled:
            for family, ids in (("lighting", v.lights), ("projector", v.projectors)):
                self._switched |= dict.fromkeys(_pick(ids, families, family), family)
        self._serviced = _pick(m.projectors, families, "projector") if m.enabled else set()
        self._occupied: dict[str, bool] = {}
        self._on: dict[str, bool] = {}
        self._vacant_since: datetime | None = None
        self._on_since: datetime | None = None
        self._warned_at: datetime | None = None
        self._done = False
        self._co2_high: dict[str, bool] = {}
        self._faults: dict[str, dict[str, set[str]]] = {}

    # --- input -----------------------------------------------------------------

    def observe(
        self,
        now: datetime,
        device: str,
        *,
        readings: Mapping[str, float] | None = None,
        state: Mapping[str, Any] | None = None,
    ) -> Outcome:
        """Feed one device's readings and/or state taken at ``now``."""
        out = Outcome()
        if device in self._occupancy:
            value = (state or {}).get("occupied", (readings or {}).get("occupied"))
            if value is not None:
                self._set_occupied(now, device, bool(value), out)
        if state is not None and device in self._switched:
            self._set_on(now, device, _is_on(self._switched[device], state))
        if readings is not None and "co2_ppm" in readings and self.config.co2.enabled:
            sensors = self.config.co2.sensors
            if sensors is None or device in sensors:
                self._co2(device, readings["co2_ppm"], out)
        if state is not None and device in self._serviced:
            self._maintenance(device, state, out)
        self._vacancy(now, out)
        return out

    def tick(self, now: datetime) -> Outcome:
        """Let timers that are due at ``now`` fire."""
        out = Outcome()
        self._vacancy(now, out)
        return out

    def next_deadline(self) -> datetime | None:
        """When ``tick`` will next have something to do (None: only new input can change it)."""
        armed = self._armed_from()
        if armed is None:
            return None
        grace, vacancy = self.config.vacancy.grace_min, self.config.vacancy.vacancy_min
        if self._warned_at is not None:
            return self._warned_at + timedelta(minutes=grace)
        return armed + timedelta(minutes=vacancy)

    # --- (a) vacancy -----------------------------------------------------------

    def _set_occupied(self, now: datetime, device: str, occupied: bool, out: Outcome) -> None:
        was = any(self._occupied.values()) if self._occupied else None
        self._occupied[device] = occupied
        if any(self._occupied.values()):
            if self._warned_at is not None:
                self._cancel("someone is in the room again", out)
            self._vacant_since, self._done = None, False
        elif was is not False:  # occupied (or unknown) until now: the vacancy starts
            self._vacant_since = now

    def _set_on(self, now: datetime, device: str, on: bool) -> None:
        was = any(self._on.values())
        self._on[device] = on
        if not was and any(self._on.values()):
            self._on_since, self._done = now, False

    def _armed_from(self) -> datetime | None:
        if self._vacant_since is None or self._done or not any(self._on.values()):
            return None
        return max(self._vacant_since, self._on_since or self._vacant_since)

    def _cancel(self, reason: str, out: Outcome) -> None:
        self._warned_at = None
        out.events.append(
            RuleEvent("vacancy", "vacancy_cancelled", "info", f"switch-off cancelled: {reason}")
        )

    def _vacancy(self, now: datetime, out: Outcome) -> None:
        armed = self._armed_from()
        if armed is None:
            if self._warned_at is not None and not any(self._on.values()):
                self._cancel("everything is off already", out)
            return
        rule = self.config.vacancy
        if self._warned_at is None:
            if now >= armed + timedelta(minutes=rule.vacancy_min):
                self._warned_at = now
                off_at = now + timedelta(minutes=rule.grace_min)
                text = f"no one seen for {rule.vacancy_min:g} min; off at {off_at:%H:%M} UTC"
                data = {"vacant_since": armed.isoformat(), "off_at": off_at.isoformat()}
                warning = RuleEvent("vacancy", "vacancy_warning", "warning", text, data=data)
                out.events.append(warning)
            else:
                return
        if now < self._warned_at + timedelta(minutes=rule.grace_min):
            return
        devices = sorted(d for d, on in self._on.items() if on)
        out.actions.extend(RuleAction("vacancy", device, "off") for device in devices)
        text = f"room empty since {armed:%H:%M} UTC: switched off {', '.join(devices)}"
        off = {"vacant_since": armed.isoformat(), "devices": devices}
        out.events.append(RuleEvent("vacancy", "vacancy_off", "info", text, data=off))
        self._warned_at, self._done = None, True

    # --- (b) CO2 ---------------------------------------------------------------

    def _co2(self, device: str, ppm: float, out: Outcome) -> None:
        rule = self.config.co2
        high = self._co2_high.get(device, False)
        data: dict[str, Any] = {"co2_ppm": ppm, "limit_ppm": rule.co2_ppm}
        if not high and ppm >= rule.co2_ppm:
            text = f"CO2 {ppm:g} ppm (limit {rule.co2_ppm:g} ppm)"
            event = RuleEvent("co2", "co2_high", "warning", text, device=device, data=data)
        elif high and ppm < rule.co2_ppm - rule.hysteresis_ppm:
            text = f"CO2 back to {ppm:g} ppm"
            event = RuleEvent("co2", "co2_ok", "info", text, device=device, data=data)
        else:
            return
        before = any(self._co2_high.values())
        self._co2_high[device] = not high
        out.events.append(event)
        after = any(self._co2_high.values())
        if rule.fan is not None and before != after:
            spec = rule.fan.on if after else rule.fan.off
            out.actions.append(RuleAction("co2", rule.fan.device, spec.action, spec.params))

    # --- (c) projector maintenance ---------------------------------------------

    def _maintenance(self, device: str, state: Mapping[str, Any], out: Outcome) -> None:
        if state.get("available") is False:
            return  # nothing is known; keep what was
        rule = self.config.maintenance
        faults = self._faults.setdefault(device, {})
        for source, limit in (("lamp_hours", rule.lamp_hours), ("filter_hours", rule.filter_hours)):
            hours = state.get(source)
            if isinstance(hours, int | float) and not isinstance(hours, bool):
                due = {source} if hours >= limit else set()
                self._raise(device, faults, source, due, {"hours": hours, "limit": limit}, out)
        errors = state.get("errors")
        if rule.errors and errors is not None:
            self._raise(device, faults, "errors", set(_error_conditions(errors)), {}, out)

    def _raise(
        self,
        device: str,
        faults: dict[str, set[str]],
        source: str,
        current: set[str],
        data: dict[str, Any],
        out: Outcome,
    ) -> None:
        for condition in sorted(current - faults.get(source, set())):
            severity: Severity = "critical" if condition.endswith(":error") else "warning"
            text = f"projector {device}: {condition.replace('_', ' ')}" + (
                f" {data['hours']} h (limit {data['limit']} h)" if data else ""
            )
            payload = {"condition": condition, **data}
            out.events.append(
                RuleEvent("maintenance", "maintenance", severity, text, device=device, data=payload)
            )
        faults[source] = current


def _error_conditions(errors: object) -> Iterable[str]:
    """``{category: ok|warning|error}`` (PJLink ERST), or a list or string of error names."""
    if isinstance(errors, Mapping):
        return (f"{k}:{v}" for k, v in errors.items() if v not in (None, "ok", "", False))
    if isinstance(errors, str):
        return [errors] if errors else []
    if isinstance(errors, Iterable):
        return (str(e) for e in errors)
    return []


__all__ = [
    "ActionSpec",
    "Co2Rule",
    "FanSpec",
    "MaintenanceRule",
    "Outcome",
    "RuleAction",
    "RuleEngine",
    "RuleEvent",
    "RulesConfig",
    "VacancyRule",
]
