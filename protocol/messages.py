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
    model_validator,
)

from protocol.bounds import check_json, check_text
from protocol.room_config import ManagedConfig, RoomSettings
from protocol.topics import validate_id
from protocol.usage import Schedule
from protocol.version import ACCEPTED_VERSIONS, CONTRACT_VERSION


class PayloadError(ValueError):
    """A payload that cannot be read as the expected message (bad JSON, schema or version)."""


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)
"""Times outside [EARLIEST, LATEST) are refused: no clock of ours is that wrong, and beyond
them the conversion to UTC itself can overflow (``9999-12-31T23:59:59-01:00``)."""


def _to_utc(value: datetime) -> datetime:
    try:
        utc = value.astimezone(UTC)
    except (OverflowError, ValueError):
        msg = "time out of range"
        raise ValueError(msg) from None
    if not EARLIEST <= utc < LATEST:
        msg = f"time out of range: {utc.isoformat()} is not within {EARLIEST.year}-{LATEST.year}"
        raise ValueError(msg)
    return utc


def _json_bounded(max_bytes: int, max_depth: int = 8) -> AfterValidator:
    return AfterValidator(lambda v: check_json(v, max_depth=max_depth, max_bytes=max_bytes))


UtcDatetime = Annotated[AwareDatetime, AfterValidator(_to_utc)]
DeviceId = Annotated[str, AfterValidator(lambda v: validate_id(v, "device id"))]
HubId = Annotated[str, AfterValidator(lambda v: validate_id(v, "hub id"))]
Metric = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,62}$")]
INT32_MAX = 2**31 - 1
"""Counters and versions fit a 32-bit signed column in every database."""

Reading = Annotated[float, Field(allow_inf_nan=False)]
"""A measured value; NaN and infinities are not measurements and are refused."""

TEXT_MAX = 2000
"""Longest free text in any message (an event's or a reply's text)."""
PARAMS_MAX_BYTES = 4096
"""Longest command params, as JSON."""
LARGER_PARAMS: dict[tuple[str, str], int] = {("attendance", "enrol_templates"): 8192}
"""The one (device, action) whose params may be longer: up to 5 face templates of 128 floats
(``protocol.attendance.EnrolTemplatesParams``; never an image)."""
DATA_MAX_BYTES = 8192
"""Longest event data or device state, as JSON."""
METRICS_MAX = 64
"""Most readings in one telemetry message."""
DEVICES_MAX = 256
"""Most devices one room announces."""

Params = Annotated[dict[str, Any], _json_bounded(PARAMS_MAX_BYTES)]
Data = Annotated[dict[str, Any], _json_bounded(DATA_MAX_BYTES)]
Text = Annotated[str, Field(max_length=TEXT_MAX)]
BootId = Annotated[str, Field(min_length=1, max_length=64)]
Counter = Annotated[int, Field(ge=0, le=INT32_MAX)]


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
    def _plain_text(cls, value: Any) -> Any:
        """NUL and lone surrogates have no place in text, and PostgreSQL and UTF-8 refuse
        them: refuse them at the boundary."""
        if isinstance(value, str):
            check_text(value)
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


class Ordered(Message):
    """Messages of an agent that say what is true now: the newest wins, by the agent's
    boot number and a counter, never by its clock (``ts`` is informative only)."""

    boot: BootId
    """Random id chosen at each start of the agent."""
    boot_no: Counter = 0
    """How many times this agent has started (kept on its disk; 0: not said, contract v1)."""
    n: Counter = 0
    """Counter of this boot's ordered messages of one kind and topic (0: not said)."""


class Sequenced(Message):
    """Messages the hub stores exactly once: unique by sender, boot id and sequence."""

    boot: BootId
    """Random id chosen at each start of the agent."""
    boot_no: Counter = 0
    """How many times this agent has started (0: not said, contract v1)."""
    seq: int = Field(ge=1, le=INT32_MAX)
    """Per-boot sequence number shared by telemetry and events; gaps are detectable."""


INTERVAL_MAX_S = 3600.0
"""Longest interval one telemetry sample may stand for."""


