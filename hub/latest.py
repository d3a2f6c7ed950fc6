"""The room's current readings, and the newer readings whose time the hub does not trust.

The latest reading of each (agent, device, metric) is the newest by the agent's counters,
(era, boot_no, seq), never by its clock; but a reading whose time is plainly wrong must not
become the room's current value either. A reading is **doubted** when its time is

- *ahead*: more than ``clock_skew_max_s`` after the hub's clock when it arrived (no outbox
  replays the future), or
- *backwards*: more than ``clock_skew_max_s`` before the hub's clock *and* more than that
  before the trusted reading it would replace (a Pi without its RTC battery booting in 1970,
  a clock stepped back). Old alone is not enough: an outbox replaying an hour offline sends
  old times that go forward.

A doubted reading stays in the history (it is stored, acknowledged and counted like any
other) but goes to ``suspect_readings`` instead of ``latest_readings``: the room's current
values (``latest_readings``, which the API's ``readings`` and the alerts read) keep the last
trusted one, and the API shows the doubted one beside it while it is newer. A backwards
reading also flags the room's clock (``rooms.clock_suspects``), as an ahead one already does.

Not caught: a clock in the past from the very first reading the hub ever gets of a metric
(nothing to compare with); the agent's own measured offset (its health's ``clock_offset_s``)
shows that one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    Connection,
    Float,
    Integer,
    String,
    bindparam,
    select,
    tuple_,
    update,
)
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import Base, LatestReading, Room, UtcDateTime

Key = tuple[str, str, str]
"""(agent, device, metric)."""
Rank = tuple[int, int, int]
"""(era, boot_no, seq): the agent's own order."""

TRUSTED, AHEAD, BACKWARDS = 0, 1, 2
"""What the hub makes of a reading's time (BACKWARDS is decided against the stored reading)."""
_KEYS_PER_QUERY = 300


class SuspectReading(Base):
    """Per (agent, device, metric), the newest reading whose time the hub doubted.

    Shown beside the current reading only while it is newer by (era, boot_no, seq); an
    older one stays, hidden (one row per series: bounded by the room's series budget).
    """

    __tablename__ = "suspect_readings"

    agent: Mapped[str] = mapped_column(String(127), primary_key=True)
    device: Mapped[str] = mapped_column(String(63), primary_key=True)
    metric: Mapped[str] = mapped_column(String(63), primary_key=True)
    value: Mapped[float] = mapped_column(Float)
    ts: Mapped[datetime]
    """The reading's own time, as the agent stamped it."""
    skew_s: Mapped[float] = mapped_column(Float)
    """``ts`` minus the hub's clock when it arrived (positive: ahead)."""
    received_at: Mapped[datetime]
    era: Mapped[int] = mapped_column(Integer)
    boot_no: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(BigInteger)


@dataclass(slots=True)
class Candidate:
    """One reading of a batch that may become the latest of its series."""

    rank: Rank
    value: float
    ts: datetime
    doubt: int
    received_at: datetime


@dataclass(slots=True)
class Chosen:
    """What a batch changes of the latest readings."""

    trusted: dict[Key, Candidate] = field(default_factory=dict)
    """The newest trusted reading of each series (written if newer than the stored one)."""
    suspects: dict[Key, Candidate] = field(default_factory=dict)
    """The newest doubted reading of a series, when it is newer than every trusted one."""
    backwards: Counter[tuple[str, str]] = field(default_factory=Counter)
    """Messages per (site, room) whose time went backwards (one per message, not per metric)."""
    skews: dict[tuple[str, str], float] = field(default_factory=dict)
    """The last such skew per room, seconds."""


