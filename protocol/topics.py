"""The topic tree: one subtree per site and room, with its QoS and retain rules."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

ROOT = "sc"
"""Default first level of every smartclass topic."""

HUB_SEGMENT = "_hub"
"""Second level reserved for the hub's own topics; never a valid site id."""

_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")


class TopicError(ValueError):
    """A topic that is not part of the contract."""


class Kind(StrEnum):
    """What a room topic carries."""

    STATUS = "status"
    TELEMETRY = "telemetry"
    STATE = "state"
    COMMAND = "cmd"
    REPLY = "reply"
    EVENT = "event"
    CONFIG = "config"
    CONFIG_APPLIED = "config/applied"
    HEALTH = "health"
    ACK = "ack"
    HELP = "help"


# (qos, retained) per kind. Commands are never retained: a retained command
# would replay on every subscription, switching relays after a broker restart.
_RULES: dict[Kind, tuple[int, bool]] = {
    Kind.STATUS: (1, True),
    Kind.TELEMETRY: (1, False),
    Kind.STATE: (1, True),
    Kind.COMMAND: (1, False),
    Kind.REPLY: (1, False),
    Kind.EVENT: (1, False),
    Kind.CONFIG: (1, True),
    Kind.CONFIG_APPLIED: (1, True),
    Kind.HEALTH: (1, True),
    Kind.ACK: (1, True),
    Kind.HELP: (1, True),
}

AGENT_WRITES = frozenset(
    {Kind.STATUS, Kind.TELEMETRY, Kind.STATE, Kind.REPLY, Kind.EVENT, Kind.HEALTH}
    | {Kind.CONFIG_APPLIED}
)
"""Kinds only the room's own agent publishes; the hub checks the sender against the topic."""
HUB_WRITES = frozenset({Kind.COMMAND, Kind.CONFIG, Kind.ACK, Kind.HELP})
"""Kinds only a hub publishes on a room's subtree."""
_WITH_DEVICE = (Kind.STATE, Kind.COMMAND)
"""Kinds whose last level names a device."""


def qos_of(kind: Kind) -> int:
    """The QoS every publisher uses for this kind of topic."""
    return _RULES[kind][0]


def retained(kind: Kind) -> bool:
    """Whether messages of this kind are published with the retain flag."""
    return _RULES[kind][1]


def validate_id(value: str, what: str = "id") -> str:
    """Return ``value`` if it is a valid site, room or device id, else raise TopicError."""
    if not _ID.match(value):
        msg = (
            f"invalid {what} {value!r}: use 1-63 lower-case letters, digits, '-' or '_',"
            " starting with a letter or digit"
        )
        raise TopicError(msg)
    return value


@dataclass(frozen=True, slots=True)
class RoomTopics:
    """The topics of one room."""

    site: str
    room: str
    root: str = ROOT

    def __post_init__(self) -> None:
        validate_id(self.site, "site id")
        validate_id(self.room, "room id")

    @property
    def base(self) -> str:
        return f"{self.root}/{self.site}/{self.room}"

    @property
    def status(self) -> str:
        return f"{self.base}/status"

    @property
    def telemetry(self) -> str:
        return f"{self.base}/telemetry"

    def state(self, device: str) -> str:
        return f"{self.base}/state/{validate_id(device, 'device id')}"

    def command(self, device: str) -> str:
        return f"{self.base}/cmd/{validate_id(device, 'device id')}"

    @property
    def commands(self) -> str:
        """Subscription filter for every command to this room."""
        return f"{self.base}/cmd/+"

    @property
    def reply(self) -> str:
        """Replies to a command that names no hub to answer (``reply_to`` absent)."""
        return f"{self.base}/reply"

    def reply_to(self, hub_id: str | None) -> str:
        """Replies for the hub ``hub_id``: each hub reads only its own."""
        if hub_id is None:
            return self.reply
        return f"{self.base}/reply/{validate_id(hub_id, 'hub id')}"

    @property
    def health(self) -> str:
        return f"{self.base}/health"

    @property
    def ack(self) -> str:
        """What the hub has stored of this agent's telemetry and events (retained)."""
        return f"{self.base}/ack"

    @property
    def event(self) -> str:
        return f"{self.base}/event"

    @property
    def help(self) -> str:
        """Where the hub says what became of the room's help request (retained)."""
        return f"{self.base}/help"

    @property
    def config(self) -> str:
        return f"{self.base}/config"

    @property
    def config_applied(self) -> str:
        return f"{self.base}/config/applied"


