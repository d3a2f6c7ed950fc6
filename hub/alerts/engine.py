"""The alert life cycle: raise, count repeats, end by itself, acknowledge and resolve.

``AlertEngine`` is synchronous and keeps what it needs in memory (the active alerts, the
conditions resolved while they held, the causes waiting out their grace period, each room's
drop count); it reads and writes through ``AlertStore``, and is used from one thread at a time
(the alert service's worker). Time is whatever ``now`` says, so tests drive it.

- A condition (``kinds.CONDITIONS``) is judged on the room's stored state (``rules.observe``):
  raised once it has held for its grace period, counted again for each new message that says
  so, ended when it clears. Resolved while it holds, it is not raised again until it clears or
  grows worse (its level rises).
- ``outbox_dropped`` is raised when the agent's drop count grows, counted again at each growth,
  and ends after a quiet period without one.
- ``card_refused`` is raised by the room's ``attendance_card_refused`` event (a warning),
  counted again by each further one while it is active; IT resolves it. Each event counts
  once, as for help.
- ``help`` is raised by the room's ``help`` event, counted again by each further one while it
  is active, and ended by ``help_cancelled``; each event counts once, ever (its source is
  unique among the transitions), so a redelivery changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from hub.alerts.kinds import CONDITIONS, AlertKey, AlertKind, graver
from hub.alerts.rules import Limits, Observation, RoomSnapshot, observe
from hub.alerts.store import AlertRecord, AlertStore, NewAlert, RoomKey
from hub.parsing import Parsed
from protocol import Event, utcnow
from protocol.attendance import KIND_CARD_REFUSED, CardRefused, read_data
from protocol.bounds import safe_text

HELP_EVENT = "help"
CANCEL_EVENT = "help_cancelled"
HELP_EVENTS = frozenset({HELP_EVENT, CANCEL_EVENT})
"""Event kinds of the agent's help panel (``edge/help.py``)."""
ROOM_EVENTS = HELP_EVENTS | {KIND_CARD_REFUSED}
"""Event kinds the engine reads."""
REASON_MAX = 200

Action = Literal["raised", "repeated", "acknowledged", "resolved", "ended"]


@dataclass(frozen=True, slots=True)
class RoomEvent:
    """An event of a room's help panel, as the engine needs it."""

    site: str
    room: str
    kind: str
    boot: str
    seq: int
    text: str = ""
    data: tuple[tuple[str, str], ...] = ()
    """What the engine keeps of the event's data (a card refusal's reason and serial)."""

    @property
    def source(self) -> str:
        return f"{self.site}/{self.room}/{self.boot}/{self.seq}"


def room_events(batch: Iterable[Parsed]) -> list[RoomEvent]:
    """The events of an ingest batch that raise alerts, in order (a card refusal whose data
    cannot be read is left out: the store kept it as a dead letter)."""
    out = []
    for item in batch:
        msg = item.message
        if not isinstance(msg, Event) or msg.kind not in ROOM_EVENTS:
            continue
        site, room = item.topic.site, item.topic.room
        data: tuple[tuple[str, str], ...] = ()
        if msg.kind == KIND_CARD_REFUSED:
            try:
                refusal = read_data(CardRefused, msg.data)
            except ValueError:
                continue
            data = (("reason", refusal.reason), ("serial", str(refusal.serial or "")))
        out.append(RoomEvent(site, room, msg.kind, msg.boot, msg.seq, msg.text, data))
    return out


@dataclass(frozen=True, slots=True)
class Transition:
    """A step of an alert's life, with the alert as it is after it."""

    action: Action
    alert: AlertRecord
    at: datetime
    actor: str = ""
    comment: str = ""


