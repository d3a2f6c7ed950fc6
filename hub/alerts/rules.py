"""What a room's current state says is wrong: a pure function from a snapshot to observations.

The snapshot is what the hub has stored, read after the ingest committed it, so every value is
the newest by the agent's own counters (``hub.ordering``): a redelivered or late message can
never make a condition flap. Each observation says whether its cause holds now (or ``None``:
nothing is known, keep what is), and the *version* of what says so, so that the engine counts
a repeat only for a new message.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from hub.alerts.kinds import AlertKey, AlertKind, Severity
from protocol.bounds import safe_text

TEXT_MAX = 500
"""Longest alert text made from what an agent reported."""
FAULTS_KEPT = 8
"""Sensor faults copied into an alert's data."""
PROJECTOR_FAMILY = "projector"


@dataclass(frozen=True, slots=True)
class Limits:
    """The thresholds and grace periods of the alert kinds (from the hub's settings)."""

    offline_grace_s: float = 120.0
    gap_grace_s: float = 300.0
    drops_quiet_s: float = 3600.0
    co2_high_ppm: float = 1200.0
    co2_hysteresis_ppm: float = 100.0
    lamp_hours: float = 4000.0
    filter_hours: float = 1000.0

    def grace_s(self, kind: AlertKind) -> float:
        """How long a cause must hold before it is raised."""
        if kind is AlertKind.AGENT_OFFLINE:
            return self.offline_grace_s
        if kind is AlertKind.MESSAGES_MISSING:
            return self.gap_grace_s
        return 0.0


@dataclass(frozen=True, slots=True)
class DeviceSnapshot:
    device: str
    family: str
    state: Mapping[str, Any]
    available: bool
    version: str
    """Its order key: a new state message has a new one."""


@dataclass(frozen=True, slots=True)
class Co2Reading:
    device: str
    ppm: float
    version: str


@dataclass(frozen=True, slots=True)
class RoomSnapshot:
    """What the hub has stored of one room, as far as alerts care."""

    site: str
    room: str
    online: bool | None = None
    """None: its agent never said."""
    status_at: datetime | None = None
    """When the hub applied the status it holds (the hub's clock)."""
    status_version: str = ""
    devices: tuple[DeviceSnapshot, ...] = ()
    co2: tuple[Co2Reading, ...] = ()
    missing: int = 0
    """Sequence numbers neither stored nor reported dropped, over the agent's boots."""
    dropped: int = 0
    """What the agent reports it dropped, over its boots."""


@dataclass(frozen=True, slots=True)
class Observation:
    key: AlertKey
    active: bool | None
    """Whether the cause holds now; None: not known (keep what is)."""
    severity: Severity = "warning"
    text: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    source: str = ""
    """The version of what says so."""
    level: float | None = None
    """How bad, when that can grow: a resolved alert comes back when it grows."""
    since: datetime | None = None
    """When the cause began, if the snapshot knows (else: when the engine first saw it)."""


def observe(snapshot: RoomSnapshot, limits: Limits) -> list[Observation]:
    """Every condition of the room that can be judged from the snapshot."""
    s = snapshot
    out: list[Observation] = []
    if s.online is not None:
        since = s.status_at.isoformat() if s.status_at else None
        out.append(
            Observation(
                AlertKey(AlertKind.AGENT_OFFLINE, s.site, s.room),
                not s.online,
                "critical",
                f"the agent of {s.site}/{s.room} is offline",
                {"since": since},
                source=s.status_version,
                since=s.status_at,
            )
        )
    for device in s.devices:
        out += _device(s, device, limits)
    for reading in s.co2:
        out.append(_co2(s, reading, limits))
    gap = AlertKey(AlertKind.MESSAGES_MISSING, s.site, s.room)
    text = f"{s.missing} messages of the agent neither stored nor reported dropped"
    out.append(
        Observation(
            gap,
            s.missing > 0,
            "warning",
            text,
            {"missing": s.missing},
            str(s.missing),
            float(s.missing),
        )
    )
    return out


def _device(s: RoomSnapshot, d: DeviceSnapshot, limits: Limits) -> list[Observation]:
    def key(kind: AlertKind) -> AlertKey:
        return AlertKey(kind, s.site, s.room, d.device)

    reason = d.state.get("reason")
    why = safe_text(reason, TEXT_MAX) if isinstance(reason, str) and reason else "no reason given"
    out = [
        Observation(
            key(AlertKind.DEVICE_UNAVAILABLE),
            not d.available,
            "warning",
            f"{d.device} is unavailable: {why}",
            {"family": d.family},
            d.version,
        )
    ]
    faults = d.state.get("faults")
    if isinstance(faults, list):
        texts = [
            safe_text(f.get("message", f), 200) if isinstance(f, dict) else safe_text(f, 200)
            for f in faults
        ]
        out.append(
            Observation(
                key(AlertKind.SENSOR_FAULT),
                bool(faults),
                "warning",
                safe_text(f"{d.device}: " + "; ".join(texts), TEXT_MAX),
                {"faults": faults[:FAULTS_KEPT]},
                d.version,
            )
        )
    if d.family == PROJECTOR_FAMILY:
        for kind, name, limit in (
            (AlertKind.LAMP_DUE, "lamp_hours", limits.lamp_hours),
            (AlertKind.FILTER_DUE, "filter_hours", limits.filter_hours),
        ):
            hours = _number(d.state.get(name))
            what = name.replace("_", " ")
            out.append(
                Observation(
                    key(kind),
                    None if hours is None else hours >= limit,
                    "warning",
                    f"{d.device}: {what} {hours:g} (limit {limit:g})" if hours is not None else "",
                    {name: hours, "limit": limit},
                    d.version,
                )
            )
        out.append(_errors(key(AlertKind.PROJECTOR_ERROR), d))
    return out


def _errors(key: AlertKey, d: DeviceSnapshot) -> Observation:
    """PJLink ERST: each category ``ok``, ``warning`` or ``error``; unknown while unavailable."""
    errors = d.state.get("errors")
    if not isinstance(errors, Mapping):
        return Observation(key, None)
    bad = {str(k): str(v) for k, v in errors.items() if v not in (None, "ok")}
    worst = 2.0 if "error" in bad.values() else 1.0 if bad else 0.0
    text = f"{d.device} reports " + ", ".join(f"{k} {v}" for k, v in sorted(bad.items()))
    severity: Severity = "critical" if worst >= 2 else "warning"
    return Observation(key, bool(bad), severity, text, {"errors": bad}, d.version, worst)


def _co2(s: RoomSnapshot, r: Co2Reading, limits: Limits) -> Observation:
    high, clear = limits.co2_high_ppm, limits.co2_high_ppm - limits.co2_hysteresis_ppm
    active = True if r.ppm >= high else False if r.ppm < clear else None
    return Observation(
        AlertKey(AlertKind.CO2_HIGH, s.site, s.room, r.device),
        active,
        "warning",
        f"CO2 {r.ppm:g} ppm in {s.site}/{s.room} (limit {high:g} ppm)",
        {"co2_ppm": r.ppm, "limit_ppm": high},
        r.version,
    )


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


__all__ = [
    "Co2Reading",
    "DeviceSnapshot",
    "Limits",
    "Observation",
    "RoomSnapshot",
    "observe",
]
