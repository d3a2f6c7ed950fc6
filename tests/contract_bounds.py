"""Every bound of what an agent sends the hub, as a message at the bound and one just over it.

One table for the unit tests (through the hub's parser and store) and the system test
(through the real broker to a hub process). Each message carries a tag at the start of its
payload (its ``boot``, or a reply's ``id``) so that a dead letter can be told apart by its
preview.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from protocol import RoomTopics
from protocol.messages import (
    BOOTS_MAX,
    DATA_MAX_BYTES,
    DEVICES_MAX,
    INT32_MAX,
    INTERVAL_MAX_S,
    METRICS_MAX,
    RANGES_MAX,
    TEXT_MAX,
)
from protocol.version import CONTRACT_VERSION

ID_MAX = 63
"""Longest site, room, device id, metric, kind or family (``protocol.topics.validate_id``)."""
BOOT_MAX = 64
"""Longest boot id, command id and agent version."""
SENDER_MAX = 200
DEPTH_MAX = 8
"""Deepest event data or device state (the object itself counts 1)."""
REASONS_MAX = 16
"""Most reasons in one boot's losses."""


@dataclass(frozen=True, slots=True)
class Bound:
    """One bound: the body's fields at the bound (accepted) and just over it (refused)."""

    name: str
    kind: str
    """The topic: ``telemetry``, ``event``, ``status``, ``state``, ``reply``,
    ``config_applied`` or ``health``."""
    field: str
    """What the dead letter's detail names."""
    at: dict[str, Any]
    over: dict[str, Any]
    reason: str = "bad_schema"
    at_reason: str | None = None
    """The message at the bound passes this bound but is refused for this other reason."""

    def tag(self) -> str:
        return f"tag.{self.name}."


def _text(n: int) -> str:
    return "ư" * n  # Vietnamese: the bound is in characters, not bytes


def _data(size: int) -> dict[str, Any]:
    """An object of exactly ``size`` bytes as compact JSON: {"k":"xx…"}."""
    return {"k": "x" * (size - 8)}


def _deep(depth: int) -> dict[str, Any]:
    """An object nested ``depth`` levels deep (itself included)."""
    value: dict[str, Any] = {}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


def _losses(boots: int = 1, ranges: int = 1, reasons: int = 1) -> list[dict[str, Any]]:
    return [
        {"boot": f"old-{b}", "dropped": [[2 * i + 1, 2 * i + 1] for i in range(ranges)],
         "count": ranges, "by_reason": {f"r{i}": 1 for i in range(reasons)}}
        for b in range(boots)
    ]  # fmt: skip


