"""Shapes of the API: input models (``*Create``, ``*Query``) apart from output (``*Public``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class ReadingPublic(_Out):
    device: str
    value: float
    ts: datetime


class RoomPublic(_Out):
    site: str
    room: str
    name: str
    online: bool
    last_seen: datetime | None
    """Newest of the last status and the last reading."""
    readings: dict[str, ReadingPublic]
    """Latest value of each metric."""


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


class RoomDetailPublic(RoomPublic):
    boot: str | None
    keepalive: int | None
    agent_version: str | None
    devices: list[DevicePublic]
    config: ConfigStatusPublic
    events: list[EventPublic]
    """Most recent events, newest first."""


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


class CommandCreate(BaseModel):
    """A command for one device."""

    model_config = ConfigDict(extra="forbid")

    action: str = Field(pattern=r"^[a-z][a-z0-9_]{0,62}$", examples=["on"])
    params: dict[str, Any] = Field(default_factory=dict)
    timeout_s: float | None = Field(default=None, gt=0, le=60)
    """How long to wait for the reply; the hub's default when absent."""


class CommandResultPublic(BaseModel):
    id: str
    device: str
    code: str
    text: str
    state: dict[str, Any] | None


class ConfigPushedPublic(BaseModel):
    site: str
    room: str
    version: int


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


class HealthPublic(BaseModel):
    hub_id: str
    mqtt_connected: bool
    ingest_pending: int
    """Messages received and not yet stored."""
    commands_waiting: int
    counters: IngestCountersPublic | None
    """Since this hub process started; None when running without MQTT."""
    dead_letters_stored: dict[str, int]
    """Dead letters in the database, per reason."""


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
    "CommandCreate",
    "CommandResultPublic",
    "ConfigPushedPublic",
    "ConfigStatusPublic",
    "DeadLetterPublic",
    "DevicePublic",
    "EventPublic",
    "HealthPublic",
    "IngestCountersPublic",
    "ReadingPublic",
    "RoomDetailPublic",
    "RoomPublic",
    "TelemetryHistoryPublic",
    "TelemetryPointPublic",
]
