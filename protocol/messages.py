"""Message models: one JSON envelope (version, UTC time, sender) around each kind of body."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)

from protocol.topics import validate_id
from protocol.version import ACCEPTED_VERSIONS, CONTRACT_VERSION


class PayloadError(ValueError):
    """A payload that cannot be read as the expected message (bad JSON, schema or version)."""


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


def _to_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


UtcDatetime = Annotated[AwareDatetime, AfterValidator(_to_utc)]
DeviceId = Annotated[str, AfterValidator(lambda v: validate_id(v, "device id"))]
Metric = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,62}$")]
INT32_MAX = 2**31 - 1
"""Counters and versions fit a 32-bit signed column in every database."""

Reading = Annotated[float, Field(allow_inf_nan=False)]
"""A measured value; NaN and infinities are not measurements and are refused."""


class Message(BaseModel):
    """The envelope every payload shares."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    v: int = CONTRACT_VERSION
    """Contract version of the sender."""
    ts: UtcDatetime = Field(default_factory=utcnow)
    """When the message was made (for telemetry: when the sample was taken), UTC."""
    sender: str = Field(min_length=1, max_length=200)
    """Who sent it: ``edge/{site}/{room}`` for an agent, ``hub/{id}`` for a hub."""

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        """NUL has no place in text and PostgreSQL refuses it: refuse it at the boundary."""
        if isinstance(value, str) and "\x00" in value:
            msg = "text must not contain NUL characters"
            raise ValueError(msg)
        return value

    @field_validator("v")
    @classmethod
    def _known_version(cls, v: int) -> int:
        if v not in ACCEPTED_VERSIONS:
            msg = (
                f"unsupported contract version {v}; this reader accepts {sorted(ACCEPTED_VERSIONS)}"
            )
            raise ValueError(msg)
        return v


class Sequenced(Message):
    """Messages the hub stores exactly once: unique by sender, boot id and sequence."""

    boot: str = Field(min_length=1, max_length=64)
    """Random id chosen at each start of the agent."""
    seq: int = Field(ge=1, le=INT32_MAX)
    """Per-boot sequence number shared by telemetry and events; gaps are detectable."""


class Telemetry(Sequenced):
    """One sample of one device: several metrics taken at ``ts``."""

    device: DeviceId
    readings: dict[Metric, Reading] = Field(min_length=1)


class Event(Sequenced):
    """Something that happened in the room: an alert, a help request, a dropped outbox batch."""

    kind: Metric
    severity: Literal["info", "warning", "critical"] = "info"
    device: DeviceId | None = None
    text: str = ""
    data: dict[str, Any] = Field(default_factory=dict)


class Status(Message):
    """Agent availability; retained; the last will carries ``offline``."""

    state: Literal["online", "offline"]
    boot: str = Field(min_length=1, max_length=64)
    agent_version: str = ""
    keepalive: int = Field(default=0, ge=0, le=65535)
    """MQTT keepalive in seconds: the broker notices a dead agent within 1.5 times it."""
    devices: list[DeviceId] = Field(default_factory=list)


class HubStatus(Message):
    """The hub's availability; retained; agents re-send state when it comes back online."""

    state: Literal["online", "offline"]
    boot: str = Field(min_length=1, max_length=64)


class DeviceState(Message):
    """The current state of one device; retained on ``state/{device}``."""

    device: DeviceId
    family: Metric
    state: dict[str, Any]
    available: bool = True


class Command(Message):
    """An order to one device; never retained; answered by a CommandReply with the same id."""

    id: str = Field(min_length=1, max_length=64)
    device: DeviceId
    action: Metric
    params: dict[str, Any] = Field(default_factory=dict)
    issuer: str = Field(min_length=1, max_length=200)
    """Who asked: a user, ``schedule`` or ``hub``. Logged and audited."""
    expires: UtcDatetime
    """After this instant the agent refuses the command with code ``expired``."""


ReplyCode = Literal[
    "ok",
    "expired",
    "unknown_device",
    "unknown_action",
    "bad_params",
    "device_error",
    "device_unavailable",
]


class CommandReply(Message):
    """The agent's answer to a Command: ``ok`` with the new state, or an error code and text."""

    id: str = Field(min_length=1, max_length=64)
    device: DeviceId
    code: ReplyCode
    text: str = ""
    state: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return self.code == "ok"


class RoomSettings(BaseModel):
    """What the hub may change on an agent at run time."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    telemetry_interval_s: float = Field(default=10.0, ge=0.5, le=3600)
    """How often the agent samples and sends its sensors."""


class RoomConfig(Message):
    """Configuration pushed by the hub; retained on ``config``."""

    version: int = Field(ge=1, le=INT32_MAX)
    settings: RoomSettings = Field(default_factory=RoomSettings)


class ConfigApplied(Message):
    """The agent's echo of the configuration version it applied; retained."""

    version: int = Field(ge=0, le=INT32_MAX)
    ok: bool = True
    text: str = ""


M = TypeVar("M", bound=Message)


def encode(message: Message) -> bytes:
    """Serialise a message to its JSON payload."""
    return message.model_dump_json(exclude_none=False).encode()


def decode(model: type[M], payload: bytes | bytearray | str) -> M:
    """Parse and validate a payload; raise PayloadError naming what is wrong."""
    try:
        return model.model_validate_json(payload)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(payload)'}: {err['msg']}"
            for err in exc.errors(include_url=False)[:5]
        )
        msg = f"invalid {model.__name__} payload: {problems}"
        raise PayloadError(msg) from exc


__all__ = [
    "Command",
    "CommandReply",
    "ConfigApplied",
    "DeviceState",
    "Event",
    "HubStatus",
    "Message",
    "PayloadError",
    "ReplyCode",
    "RoomConfig",
    "RoomSettings",
    "Sequenced",
    "Status",
    "Telemetry",
    "decode",
    "encode",
    "utcnow",
]