@dataclass(frozen=True, slots=True)
class ParsedTopic:
    """A room topic taken apart."""

    site: str
    room: str
    kind: Kind
    device: str | None = None
    hub: str | None = None
    """For a reply: the hub it is addressed to (None: any hub)."""


def parse_topic(topic: str, root: str = ROOT) -> ParsedTopic:
    """Take a room topic apart; raise TopicError for anything outside the contract."""
    parts = topic.split("/")
    if len(parts) < 4 or parts[0] != root:
        msg = f"not a room topic under {root!r}: {topic!r}"
        raise TopicError(msg)
    site, room, rest = parts[1], parts[2], parts[3:]
    validate_id(site, "site id")
    validate_id(room, "room id")
    device: str | None = None
    hub: str | None = None
    if len(rest) == 2 and rest[0] in _WITH_DEVICE:
        kind = Kind(rest[0])
        device = validate_id(rest[1], "device id")
    elif len(rest) == 2 and rest[0] == Kind.REPLY:
        kind = Kind.REPLY
        hub = validate_id(rest[1], "hub id")
    else:
        try:
            kind = Kind("/".join(rest))
        except ValueError:
            msg = f"unknown room topic kind in {topic!r}"
            raise TopicError(msg) from None
        if kind in _WITH_DEVICE:
            msg = f"{kind} topic without a device: {topic!r}"
            raise TopicError(msg)
    return ParsedTopic(site=site, room=room, kind=kind, device=device, hub=hub)


def hub_status_topic(root: str, hub_id: str) -> str:
    """A hub's own retained availability topic: each hub has one."""
    return f"{root}/{HUB_SEGMENT}/{validate_id(hub_id, 'hub id')}/status"


def hub_status_filter(root: str = ROOT) -> str:
    """Subscription filter for every hub's availability (what agents read)."""
    return f"{root}/{HUB_SEGMENT}/+/status"


def parse_hub_status_topic(topic: str, root: str = ROOT) -> str:
    """The hub id of a hub status topic; raise TopicError for anything else."""
    parts = topic.split("/")
    if len(parts) != 4 or parts[0] != root or parts[1] != HUB_SEGMENT or parts[3] != "status":
        msg = f"not a hub status topic under {root!r}: {topic!r}"
        raise TopicError(msg)
    return validate_id(parts[2], "hub id")


def hub_subscriptions(
    root: str = ROOT, share_group: str | None = None, hub_id: str | None = None
) -> list[str]:
    """Filters the hub subscribes to.

    With ``share_group``, the agents' messages come as MQTT 5 shared subscriptions (each
    message to one hub of the group); the replies addressed to ``hub_id`` never are.
    """
    filters = [
        f"{root}/+/+/{Kind.STATUS}",
        f"{root}/+/+/{Kind.TELEMETRY}",
        f"{root}/+/+/{Kind.STATE}/+",
        f"{root}/+/+/{Kind.REPLY}",
        f"{root}/+/+/{Kind.EVENT}",
        f"{root}/+/+/{Kind.HEALTH}",
        f"{root}/+/+/{Kind.CONFIG_APPLIED}",
    ]
    if share_group:
        filters = [f"$share/{share_group}/{f}" for f in filters]
    if hub_id is not None:
        filters.append(f"{root}/+/+/{Kind.REPLY}/{validate_id(hub_id, 'hub id')}")
    return filters


__all__ = [
    "AGENT_WRITES",
    "HUB_SEGMENT",
    "HUB_WRITES",
    "ROOT",
    "Kind",
    "ParsedTopic",
    "RoomTopics",
    "TopicError",
    "hub_status_filter",
    "hub_status_topic",
    "hub_subscriptions",
    "parse_hub_status_topic",
    "parse_topic",
    "qos_of",
    "retained",
    "validate_id",
]
