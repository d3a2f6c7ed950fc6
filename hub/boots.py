"""The boots table: each agent start's order, stored and dropped ranges, end, and what is missing.

One ``BootBook`` serves one ingest transaction. It reads the boots of the batch's agents
after the transaction has locked their rooms' rows (so two hubs never merge into one boot
row at once), answers the era of new boots and whether a (boot, seq) is already stored,
and writes back what changed, with the acknowledgement each agent is owed.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, select, tuple_, update

from hub import ranges, rawsql
from hub.db import Boot
from hub.ordering import BootOrder, era_of_new_boot
from hub.ranges import Ranges
from hub.rawsql import json_binder, time_binder
from protocol.messages import BOOTS_MAX, RANGES_MAX, BootLosses

STORED_RANGES_MAX = 1024
"""Most stored ranges kept per boot; beyond, the lowest are cut (``stored_floor``)."""
DROPPED_RANGES_MAX = 1024
"""Most dropped ranges kept per boot; beyond, the lowest are cut (the count stays)."""
MISSING_RANGES_MAX = 64
"""Most missing ranges listed per boot (the highest); the count is always whole."""
BOOTS_KEPT = 64
"""Boots kept per agent; older ones are deleted when a new one comes."""

AckBoots = dict[str, Ranges]
"""What an acknowledgement says for one agent: boot id → stored or dropped ranges."""


@dataclass(slots=True)
class BootRecord:
    """One row of the boots table, in memory."""

    agent: str
    boot: str
    boot_no: int
    era: int
    first_seen: datetime
    last_seen: datetime
    stored: Ranges = field(default_factory=list)
    stored_floor: int = 0
    dropped: Ranges = field(default_factory=list)
    dropped_count: int = 0
    end_seq: int | None = None
    missing: Ranges = field(default_factory=list)
    missing_count: int = 0
    new: bool = False
    dirty: bool = False

    @property
    def order(self) -> BootOrder:
        return BootOrder(self.era, self.boot_no)

    @property
    def highest(self) -> int:
        return ranges.highest(self.stored)

    def recompute(self) -> None:
        """Bound the lists and work out what is missing: [1 .. max(highest, end)] minus
        stored minus dropped (below ``stored_floor`` nothing is known)."""
        self.stored, cut = ranges.keep_highest(self.stored, STORED_RANGES_MAX)
        self.stored_floor = max(self.stored_floor, cut)
        self.dropped, _ = ranges.keep_highest(self.dropped, DROPPED_RANGES_MAX)
        self.dropped_count = max(self.dropped_count, ranges.count(self.dropped))
        top = max(self.highest, self.end_seq or 0)
        region: Ranges = [(self.stored_floor + 1, top)] if top > self.stored_floor else []
        missing = ranges.subtract(ranges.subtract(region, self.stored), self.dropped)
        self.missing_count = ranges.count(missing)
        self.missing, _ = ranges.keep_highest(missing, MISSING_RANGES_MAX)

    def acknowledged(self) -> Ranges:
        """Stored or dropped (the union), at most RANGES_MAX ranges (the highest)."""
        both = ranges.merge(self.stored, self.dropped)
        return ranges.keep_highest(both, RANGES_MAX)[0]


def record_of(row: Any) -> BootRecord:
    return BootRecord(
        agent=row.agent,
        boot=row.boot,
        boot_no=row.boot_no,
        era=row.era,
        first_seen=row.first_seen,
        last_seen=row.last_seen,
        stored=ranges.normalise(row.stored or []),
        stored_floor=row.stored_floor or 0,
        dropped=ranges.normalise(row.dropped or []),
        dropped_count=row.dropped_count or 0,
        end_seq=row.end_seq,
        missing=ranges.normalise(row.missing or []),
        missing_count=row.missing_count or 0,
    )


def newest_first(records: Iterable[BootRecord]) -> list[BootRecord]:
    return sorted(records, key=lambda r: (r.era, r.boot_no, r.last_seen), reverse=True)


class BootCache:
    """The boots of recently seen agents, kept between batches by a hub that is its
    database's only writer (SQLite); emptied whenever a transaction fails."""

    def __init__(self, agents_max: int = 4096) -> None:
        self.agents_max = agents_max
        self._agents: OrderedDict[str, dict[str, BootRecord]] = OrderedDict()

    def get(self, agent: str) -> dict[str, BootRecord] | None:
        boots = self._agents.get(agent)
        if boots is not None:
            self._agents.move_to_end(agent)
        return boots

    def put(self, agent: str, boots: dict[str, BootRecord]) -> None:
        self._agents[agent] = boots
        while len(self._agents) > self.agents_max:
            self._agents.popitem(last=False)

    def clear(self) -> None:
        self._agents.clear()


