"""The SQL of ordered messages: status, device state, configuration applied, agent health.

Each applies only if newer by the agent's counters (``hub.ordering``). The batch is folded in
arrival order against what is stored (read under the rooms' locks), and only each key's
winner is written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, select, tuple_, update

from hub.boots import BootBook
from hub.db import AGENT_VERSION_MAX, AgentHealth, DeviceStateRow, Room, UtcDateTime
from hub.ordering import by_arrival, counter_key, newer, status_key
from hub.parsing import Parsed
from hub.series import Budget
from hub.writes import InsertFactory
from protocol import ConfigApplied, DeviceState, Health, Status

RoomKey = tuple[str, str]
Families = dict[RoomKey, dict[str, Any] | None]


def _room(item: Parsed) -> RoomKey:
    return (item.topic.site, item.topic.room)


class OrderedWriter:
    """Applies the ordered messages of one batch on an open transaction."""

    def __init__(
        self,
        conn: Connection,
        insert_factory: InsertFactory,
        book: BootBook,
        *,
        now: datetime,
        devices: Budget[str],
        reject: Callable[[Parsed, str, str], None],
    ) -> None:
        self.conn = conn
        self.insert = insert_factory
        self.book = book
        self.now = now
        self.devices = devices
        self.reject = reject
        self._rooms: dict[RoomKey, Any] = {}

    def _order(self, item: Parsed) -> Any:
        msg = item.message
        return self.book.order(item.agent, msg.boot, msg.boot_no)  # type: ignore[attr-defined]

    def load_rooms(self, rooms: Iterable[RoomKey]) -> None:
        """What the rooms' rows hold of order keys and families (locked already)."""
        wanted = sorted(set(rooms) - set(self._rooms))
        if not wanted:
            return
        r = Room
        query = select(
            r.site_id, r.room_id, r.families, r.status_era, r.status_boot_no, r.status_conn,
            r.status_rank, r.applied_era, r.applied_boot_no, r.applied_n,
        ).where(tuple_(r.site_id, r.room_id).in_(wanted))  # fmt: skip
        for row in self.conn.execute(query):
            self._rooms[(row.site_id, row.room_id)] = row

    def statuses(self, items: list[Parsed]) -> Families:
        """Apply the newest status of each room; return each room's families afterwards."""
        self.load_rooms(_room(i) for i in items)
        current: dict[RoomKey, tuple[int, ...] | None] = {}
        families: Families = {}
        for room_key, row in self._rooms.items():
            stored = (row.status_era, row.status_boot_no, row.status_conn, row.status_rank)
            current[room_key] = None if row.status_era is None else stored
            families[room_key] = row.families
        winners: dict[RoomKey, tuple[Status, tuple[int, int, int, int]]] = {}
        for item in items:
            msg = item.message
            assert isinstance(msg, Status)
            room = _room(item)
            key = status_key(self._order(item), msg)
            if newer(key, current.get(room), arrival=by_arrival(msg)):
                current[room] = key
                winners[room] = (msg, key)
        if not winners:
            return families
        stmt = (
            update(Room)
            .where(Room.site_id == bindparam("b_site"), Room.room_id == bindparam("b_room"))
            .values(
                online=bindparam("b_online"),
                boot=bindparam("b_boot"),
                keepalive=bindparam("b_keepalive"),
                agent_version=bindparam("b_version"),
                families=bindparam("b_families", type_=Room.__table__.c.families.type),
                status_era=bindparam("b_era"),
                status_boot_no=bindparam("b_boot_no"),
                status_conn=bindparam("b_conn"),
                status_rank=bindparam("b_rank"),
                last_status_at=bindparam("b_at", type_=UtcDateTime()),
            )
        )
        rows = []
        for where, (msg, k) in sorted(winners.items()):
            families[where] = dict(msg.families) or None
            rows.append(
                {"b_site": where[0], "b_room": where[1], "b_online": msg.state == "online",
                 "b_boot": msg.boot, "b_keepalive": msg.keepalive,
                 "b_version": msg.agent_version[:AGENT_VERSION_MAX],
                 "b_families": families[where], "b_era": k[0], "b_boot_no": k[1],
                 "b_conn": k[2], "b_rank": k[3], "b_at": self.now}
            )  # fmt: skip
        self.conn.execute(stmt, rows)
        return families

    def states(self, items: list[Parsed], families: Families) -> None:
        """Apply the newest state of each device; refuse one whose family is not the one the
        room's status gave that device."""
        rooms = sorted({_room(i) for i in items})
        missing = [r for r in rooms if r not in families]
        if missing:
            self.load_rooms(missing)
            families.update({k: row.families for k, row in self._rooms.items() if k in missing})
        d = DeviceStateRow
        current: dict[tuple[str, str, str], tuple[int, ...] | None] = {}
        query = select(d.site, d.room, d.device, d.era, d.boot_no, d.n).where(
            tuple_(d.site, d.room).in_(rooms)
        )
        for row in self.conn.execute(query):
            current[(row.site, row.room, row.device)] = (row.era, row.boot_no, row.n)
        self.devices.prepare(f"{s}/{r}" for s, r in rooms)
        winners: dict[tuple[str, str, str], tuple[DeviceState, tuple[int, int, int]]] = {}
        for item in items:
            msg = item.message
            assert isinstance(msg, DeviceState)
            room = _room(item)
            announced = families.get(room)
            if announced:
                expected = announced.get(msg.device)
                if expected != msg.family:
                    said = f"family {expected!r}" if expected else "no such device"
                    detail = f"{msg.device}: family {msg.family!r}; the room's status says {said}"
                    self.reject(item, "mismatch", detail)
                    continue
            if not self.devices.admit(item.agent, [msg.device]):
                detail = f"room {item.agent} would have more than {self.devices.limit} devices"
                self.reject(item, "too_many_series", detail)
                continue
            key3 = (room[0], room[1], msg.device)
            key = counter_key(self._order(item), msg)
            if newer(key, current.get(key3), arrival=by_arrival(msg)):
                current[key3] = key
                winners[key3] = (msg, key)
        if not winners:
            return
        stmt = self.insert(DeviceStateRow)
        columns = ("family", "state", "available", "updated_at", "era", "boot_no", "n")
        self.conn.execute(
            stmt.on_conflict_do_update(
                index_elements=[d.site, d.room, d.device],
                set_={c: stmt.excluded[c] for c in columns},
            ),
            [
                {"site": s, "room": r, "device": dev, "family": m.family, "state": m.state,
                 "available": m.available, "updated_at": m.ts, "era": k[0], "boot_no": k[1],
                 "n": k[2]}
                for (s, r, dev), (m, k) in sorted(winners.items())
            ],
        )  # fmt: skip

    def applied(self, items: list[Parsed]) -> None:
        """Record the newest configuration version each room's agent applied."""
        self.load_rooms(_room(i) for i in items)
        current: dict[RoomKey, tuple[int, ...] | None] = {
            k: None if row.applied_era is None else (row.applied_era, row.applied_boot_no,
                                                      row.applied_n)
            for k, row in self._rooms.items()
        }  # fmt: skip
        winners: dict[RoomKey, tuple[ConfigApplied, tuple[int, int, int]]] = {}
        for item in items:
            msg = item.message
            assert isinstance(msg, ConfigApplied)
            key = counter_key(self._order(item), msg)
            if newer(key, current.get(_room(item)), arrival=by_arrival(msg)):
                current[_room(item)] = key
                winners[_room(item)] = (msg, key)
        if not winners:
            return
        stmt = (
            update(Room)
            .where(Room.site_id == bindparam("b_site"), Room.room_id == bindparam("b_room"))
            .values(
                config_version_applied=bindparam("b_version"),
                config_applied_ok=bindparam("b_ok"),
                config_applied_text=bindparam("b_text"),
                config_refused_version=bindparam("b_refused"),
                applied_era=bindparam("b_era"),
                applied_boot_no=bindparam("b_boot_no"),
                applied_n=bindparam("b_n"),
            )
        )
        self.conn.execute(
            stmt,
            [
                {"b_site": s, "b_room": r, "b_version": m.version, "b_ok": m.ok,
                 "b_text": m.text, "b_refused": m.refused, "b_era": k[0], "b_boot_no": k[1],
                 "b_n": k[2]}
                for (s, r), (m, k) in sorted(winners.items())
            ],
        )  # fmt: skip

    def health(self, items: list[Parsed]) -> None:
        """Account each report's losses and ends in the boots; keep the newest report."""
        rooms = sorted({_room(i) for i in items})
        h = AgentHealth
        current: dict[RoomKey, tuple[int, ...] | None] = {}
        query = select(h.site, h.room, h.era, h.boot_no, h.n).where(
            tuple_(h.site, h.room).in_(rooms)
        )
        for row in self.conn.execute(query):
            current[(row.site, row.room)] = (row.era, row.boot_no, row.n)
        winners: dict[RoomKey, tuple[Health, tuple[int, int, int]]] = {}
        for item in items:
            msg = item.message
            assert isinstance(msg, Health)
            key = counter_key(self._order(item), msg)
            self.book.add_health(
                item.agent,
                msg.boot,
                msg.boot_no,
                last_seq=msg.last_seq,
                previous_boot=msg.previous_boot,
                previous_last_seq=msg.previous_last_seq,
                losses=msg.losses,
            )
            if newer(key, current.get(_room(item)), arrival=by_arrival(msg)):
                current[_room(item)] = key
                winners[_room(item)] = (msg, key)
        if not winners:
            return
        stmt = self.insert(AgentHealth)
        columns = ("boot", "era", "boot_no", "n", "report", "clock_offset_s", "received_at")
        self.conn.execute(
            stmt.on_conflict_do_update(
                index_elements=[h.site, h.room], set_={c: stmt.excluded[c] for c in columns}
            ),
            [
                {"site": s, "room": r, "boot": m.boot, "era": k[0], "boot_no": k[1], "n": k[2],
                 "report": m.model_dump(mode="json", exclude={"v", "sender"}),
                 "clock_offset_s": m.clock_offset_s, "received_at": self.now}
                for (s, r), (m, k) in sorted(winners.items())
            ],
        )  # fmt: skip


__all__ = ["Families", "OrderedWriter"]