class LatestChooser:
    """Collects a batch's readings and decides which may become each series' latest.

    Readings with a time close to the hub's clock (nearly all of them) take the fast path:
    only the newest per series is kept, as before. The rest are kept whole and decided in
    the agent's order against the stored latest reading, read only for these series.
    """

    def __init__(self, skew_max_s: float) -> None:
        self.skew_max = timedelta(seconds=skew_max_s)
        self.trusted: dict[Key, Candidate] = {}
        self._doubtful: dict[Key, list[Candidate]] = {}

    def doubt(self, ts: datetime, received_at: datetime, skew_s: float | None) -> int:
        """AHEAD (``skew_s`` is the classifier's verdict), TRUSTED, or BACKWARDS when the
        time is far behind the hub's clock (to be decided against the stored reading)."""
        if skew_s is not None and skew_s > 0:
            return AHEAD
        return BACKWARDS if received_at - ts > self.skew_max else TRUSTED

    def add(self, key: Key, reading: Candidate) -> None:
        """One metric of a message whose ``doubt`` is not TRUSTED (those go to ``trusted``
        directly, newest first, on the caller's hot path)."""
        self._doubtful.setdefault(key, []).append(reading)

    def choose(self, conn: Connection) -> Chosen:
        """Decide the doubtful readings against the stored latest ones and the batch's own."""
        chosen = Chosen(self.trusted)
        if not self._doubtful:
            return chosen
        behind = [k for k, rs in self._doubtful.items() if any(r.doubt == BACKWARDS for r in rs)]
        stored = _stored(conn, behind)
        counted: set[tuple[str, Rank]] = set()
        for key, readings in self._doubtful.items():
            candidates = sorted([*readings, *_one(self.trusted.get(key))], key=lambda r: r.rank)
            good = stored.get(key)
            newest_good: Candidate | None = None
            suspect: Candidate | None = None
            for r in candidates:
                if good is not None and r.rank <= good[0]:
                    continue  # older than the trusted one: it replaces nothing
                went_back = (
                    r.doubt == BACKWARDS and good is not None and r.ts < good[1] - self.skew_max
                )
                if r.doubt == AHEAD or went_back:
                    suspect = r
                    if went_back and (key[0], r.rank) not in counted:
                        counted.add((key[0], r.rank))
                        room = _room(key[0])
                        chosen.backwards[room] += 1
                        chosen.skews[room] = (r.ts - r.received_at).total_seconds()
                else:
                    good = (r.rank, r.ts)
                    newest_good = r
            if newest_good is not None:
                chosen.trusted[key] = newest_good
            if suspect is not None and (good is None or suspect.rank > good[0]):
                chosen.suspects[key] = suspect
        return chosen


def _one(reading: Candidate | None) -> list[Candidate]:
    return [] if reading is None else [reading]


def _room(agent: str) -> tuple[str, str]:
    site, _, room = agent.partition("/")
    return site, room


def _stored(conn: Connection, keys: Sequence[Key]) -> dict[Key, tuple[Rank, datetime]]:
    """The stored latest (rank, ts) of these series."""
    lr = LatestReading
    found: dict[Key, tuple[Rank, datetime]] = {}
    ordered = sorted(keys)
    for i in range(0, len(ordered), _KEYS_PER_QUERY):
        chunk = ordered[i : i + _KEYS_PER_QUERY]
        query = select(lr.agent, lr.device, lr.metric, lr.era, lr.boot_no, lr.seq, lr.ts).where(
            tuple_(lr.agent, lr.device, lr.metric).in_(chunk)
        )
        for r in conn.execute(query):
            found[(r.agent, r.device, r.metric)] = ((r.era, r.boot_no, r.seq), r.ts)
    return found


