"""The JSON shapes of alerts: what the API returns and what a webhook receives."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from hub.alerts.engine import Transition
from hub.alerts.kinds import AlertKind, AlertState, Severity
from hub.alerts.store import AlertRecord, TransitionRecord


class AlertPublic(BaseModel):
    """One alert and where it stands."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: AlertKind
    severity: Severity
    site: str
    room: str
    device: str | None
    """The device it is about; null for the room itself."""
    state: AlertState
    started_at: datetime
    last_at: datetime
    """When it was raised or its cause last reported again."""
    ended_at: datetime | None
    """When it was resolved or ended by itself."""
    repeats: int
    """How often its cause was reported again while it was active."""
    text: str
    data: dict[str, Any]
    acknowledged_by: str | None
    acknowledged_at: datetime | None
    ack_comment: str | None
    resolved_by: str | None
    resolved_at: datetime | None
    resolve_comment: str | None


class AlertTransitionPublic(BaseModel):
    """One step of an alert's life."""

    at: datetime
    action: Literal["raised", "repeated", "acknowledged", "resolved", "ended"]
    actor: str
    """The user; empty for the hub itself."""
    comment: str
    data: dict[str, Any]


class AlertDetailPublic(AlertPublic):
    history: list[AlertTransitionPublic]
    """Its transitions, oldest first (the newest 200)."""


class AlertNotification(BaseModel):
    """The body of a webhook POST: one transition of one alert."""

    event: Literal[
        "alert.raised", "alert.acknowledged", "alert.resolved", "alert.ended", "alert.repeated"
    ]
    hub: str
    """The id of the hub that sends it."""
    at: datetime
    actor: str
    comment: str
    alert: AlertPublic


class WebhookHealthPublic(BaseModel):
    """The alert webhook since the hub started."""

    queued: int
    sent: int
    failed: int
    """Notifications given up after every attempt, or refused."""
    retries: int
    dropped: int
    """Notifications not queued: the queue was full."""
    last_error: str | None


class AlertsHealthPublic(BaseModel):
    """The hub's alerts at a glance."""

    active: dict[str, int]
    """Open or acknowledged alerts per severity."""
    judgements: int
    """Times the rooms were judged since the hub started."""
    errors: int
    """Judgements that failed (retried)."""
    events_dropped: int
    """Help events dropped because their queue was full."""
    help_answers_pending: int
    """Answers to rooms' help requests not yet published (the broker away)."""
    webhook: WebhookHealthPublic | None
    """None: no webhook configured."""


def alert_public(alert: AlertRecord) -> AlertPublic:
    return AlertPublic(
        id=alert.id,
        kind=AlertKind(alert.kind),
        severity=alert.severity,
        site=alert.site,
        room=alert.room,
        device=alert.device or None,
        state=alert.state,
        started_at=alert.started_at,
        last_at=alert.last_at,
        ended_at=alert.ended_at,
        repeats=alert.repeats,
        text=alert.text,
        data=alert.data,
        acknowledged_by=alert.acknowledged_by,
        acknowledged_at=alert.acknowledged_at,
        ack_comment=alert.ack_comment,
        resolved_by=alert.resolved_by,
        resolved_at=alert.resolved_at,
        resolve_comment=alert.resolve_comment,
    )


def alert_detail(alert: AlertRecord, history: list[TransitionRecord]) -> AlertDetailPublic:
    steps = [AlertTransitionPublic.model_validate(step, from_attributes=True) for step in history]
    return AlertDetailPublic(**alert_public(alert).model_dump(), history=steps)


def notification(transition: Transition, hub_id: str) -> AlertNotification:
    t = transition
    return AlertNotification(
        event=f"alert.{t.action}",
        hub=hub_id,
        at=t.at,
        actor=t.actor,
        comment=t.comment,
        alert=alert_public(t.alert),
    )


__all__ = [
    "AlertsHealthPublic",
    "WebhookHealthPublic",
    "AlertDetailPublic",
    "AlertNotification",
    "AlertPublic",
    "AlertTransitionPublic",
    "alert_detail",
    "alert_public",
    "notification",
]
