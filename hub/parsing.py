"""Turn one received MQTT message into a typed message of the contract, or a dead letter.

Nothing received can make this raise: an unexpected exception becomes a dead letter too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from pydantic import ValidationError

from hub.db import DEAD_LETTER_MAX_BYTES, DETAIL_MAX
from hub.ordering import clock_skew
from hub.roster import Roster
from protocol import (
    AGENT_WRITES,
    CommandReply,
    ConfigApplied,
    DeviceState,
    Event,
    Health,
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
from protocol.bounds import safe_text
from protocol.messages import Sequenced
from protocol.topics import HUB_SEGMENT

MODELS: dict[Kind, type[Message]] = {
    Kind.STATUS: Status,
    Kind.TELEMETRY: Telemetry,
    Kind.STATE: DeviceState,
    Kind.REPLY: CommandReply,
    Kind.EVENT: Event,
    Kind.CONFIG_APPLIED: ConfigApplied,
    Kind.HEALTH: Health,
}
"""The model of each kind of topic the hub reads."""

MAX_PAYLOAD_BYTES = 256 * 1024
"""Default limit: a larger payload is a dead letter (``too_large``) without being parsed."""
TOPICS_CACHED = 65_536
"""Topics kept taken apart (a room has a dozen): the cache is emptied when it is full."""


@dataclass(frozen=True, slots=True)
class Parsed:
    """A valid message, the room topic it came on, and when the hub received it."""

    topic: ParsedTopic
    message: Message
    received_at: datetime
    """The hub's clock."""
    skew_s: float | None = None
    """How far the message's ``ts`` is from the hub's clock, when beyond the limit."""
    source: str = ""
    """The topic as received."""

    @property
    def agent(self) -> str:
        return f"{self.topic.site}/{self.topic.room}"


@dataclass(frozen=True, slots=True)
class Ignored:
    """A message the hub reads past on purpose: another hub's status, a reply for another."""

    topic: str


@dataclass(frozen=True, slots=True)
class Rejected:
    """A message that is not part of the contract: kept as a dead letter."""

    topic: str
    payload: bytes
    """At most DEAD_LETTER_MAX_BYTES of it."""
    reason: str
    """A short category: too_large, bad_topic, unknown_room, unexpected_kind, bad_json,
    bad_version, bad_schema, sender_mismatch, mismatch, too_many_series, bad_payload (an
    unexpected error while reading it), store_error (the database refused it)."""
    detail: str
    received_at: datetime
    size: int | None = None
    """Length of the whole payload in bytes (None: ``payload`` is all of it)."""


PERSONAL_MARKERS = ("attendance", "student")
"""Words of the attendance contract (event kinds, the ``student`` field). A payload that
holds one, in any case, also spelt with JSON's ``\\u`` escapes, may name a student: its
dead letter keeps none of its bytes, only its size, its reason and a detail that names
fields, never values. IT reads dead letters without the audit of personal data, so they
must hold none."""


def may_be_personal(payload: bytes) -> bool:
    """Whether ``payload`` may carry personal data (see PERSONAL_MARKERS), looked for over the
    whole payload, not only the start that a dead letter would keep."""
    lowered = payload.lower()
    if any(marker.encode() in lowered for marker in PERSONAL_MARKERS):
        return True
    if b"\\u" not in lowered:
        return False
    unescaped = lowered.decode("unicode_escape", errors="ignore").lower()
    return any(marker in unescaped for marker in PERSONAL_MARKERS)


def rejected(topic: str, payload: bytes, reason: str, detail: str, now: datetime) -> Rejected:
    """A dead letter that keeps only the start of the payload and bounded texts; none of a
    payload that may name a student (``may_be_personal``)."""
    kept = b"" if may_be_personal(payload) else bytes(payload[:DEAD_LETTER_MAX_BYTES])
    return Rejected(
        safe_text(topic, 512), kept, reason, safe_text(detail, DETAIL_MAX), now, len(payload)
    )


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
"""Rules beyond the schema, per kind (the family of a state is checked when it is written,
against the room's status)."""