BOUNDS: tuple[Bound, ...] = (
    # telemetry
    Bound("readings-count", "telemetry", "readings",
          {"readings": {f"m{i}": 1.0 for i in range(METRICS_MAX)}},
          {"readings": {f"m{i}": 1.0 for i in range(METRICS_MAX + 1)}}),
    Bound("readings-empty", "telemetry", "readings", {"readings": {"m": 1.0}}, {"readings": {}}),
    Bound("metric-name", "telemetry", "readings", {"readings": {"m" * ID_MAX: 1.0}},
          {"readings": {"m" * (ID_MAX + 1): 1.0}}),
    Bound("reading-finite", "telemetry", "readings", {"readings": {"m": 1e308}},
          {"readings": {"m": float("inf")}}),
    Bound("device-id", "telemetry", "device", {"device": "d" * ID_MAX},
          {"device": "d" * (ID_MAX + 1)}),
    Bound("boot-id", "telemetry", "boot", {"boot": BOOT_MAX}, {"boot": BOOT_MAX + 1}),
    Bound("seq-max", "telemetry", "seq", {"seq": INT32_MAX}, {"seq": INT32_MAX + 1}),
    Bound("seq-min", "telemetry", "seq", {"seq": 1}, {"seq": 0}),
    Bound("boot-no", "telemetry", "boot_no", {"boot_no": INT32_MAX}, {"boot_no": INT32_MAX + 1}),
    Bound("interval", "telemetry", "interval_s", {"interval_s": INTERVAL_MAX_S},
          {"interval_s": INTERVAL_MAX_S + 0.001}),
    Bound("sender", "telemetry", "sender", {"sender": "e" * SENDER_MAX},
          {"sender": "e" * (SENDER_MAX + 1)}, at_reason="sender_mismatch"),
    Bound("ts-late", "telemetry", "ts", {"ts": "2199-12-31T23:59:59Z"},
          {"ts": "2200-01-01T00:00:00Z"}),
    Bound("ts-early", "telemetry", "ts", {"ts": "1970-01-01T00:00:00Z"},
          {"ts": "1969-12-31T23:59:59Z"}),
    Bound("ts-overflow", "telemetry", "ts", {"ts": "2199-12-31T23:00:00-00:59"},
          {"ts": "9999-12-31T23:59:59-01:00"}),
    Bound("version", "telemetry", "v", {"v": CONTRACT_VERSION}, {"v": CONTRACT_VERSION + 1},
          reason="bad_version"),
    # events
    Bound("event-text", "event", "text", {"text": _text(TEXT_MAX)}, {"text": _text(TEXT_MAX + 1)}),
    Bound("event-text-nul", "event", "text", {"text": "a b"}, {"text": "a\x00b"}),
    Bound("event-data-size", "event", "data", {"data": _data(DATA_MAX_BYTES)},
          {"data": _data(DATA_MAX_BYTES + 1)}),
    Bound("event-data-depth", "event", "data", {"data": _deep(DEPTH_MAX)},
          {"data": _deep(DEPTH_MAX + 1)}),
    Bound("event-kind", "event", "kind", {"kind": "k" * ID_MAX}, {"kind": "k" * (ID_MAX + 1)}),
    # device states
    Bound("state-size", "state", "state", {"state": _data(DATA_MAX_BYTES)},
          {"state": _data(DATA_MAX_BYTES + 1)}),
    Bound("state-depth", "state", "state", {"state": _deep(DEPTH_MAX)},
          {"state": _deep(DEPTH_MAX + 1)}),
    Bound("state-family", "state", "family", {"family": "f" * ID_MAX},
          {"family": "f" * (ID_MAX + 1)}),
    # replies
    Bound("reply-text", "reply", "text", {"text": _text(TEXT_MAX)}, {"text": _text(TEXT_MAX + 1)}),
    Bound("reply-state", "reply", "state", {"state": _data(DATA_MAX_BYTES)},
          {"state": _data(DATA_MAX_BYTES + 1)}),
    Bound("reply-id", "reply", "id", {"id": BOOT_MAX}, {"id": BOOT_MAX + 1}),
    # configuration applied
    Bound("applied-text", "config_applied", "text", {"text": _text(TEXT_MAX)},
          {"text": _text(TEXT_MAX + 1)}),
    Bound("applied-version", "config_applied", "version", {"version": INT32_MAX},
          {"version": INT32_MAX + 1}),
    # health
    Bound("health-boots", "health", "losses", {"losses": _losses(boots=BOOTS_MAX)},
          {"losses": _losses(boots=BOOTS_MAX + 1)}),
    Bound("health-ranges", "health", "losses", {"losses": _losses(ranges=RANGES_MAX)},
          {"losses": _losses(ranges=RANGES_MAX + 1)}),
    Bound("health-reasons", "health", "losses", {"losses": _losses(reasons=REASONS_MAX)},
          {"losses": _losses(reasons=REASONS_MAX + 1)}),
    Bound("health-storage-text", "health", "outbox",
          {"outbox": {"storage_ok": False, "storage_text": _text(TEXT_MAX)}},
          {"outbox": {"storage_ok": False, "storage_text": _text(TEXT_MAX + 1)}}),
    Bound("health-last-seq", "health", "last_seq", {"last_seq": INT32_MAX},
          {"last_seq": INT32_MAX + 1}),
    # statuses
    Bound("status-devices", "status", "devices", {"devices": [f"d{i}" for i in range(DEVICES_MAX)]},
          {"devices": [f"d{i}" for i in range(DEVICES_MAX + 1)]}),
    Bound("status-families", "status", "families",
          {"families": {f"d{i}": "lighting" for i in range(DEVICES_MAX)}},
          {"families": {f"d{i}": "lighting" for i in range(DEVICES_MAX + 1)}}),
    Bound("agent-version", "status", "agent_version", {"agent_version": "1" * BOOT_MAX},
          {"agent_version": "1" * (BOOT_MAX + 1)}),
    Bound("keepalive", "status", "keepalive", {"keepalive": 65535}, {"keepalive": 65536}),
    Bound("status-conn", "status", "conn", {"conn": INT32_MAX}, {"conn": INT32_MAX + 1}),
    Bound("status-n", "status", "n", {"n": INT32_MAX}, {"n": INT32_MAX + 1}),
)  # fmt: skip
"""Each bound of the contract that an agent's message can cross (the hub's own on top:
``SERIES_MAX``, ``DEVICES_MAX`` states and the payload size are tried apart). Statuses come
last: a status at its bound names devices and families, against which states are checked."""


