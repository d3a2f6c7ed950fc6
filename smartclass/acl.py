"""Who may publish and subscribe where: one table of the topic tree, rendered as Mosquitto ACLs."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from protocol.topics import HUB_SEGMENT

PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


class Access(StrEnum):
    """What an ACL line allows."""

    READ = "read"
    WRITE = "write"
    READWRITE = "readwrite"


class Party(StrEnum):
    """Who a topic is for, as seen by the one who receives the grant."""

    AGENT = "agent"
    """The edge agent of the room named in the topic."""
    HA_AGENT = "ha-agent"
    """The same agent, when its room has Home Assistant on."""
    HUB = "hub"
    """Every hub."""
    THE_HUB = "the-hub"
    """Only the hub named by ``{hub_id}`` in the topic."""
    HOMEASSISTANT = "homeassistant"
    """Home Assistant's own broker user."""


@dataclass(frozen=True, slots=True)
class TopicRule:
    """One kind of topic: its pattern, who publishes on it, who receives it, whether retained.

    Placeholders a party binds are filled with that party's own values (an agent
    its ``{site}`` and ``{room}``, the hub named by ``{hub_id}`` its own id); any
    other placeholder becomes ``+``.
    """

    kind: str
    pattern: str
    writers: frozenset[Party]
    readers: frozenset[Party]
    retained: bool = False


def _rule(
    kind: str, pattern: str, writers: Iterable[Party], readers: Iterable[Party], *, retained: bool
) -> TopicRule:
    return TopicRule(kind, pattern, frozenset(writers), frozenset(readers), retained)


_AGENT, _HA_AGENT, _HUB, _THE_HUB, _HA = (
    Party.AGENT,
    Party.HA_AGENT,
    Party.HUB,
    Party.THE_HUB,
    Party.HOMEASSISTANT,
)
_ROOM = "{root}/{site}/{room}"

TOPICS: tuple[TopicRule, ...] = (
    # agent → hub
    _rule("status", f"{_ROOM}/status", [_AGENT], [_HUB], retained=True),
    _rule("telemetry", f"{_ROOM}/telemetry", [_AGENT], [_HUB], retained=False),
    _rule("state", f"{_ROOM}/state/{{device}}", [_AGENT], [_HUB], retained=True),
    _rule("reply", f"{_ROOM}/reply/{{hub_id}}", [_AGENT], [_THE_HUB], retained=False),
    # a reply to a command that named no hub (a v1 or third-party sender): any hub reads it
    _rule("reply/any", f"{_ROOM}/reply", [_AGENT], [_HUB], retained=False),
    _rule("event", f"{_ROOM}/event", [_AGENT], [_HUB], retained=False),
    _rule("health", f"{_ROOM}/health", [_AGENT], [_HUB], retained=True),
    _rule("config/applied", f"{_ROOM}/config/applied", [_AGENT], [_HUB], retained=True),
    # hub → agent; commands are never retained (a retained one replays at every subscription)
    _rule("cmd", f"{_ROOM}/cmd/{{device}}", [_HUB], [_AGENT], retained=False),
    _rule("config", f"{_ROOM}/config", [_HUB], [_AGENT], retained=True),
    _rule("ack", f"{_ROOM}/ack", [_HUB], [_AGENT], retained=True),
    _rule("help", f"{_ROOM}/help", [_HUB], [_AGENT], retained=True),
    _rule(
        "hub/status",
        f"{{root}}/{HUB_SEGMENT}/{{hub_id}}/status",
        [_THE_HUB],
        [_AGENT, _HUB],
        retained=True,
    ),
    # Home Assistant, for the rooms that enable it (node id as in edge/homeassistant.py)
    _rule(
        "ha/discovery",
        "{prefix}/{component}/{node_id}/{object_id}/config",
        [_HA_AGENT],
        [_HA],
        retained=True,
    ),
    _rule("ha/command", f"{_ROOM}/ha/#", [_HA], [_HA_AGENT], retained=False),
    _rule("ha/tree", "{root}/#", [], [_HA], retained=False),
    _rule("ha/prefix", "{prefix}/#", [], [_HA], retained=False),
    # Home Assistant's own birth and last will (its MQTT integration's defaults)
    _rule("ha/birth", "{prefix}/status", [_HA], [_HA], retained=True),
)
"""The topic tree as ACLs see it (contract version 2). Every grant comes from here."""