class Classifier:
    """Reads what arrives on the hub's subscriptions; safe to call from any thread."""

    def __init__(
        self,
        root: str,
        roster: Roster,
        *,
        hub_id: str | None = None,
        max_payload_bytes: int = MAX_PAYLOAD_BYTES,
        clock_skew_max_s: float = 300.0,
    ) -> None:
        self.root = root
        self.roster = roster
        self.hub_id = hub_id
        self.max_payload_bytes = max_payload_bytes
        self.clock_skew_max_s = clock_skew_max_s
        self._hub_prefix = f"{root}/{HUB_SEGMENT}/"
        self._topics: dict[str, ParsedTopic] = {}
        """Valid topics taken apart already: topics repeat, and taking one apart costs as
        much as a third of reading a telemetry message."""

    def __call__(
        self, topic: str, payload: bytes, *, retained: bool = False, now: datetime | None = None
    ) -> Parsed | Rejected | Ignored:
        """Parse ``payload`` received on ``topic``; never raises."""
        when = now or utcnow()
        try:
            return self._classify(topic, payload, retained, when)
        except _Reject as rej:
            return rejected(topic, payload, rej.reason, rej.detail, when)
        except Exception as exc:  # nothing from the network may stop ingest
            detail = f"{type(exc).__name__} while reading it: {safe_text(exc, 500)}"
            return rejected(topic, payload, "bad_payload", detail, when)

    def _classify(
        self, topic: str, payload: bytes, retained: bool, now: datetime
    ) -> Parsed | Ignored:
        if len(payload) > self.max_payload_bytes:
            detail = f"{len(payload)} bytes, more than the limit of {self.max_payload_bytes}"
            raise _Reject("too_large", detail)
        if topic.startswith(self._hub_prefix):  # hubs' own statuses match {root}/+/+/status
            return Ignored(topic)
        parsed = self._topics.get(topic)
        if parsed is None:
            try:
                parsed = parse_topic(topic, self.root)
            except TopicError as exc:
                raise _Reject("bad_topic", str(exc)) from None
            known = (parsed.site, parsed.room) in self.roster
            if known:  # only registered rooms' topics: unknown ones must not fill the cache
                if len(self._topics) >= TOPICS_CACHED:
                    self._topics.clear()
                self._topics[topic] = parsed
        else:
            known = (parsed.site, parsed.room) in self.roster  # the registry may have changed
        if not known:
            raise _Reject("unknown_room", f"room {parsed.site}/{parsed.room} is not registered")
        if parsed.hub is not None and parsed.hub != self.hub_id:
            return Ignored(topic)
        model = MODELS.get(parsed.kind)
        if model is None:
            raise _Reject("unexpected_kind", f"the hub does not read {parsed.kind!r} topics")
        try:
            message = decode(model, payload)
        except PayloadError as exc:
            raise _Reject(_payload_reason(exc), str(exc)) from None
        if parsed.kind in AGENT_WRITES:
            expected = f"edge/{parsed.site}/{parsed.room}"
            if message.sender != expected:
                detail = f"sender {message.sender!r} on a topic of {expected!r}"
                raise _Reject("sender_mismatch", detail)
        check = CHECKS.get(parsed.kind)
        if check is not None:
            check(parsed, message)
        future_only = retained or isinstance(message, Sequenced)
        skew = clock_skew(message.ts, now, self.clock_skew_max_s, future_only=future_only)
        return Parsed(parsed, message, now, skew, topic)


def classify(topic: str, payload: bytes, root: str, roster: Roster) -> Parsed | Rejected | Ignored:
    """One message read with the default limits (for tests and tools)."""
    return Classifier(root, roster)(topic, payload)


__all__ = [
    "CHECKS",
    "MAX_PAYLOAD_BYTES",
    "MODELS",
    "Classifier",
    "Ignored",
    "Parsed",
    "Rejected",
    "PERSONAL_MARKERS",
    "classify",
    "may_be_personal",
    "rejected",
]
