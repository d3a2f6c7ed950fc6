"""Turn one received MQTT message into a typed message of the contract, or a dead letter."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from pydantic import ValidationError

from protocol import (
    CommandReply,
    ConfigApplied,
    DeviceState,
    Event,
    Kind,
    Message,
    ParsedTopic,
    PayloadError,
    Status,
    Telemetry,
    TopicError,
    decode,
    parse_topic,
    utcnow,
)

MODELS: dict[Kind, type[Message]] = {
    Kind.STATUS: Status,
    Kind.TELEMETRY: Telemetry,
    Kind.STATE: DeviceState,
    Kind.REPLY: CommandReply,
    Kind.EVENT: Event,
    Kind.CONFIG_APPLIED: ConfigApplied,
}
"""The model of each kind of topic the hub reads."""


@dataclass(frozen=True, slots=True)
class Parsed:
    """A valid message and the room topic it came on."""

    topic: ParsedTopic
    message: Message

    @property
    def agent(self) -> str:
        return f"{self.topic.site}/{self.topic.room}"


@dataclass(frozen=True, slots=True)
class Ignored:
    """A message the hub reads past on purpose: another hub's status."""

    topic: str


@dataclass(frozen=True, slots=True)
class Rejected:
    """A message that is not part of the contract: kept as a dead letter."""

    topic: str
    payload: bytes
    reason: str
    """A short category: bad_topic, bad_json, bad_version, bad_schema, unexpected_kind, mismatch."""
    detail: str
    received_at: datetime


class _Reject(Exception):  # noqa: N818 - internal control flow, never escapes
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def _payload_reason(exc: PayloadError) -> str:
    cause = exc.__cause__
    if isinstance(cause, ValidationError):
        errors = cause.errors(include_url=False)
        if any(err["type"].startswith("json_") for err in errors):
            return "bad_json"
        if any(err["loc"][:1] == ("v",) for err in errors):
            return "bad_version"
    return "bad_schema"


def _check_state(parsed: ParsedTopic, message: Message) -> None:
    assert isinstance(message, DeviceState)
    if message.device != parsed.device:
        detail = f"device {message.device!r} in the payload, {parsed.device!r} in the topic"
        raise _Reject("mismatch", detail)


CHECKS: dict[Kind, Callable[[ParsedTopic, Message], None]] = {
    Kind.STATE: _check_state,
}
"""Rules beyond the schema, per kind."""


def classify(topic: str, payload: bytes, root: str) -> Parsed | Rejected:
    """Parse ``payload`` received on ``topic``; never raises for bad input."""
    try:
        try:
            parsed = parse_topic(topic, root)
        except TopicError as exc:
            raise _Reject("bad_topic", str(exc)) from None
        model = MODELS.get(parsed.kind)
        if model is None:
            raise _Reject("unexpected_kind", f"the hub does not read {parsed.kind!r} topics")
        try:
            message = decode(model, payload)
        except PayloadError as exc:
            raise _Reject(_payload_reason(exc), str(exc)) from None
        check = CHECKS.get(parsed.kind)
        if check is not None:
            check(parsed, message)
    except _Reject as rej:
        return Rejected(topic, bytes(payload), rej.reason, rej.detail, utcnow())
    return Parsed(parsed, message)


__all__ = ["CHECKS", "MODELS", "Ignored", "Parsed", "Rejected", "classify"]