class Telemetry(Sequenced):
    """One sample of one device: several metrics taken at ``ts``.

    Since contract v3 a sample also says what it stands for: the interval before ``ts`` it
    covers, and whether the room was occupied and in a lesson at ``ts`` (``protocol.usage``).
    Older agents leave these out (None), and the hub keeps no usage from their samples.
    """

    device: DeviceId
    readings: dict[Metric, Reading] = Field(min_length=1, max_length=METRICS_MAX)
    interval_s: float | None = Field(default=None, ge=0, le=INTERVAL_MAX_S, allow_inf_nan=False)
    """Seconds this sample stands for, ending at ``ts``: since the device's previous sample
    of this boot (0 for its first), at most INTERVAL_MAX_S. None: not said (before v3)."""
    occupied: bool | None = None
    """The room was occupied at ``ts`` by its occupancy sensors, as read in the same sample
    (None: the room has none, or not said)."""
    schedule: Schedule | None = None
    """What the room's timetable says at ``ts`` (None: no timetable, or not said)."""


class Event(Sequenced):
    """Something that happened in the room: an alert, a help request, a dropped outbox batch."""

    kind: Metric
    severity: Literal["info", "warning", "critical"] = "info"
    device: DeviceId | None = None
    text: Text = ""
    data: Data = Field(default_factory=dict)


class Status(Ordered):
    """Agent availability; retained; the last will carries ``offline``.

    Ordered by (boot_no, ``conn``, state): the will of connection ``conn`` is made before
    the ``online`` of the same connection but always comes after it.
    """

    state: Literal["online", "offline"]
    conn: Counter = 0
    """Which connection of this boot (from 1); its will and its ``online`` share it."""
    agent_version: str = Field(default="", max_length=64)
    keepalive: int = Field(default=0, ge=0, le=65535)
    """MQTT keepalive in seconds: the broker notices a dead agent within 1.5 times it."""
    devices: list[DeviceId] = Field(default_factory=list, max_length=DEVICES_MAX)
    families: dict[DeviceId, Metric] = Field(default_factory=dict, max_length=DEVICES_MAX)
    """Each device's family: a state of another family for that device is refused."""


class HubStatus(Message):
    """A hub's availability on its own topic; retained; agents re-send state when a hub
    comes back online."""

    state: Literal["online", "offline"]
    boot: BootId


class DeviceState(Ordered):
    """The current state of one device; retained on ``state/{device}``."""

    device: DeviceId
    family: Metric
    state: Data
    available: bool = True


CommandId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]


class Command(Message):
    """An order to one device; never retained; answered by a CommandReply with the same id."""

    id: CommandId
    device: DeviceId
    action: Metric
    params: Annotated[dict[str, Any], _json_bounded(max(LARGER_PARAMS.values()))] = Field(
        default_factory=dict
    )
    """At most PARAMS_MAX_BYTES as JSON (LARGER_PARAMS for the actions it names)."""
    issuer: str = Field(min_length=1, max_length=200)
    """Who asked: a user, ``schedule`` or ``hub``. Logged and audited."""
    expires: UtcDatetime
    """After this instant (on the hub's clock) the agent refuses the command (``expired``)."""
    reply_to: HubId | None = None
    """The hub waiting for the reply: it goes to ``reply/{reply_to}`` (None: ``reply``)."""

    @model_validator(mode="after")
    def _params_bounded(self) -> Command:
        limit = LARGER_PARAMS.get((self.device, self.action), PARAMS_MAX_BYTES)
        check_json(self.params, max_depth=8, max_bytes=limit)
        return self


ReplyCode = Literal[
    "ok",
    "expired",
    "unknown_device",
    "unknown_action",
    "bad_params",
    "bad_request",
    "device_error",
    "device_unavailable",
]


class CommandReply(Message):
    """The agent's answer to a Command: ``ok`` with the new state, or an error code and text."""

    id: CommandId
    device: DeviceId
    code: ReplyCode
    text: Text = ""
    state: Data | None = None

    @property
    def ok(self) -> bool:
        return self.code == "ok"


class RoomConfig(ManagedConfig, Message):
    """Configuration pushed by the hub; retained on ``config``. Its sections (see
    ``ManagedConfig``) replace the room file's; a section left out keeps the room file's own.
    The agent applies a version above the one it runs and ignores an older one."""

    version: int = Field(ge=1, le=INT32_MAX)


class ConfigApplied(Ordered):
    """What configuration the agent runs, and the last one it refused; retained."""

    version: int = Field(ge=0, le=INT32_MAX)
    """The version it runs (0: none, only its room file)."""
    ok: bool = True
    """False when it refused the newest configuration it received."""
    refused: int = Field(default=0, ge=0, le=INT32_MAX)
    """The version it refused, if it did (0: none); it goes on running ``version``."""
    text: Text = ""
    """Why it refused, or a note (a version ignored because it is older)."""


