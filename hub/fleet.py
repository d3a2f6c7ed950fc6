"""The fleet: every room's agent at a glance, the ones that need attention first.

One view per room from what the hub already keeps (status, the agent's health report,
boots and their gaps, device states, the configuration pushed and applied), read with a
handful of set queries whatever the number of rooms. Each room gets the list of its
``problems`` (codes, worst first) and an ``attention`` score, the sum of their weights:
sorting by it puts an offline room or a refused configuration above a lamp nearly due.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, select

from hub.access import Scope
from hub.db import AgentHealth, Boot, DeviceStateRow, Room
from protocol import utcnow

BACKLOG_ATTENTION = 1000
"""Messages waiting in an agent's outbox beyond which the room needs a look."""
OLDEST_ATTENTION_S = 900.0
"""Age of the oldest message waiting in the outbox beyond which the room needs a look."""
CLOCK_ATTENTION_S = 30.0
"""An agent's clock further than this from the hub's."""
LAMP_WARN_HOURS = 3000
"""Lamp hours from which a projector is listed (lamp limits are per model; the alerts and
the forecast use each projector's own limit)."""

WEIGHTS: dict[str, int] = {
    "offline": 200,
    "config_refused": 60,
    "storage_fault": 50,
    "device_unavailable": 40,
    "device_fault": 40,
    "dropped": 30,
    "gaps": 25,
    "clock_offset": 20,
    "backlog": 15,
    "parked": 15,
    "config_pending": 10,
    "lamp_hours": 5,
}
"""How much each problem counts towards ``attention``; also the order problems are listed."""


@dataclass(frozen=True, slots=True)
class FleetDevice:
    device: str
    family: str
    available: bool
    lamp_hours: float | None = None
    filter_hours: float | None = None
    faults: tuple[str, ...] = ()
    """Error categories the device reports (a projector's ``lamp: error``, say)."""


@dataclass(frozen=True, slots=True)
class FleetRoom:
    site: str
    room: str
    name: str
    online: bool
    last_seen: datetime | None
    agent_version: str | None
    boot: str | None
    started_at: datetime | None
    uptime_s: float | None
    """Since the agent started, while it is online."""
    config_pushed: int
    config_applied: int | None
    config_ok: bool | None
    config_text: str | None
    backlog: int | None
    parked: int | None
    oldest_s: float | None
    storage_ok: bool | None
    dropped: int
    """Messages the agent dropped, over its boots known to the hub."""
    missing: int
    """Messages the hub never received (gaps in the sequence numbers)."""
    clock_offset_s: float | None
    devices: tuple[FleetDevice, ...] = ()
    problems: tuple[str, ...] = ()
    """Codes of ``WEIGHTS``, worst first."""
    attention: int = 0
    """The sum of the problems' weights: the fleet is sorted by it, highest first."""


def _when(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _device(row: Any) -> FleetDevice:
    state = row.state if isinstance(row.state, dict) else {}
    errors = state.get("errors")
    faults = (
        tuple(sorted(k for k, v in errors.items() if v in ("warning", "error")))
        if isinstance(errors, dict)
        else ()
    )
    return FleetDevice(
        device=row.device,
        family=row.family,
        available=bool(row.available),
        lamp_hours=_number(state.get("lamp_hours")),
        filter_hours=_number(state.get("filter_hours")),
        faults=faults,
    )


def _problems(r: FleetRoom) -> tuple[str, ...]:
    found = set()
    if not r.online:
        found.add("offline")
    if r.config_ok is False:
        found.add("config_refused")
    elif r.config_pushed and (r.config_applied or 0) < r.config_pushed:
        found.add("config_pending")
    if r.storage_ok is False:
        found.add("storage_fault")
    if any(not d.available for d in r.devices):
        found.add("device_unavailable")
    if any(d.faults for d in r.devices):
        found.add("device_fault")
    if any((d.lamp_hours or 0) >= LAMP_WARN_HOURS for d in r.devices):
        found.add("lamp_hours")
    if r.dropped:
        found.add("dropped")
    if r.missing:
        found.add("gaps")
    if r.clock_offset_s is not None and abs(r.clock_offset_s) > CLOCK_ATTENTION_S:
        found.add("clock_offset")
    if (r.backlog or 0) > BACKLOG_ATTENTION or (r.oldest_s or 0) > OLDEST_ATTENTION_S:
        found.add("backlog")
    if r.parked:
        found.add("parked")
    return tuple(p for p in WEIGHTS if p in found)


def fleet(engine: Engine, scope: Scope, *, now: datetime | None = None) -> list[FleetRoom]:
    """Every room within ``scope``, worst first (then by school and room)."""
    now = now or utcnow()
    agent = Room.site_id + "/" + Room.room_id
    with engine.connect() as conn:
        rooms = conn.execute(select(Room).where(scope.where(Room.site_id, Room.room_id))).all()
        health = {
            (h.site, h.room): h
            for h in conn.execute(
                select(AgentHealth).where(scope.where(AgentHealth.site, AgentHealth.room))
            )
        }
        losses = {
            r.agent: (int(r.dropped), int(r.missing))
            for r in conn.execute(
                select(
                    Boot.agent,
                    func.coalesce(func.sum(Boot.dropped_count), 0).label("dropped"),
                    func.coalesce(func.sum(Boot.missing_count), 0).label("missing"),
                )
                .where(Boot.agent.in_(select(agent).where(scope.where(Room.site_id, Room.room_id))))
                .group_by(Boot.agent)
            )
        }
        devices: dict[tuple[str, str], list[FleetDevice]] = defaultdict(list)
        for row in conn.execute(
            select(DeviceStateRow)
            .where(scope.where(DeviceStateRow.site, DeviceStateRow.room))
            .order_by(DeviceStateRow.device)
        ):
            devices[(row.site, row.room)].append(_device(row))
    out = []
    for r in rooms:
        key = (r.site_id, r.room_id)
        h = health.get(key)
        report = h.report if h is not None and isinstance(h.report, dict) else {}
        found = report.get("outbox")
        outbox: dict[str, Any] = found if isinstance(found, dict) else {}
        started = _when(report.get("started_at"))
        dropped, missing = losses.get(f"{r.site_id}/{r.room_id}", (0, 0))
        view = FleetRoom(
            site=r.site_id,
            room=r.room_id,
            name=r.name,
            online=bool(r.online),
            last_seen=r.last_seen_at,
            agent_version=r.agent_version,
            boot=r.boot,
            started_at=started,
            uptime_s=(now - started).total_seconds() if started and r.online else None,
            config_pushed=r.config_version_pushed or 0,
            config_applied=r.config_version_applied,
            config_ok=r.config_applied_ok,
            config_text=r.config_applied_text,
            backlog=_int(outbox.get("backlog")),
            parked=_int(outbox.get("parked")),
            oldest_s=_number(outbox.get("oldest_s")),
            storage_ok=_bool(outbox.get("storage_ok")),
            dropped=dropped,
            missing=missing,
            clock_offset_s=h.clock_offset_s if h is not None else None,
            devices=tuple(devices.get(key, ())),
        )
        out.append(_with_problems(view))
    out.sort(key=lambda v: (-v.attention, v.site, v.room))
    return out


def _with_problems(view: FleetRoom) -> FleetRoom:
    problems = _problems(view)
    return replace(view, problems=problems, attention=sum(WEIGHTS[p] for p in problems))


def _bool(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _int(value: Any) -> int | None:
    number = _number(value)
    return None if number is None else int(number)


__all__ = ["WEIGHTS", "FleetDevice", "FleetRoom", "fleet"]
