"""What each dashboard page shows, read from the hub's own services within the caller's reach.

Page routes are plain functions run in FastAPI's worker threads, so these read the database
directly (the same stores the API reads); nothing here changes anything: changes go through
the JSON API from the page.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Final

from sqlalchemy import select

from hub.access import Action, Caller, Scope
from hub.alerts.kinds import SEVERITIES, AlertState
from hub.alerts.store import PAGE_MAX, AlertQuery, AlertRecord
from hub.alerts.tables import AlertRow
from hub.api.deps import HubState
from hub.api.routes.users import manageable
from hub.config_versions import PushState, Version
from hub.db import Site
from hub.fleet import FleetDevice, FleetRoom, fleet
from hub.queries import DeviceView, RoomView
from hub.users import UserView
from ui.i18n import N_

__all__ = [
    "ACTIVE",
    "Attention",
    "ConfigView",
    "RoomCard",
    "RoomDetail",
    "School",
    "active_alerts",
    "config_view",
    "fleet_rows",
    "overview",
    "room_detail",
    "site_names",
    "users_of_caller",
]

ACTIVE: Final = frozenset({AlertState.OPEN.value, AlertState.ACKNOWLEDGED.value})
SEVERITY_WEIGHT: Final = {"critical": 300, "warning": 100, "info": 10}
"""How much an open alert counts towards sorting the rooms, worst first."""
OFFLINE_WEIGHT: Final = 1000
ATTENTION_WEIGHT: Final = 40
"""Per device that needs attention."""
BUILT_IN_SCENES: Final = ("lesson", "projection", "off")
"""Every lighting device has these (``protocol.room_config``); rooms may add their own."""
PROJECTOR_INPUTS: Final = ("hdmi1", "hdmi2", "vga1", "video1", "usb1", "network1")
"""The usual PJLink input names a room's projector knows by default."""
CHART_METRICS: Final = ("co2_ppm", "temperature_c", "humidity_pct", "noise_dba")


@dataclass(frozen=True, slots=True)
class Attention:
    """A device that needs someone: ``what`` is a message id, ``detail`` a value."""

    device: str
    family: str
    what: str
    detail: str = ""


@dataclass(frozen=True, slots=True)
class RoomCard:
    site: str
    room: str
    name: str
    online: bool
    alerts: int
    worst: str | None
    """The gravest severity among its open alerts."""
    help: bool
    """A help request is open."""
    attention: tuple[Attention, ...]
    readings: dict[str, float]
    score: int


@dataclass
class School:
    site: str
    name: str
    rooms: list[RoomCard] = field(default_factory=list)

    @property
    def online(self) -> int:
        return sum(1 for r in self.rooms if r.online)

    @property
    def alerts(self) -> int:
        return sum(r.alerts for r in self.rooms)


def site_names(hub: HubState) -> dict[str, str]:
    with hub.store.engine.connect() as conn:
        return {row.id: row.name for row in conn.execute(select(Site.id, Site.name))}


def active_alerts(hub: HubState, scope: Scope, site: str | None = None, room: str | None = None
                  ) -> list[AlertRecord]:  # fmt: skip
    """Open and acknowledged alerts within ``scope``, newest first (at most PAGE_MAX)."""
    if hub.alerts is None:
        return []
    within = None if scope.everything else scope.where(AlertRow.site, AlertRow.room)
    query = AlertQuery(site=site, room=room, states=ACTIVE, limit=PAGE_MAX)
    return hub.alerts.store.alerts(query, within)


def device_attention(hub: HubState, device: FleetDevice) -> list[Attention]:
    settings = hub.settings
    out = []
    if not device.available:
        out.append(Attention(device.device, device.family, N_("Unavailable")))
    if device.lamp_hours is not None and device.lamp_hours >= settings.alert_lamp_hours:
        out.append(Attention(device.device, device.family, N_("Lamp due"),
                             f"{device.lamp_hours:.0f} h"))  # fmt: skip
    if device.filter_hours is not None and device.filter_hours >= settings.alert_filter_hours:
        out.append(Attention(device.device, device.family, N_("Filter due"),
                             f"{device.filter_hours:.0f} h"))  # fmt: skip
    if device.faults:
        out.append(Attention(device.device, device.family, N_("Fault"), ", ".join(device.faults)))
    return out


