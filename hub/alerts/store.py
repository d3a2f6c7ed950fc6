"""The alerts in the database, and the room state they are judged on; sync, for a worker thread.

Every change of an alert is one transaction with its transition row. A change is conditional on
the state it starts from (``WHERE state IN …``), so two hubs sharing a database can never both
acknowledge, resolve or end one alert, and the unique index on active alerts keeps them from
raising one cause twice.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    and_,
    func,
    insert,
    select,
    tuple_,
    update,
)
from sqlalchemy.exc import IntegrityError

from hub.alerts.kinds import CONDITIONS, AlertKey, AlertKind, AlertState, Severity
from hub.alerts.rules import Co2Reading, DeviceSnapshot, RoomSnapshot
from hub.alerts.tables import SOURCE_MAX, AlertRow, AlertTransition
from hub.db import Boot, DeviceStateRow, LatestReading, Room

RoomKey = tuple[str, str]
CO2_METRIC = "co2_ppm"
PAGE_MAX = 500
"""Most alerts one list returns."""
TRANSITIONS_MAX = 200
"""Most transitions shown with one alert (the newest)."""
_KEYS_PER_QUERY = 300


class AlertNotFound(LookupError):  # noqa: N818 - reads as the condition it names
    """No alert with that id."""


class AlertConflict(ValueError):  # noqa: N818
    """The alert is not in a state that allows the change (already acknowledged, resolved)."""


@dataclass(frozen=True, slots=True)
class AlertRecord:
    """One alert as read from the database."""

    id: int
    kind: str
    severity: Severity
    site: str
    room: str
    device: str
    state: AlertState
    started_at: datetime
    last_at: datetime
    ended_at: datetime | None
    repeats: int
    text: str
    data: dict[str, Any]
    source: str
    level: float | None
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None
    ack_comment: str | None = None
    resolved_by: str | None = None
    resolved_at: datetime | None = None
    resolve_comment: str | None = None
    cause_ended_at: datetime | None = None

    @property
    def key(self) -> AlertKey:
        return AlertKey(AlertKind(self.kind), self.site, self.room, self.device)


@dataclass(frozen=True, slots=True)
class TransitionRecord:
    id: int
    alert_id: int
    at: datetime
    action: str
    actor: str
    comment: str
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class AlertQuery:
    """A filter of the alert list; every field optional."""

    site: str | None = None
    room: str | None = None
    kind: str | None = None
    severity: str | None = None
    states: frozenset[str] = frozenset()
    since: datetime | None = None
    """Started at or after."""
    until: datetime | None = None
    """Started before."""
    before_id: int | None = None
    """The page after one ending with this id (newest first)."""
    limit: int = 100


@dataclass(frozen=True, slots=True)
class NewAlert:
    """What raising an alert writes."""

    key: AlertKey
    severity: Severity
    text: str
    data: dict[str, Any] = field(default_factory=dict)
    source: str = ""
    level: float | None = None
    event: str | None = None
    """The source of the event behind it (counted once, ever)."""


def record_of(row: Any) -> AlertRecord:
    return AlertRecord(
        id=row.id,
        kind=row.kind,
        severity=row.severity,
        site=row.site,
        room=row.room,
        device=row.device,
        state=AlertState(row.state),
        started_at=row.started_at,
        last_at=row.last_at,
        ended_at=row.ended_at,
        repeats=row.repeats,
        text=row.text,
        data=dict(row.data or {}),
        source=row.source,
        level=row.level,
        acknowledged_by=row.acknowledged_by,
        acknowledged_at=row.acknowledged_at,
        ack_comment=row.ack_comment,
        resolved_by=row.resolved_by,
        resolved_at=row.resolved_at,
        resolve_comment=row.resolve_comment,
        cause_ended_at=row.cause_ended_at,
    )


def _version(*parts: Any) -> str:
    return ":".join("" if p is None else str(p) for p in parts)


def _chunks(keys: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for i in range(0, len(keys), _KEYS_PER_QUERY):
        yield keys[i : i + _KEYS_PER_QUERY]


class AlertStore:
    """The alert tables, and the reads of the room state the rules judge."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # --- the rooms' state ---------------------------------------------------------------

    def snapshots(self, rooms: Collection[RoomKey] | None = None) -> list[RoomSnapshot]:
        """What the hub holds of ``rooms`` (every registered room when None)."""
        wanted = None if rooms is None else sorted(set(rooms))
        with self.engine.connect() as conn:
            if wanted is None:
                return self._snapshots(conn, None)
            out: list[RoomSnapshot] = []
            for chunk in _chunks(wanted):
                out += self._snapshots(conn, list(chunk))
            return out

    def _snapshots(self, conn: Connection, rooms: list[RoomKey] | None) -> list[RoomSnapshot]:
        r, d, lr, b = Room, DeviceStateRow, LatestReading, Boot
        agents = None if rooms is None else [f"{s}/{x}" for s, x in rooms]

        def only(clause: ColumnElement[bool]) -> ColumnElement[bool] | None:
            return None if rooms is None else clause

        query = select(
            r.site_id,
            r.room_id,
            r.online,
            r.last_status_at,
            r.status_era,
            r.status_boot_no,
            r.status_conn,
            r.status_rank,
        )
        where = only(tuple_(r.site_id, r.room_id).in_(rooms or []))
        found = conn.execute(query if where is None else query.where(where)).all()
        devices: dict[RoomKey, list[DeviceSnapshot]] = {}
        query_d = select(
            d.site, d.room, d.device, d.family, d.state, d.available, d.era, d.boot_no, d.n
        ).order_by(d.site, d.room, d.device)
        where = only(tuple_(d.site, d.room).in_(rooms or []))
        for row in conn.execute(query_d if where is None else query_d.where(where)):
            devices.setdefault((row.site, row.room), []).append(
                DeviceSnapshot(
                    row.device,
                    row.family,
                    dict(row.state or {}),
                    row.available,
                    _version(row.era, row.boot_no, row.n),
                )
            )
        co2: dict[str, list[Co2Reading]] = {}
        query_c = select(lr.agent, lr.device, lr.value, lr.era, lr.boot_no, lr.seq).where(
            lr.metric == CO2_METRIC
        )
        where = only(lr.agent.in_(agents or []))
        for row in conn.execute(query_c if where is None else query_c.where(where)):
            reading = Co2Reading(row.device, row.value, _version(row.era, row.boot_no, row.seq))
            co2.setdefault(row.agent, []).append(reading)
        losses: dict[str, tuple[int, int]] = {}
        query_b = select(b.agent, func.sum(b.missing_count), func.sum(b.dropped_count)).group_by(
            b.agent
        )
        where = only(b.agent.in_(agents or []))
        for agent, missing, dropped in conn.execute(
            query_b if where is None else query_b.where(where)
        ):
            losses[agent] = (int(missing or 0), int(dropped or 0))
        out = []
        for row in found:
            room = (row.site_id, row.room_id)
            agent = f"{room[0]}/{room[1]}"
            known = row.status_era is not None or row.last_status_at is not None
            missing, dropped = losses.get(agent, (0, 0))
            out.append(
                RoomSnapshot(
                    site=room[0],
                    room=room[1],
                    online=bool(row.online) if known else None,
                    status_at=row.last_status_at,
                    status_version=_version(
                        row.status_era, row.status_boot_no, row.status_conn, row.status_rank
                    ),
                    devices=tuple(devices.get(room, ())),
                    co2=tuple(sorted(co2.get(agent, ()), key=lambda c: c.device)),
                    missing=missing,
                    dropped=dropped,
                )
            )
        return out

    # --- what the engine keeps in memory ------------------------------------------------

    def active(self) -> list[AlertRecord]:
        """Every open or acknowledged alert."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(AlertRow).where(AlertRow.active.is_(True)))
            return [record_of(row) for row in rows]

    def latched(self) -> list[AlertRecord]:
        """Alerts of a condition resolved while the condition held, oldest first."""
        a = AlertRow
        query = (
            select(a)
            .where(
                a.state == AlertState.RESOLVED,
                a.cause_ended_at.is_(None),
                a.kind.in_(sorted(CONDITIONS)),
            )
            .order_by(a.id)
        )
        with self.engine.connect() as conn:
            return [record_of(row) for row in conn.execute(query)]

    def newest_per_room(self, kind: AlertKind) -> list[AlertRecord]:
        """The newest alert of ``kind`` of each room, whatever its state."""
        a = AlertRow
        newest = select(func.max(a.id)).where(a.kind == kind).group_by(a.site, a.room)
        with self.engine.connect() as conn:
            rows = conn.execute(select(a).where(a.id.in_(newest.scalar_subquery())))
            return [record_of(row) for row in rows]

    def seen(self, source: str) -> bool:
        """Whether the event ``source`` already caused a transition."""
        t = AlertTransition
        with self.engine.connect() as conn:
            return conn.execute(select(t.id).where(t.source == source)).first() is not None

    def get(self, alert_id: int) -> AlertRecord | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(AlertRow).where(AlertRow.id == alert_id)).first()
            return None if row is None else record_of(row)

    def find_active(self, key: AlertKey) -> AlertRecord | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(AlertRow).where(self._is(key), AlertRow.active)).first()
            return None if row is None else record_of(row)

    @staticmethod
    def _is(key: AlertKey) -> ColumnElement[bool]:
        a = AlertRow
        return and_(
            a.kind == key.kind, a.site == key.site, a.room == key.room, a.device == key.device
        )

    # --- changes --------------------------------------------------------------------------

    def open(self, new: NewAlert, now: datetime) -> AlertRecord | None:
        """Raise an alert; None when its cause has an active alert already (another hub's) or
        its event was counted already."""
        k = new.key
        try:
            with self.engine.begin() as conn:
                alert_id = conn.execute(
                    insert(AlertRow).returning(AlertRow.id),
                    {
                        "kind": k.kind,
                        "severity": new.severity,
                        "site": k.site,
                        "room": k.room,
                        "device": k.device,
                        "state": AlertState.OPEN,
                        "active": True,
                        "started_at": now,
                        "last_at": now,
                        "repeats": 0,
                        "text": new.text,
                        "data": new.data,
                        "source": new.source[:SOURCE_MAX],
                        "level": new.level,
                    },
                ).scalar_one()
                self._transition(conn, alert_id, now, "raised", source=new.event, data=new.data)
                return self._read(conn, alert_id)
        except IntegrityError:
            return None

    def repeat(
        self,
        alert_id: int,
        now: datetime,
        *,
        severity: Severity,
        text: str,
        data: dict[str, Any],
        source: str,
        level: float | None,
        event: str | None = None,
    ) -> AlertRecord | None:
        """Count the cause once more; None if the alert is no longer active (or the event was
        counted already)."""
        a = AlertRow
        try:
            with self.engine.begin() as conn:
                done = conn.execute(
                    update(a)
                    .where(a.id == alert_id, a.active.is_(True))
                    .values(
                        repeats=a.repeats + 1,
                        last_at=now,
                        severity=severity,
                        text=text,
                        data=data,
                        source=source[:SOURCE_MAX],
                        level=level,
                    )
                )
                if not done.rowcount:
                    return None
                if event is not None:
                    self._transition(conn, alert_id, now, "repeated", source=event, data=data)
                return self._read(conn, alert_id)
        except IntegrityError:
            return None

    def end(
        self, alert_id: int, now: datetime, *, comment: str = "", event: str | None = None
    ) -> AlertRecord | None:
        """Its cause cleared by itself; None if it was no longer active."""
        a = AlertRow
        try:
            with self.engine.begin() as conn:
                done = conn.execute(
                    update(a)
                    .where(a.id == alert_id, a.active.is_(True))
                    .values(state=AlertState.ENDED, active=False, ended_at=now, cause_ended_at=now)
                )
                if not done.rowcount:
                    return None
                self._transition(conn, alert_id, now, "ended", comment=comment, source=event)
                record = self._read(conn, alert_id)
                self._clear_latches(conn, record.key, now)
                return record
        except IntegrityError:
            return None

    def cause_cleared(self, key: AlertKey, now: datetime) -> None:
        """The cause of alerts resolved while it held has cleared: it may raise again."""
        with self.engine.begin() as conn:
            self._clear_latches(conn, key, now)

    def _clear_latches(self, conn: Connection, key: AlertKey, now: datetime) -> None:
        a = AlertRow
        conn.execute(
            update(a)
            .where(self._is(key), a.state == AlertState.RESOLVED, a.cause_ended_at.is_(None))
            .values(cause_ended_at=now)
        )

    def acknowledge(self, alert_id: int, actor: str, comment: str, now: datetime) -> AlertRecord:
        """IT has seen it; raise AlertNotFound, or AlertConflict unless it is open."""
        a = AlertRow
        with self.engine.begin() as conn:
            done = conn.execute(
                update(a)
                .where(a.id == alert_id, a.state == AlertState.OPEN)
                .values(
                    state=AlertState.ACKNOWLEDGED,
                    acknowledged_by=actor,
                    acknowledged_at=now,
                    ack_comment=comment,
                )
            )
            if not done.rowcount:
                raise self._refusal(conn, alert_id, "acknowledged")
            self._transition(conn, alert_id, now, "acknowledged", actor=actor, comment=comment)
            return self._read(conn, alert_id)

    def resolve(self, alert_id: int, actor: str, comment: str, now: datetime) -> AlertRecord:
        """IT has dealt with it; raise AlertNotFound, or AlertConflict unless it is active.

        A condition's cause may still hold: the row then keeps ``cause_ended_at`` empty, which
        keeps the cause from raising another alert until it clears (see ``latched``).
        """
        a = AlertRow
        with self.engine.begin() as conn:
            kind = conn.execute(select(a.kind).where(a.id == alert_id)).scalar_one_or_none()
            latch = kind in CONDITIONS
            done = conn.execute(
                update(a)
                .where(a.id == alert_id, a.active.is_(True))
                .values(
                    state=AlertState.RESOLVED,
                    active=False,
                    ended_at=now,
                    resolved_by=actor,
                    resolved_at=now,
                    resolve_comment=comment,
                    cause_ended_at=None if latch else now,
                )
            )
            if not done.rowcount:
                raise self._refusal(conn, alert_id, "resolved")
            self._transition(conn, alert_id, now, "resolved", actor=actor, comment=comment)
            return self._read(conn, alert_id)

    def _refusal(self, conn: Connection, alert_id: int, wanted: str) -> Exception:
        row = conn.execute(select(AlertRow).where(AlertRow.id == alert_id)).first()
        if row is None:
            return AlertNotFound(f"no alert {alert_id}")
        alert = record_of(row)
        if alert.state is AlertState.ACKNOWLEDGED:
            why = f"acknowledged already by {alert.acknowledged_by or 'someone'}"
        elif alert.state is AlertState.RESOLVED:
            why = f"resolved already by {alert.resolved_by or 'someone'}"
        elif alert.state is AlertState.ENDED:
            why = "ended already: its cause cleared"
        else:
            why = f"it is {alert.state}"
        return AlertConflict(f"alert {alert_id} cannot be {wanted}: {why}")

    def _transition(
        self,
        conn: Connection,
        alert_id: int,
        now: datetime,
        action: str,
        *,
        actor: str = "",
        comment: str = "",
        source: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> None:
        conn.execute(
            insert(AlertTransition),
            {
                "alert_id": alert_id,
                "at": now,
                "action": action,
                "actor": actor,
                "comment": comment,
                "source": source,
                "data": data or {},
            },
        )

    def _read(self, conn: Connection, alert_id: int) -> AlertRecord:
        return record_of(conn.execute(select(AlertRow).where(AlertRow.id == alert_id)).one())

    # --- the API ------------------------------------------------------------------------

    def alerts(
        self, query: AlertQuery, within: ColumnElement[bool] | None = None
    ) -> list[AlertRecord]:
        """Alerts matching ``query`` (and ``within``: a caller's reach), newest first."""
        a = AlertRow
        clauses: list[ColumnElement[bool]] = []
        q = query
        for column, value in (
            (a.site, q.site),
            (a.room, q.room),
            (a.kind, q.kind),
            (a.severity, q.severity),
        ):
            if value is not None:
                clauses.append(column == value)
        if q.states:
            clauses.append(a.state.in_(sorted(q.states)))
        if q.since is not None:
            clauses.append(a.started_at >= q.since)
        if q.until is not None:
            clauses.append(a.started_at < q.until)
        if q.before_id is not None:
            clauses.append(a.id < q.before_id)
        if within is not None:
            clauses.append(within)
        stmt = select(a).where(*clauses).order_by(a.id.desc()).limit(min(q.limit, PAGE_MAX))
        with self.engine.connect() as conn:
            return [record_of(row) for row in conn.execute(stmt)]

    def transitions(self, alert_id: int, limit: int = TRANSITIONS_MAX) -> list[TransitionRecord]:
        """The alert's history, oldest first (the newest ``limit``)."""
        t = AlertTransition
        stmt = select(t).where(t.alert_id == alert_id).order_by(t.id.desc()).limit(limit)
        with self.engine.connect() as conn:
            rows = list(conn.execute(stmt))
        return [
            TransitionRecord(
                r.id, r.alert_id, r.at, r.action, r.actor, r.comment, dict(r.data or {})
            )
            for r in reversed(rows)
        ]

    def active_counts(self) -> dict[str, int]:
        """Active alerts per severity."""
        a = AlertRow
        stmt = select(a.severity, func.count()).where(a.active.is_(True)).group_by(a.severity)
        with self.engine.connect() as conn:
            return {str(s): int(n) for s, n in conn.execute(stmt)}


__all__ = [
    "PAGE_MAX",
    "AlertConflict",
    "AlertNotFound",
    "AlertQuery",
    "AlertRecord",
    "AlertStore",
    "NewAlert",
    "RoomKey",
    "TransitionRecord",
    "record_of",
]