@dataclass(slots=True)
class Sender:
    """Makes the payloads of one room's agent."""

    site: str
    room: str
    root: str
    hub_id: str
    now: datetime
    seqs: dict[str, int] = field(default_factory=dict)

    @property
    def topics(self) -> RoomTopics:
        return RoomTopics(self.site, self.room, self.root)

    def topic(self, kind: str, device: str = "lights") -> str:
        t = self.topics
        named = {"telemetry": t.telemetry, "event": t.event, "status": t.status,
                 "state": t.state(device), "reply": t.reply_to(self.hub_id),
                 "config_applied": t.config_applied, "health": t.health}  # fmt: skip
        return named[kind]

    def body(self, kind: str, tag: str, changes: dict[str, Any]) -> dict[str, Any]:
        """A valid body of ``kind`` tagged ``tag`` (first in the payload), with ``changes``; a
        number given for ``boot`` or ``id`` is the length of the tag made that long."""
        sender = f"edge/{self.site}/{self.room}"
        base: dict[str, Any] = {"v": CONTRACT_VERSION, "ts": self.now.isoformat(), "sender": sender}
        if kind == "reply":
            first = {"id": tag}
            base.update(device="lights", code="ok", text="", state=None)
        else:
            first = {"boot": tag}
            base.update(boot_no=1)
            self.seqs[tag] = seq = self.seqs.get(tag, 0) + 1
            base.update(_kind_body(kind, seq, self.now))
        body = {**first, **base, **changes}
        for key in ("boot", "id"):
            if isinstance(body.get(key), int) and key in changes:
                body[key] = (tag + "x" * 200)[: changes[key]]
        return body

    def payload(self, bound: Bound, *, over: bool) -> tuple[str, bytes]:
        """The topic and payload of ``bound`` at it, or just over it."""
        body = self.body(bound.kind, bound.tag(), bound.over if over else bound.at)
        return self.topic(bound.kind), json.dumps(body).encode()


def _kind_body(kind: str, seq: int, now: datetime) -> dict[str, Any]:
    if kind == "telemetry":
        return {"seq": seq, "device": "env", "readings": {"co2_ppm": 500.0}}
    if kind == "event":
        return {"seq": seq, "kind": "note", "text": "", "data": {}}
    if kind == "status":
        return {"n": seq, "state": "online", "conn": 1, "keepalive": 30}
    if kind == "state":
        return {"n": seq, "device": "lights", "family": "lighting", "state": {"on": True}}
    if kind == "config_applied":
        return {"n": seq, "version": 1}
    assert kind == "health", kind
    return {"n": seq, "started_at": now.isoformat(), "last_seq": 0}


def padded(payload: bytes, size: int) -> bytes:
    """A JSON payload made exactly ``size`` bytes long with trailing spaces (still valid)."""
    assert len(payload) <= size
    return payload + b" " * (size - len(payload))


__all__ = ["BOUNDS", "Bound", "Sender", "padded"]