def write_suspects(conn: Connection, insert: Any, suspects: dict[Key, Candidate]) -> None:
    """Keep each series' newest doubted reading (newer by the agent's counters only)."""
    if not suspects:
        return
    stmt = insert(SuspectReading)
    current = tuple_(SuspectReading.era, SuspectReading.boot_no, SuspectReading.seq)
    incoming = tuple_(stmt.excluded.era, stmt.excluded.boot_no, stmt.excluded.seq)
    columns = ("value", "ts", "skew_s", "received_at", "era", "boot_no", "seq")
    stmt = stmt.on_conflict_do_update(
        index_elements=[SuspectReading.agent, SuspectReading.device, SuspectReading.metric],
        set_={c: stmt.excluded[c] for c in columns},
        where=current < incoming,
    )
    rows = [
        {"agent": a, "device": d, "metric": m, "value": r.value, "ts": r.ts,
         "skew_s": (r.ts - r.received_at).total_seconds(), "received_at": r.received_at,
         "era": r.rank[0], "boot_no": r.rank[1], "seq": r.rank[2]}
        for (a, d, m), r in sorted(suspects.items())  # one lock order for every hub
    ]  # fmt: skip
    conn.execute(stmt, rows)


def flag_rooms(
    conn: Connection,
    counts: Counter[tuple[str, str]],
    skews: dict[tuple[str, str], float],
    now: datetime,
) -> None:
    """Count messages whose time was far from the hub's clock on their rooms' rows."""
    if not counts:
        return
    stmt = (
        update(Room)
        .where(Room.site_id == bindparam("b_site"), Room.room_id == bindparam("b_room"))
        .values(
            clock_suspects=Room.clock_suspects + bindparam("b_n"),
            clock_skew_s=bindparam("b_skew"),
            clock_suspect_at=bindparam("b_now", type_=UtcDateTime()),
        )
    )
    conn.execute(
        stmt,
        [
            {"b_site": s, "b_room": r, "b_n": n, "b_skew": skews[(s, r)], "b_now": now}
            for (s, r), n in sorted(counts.items())
        ],
    )


@dataclass(frozen=True, slots=True)
class SuspectView:
    """A reading newer than the room's current one whose time the hub doubted."""

    device: str
    value: float
    ts: datetime
    skew_s: float
    received_at: datetime


def shown_suspects(
    latest: Iterable[Any], suspects: Iterable[Any]
) -> dict[str, dict[str, SuspectView]]:
    """Per agent and metric, the newest doubted reading (of any device) when it is newer by
    the agent's counters than the newest trusted one of that metric."""
    trusted: dict[tuple[str, str], Rank] = {}
    for r in latest:
        rank = (r.era, r.boot_no, r.seq)
        if trusted.get((r.agent, r.metric), (-1, -1, -1)) < rank:
            trusted[(r.agent, r.metric)] = rank
    newest: dict[tuple[str, str], tuple[Rank, SuspectView]] = {}
    for s in suspects:
        rank = (s.era, s.boot_no, s.seq)
        key = (s.agent, s.metric)
        if rank <= trusted.get(key, (-1, -1, -1)) or (key in newest and newest[key][0] >= rank):
            continue
        newest[key] = (rank, SuspectView(s.device, s.value, s.ts, s.skew_s, s.received_at))
    out: dict[str, dict[str, SuspectView]] = {}
    for (agent, metric), (_, view) in sorted(newest.items()):
        out.setdefault(agent, {})[metric] = view
    return out


def suspect_rows(conn: Connection, agent: str | None = None) -> list[Any]:
    """The stored doubted readings (of one agent, or all)."""
    query = select(SuspectReading)
    if agent is not None:
        query = query.where(SuspectReading.agent == agent)
    return list(conn.execute(query).all())


def suspect_series(conn: Connection, agents: list[str]) -> list[tuple[str, tuple[str, str]]]:
    """(agent, (device, metric)) of the doubted series: they count in a room's series bound."""
    s = SuspectReading
    rows = conn.execute(select(s.agent, s.device, s.metric).where(s.agent.in_(agents)))
    return [(row.agent, (row.device, row.metric)) for row in rows]


__all__ = [
    "AHEAD",
    "BACKWARDS",
    "TRUSTED",
    "Candidate",
    "Chosen",
    "LatestChooser",
    "SuspectReading",
    "SuspectView",
    "flag_rooms",
    "shown_suspects",
    "suspect_rows",
    "suspect_series",
    "write_suspects",
]