class BootBook:
    """The boots of some agents within one transaction (their rooms' rows locked first)."""

    def __init__(
        self,
        conn: Connection,
        agents: Iterable[str],
        now: datetime,
        cache: BootCache | None = None,
    ) -> None:
        self.conn = conn
        self.now = now
        self._by_agent: dict[str, dict[str, BootRecord]] = {}
        wanted: list[str] = []
        for agent in sorted(set(agents)):
            cached = cache.get(agent) if cache is not None else None
            if cached is None:
                wanted.append(agent)
                cached = {}
                if cache is not None:
                    cache.put(agent, cached)
            self._by_agent[agent] = cached
        if wanted:
            rows = conn.execute(select(Boot).where(Boot.agent.in_(wanted)))
            for row in rows:
                self._by_agent[row.agent][row.boot] = record_of(row)
        self.touched: set[str] = set()
        """Agents owed an acknowledgement after this transaction."""

    def get(self, agent: str, boot: str) -> BootRecord | None:
        return self._by_agent.get(agent, {}).get(boot)

    def order(self, agent: str, boot: str, boot_no: int) -> BootOrder:
        """The boot's order; a boot seen for the first time gets its era now."""
        return self._record(agent, boot, boot_no).order

    def _record(self, agent: str, boot: str, boot_no: int) -> BootRecord:
        boots = self._by_agent.setdefault(agent, {})
        record = boots.get(boot)
        if record is None:
            era = era_of_new_boot((r.order for r in boots.values()), boot_no)
            record = BootRecord(agent, boot, boot_no, era, self.now, self.now, new=True)
            boots[boot] = record
        elif record.last_seen < self.now:
            record.last_seen = self.now
            record.dirty = True
        return record

    def register(self, agent: str, boot: str, boot_no: int, previous: str | None = None) -> None:
        """Place a boot (and the one its agent says came before it) in order of arrival:
        called for every message of a batch before any is written."""
        record = self._record(agent, boot, boot_no)
        if previous and previous != boot:
            self._earlier(record, previous, record.boot_no - 1)

    def is_stored(self, agent: str, boot: str, seq: int) -> bool:
        """Known to be stored already (a redelivery); False when not known."""
        record = self.get(agent, boot)
        if record is None or not record.stored or seq > record.stored[-1][1]:
            return False  # the usual case: a new message above everything stored
        return ranges.covers(record.stored, seq)

    def unsure(self, agent: str, boot: str, seq: int) -> bool:
        """Whether ``is_stored`` may miss a stored seq: the boot was not read from the
        database (new to it, or deleted as one of an agent's oldest), or the seq is at or
        below the cut of its ranges."""
        record = self.get(agent, boot)
        return record is None or record.new or seq <= record.stored_floor

    def add_stored(self, agent: str, boot: str, boot_no: int, seqs: Ranges) -> None:
        record = self._record(agent, boot, boot_no)
        record.stored = ranges.merge(record.stored, seqs)
        record.dirty = True
        self.touched.add(agent)

    def add_health(
        self,
        agent: str,
        boot: str,
        boot_no: int,
        *,
        last_seq: int,
        previous_boot: str | None,
        previous_last_seq: int,
        losses: Iterable[BootLosses],
    ) -> None:
        """What a Health report says of this boot, the previous one and the agent's losses."""
        record = self._record(agent, boot, boot_no)
        if last_seq:
            record.end_seq = max(record.end_seq or 0, last_seq)
            record.dirty = True
        if previous_boot and previous_boot != boot:
            # a previous boot the hub never saw comes just before this one
            previous = self._earlier(record, previous_boot, record.boot_no - 1)
            if previous_last_seq:
                previous.end_seq = max(previous.end_seq or 0, previous_last_seq)
                previous.dirty = True
        for loss in losses:
            lost = self._earlier(record, loss.boot, 0)
            lost.dropped = ranges.merge(lost.dropped, ranges.normalise(loss.dropped))
            lost.dropped_count = max(lost.dropped_count, loss.count)
            lost.dirty = True
        self.touched.add(agent)

    def _earlier(self, current: BootRecord, boot: str, boot_no: int) -> BootRecord:
        """A boot named by ``current``'s report: known, or placed before it in its era (never
        above it, so its late messages cannot override the current boot's)."""
        record = self.get(current.agent, boot)
        if record is None:
            record = BootRecord(
                current.agent, boot, max(boot_no, 0), current.era, self.now, self.now, new=True
            )
            self._by_agent[current.agent][boot] = record
        return record

    def write(self) -> dict[str, AckBoots]:
        """Write back what changed; return the acknowledgement of each agent touched."""
        inserts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        doomed: list[tuple[str, str]] = []
        for agent in sorted(self._by_agent):
            boots = self._by_agent[agent]
            for record in boots.values():
                if record.new or record.dirty:
                    record.recompute()
                    (inserts if record.new else updates).append(_row(record))
            if len(boots) > BOOTS_KEPT:
                old = newest_first(boots.values())[BOOTS_KEPT:]
                doomed += [(r.agent, r.boot) for r in old if not r.new]
        if inserts:
            self.conn.execute(insert(Boot), inserts)
        if updates:
            to_json = json_binder(self.conn.dialect)
            to_time = time_binder(self.conn.dialect)
            for row in updates:
                row["last_seen"] = to_time(row["last_seen"])
                for name in ("stored", "dropped", "missing"):
                    row[name] = to_json(row[name])
            rawsql.run(
                self.conn,
                "boots",
                lambda: (
                    update(Boot)
                    .where(Boot.agent == bindparam("b_agent"), Boot.boot == bindparam("b_boot"))
                    .values({k: bindparam(k) for k in updates[0] if not k.startswith("b_")})
                ),
                updates,
            )
        if doomed:
            self.conn.execute(delete(Boot).where(tuple_(Boot.agent, Boot.boot).in_(doomed)))
            for agent, boot in doomed:
                del self._by_agent[agent][boot]
        for boots in self._by_agent.values():
            for record in boots.values():
                record.new = record.dirty = False
        return {agent: self.ack_of(agent) for agent in sorted(self.touched)}

    def ack_of(self, agent: str) -> AckBoots:
        """The agent's most recent boots (at most BOOTS_MAX) with what they have acknowledged."""
        out: AckBoots = {}
        for record in newest_first(self._by_agent.get(agent, {}).values()):
            acked = record.acknowledged()
            if acked:
                out[record.boot] = acked
            if len(out) == BOOTS_MAX:
                break
        return out


def _row(r: BootRecord) -> dict[str, Any]:
    """A new boot's row, or what may have changed of a known one (never its order)."""
    values: dict[str, Any] = {
        "last_seen": r.last_seen,
        "stored": [list(x) for x in r.stored],
        "stored_floor": r.stored_floor,
        "highest": r.highest,
        "dropped": [list(x) for x in r.dropped],
        "dropped_count": r.dropped_count,
        "end_seq": r.end_seq,
        "missing": [list(x) for x in r.missing],
        "missing_count": r.missing_count,
    }
    if r.new:
        order = {"boot_no": r.boot_no, "era": r.era, "first_seen": r.first_seen}
        return {"agent": r.agent, "boot": r.boot, **order, **values}
    return {"b_agent": r.agent, "b_boot": r.boot, **values}


__all__ = [
    "BOOTS_KEPT",
    "BootCache",
    "DROPPED_RANGES_MAX",
    "MISSING_RANGES_MAX",
    "STORED_RANGES_MAX",
    "AckBoots",
    "BootBook",
    "BootRecord",
    "newest_first",
    "record_of",
]
