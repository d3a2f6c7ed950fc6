"""What the hub writes to InfluxDB: its schema, as line protocol made from stored messages.

One function, ``lines_of``, turns a stored message into points; the exporter writes them
and the dashboards' tests load the same points into a real InfluxQL server. The schema is
described in ``docs/influx.md``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from hub.parsing import Parsed
from protocol import DeviceState, Event, Health, Status, Telemetry

PRECISION = "us"
"""Timestamps are microseconds since the epoch (the contract's times have that precision)."""

TELEMETRY = "telemetry"
DEVICE_STATE = "device_state"
EVENTS = "events"
AGENT_STATUS = "agent_status"
AGENT_HEALTH = "agent_health"
MEASUREMENTS = (TELEMETRY, DEVICE_STATE, EVENTS, AGENT_STATUS, AGENT_HEALTH)

STATE_FIELDS_MAX = 64
"""Most fields one device state adds beyond the derived ones."""
STATE_DEPTH_MAX = 3
"""Deepest nesting of a device state that is flattened into fields (``front.level``: 2)."""
STATE_TEXT_MAX = 256
"""Longest string field taken from a device state (the rest is cut)."""
IN_USE_POWER = frozenset({"on", "warming"})
"""Projector powers that count as in use: warming up means someone switched it on."""

PREFIXES_CACHED = 65_536
"""Measurement-and-tags prefixes kept made (a room has a few dozen series); emptied when full."""
_PREFIXES: dict[tuple[object, ...], str] = {}
"""Series repeat from message to message: escaping and sorting their tags each time cost a
third of making a point."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)
_SEGMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,62}")
"""A state key that may become part of a field name: no quoting, no leading underscore
(InfluxDB 2 and 3 keep those for themselves)."""
_TAG_ESCAPES = str.maketrans({",": r"\,", "=": r"\=", " ": r"\ ", "\\": "\\\\"})
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

Fields = dict[str, float | str]


def timestamp_us(when: datetime) -> int:
    """Microseconds since the epoch, exactly (no float rounding)."""
    return (when - _EPOCH) // _US


def _tag(value: str) -> str:
    return value.translate(_TAG_ESCAPES)


def _string(value: str) -> str:
    text = _CONTROL.sub(" ", value)
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _number(value: float | bool) -> float | None:
    number = float(value)
    return number if math.isfinite(number) else None


def line(
    measurement: str, tags: Mapping[str, str | None], fields: Fields, when: datetime
) -> str | None:
    """One point (None if no field is left); tags without a value are left out, and so are
    fields that name a tag or ``time`` (InfluxQL could not tell them apart). Every number is
    a float: a field keeps one type for good, and a count written once as an integer would
    refuse a float later."""
    key_of = (measurement, *tags.items())
    prefix = _PREFIXES.get(key_of)
    if prefix is None:
        prefix = measurement + "".join(f",{k}={_tag(v)}" for k, v in sorted(tags.items()) if v)
        if len(_PREFIXES) >= PREFIXES_CACHED:
            _PREFIXES.clear()
        _PREFIXES[key_of] = prefix
    parts = []
    for key, value in fields.items():
        if key == "time" or key in tags:
            continue
        if isinstance(value, str):
            parts.append(f"{key}={_string(value)}")
        else:
            parts.append(f"{key}={value!r}")
    if not parts:
        return None
    return f"{prefix} {','.join(parts)} {timestamp_us(when)}"


def when_of(parsed: Parsed) -> datetime:
    """The message's own time, so late data lands at its time; two exceptions take the
    hub's receive time instead: a status (an agent's will is made at connect, long before
    the broker sends it) and a time the hub flagged as far from its clock (a point in 2100
    would sit in InfluxDB's future for good)."""
    if isinstance(parsed.message, Status) or parsed.skew_s is not None:
        return parsed.received_at
    return parsed.message.ts


def flatten(
    state: Mapping[str, Any], prefix: str = "", depth: int = 1
) -> Iterator[tuple[str, Any]]:
    """The scalar leaves of a state, their keys joined with ``.``; keys that cannot name a
    field, lists and leaves deeper than STATE_DEPTH_MAX are left out."""
    for key, value in state.items():
        if not _SEGMENT.fullmatch(key):  # match's $ would let a final newline through
            continue
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            if depth < STATE_DEPTH_MAX:
                yield from flatten(value, f"{name}.", depth + 1)
        elif isinstance(value, bool | int | float | str):
            yield name, value


def usage(family: str, state: Mapping[str, Any]) -> Fields:
    """``in_use`` (1 or 0) and, for lights, ``level`` (mean of the zones, 0-100), for the
    families whose state says whether they are used; nothing for the others."""
    if family == "lighting":
        zones = [z for z in state.values() if isinstance(z, Mapping)]
        on = [z.get("on") is True for z in zones]
        levels = [float(z["level"]) for z in zones if isinstance(z.get("level"), int | float)]
        out: Fields = {"in_use": float(any(on))}
        if levels:
            out["level"] = sum(levels) / len(levels)
        return out
    if family == "projector":
        return {"in_use": float(state.get("power") in IN_USE_POWER)}
    if family == "occupancy" and isinstance(state.get("occupied"), bool):
        return {"in_use": float(state["occupied"])}
    return {}


def state_fields(message: DeviceState) -> Fields:
    """``available``, the derived usage, then the state's own leaves (numbers and booleans
    as floats, strings cut to STATE_TEXT_MAX; at most STATE_FIELDS_MAX of them)."""
    fields: Fields = {"available": float(message.available)}
    fields.update(usage(message.family, message.state))
    added = 0
    for key, value in flatten(message.state):
        if key in fields:
            continue
        if isinstance(value, str):
            fields[key] = value[:STATE_TEXT_MAX]
        else:
            number = _number(value)
            if number is None:
                continue
            fields[key] = number
        added += 1
        if added >= STATE_FIELDS_MAX:
            break
    return fields


def _health_fields(message: Health) -> Fields:
    outbox = message.outbox
    fields: Fields = {
        "outbox_backlog": float(outbox.backlog),
        "outbox_parked": float(outbox.parked),
        "outbox_oldest_s": outbox.oldest_s,
        "storage_ok": float(outbox.storage_ok),
        "last_seq": float(message.last_seq),
        "boot_no": float(message.boot_no),
        "lost": float(sum(loss.count for loss in message.losses)),
        "uptime_s": max((message.ts - message.started_at).total_seconds(), 0.0),
    }
    if message.clock_offset_s is not None:
        fields["clock_offset_s"] = message.clock_offset_s
    return fields


def lines_of(parsed: Parsed) -> list[str]:
    """The points of one stored message: none for the kinds that are not exported
    (command replies, configuration echoes)."""
    point = _point(parsed)
    return [point] if point is not None else []


def _point(parsed: Parsed) -> str | None:
    message = parsed.message
    room = {"site": parsed.topic.site, "room": parsed.topic.room}
    when = when_of(parsed)
    if isinstance(message, Telemetry):
        readings: Fields = dict(message.readings)
        return line(TELEMETRY, {**room, "device": message.device}, readings, when)
    if isinstance(message, DeviceState):
        tags = {**room, "device": message.device, "family": message.family}
        return line(DEVICE_STATE, tags, state_fields(message), when)
    if isinstance(message, Event):
        event_tags: dict[str, str | None] = {
            **room, "kind": message.kind, "severity": message.severity, "device": message.device
        }  # fmt: skip
        fields: Fields = {"seq": float(message.seq), "text": message.text}
        return line(EVENTS, event_tags, fields, when)
    if isinstance(message, Status):
        status: Fields = {
            "online": float(message.state == "online"),
            "conn": float(message.conn),
            "boot_no": float(message.boot_no),
            "keepalive_s": float(message.keepalive),
            "devices": float(len(message.devices)),
            "agent_version": message.agent_version,
        }
        return line(AGENT_STATUS, room, status, when)
    if isinstance(message, Health):
        return line(AGENT_HEALTH, room, _health_fields(message), when)
    return None


__all__ = [
    "AGENT_HEALTH",
    "AGENT_STATUS",
    "DEVICE_STATE",
    "EVENTS",
    "IN_USE_POWER",
    "MEASUREMENTS",
    "PRECISION",
    "STATE_DEPTH_MAX",
    "STATE_FIELDS_MAX",
    "STATE_TEXT_MAX",
    "TELEMETRY",
    "flatten",
    "line",
    "lines_of",
    "state_fields",
    "timestamp_us",
    "usage",
    "when_of",
]
