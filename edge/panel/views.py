"""What the panel shows, made from the devices' confirmed states: plain JSON-ready dicts.

Pure functions: the page renders these views (first from the snapshot, then from the live
stream), so a control shows what the device reported, never what was tapped. Texts are not
made here: the page translates the keys (``co2_level``, ``power``, ``busy.what``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from protocol.timetable import WEEKDAYS, TimetableConfig

Co2Level = Literal["good", "stuffy", "open_windows"]
BusyWhat = Literal["warming", "cooling", "input"]
NEXT_PERIOD_DAYS = 14
"""How far ahead the next period is looked for (a holiday of a week or two)."""


@dataclass(frozen=True, slots=True)
class Busy:
    """A projector that takes no tap now: what it does and for how long still (estimated)."""

    what: BusyWhat
    remaining_s: float
    total_s: float

    def view(self) -> dict[str, Any]:
        return {
            "what": self.what,
            "remaining_s": round(self.remaining_s, 1),
            "total_s": round(self.total_s, 1),
        }


def layout_token(*parts: object) -> str:
    """A short fingerprint of what a device's controls look like (zones, scenes, inputs): a
    page built for another layout (a configuration pushed since) reloads."""
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def available(state: Mapping[str, Any]) -> bool:
    return state.get("available", True) is not False


def lighting_view(
    device_id: str,
    state: Mapping[str, Any],
    *,
    scenes: Mapping[str, Mapping[str, int]],
    dimmable: Mapping[str, bool],
) -> dict[str, Any]:
    """Each zone's confirmed level and which scenes the lights are in now."""
    layout = layout_token(sorted(dimmable.items()), sorted(scenes))
    if not available(state):
        return {"id": device_id, "family": "lighting", "available": False, "layout": layout,
                "zones": {}, "scenes": []}  # fmt: skip
    zones = {
        zone: {"on": bool(value.get("on")), "level": int(value.get("level", 0))}
        for zone, value in state.items()
        if isinstance(value, Mapping)
    }
    levels = {zone: z["level"] for zone, z in zones.items()}
    active = [
        name
        for name, scene in scenes.items()
        if scene and all(levels.get(zone) == level for zone, level in scene.items())
    ]
    return {"id": device_id, "family": "lighting", "available": True, "layout": layout,
            "zones": zones, "scenes": active}  # fmt: skip


def projector_view(
    device_id: str,
    state: Mapping[str, Any],
    *,
    inputs: Iterable[str],
    busy: Busy | None,
) -> dict[str, Any]:
    """Power, input and picture mute as the projector reported them, and what it is busy with."""
    layout = layout_token(list(inputs))
    if not available(state):
        return {"id": device_id, "family": "projector", "available": False, "layout": layout,
                "power": "unavailable", "input": None, "muted": None, "busy": None}  # fmt: skip
    return {
        "id": device_id,
        "family": "projector",
        "available": True,
        "layout": layout,
        "power": state.get("power"),
        "input": state.get("input"),
        "muted": state.get("av_mute"),
        "busy": busy.view() if busy is not None else None,
    }


def co2_level(
    ppm: float, *, stuffy_ppm: float, limit_ppm: float, hysteresis_ppm: float,
    before: Co2Level | None = None,
) -> Co2Level:  # fmt: skip
    """Good below ``stuffy_ppm``; open the windows from the CO2 rule's ``limit_ppm`` until the
    air is back under the limit minus its hysteresis (as the rule clears its alert); stuffy in
    between. A stuffy threshold at or above the limit leaves no stuffy band."""
    if ppm >= limit_ppm or (before == "open_windows" and ppm >= limit_ppm - hysteresis_ppm):
        return "open_windows"
    return "stuffy" if ppm >= min(stuffy_ppm, limit_ppm) else "good"


CLIMATE_METRICS = {
    "temperature_c": "temperature_c",
    "humidity_pct": "humidity_pct",
    "co2_ppm": "co2_ppm",
    "noise_dba": "noise_dba",
}
"""The readings the climate card shows: the view's key to the telemetry metric."""


def climate_view(
    readings: Mapping[str, float], level: Co2Level | None, thresholds: Mapping[str, float]
) -> dict[str, Any]:
    """The latest temperature, humidity, CO2 (with its level) and noise, as sampled."""
    view: dict[str, Any] = {key: readings.get(metric) for key, metric in CLIMATE_METRICS.items()}
    view["co2_level"] = level
    view["thresholds"] = dict(thresholds)
    return view