Seq = Annotated[int, Field(ge=1, le=INT32_MAX)]
SeqRange = tuple[Seq, Seq]
"""An inclusive range of sequence numbers ``(first, last)``."""
RANGES_MAX = 64
"""Most ranges per boot in one message; beyond, the oldest are left out."""
BOOTS_MAX = 8
"""Most boots one acknowledgement or loss report covers."""
Ranges = Annotated[list[SeqRange], Field(max_length=RANGES_MAX)]


class BootLosses(BaseModel):
    """What the agent dropped of one boot's telemetry and events, and why."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    boot: BootId
    dropped: Ranges = Field(default_factory=list)
    """Sequence numbers the agent dropped (outbox bounds, a refused message given up)."""
    count: Counter = 0
    """How many in all (ranges beyond RANGES_MAX are counted here only)."""
    by_reason: dict[Metric, Counter] = Field(default_factory=dict, max_length=16)


class OutboxHealth(BaseModel):
    """The agent's outbox at a glance."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    backlog: Counter = 0
    """Messages waiting for the hub to store them."""
    parked: Counter = 0
    """Messages the broker refused again and again, moved aside (kept, not sent)."""
    oldest_s: float = Field(default=0.0, ge=0, allow_inf_nan=False)
    """Age of the oldest waiting message, seconds."""
    storage_ok: bool = True
    storage_text: Text = ""


class Health(Ordered):
    """The agent's own account, retained on ``health``: its outbox, what it lost (kept
    outside the bounded outbox), where its previous boot ended, and its clock."""

    started_at: UtcDatetime
    last_seq: Counter = 0
    """The last sequence number this boot has given out."""
    previous_boot: BootId | None = None
    previous_last_seq: Counter = 0
    """The previous boot's last sequence number, from the agent's disk: the hub can tell
    a lost tail from a boot that ended."""
    outbox: OutboxHealth = Field(default_factory=OutboxHealth)
    losses: list[BootLosses] = Field(default_factory=list, max_length=BOOTS_MAX)
    clock_offset_s: float | None = Field(default=None, allow_inf_nan=False)
    """Hub clock minus agent clock, measured on messages from the hub (None: not yet)."""


class StoredAck(Message):
    """What the hub has stored (or knows lost) of an agent's boots; retained on ``ack``.

    The agent forgets an outbox message only once its (boot, seq) is covered here.
    """

    boots: dict[BootId, Ranges] = Field(default_factory=dict, max_length=BOOTS_MAX)


HelpState = Literal["open", "acknowledged", "resolved", "ended"]
"""A help request's alert: seen by the hub, acknowledged by IT, resolved by IT, or ended
(the teacher withdrew it)."""


class HelpAck(Message):
    """What became of the room's help request, written by the hub; retained on ``help``.

    ``boot`` and ``seq`` name the newest help event the alert counted, so an agent whose
    teacher asked again since can tell that this answer is not yet about the new request.
    """

    alert: int = Field(ge=1, le=INT32_MAX)
    """The hub's alert id."""
    state: HelpState
    boot: BootId
    seq: int = Field(ge=1, le=INT32_MAX)
    reason: Text = ""
    """The reason the teacher gave (the newest request's)."""
    by: str = Field(default="", max_length=200)
    """Who acknowledged or resolved it (empty while open or after the teacher withdrew it)."""
    comment: Text = ""


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
    "BOOTS_MAX",
    "DATA_MAX_BYTES",
    "EARLIEST",
    "INTERVAL_MAX_S",
    "LATEST",
    "METRICS_MAX",
    "LARGER_PARAMS",
    "PARAMS_MAX_BYTES",
    "RANGES_MAX",
    "TEXT_MAX",
    "BootLosses",
    "Command",
    "CommandReply",
    "ConfigApplied",
    "DeviceState",
    "Event",
    "Health",
    "HelpAck",
    "HelpState",
    "HubStatus",
    "Message",
    "Ordered",
    "OutboxHealth",
    "PayloadError",
    "ReplyCode",
    "RoomConfig",
    "RoomSettings",
    "SeqRange",
    "Sequenced",
    "Status",
    "StoredAck",
    "Telemetry",
    "decode",
    "encode",
    "utcnow",
]
