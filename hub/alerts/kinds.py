"""What an alert can be about, how grave each is, and where it stands."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal, NamedTuple

Severity = Literal["info", "warning", "critical"]
SEVERITIES: tuple[Severity, ...] = ("info", "warning", "critical")
"""From the least to the most grave."""


def graver(a: Severity, b: Severity) -> Severity:
    """The graver of two severities."""
    return a if SEVERITIES.index(a) >= SEVERITIES.index(b) else b


class AlertKind(StrEnum):
    AGENT_OFFLINE = "agent_offline"
    """The room's agent said offline (or its will came) and stayed so for the grace period."""
    DEVICE_UNAVAILABLE = "device_unavailable"
    """A device's state says it is unavailable."""
    LAMP_DUE = "lamp_due"
    """A projector's lamp hours reached the limit."""
    FILTER_DUE = "filter_due"
    """A projector's filter hours reached the limit."""
    PROJECTOR_ERROR = "projector_error"
    """A projector reports an error status (PJLink ERST: fan, lamp, temperature, cover, ...)."""
    SENSOR_FAULT = "sensor_fault"
    """A sensor reports faults (implausible values, checksum errors, a chip not answering)."""
    CO2_HIGH = "co2_high"
    """The room's CO2 reached the limit; it clears below the limit minus the hysteresis."""
    OUTBOX_DROPPED = "outbox_dropped"
    """The agent reports it dropped telemetry or events (its outbox bounds, a refused message)."""
    MESSAGES_MISSING = "messages_missing"
    """Sequence numbers neither stored nor reported dropped, for longer than the grace period."""
    HELP = "help"
    """A teacher asked for help from the room."""
    CARD_REFUSED = "card_refused"
    """The room's attendance camera refused a QR card (forged, revoked, of another class)."""


CONDITIONS = frozenset(
    set(AlertKind) - {AlertKind.OUTBOX_DROPPED, AlertKind.HELP, AlertKind.CARD_REFUSED}
)
"""Kinds raised by a condition of the room's current state: each ends by itself when the
condition clears, and one resolved while it holds is not raised again until it clears (or,
for those with a level, grows worse)."""


class AlertState(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    """By IT, with a comment."""
    ENDED = "ended"
    """By itself: its cause cleared (or the teacher withdrew the help request)."""


class AlertKey(NamedTuple):
    """What an alert is about: at most one active alert per key."""

    kind: AlertKind
    site: str
    room: str
    device: str = ""
    """Empty for the room itself."""

    @property
    def room_key(self) -> tuple[str, str]:
        return (self.site, self.room)


__all__ = [
    "CONDITIONS",
    "SEVERITIES",
    "AlertKey",
    "AlertKind",
    "AlertState",
    "Severity",
    "graver",
]