@dataclass(frozen=True, slots=True, order=True)
class Grant:
    """One ACL line: ``topic ACCESS TOPIC``."""

    access: Access
    topic: str

    @classmethod
    def read(cls, topic: str) -> Grant:
        return cls(Access.READ, topic)

    @classmethod
    def write(cls, topic: str) -> Grant:
        return cls(Access.WRITE, topic)

    @classmethod
    def readwrite(cls, topic: str) -> Grant:
        return cls(Access.READWRITE, topic)

    def line(self) -> str:
        return f"topic {self.access} {self.topic}"


Bindings = Mapping[Party, Mapping[str, str]]
"""The parties one identity plays, each with the placeholder values it binds."""


def fill(pattern: str, values: Mapping[str, str]) -> str:
    """``pattern`` with bound placeholders filled and the others turned into ``+``."""
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1), "+"), pattern)


def covers(general: str, specific: str) -> bool:
    """Whether the topic filter ``general`` matches every topic ``specific`` matches."""
    g, s = general.split("/"), specific.split("/")
    for i, level in enumerate(g):
        if level == "#":
            return True
        if i >= len(s) or s[i] == "#" or (level != "+" and level != s[i]):
            return False
    return len(g) == len(s)


def grants(bindings: Bindings, table: Iterable[TopicRule] = TOPICS) -> tuple[Grant, ...]:
    """The ACL lines of an identity playing ``bindings``, in table order, with none redundant.

    A line whose topics another line of the same access already grants is left
    out; a topic both read and written becomes one ``readwrite`` line.
    """
    wanted: list[tuple[Access, str]] = []
    for rule in table:
        for access, parties in ((Access.WRITE, rule.writers), (Access.READ, rule.readers)):
            for party in sorted(parties & bindings.keys()):
                item = (access, fill(rule.pattern, bindings[party]))
                if item not in wanted:
                    wanted.append(item)
    kept = [
        (access, topic)
        for access, topic in wanted
        if not any(a == access and t != topic and covers(t, topic) for a, t in wanted)
    ]
    topics = list(dict.fromkeys(topic for _, topic in kept))
    out = []
    for topic in topics:
        accesses = {a for a, t in kept if t == topic}
        access = Access.READWRITE if len(accesses) == 2 else accesses.pop()
        out.append(Grant(access, topic))
    return tuple(out)


def render_acl(users: Mapping[str, Iterable[Grant]]) -> str:
    """A Mosquitto ACL file: one ``user`` block per username, sorted, so diffs stay small."""
    lines = [
        "# Written by 'smartclass broker credentials': regenerate it, do not edit it.",
        "# No line comes before the first 'user': anonymous clients get nothing (and the",
        "# broker refuses them anyway). Every user gets its own explicit lines rather than",
        "# 'pattern' lines keyed on %u/%c: a pattern applies to every user (Home Assistant",
        "# and operators too), and an identity such as edge-{root}-{site}-{room} cannot be",
        "# split into the site and room levels a pattern would need. Explicit lines also",
        "# show in one block exactly what each identity may do.",
        "# Mosquitto 2.0 checks reads when it delivers a message (a SUBSCRIBE is never",
        "# refused), so 'read' lines on plain topics also cover $share/... subscriptions.",
    ]
    for username in sorted(users):
        lines += ["", f"user {username}"]
        lines += [g.line() for g in users[username]]
    return "\n".join(lines) + "\n"


__all__ = [
    "TOPICS",
    "Access",
    "Bindings",
    "Grant",
    "Party",
    "TopicRule",
    "covers",
    "fill",
    "grants",
    "render_acl",
]
