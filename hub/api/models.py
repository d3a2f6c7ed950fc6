"""Shapes of the API: input models (``*Create``, ``*Query``) apart from output (``*Public``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from hub.alerts.views import AlertsHealthPublic
from protocol.bounds import check_json

PARAMS_MAX_BYTES = 4096
"""Largest command ``params`` as compact JSON."""
PARAMS_MAX_DEPTH = 8
"""Deepest nesting of command ``params``, the params object itself counting as 1."""


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class ReadingPublic(_Out):
    device: str
    value: float
    ts: datetime


class SuspectReadingPublic(ReadingPublic):
    """A reading newer than the room's current one whose time was far from the hub's clock."""

    clock_suspect: Literal[True] = True
    skew_s: float
    """Its time minus the hub's clock when it arrived, seconds (positive: ahead)."""
    received_at: datetime


class RoomPublic(_Out):
    site: str
    room: str
    name: str
    online: bool
    last_seen: datetime | None
    """Newest of the last status and the last reading."""
    readings: dict[str, ReadingPublic]
    """Current value of each metric: its newest reading by the agent's counters whose time
    the hub trusts."""
    clock_suspect_readings: dict[str, SuspectReadingPublic] = Field(default_factory=dict)
    """Newer readings than those of ``readings`` whose time is far from the hub's clock
    (ahead of it, or gone back far behind it): shown beside the current value, never taken
    for it."""


class DevicePublic(_Out):
    device: str
    family: str
    state: dict[str, Any]
    available: bool
    updated_at: datetime


class EventPublic(_Out):
    kind: str
    severity: str
    device: str | None
    text: str
    data: dict[str, Any]
    ts: datetime
    boot: str
    seq: int


class ConfigStatusPublic(BaseModel):
    pushed: int
    """Version last pushed by the hub (0: never)."""
    applied: int | None
    """Version the agent reports it applied."""
    applied_ok: bool | None
    applied_text: str | None
    settings: dict[str, Any] | None
    """Settings of the version last pushed."""


class BootPublic(_Out):
    """One start of the room's agent and what of its telemetry and events the hub has."""

    boot: str
    boot_no: int
    """The agent's count of its starts (0: not said, contract v1)."""
    era: int
    """Goes up when the agent's count restarted (a wiped disk): order is (era, boot_no)."""
    first_seen: datetime
    last_seen: datetime
    highest: int
    """Highest sequence number stored."""
    end: int | None
    """The boot's last sequence number as the agent reported it (None: not known yet)."""
    missing: list[tuple[int, int]]
    """Sequence numbers neither stored nor reported dropped, up to ``max(highest, end)``, as
    inclusive ranges (the highest 64)."""
    missing_count: int
    dropped_count: int
    """What the agent reports it dropped of this boot (its outbox bounds)."""


class AgentHealthPublic(BaseModel):
    """The agent's own newest account of itself (its ``health`` topic)."""

    boot: str
    received_at: datetime
    outbox: dict[str, Any]
    """Backlog, parked messages, age of the oldest, storage state."""
    last_seq: int
    clock_offset_s: float | None
    """Hub clock minus agent clock, as the agent measured it."""


class RoomDetailPublic(RoomPublic):
    boot: str | None
    keepalive: int | None
    agent_version: str | None
    devices: list[DevicePublic]
    config: ConfigStatusPublic
    events: list[EventPublic]
    """Most recent events, newest stored first."""
    clock_suspect: bool = False
    """The room sent a time far from the hub's clock within the last hour."""
    clock_suspects: int = 0
    """How many of its messages had such a time."""
    clock_skew_s: float | None = None
    """The last such skew, seconds (positive: the agent's clock is ahead)."""
    clock_suspect_at: datetime | None = None
    clock_offset_s: float | None = None
    """Hub clock minus agent clock as the agent reports it (its Health)."""
    boots: list[BootPublic] = Field(default_factory=list)
    """The agent's most recent boots (at most 8), newest first."""
    agent_health: AgentHealthPublic | None = None


class TelemetryPointPublic(_Out):
    ts: datetime
    """The sample's time, or the start of the bucket."""
    value: float
    """The sample, or the bucket's average."""
    device: str | None = None
    min: float | None = None
    max: float | None = None
    count: int = 1


class TelemetryHistoryPublic(BaseModel):
    site: str
    room: str
    metric: str
    start: datetime
    end: datetime
    interval_s: int | None
    points: list[TelemetryPointPublic]


def _bounded_params(params: dict[str, Any]) -> dict[str, Any]:
    return check_json(params, max_depth=PARAMS_MAX_DEPTH, max_bytes=PARAMS_MAX_BYTES)


CommandParams = Annotated[
    dict[str, Any],
    AfterValidator(_bounded_params),
    Field(
        description=(
            f"Arguments of the action: at most {PARAMS_MAX_BYTES} bytes as compact JSON,"
            f" {PARAMS_MAX_DEPTH} levels deep (this object is the first), finite numbers only,"
            " no NUL and no lone surrogate in any key or string"
        ),
        examples=[{"zone": "front", "level": 60}],
    ),
]