class AlertEngine:
    """Raises and ends alerts from the rooms' stored state and events; one thread at a time."""

    def __init__(
        self, store: AlertStore, limits: Limits, *, now: Callable[[], datetime] = utcnow
    ) -> None:
        self.store = store
        self.limits = limits
        self.now = now
        self.started_at: datetime | None = None
        self._open: dict[AlertKey, AlertRecord] = {}
        self._latched: dict[AlertKey, AlertRecord] = {}
        self._pending: dict[AlertKey, datetime] = {}
        """Causes that hold and wait out their grace period: since when."""
        self._dropped: dict[RoomKey, int] = {}
        """Each room's drop count at the last look."""

    @property
    def open_alerts(self) -> list[AlertRecord]:
        return list(self._open.values())

    @property
    def waiting_rooms(self) -> set[RoomKey]:
        """Rooms with a cause waiting out its grace period: ``tick`` looks at them again."""
        return {key.room_key for key in self._pending}

    def start(self) -> list[Transition]:
        """Take up the alerts the database holds (after a restart: nothing is raised twice),
        then judge every room once."""
        self.started_at = self.now()
        self._open = {a.key: a for a in self.store.active()}
        self._latched = {a.key: a for a in self.store.latched()}  # the newest per key wins
        self._pending.clear()
        self._dropped = {
            k.room_key: int(a.level or 0)
            for k, a in self._open.items()
            if k.kind is AlertKind.OUTBOX_DROPPED
        }
        return self.evaluate(None)

    def evaluate(
        self, rooms: Collection[RoomKey] | None, events: Iterable[RoomEvent] = ()
    ) -> list[Transition]:
        """Take the events in order, then judge ``rooms`` (every room when None)."""
        now = self.now()
        out: list[Transition] = []
        for event in events:
            self._event(event, now, out)
        if rooms is None or rooms:
            for snapshot in self.store.snapshots(rooms):
                self._room(snapshot, now, out)
        return out

    def tick(self) -> list[Transition]:
        """What time alone decides: causes that waited out their grace period (an agent that
        stays offline sends nothing), drops that stopped."""
        now = self.now()
        out: list[Transition] = []
        quiet = timedelta(seconds=self.limits.drops_quiet_s)
        for key, alert in list(self._open.items()):
            if key.kind is AlertKind.OUTBOX_DROPPED and alert.last_at + quiet <= now:
                self._end(key, alert, now, out, comment=f"no new drops for {quiet}")
        waiting = self.waiting_rooms
        if waiting:
            out += self.evaluate(waiting)
        return out

    # --- IT --------------------------------------------------------------------------------

    def acknowledge(self, alert_id: int, actor: str, comment: str) -> Transition:
        """Raise AlertNotFound or AlertConflict (see AlertStore.acknowledge)."""
        now = self.now()
        alert = self.store.acknowledge(alert_id, actor, comment, now)
        if alert.key in self._open:
            self._open[alert.key] = alert
        return Transition("acknowledged", alert, now, actor, comment)

    def resolve(self, alert_id: int, actor: str, comment: str) -> Transition:
        """Raise AlertNotFound or AlertConflict (see AlertStore.resolve)."""
        now = self.now()
        alert = self.store.resolve(alert_id, actor, comment, now)
        key = alert.key
        if key in self._open and self._open[key].id == alert.id:
            del self._open[key]
        if key.kind in CONDITIONS:
            self._latched[key] = alert
            self._pending.pop(key, None)
        return Transition("resolved", alert, now, actor, comment)

    # --- events ----------------------------------------------------------------------------

    def _event(self, event: RoomEvent, now: datetime, out: list[Transition]) -> None:
        if event.kind not in ROOM_EVENTS or self.store.seen(event.source):
            return  # a redelivery, or an event already counted by another hub
        if event.kind == KIND_CARD_REFUSED:
            self._card_refused(event, now, out)
            return
        key = AlertKey(AlertKind.HELP, event.site, event.room)
        alert = self._open.get(key)
        if event.kind == CANCEL_EVENT:
            request = alert.data.get("request", {}) if alert is not None else {}
            older = request.get("boot") == event.boot and event.seq < request.get("seq", 0)
            if alert is not None and not older:
                self._end(key, alert, now, out, comment="withdrawn by the room", event=event.source)
            return
        reason = safe_text(event.text, REASON_MAX)
        data = {"reason": reason, "request": {"boot": event.boot, "seq": event.seq}}
        text = f"help asked in {event.site}/{event.room}" + (f": {reason}" if reason else "")
        if alert is not None:
            again = self.store.repeat(
                alert.id,
                now,
                severity=alert.severity,
                text=text,
                data=data,
                source=event.source,
                level=None,
                event=event.source,
            )
            self._counted(key, again, now, out)
            return
        new = NewAlert(key, "critical", text, data, event.source, event=event.source)
        self._opened(key, self.store.open(new, now), now, out)

    def _card_refused(self, event: RoomEvent, now: datetime, out: list[Transition]) -> None:
        key = AlertKey(AlertKind.CARD_REFUSED, event.site, event.room)
        details = dict(event.data)
        text = f"a card was refused in {event.site}/{event.room}: {details.get('reason', '')}"
        data: dict[str, object] = {"reason": details.get("reason", "")}
        if details.get("serial"):
            data["serial"] = int(details["serial"])
        alert = self._open.get(key)
        if alert is not None:
            count = int(alert.data.get("refused", 1)) + 1
            again = self.store.repeat(
                alert.id, now, severity=alert.severity, text=text,
                data={**data, "refused": count}, source=event.source, level=None,
                event=event.source,
            )  # fmt: skip
            self._counted(key, again, now, out)
            return
        new = NewAlert(
            key, "warning", text, {**data, "refused": 1}, event.source, event=event.source
        )
        self._opened(key, self.store.open(new, now), now, out)

    # --- conditions --------------------------------------------------------------------------

    def _room(self, snapshot: RoomSnapshot, now: datetime, out: list[Transition]) -> None:
        for observation in observe(snapshot, self.limits):
            self._observe(observation, now, out)
        self._drops(snapshot, now, out)

    def _observe(self, obs: Observation, now: datetime, out: list[Transition]) -> None:
        key = obs.key
        alert = self._open.get(key)
        if obs.active is None:
            return
        if not obs.active:
            self._pending.pop(key, None)
            if alert is not None:
                self._end(key, alert, now, out)
            elif key in self._latched:
                self.store.cause_cleared(key, now)
                del self._latched[key]
            return
        if alert is not None:
            if obs.source != alert.source or graver(obs.severity, alert.severity) != alert.severity:
                again = self.store.repeat(
                    alert.id,
                    now,
                    severity=graver(obs.severity, alert.severity),
                    text=obs.text,
                    data=obs.data,
                    source=obs.source,
                    level=obs.level,
                )
                self._counted(key, again, now, out)
            return
        latch = self._latched.get(key)
        if latch is not None and not _worse(obs.level, latch.level):
            return
        assert self.started_at is not None, "start() first"
        since = max(obs.since, self.started_at) if obs.since else self._pending.get(key, now)
        if (now - since).total_seconds() < self.limits.grace_s(key.kind):
            self._pending[key] = since
            return
        self._pending.pop(key, None)
        new = NewAlert(key, obs.severity, obs.text, obs.data, obs.source, obs.level)
        if self._opened(key, self.store.open(new, now), now, out):
            self._latched.pop(key, None)

    def _drops(self, snapshot: RoomSnapshot, now: datetime, out: list[Transition]) -> None:
        room = (snapshot.site, snapshot.room)
        before = self._dropped.get(room)
        self._dropped[room] = snapshot.dropped
        if before is None or snapshot.dropped <= before:
            return  # the first look (what was dropped before counts as known), or nothing new
        key = AlertKey(AlertKind.OUTBOX_DROPPED, *room)
        text = f"the agent of {room[0]}/{room[1]} dropped {snapshot.dropped - before} messages"
        data = {"dropped": snapshot.dropped, "new": snapshot.dropped - before}
        level = float(snapshot.dropped)
        alert = self._open.get(key)
        if alert is not None:
            again = self.store.repeat(
                alert.id,
                now,
                severity=alert.severity,
                text=text,
                data=data,
                source=str(snapshot.dropped),
                level=level,
            )
            self._counted(key, again, now, out)
            return
        new = NewAlert(key, "warning", text, data, str(snapshot.dropped), level)
        self._opened(key, self.store.open(new, now), now, out)

    # --- bookkeeping ---------------------------------------------------------------------

    def _opened(
        self, key: AlertKey, alert: AlertRecord | None, now: datetime, out: list[Transition]
    ) -> bool:
        if alert is None:  # another hub raised it first (or counted its event): take that one
            found = self.store.find_active(key)
            if found is not None:
                self._open[key] = found
            return False
        self._open[key] = alert
        out.append(Transition("raised", alert, now))
        return True

    def _counted(
        self, key: AlertKey, alert: AlertRecord | None, now: datetime, out: list[Transition]
    ) -> None:
        if alert is None:  # no longer active (resolved through another hub): look again
            self._open.pop(key, None)
            found = self.store.find_active(key)
            if found is not None:
                self._open[key] = found
            return
        self._open[key] = alert
        out.append(Transition("repeated", alert, now))

    def _end(
        self,
        key: AlertKey,
        alert: AlertRecord,
        now: datetime,
        out: list[Transition],
        *,
        comment: str = "",
        event: str | None = None,
    ) -> None:
        del self._open[key]
        self._latched.pop(key, None)
        ended = self.store.end(alert.id, now, comment=comment, event=event)
        if ended is not None:
            out.append(Transition("ended", ended, now, comment=comment))
            return
        found = self.store.find_active(key)  # ended or resolved elsewhere, or its event counted
        if found is not None:
            self._open[key] = found


def _worse(level: float | None, latched: float | None) -> bool:
    return level is not None and latched is not None and level > latched


__all__ = [
    "CANCEL_EVENT",
    "HELP_EVENT",
    "HELP_EVENTS",
    "ROOM_EVENTS",
    "Action",
    "AlertEngine",
    "RoomEvent",
    "Transition",
    "room_events",
]