def overview(hub: HubState, caller: Caller) -> list[School]:
    """The caller's schools and their rooms, worst first: offline, then open alerts (by
    severity), then devices that need attention, then the fleet's own problems."""
    scope = caller.scope(Action.ROOM_READ)
    rooms = fleet(hub.store.engine, scope)
    alerts = active_alerts(hub, scope)
    per_room: dict[tuple[str, str], list[AlertRecord]] = {}
    for alert in alerts:
        per_room.setdefault((alert.site, alert.room), []).append(alert)
    readings = {
        (r.site, r.room): {metric: reading.value for metric, reading in r.readings.items()}
        for r in hub.store.list_rooms()
        if scope.allows(r.site, r.room)
    }
    names = site_names(hub)
    schools: dict[str, School] = {}
    for r in rooms:
        mine = per_room.get((r.site, r.room), [])
        attention = tuple(a for d in r.devices for a in device_attention(hub, d))
        severities = Counter(a.severity for a in mine)
        worst = next((s for s in reversed(SEVERITIES) if severities[s]), None)
        score = (
            (0 if r.online else OFFLINE_WEIGHT)
            + sum(SEVERITY_WEIGHT[s] * n for s, n in severities.items())
            + ATTENTION_WEIGHT * len(attention)
            + r.attention
        )
        card = RoomCard(
            site=r.site, room=r.room, name=r.name, online=r.online, alerts=len(mine),
            worst=worst, help=any(a.kind == "help" for a in mine), attention=attention,
            readings=readings.get((r.site, r.room), {}), score=score,
        )  # fmt: skip
        schools.setdefault(r.site, School(r.site, names.get(r.site, r.site))).rooms.append(card)
    for school in schools.values():
        school.rooms.sort(key=lambda c: (-c.score, c.name, c.room))
    return sorted(schools.values(), key=lambda s: (-max((c.score for c in s.rooms), default=0),
                                                    s.name))  # fmt: skip


def fleet_rows(hub: HubState, caller: Caller) -> tuple[list[FleetRoom], dict[str, str]]:
    return fleet(hub.store.engine, caller.scope(Action.FLEET_READ)), site_names(hub)


@dataclass(frozen=True, slots=True)
class RoomDetail:
    view: RoomView
    school: str
    devices: list[DeviceView]
    alerts: list[AlertRecord]
    push: PushState | None
    versions: list[Version]
    scenes: dict[str, list[str]]
    """Lighting device → the scenes it has (built-in and the configuration's)."""
    inputs: tuple[str, ...]
    charts: tuple[str, ...]
    """Metrics the room reports that the page charts."""


def room_detail(hub: HubState, caller: Caller, site: str, room: str) -> RoomDetail | None:
    view = hub.store.get_room(site, room)
    if view is None:
        return None
    versions = hub.config_pusher.versions if hub.config_pusher is not None else None
    push = versions.push_state(site, room) if versions is not None else None
    history = versions.room_history(site, room, 10) if versions is not None else []
    current = versions.room_version(site, room) if versions is not None else None
    managed = (current.effective or {}) if current is not None else {}
    devices = hub.store.devices(site, room)
    scenes: dict[str, list[str]] = {}
    for d in devices:
        if d.family == "lighting":
            own = managed.get("devices", {}).get(d.device, {}).get("scenes", {})
            scenes[d.device] = [*BUILT_IN_SCENES, *(s for s in own if s not in BUILT_IN_SCENES)]
    return RoomDetail(
        view=view,
        school=site_names(hub).get(site, site),
        devices=devices,
        alerts=active_alerts(hub, Scope(everything=True), site, room),
        push=push,
        versions=history,
        scenes=scenes,
        inputs=PROJECTOR_INPUTS,
        charts=tuple(m for m in CHART_METRICS if m in view.readings),
    )


@dataclass(frozen=True, slots=True)
class ConfigView:
    site: str
    school: str
    room: str | None
    """None: the school's defaults are edited."""
    rooms: list[tuple[str, str, PushState | None]]
    """Every room of the school: id, name, how far its configuration got."""
    document: dict[str, Any]
    version: int
    effective: dict[str, Any] | None
    """The room's effective configuration (None for the school)."""


def config_view(hub: HubState, site: str, room: str | None) -> ConfigView:
    pusher = hub.config_pusher
    assert pusher is not None  # the app always makes it
    versions = pusher.versions
    rooms = [(r.room, r.name) for r in hub.store.list_rooms() if r.site == site]
    states = [(rid, name, versions.push_state(site, rid)) for rid, name in rooms]
    if room is None:
        found = versions.site_version(site)
        effective = None
    else:
        found = versions.room_version(site, room)
        effective = found.effective if found is not None else None
    return ConfigView(
        site=site,
        school=site_names(hub).get(site, site),
        room=room,
        rooms=states,
        document=found.document if found is not None else {},
        version=found.version if found is not None else 0,
        effective=effective,
    )


def users_of_caller(hub: HubState, caller: Caller) -> list[UserView]:
    scope = caller.scope(Action.USERS_MANAGE)
    return [u for u in hub.users.all() if manageable(u, scope)]