class CommandCreate(BaseModel):
    """A command for one device."""

    model_config = ConfigDict(extra="forbid")

    action: str = Field(pattern=r"^[a-z][a-z0-9_]{0,62}$", examples=["on"])
    params: CommandParams = Field(default_factory=dict)
    timeout_s: float | None = Field(default=None, ge=0.5, le=60, allow_inf_nan=False)
    """How long to wait for the reply, 0.5 to 60 s; the hub's default when absent."""


class ErrorPublic(BaseModel):
    """Every error but a validation error: what went wrong, in words."""

    detail: str


class ValidationErrorItem(BaseModel):
    """One problem of a request, as FastAPI reports it."""

    loc: list[str | int]
    """Where: ``["body", "params"]``, ``["query", "end"]``."""
    msg: str
    type: str
    input: Any = None
    """The value refused (made safe to send back as JSON)."""
    ctx: dict[str, Any] | None = None


class ValidationErrorPublic(BaseModel):
    """A request that does not fit the API: every problem found."""

    detail: list[ValidationErrorItem]


class CommandResultPublic(BaseModel):
    id: str
    device: str
    code: str
    text: str
    state: dict[str, Any] | None


class IngestCountersPublic(_Out):
    received: int
    stored: int
    points: int
    events: int
    duplicates: int
    dead_letters: int
    dead_letters_by_reason: dict[str, int]
    replies: int
    batches: int
    last_batch_ms: float
    write_errors: int
    connects: int
    conflicts: int = 0
    """Duplicates by (agent, boot, seq) whose content differs from what is stored."""
    dead_letters_lost: int = 0
    """Dead letters the database refused too (logged and dropped)."""
    clock_suspects: int = 0
    """Messages whose time was far from the hub's clock."""
    acks_sent: int = 0
    acks_failed: int = 0
    overload_dropped: int = 0
    """QoS 0 messages dropped because the ingest's queue was full."""
    last_write_error: str | None = None


class LossTotalsPublic(BaseModel):
    """Over every boot of every agent the hub knows."""

    boots: int
    boots_missing: int
    """Boots with something missing."""
    missing: int
    """Sequence numbers neither stored nor reported dropped."""
    dropped: int
    """What agents report they dropped."""


class InfluxExportPublic(BaseModel):
    """The export to InfluxDB since this hub process started."""

    url: str
    bucket: str
    handed: int
    """Points handed to the writer."""
    written: int
    failed: int
    """Points of batches given up (refused, or retried too long)."""
    dropped: int
    """Points never handed over: the backlog was full."""
    backlog: int
    """Handed over and not yet written or failed."""
    backlog_max: int
    retries: int
    retimed: int
    """Points written at the hub's receive time: their own time was implausible."""
    unconverted: int
    failing: bool
    """The last attempt to write failed."""
    last_error: str | None
    last_written_at: datetime | None


class HealthPublic(BaseModel):
    hub_id: str
    ok: bool
    """No problems."""
    problems: list[str]
    """What is wrong now: ingest not running, MQTT not connected, database errors, restarts."""
    ingest_running: bool
    mqtt_connected: bool
    ingest_pending: int
    """Messages received and not yet stored."""
    ingest_restarts: int = 0
    commands_waiting: int
    forged_replies: int = 0
    """Replies with a waiting command's id from another room or device (ignored)."""
    acks_pending: int = 0
    counters: IngestCountersPublic | None
    """Since this hub process started; None when running without MQTT."""
    dead_letters_stored: dict[str, int]
    """Dead letters in the database, per reason."""
    dead_letters_pruned: int = 0
    losses: LossTotalsPublic | None = None
    clock_suspect_rooms: int = 0
    """Rooms that sent a time far from the hub's clock within the last hour."""
    config_pushes_pending: int = 0
    """Rooms whose newest configuration the broker has not taken yet (pushed once it can)."""
    config_pushes_failed: int = 0
    """Configuration pushes the broker did not take, since this hub process started."""
    warnings: list[str] = Field(default_factory=list)
    """What deserves attention without making the hub unwell: alert notifications failing."""
    alerts: AlertsHealthPublic | None = None
    influx: InfluxExportPublic | None = None
    """The InfluxDB export; None when it is not configured."""


class HealthzPublic(BaseModel):
    status: Literal["ok", "unhealthy"]
    problems: list[str] = Field(default_factory=list)


class DeadLetterPublic(_Out):
    id: int
    topic: str
    reason: str
    detail: str
    size: int
    """Length of the whole payload in bytes."""
    payload_preview: str
    """The start of the payload as text (invalid UTF-8 replaced)."""
    received_at: datetime


__all__ = [
    "AgentHealthPublic",
    "BootPublic",
    "CommandCreate",
    "CommandResultPublic",
    "ConfigStatusPublic",
    "DeadLetterPublic",
    "DevicePublic",
    "ErrorPublic",
    "EventPublic",
    "HealthPublic",
    "HealthzPublic",
    "IngestCountersPublic",
    "InfluxExportPublic",
    "PARAMS_MAX_BYTES",
    "PARAMS_MAX_DEPTH",
    "LossTotalsPublic",
    "ReadingPublic",
    "RoomDetailPublic",
    "RoomPublic",
    "SuspectReadingPublic",
    "TelemetryHistoryPublic",
    "TelemetryPointPublic",
    "ValidationErrorItem",
    "ValidationErrorPublic",
]