def _period(day: date, number: int, start: time, end: time, tz: ZoneInfo,
            subject: str) -> dict[str, Any]:  # fmt: skip
    def at(t: time) -> str:
        return datetime.combine(day, t, tzinfo=tz).astimezone(UTC).isoformat()

    return {"period": number, "start": at(start), "end": at(end), "subject": subject,
            "day": day.isoformat()}  # fmt: skip


def timetable_view(
    config: TimetableConfig | None, now: datetime, tz: ZoneInfo, room_name: str
) -> dict[str, Any]:
    """The class (the room's name), the period now and the next one (perhaps on a later
    day), and the holiday today, from the room's timetable on the agent's clock."""
    view: dict[str, Any] = {"class": room_name, "timetable": config is not None,
                            "current": None, "next": None, "holiday": None}  # fmt: skip
    if config is None:
        return view
    local = now.astimezone(tz)
    today = local.date()
    holiday = next((h for h in config.holidays if h.covers(today)), None)
    view["holiday"] = {"name": holiday.name} if holiday is not None else None
    for offset in range(NEXT_PERIOD_DAYS + 1):
        day = today + timedelta(days=offset)
        if not config.is_school_day(day):
            continue
        plan = config.lesson_plan.get(WEEKDAYS[day.weekday()], {})
        for _, periods in config.sessions():
            for p in periods:
                start = datetime.combine(day, p.start, tzinfo=tz)
                end = datetime.combine(day, p.end, tzinfo=tz)
                subject = plan[p.period].subject if p.period in plan else ""
                period = _period(day, p.period, p.start, p.end, tz, subject)
                if start <= local < end:
                    view["current"] = period
                elif start > local and view["next"] is None:
                    view["next"] = period
                    return view
    return view


def help_view(state: Mapping[str, Any]) -> dict[str, Any]:
    """The help request as the room shows it (the panel device's state, without pairing)."""
    keys = ("request", "reason", "asked_at", "by", "comment", "outcome")
    return {key: state.get(key) for key in keys}


def lesson_view(
    lights: Iterable[Mapping[str, Any]],
    projectors: Iterable[Mapping[str, Any]],
    *,
    lesson_scene: str,
    routine: Literal["starting", "ending"] | None,
) -> dict[str, Any]:
    """``starting`` or ``ending`` while the panel switches the room; ``running`` when every
    light that answers is in the lesson scene and every projector that answers is on or
    warming up; else ``idle``."""
    lights, projectors = list(lights), list(projectors)
    lit = [v for v in lights if v["available"]]
    shown = [v for v in projectors if v["available"]]
    running = (
        bool(lit or shown)
        and all(lesson_scene in v["scenes"] for v in lit)
        and all(v["power"] in ("on", "warming") for v in shown)
    )
    state = routine or ("running" if running else "idle")
    return {"state": state, "scene": lesson_scene}


def attendance_view(state: Mapping[str, Any] | None) -> dict[str, Any]:
    """The current period's attendance (the last one taken between windows): who is present,
    late and missing, by the school's ids only."""
    if state is None:
        return {"enabled": False}
    period = state.get("period") or state.get("last")
    if not isinstance(period, Mapping):
        return {"enabled": True, "available": state.get("available", True), "period": None}
    marks = period.get("marks", {})
    by = {s: [k for k, v in sorted(marks.items()) if v == s] for s in ("present", "late", "absent")}
    return {
        "enabled": True,
        "available": state.get("available", True),
        "open": bool(state.get("period")),
        "period": period.get("period"),
        "date": period.get("date"),
        "method": state.get("method"),
        "present": by["present"],
        "late": by["late"],
        "missing": sorted([*period.get("missing", []), *by["absent"]]),
        "headcount": period.get("headcount", 0),
    }


__all__ = [
    "attendance_view",
    "CLIMATE_METRICS",
    "Busy",
    "BusyWhat",
    "Co2Level",
    "available",
    "climate_view",
    "co2_level",
    "help_view",
    "layout_token",
    "lesson_view",
    "lighting_view",
    "projector_view",
    "timetable_view",
]
