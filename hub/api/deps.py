"""Dependencies of the API routes: the hub's services and validated path parameters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Path, Request

from hub.alerts.service import AlertService
from hub.audit import Audit
from hub.commands import Commander
from hub.config_push import ConfigPusher
from hub.enrolment import Enroller
from hub.ingest import Ingest
from hub.live import HubLive
from hub.login_limit import LoginLimiter
from hub.metrics import HubMetrics
from hub.pruning import Pruner
from hub.reports import Reports
from hub.settings import HubSettings
from hub.store import Store
from hub.supervisor import Supervisor
from hub.users import Users

if TYPE_CHECKING:
    from hub.erasures import Erasures
    from hub.influx.exporter import InfluxExporter

ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,62}$"
"""Site, room and device ids, as in the MQTT contract."""


@dataclass
class HubState:
    """The services of one running hub, kept on ``app.state.hub``."""

    settings: HubSettings
    store: Store
    commander: Commander
    ingest: Ingest | None
    """None when the app runs without MQTT (tests, API-only)."""
    users: Users
    audit: Audit
    limiter: LoginLimiter
    metrics: HubMetrics
    supervisor: Supervisor | None = None
    """Keeps the ingest running (None without MQTT)."""
    pruner: Pruner | None = None
    config_pusher: ConfigPusher | None = None
    alerts: AlertService | None = None
    """Raises and ends alerts; IT acknowledges and resolves them through it."""
    influx: InfluxExporter | None = None
    """Exports to InfluxDB (None when not configured)."""
    reports: Reports | None = None
    """Usage reports from the rollups (the app always makes them)."""
    live: HubLive | None = None
    """The live stream of the pages (the app always makes it)."""
    erasures: Erasures | None = None
    """Withdrawals of consent rooms have not confirmed yet (the app always makes it)."""
    enroller: Enroller | None = None
    """Face templates from IT's enrolment photos (the app always makes it)."""


def get_hub(request: Request) -> HubState:
    hub: HubState = request.app.state.hub
    return hub


HubDep = Annotated[HubState, Depends(get_hub)]


def get_store(hub: HubDep) -> Store:
    return hub.store


def get_commander(hub: HubDep) -> Commander:
    return hub.commander


StoreDep = Annotated[Store, Depends(get_store)]
CommanderDep = Annotated[Commander, Depends(get_commander)]
SiteId = Annotated[
    str, Path(pattern=ID_PATTERN, description="site id", examples=["thcs-nguyen-chi-thanh"])
]
RoomId = Annotated[str, Path(pattern=ID_PATTERN, description="room id", examples=["6a1"])]
DeviceId = Annotated[str, Path(pattern=ID_PATTERN, description="device id", examples=["lights"])]


__all__ = [
    "ID_PATTERN",
    "CommanderDep",
    "DeviceId",
    "HubDep",
    "HubState",
    "RoomId",
    "SiteId",
    "StoreDep",
    "get_hub",
]
