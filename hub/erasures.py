"""Withdrawals of consent that a room has not confirmed yet, sent again until it does.

Withdrawing a student's consent must delete their face templates at once on every agent that
holds them, not only on the room IT asked from: the room they were enrolled in, and each room
a roster with them was pushed to. A room that cannot be reached (offline, the broker away, the
hub restarting) keeps a row here; the hub sends the withdrawal again whenever the room is
online, every ``retry_s``, until the room's agent answers. A row names a student id, a room
and who asked: no face data. Rows survive a hub restart (they are in the database).

A room's answer ends its row: ``ok`` (templates deleted), and also a refusal that no retry
would change (``unknown_device``: the room has no attendance camera, so it holds no
template). Link failures (not connected, no reply in time, refused publish) and answers that
say the deletion did not happen yet (``RETRIED_CODES``) keep the row.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, delete, select, update

from hub.attendance_tables import EnrolmentRow, ErasureRow, RosterRow
from hub.attendance_writes import insert_for
from hub.commands import Commander
from hub.db import Room
from hub.errors import HubError, UnknownRoom
from hub.parsing import Parsed
from protocol import Status
from protocol.attendance import DEVICE, WithdrawParams, as_data
from protocol.bounds import safe_text
from protocol.messages import utcnow

logger = logging.getLogger(__name__)

RETRIED_CODES = frozenset({"device_error", "device_unavailable", "expired"})
"""Answers after which the templates may still be there: the withdrawal is sent again."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one room answered to a withdrawal (``code`` None: not reached)."""

    room: str
    code: str | None
    text: str

    @property
    def pending(self) -> bool:
        """Whether the withdrawal is kept, to be sent again."""
        return self.code is None or self.code in RETRIED_CODES


class Erasures:
    """The pending withdrawals of every school, and the loop that sends them again."""

    def __init__(
        self, engine: Engine, commander: Commander, *, retry_s: float, timeout_s: float
    ) -> None:
        self.engine = engine
        self.commander = commander
        self.retry_s = retry_s
        self.timeout_s = timeout_s
        self.sent = 0
        """Withdrawals a room confirmed after being pending."""
        self._wake = asyncio.Event()
        self._stopping = False

    # --- the rooms concerned -------------------------------------------------------------

    def rooms_holding(self, site: str, student: str, asked_in: str) -> list[str]:
        """The rooms of ``site`` that may hold the student's templates: the one IT asked
        from, the one they were enrolled in, and each a roster with them was pushed to."""
        rooms = {asked_in}
        with self.engine.connect() as conn:
            e = EnrolmentRow
            rooms.update(conn.scalars(select(e.room).where(e.site == site, e.student == student)))
            for room, students in conn.execute(
                select(RosterRow.room, RosterRow.students).where(RosterRow.site == site)
            ):
                if any(isinstance(s, dict) and s.get("student") == student for s in students):
                    rooms.add(room)
        return sorted(rooms)

    # --- rows ------------------------------------------------------------------------------

    def add(self, site: str, rooms: Iterable[str], student: str, by: str, at: datetime) -> None:
        """Keep a withdrawal for each room until it answers (a repeat keeps the first)."""
        with self.engine.begin() as conn:
            for room in rooms:
                stmt = insert_for(conn)(ErasureRow).values(
                    site=site, room=room, student=student, by=by, requested_at=at, attempts=0,
                    last_error="",
                )  # fmt: skip
                conn.execute(stmt.on_conflict_do_nothing())

    def done(self, site: str, room: str, student: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                delete(ErasureRow).where(
                    ErasureRow.site == site, ErasureRow.room == room, ErasureRow.student == student
                )
            )

    def failed(self, site: str, room: str, student: str, error: str, at: datetime) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(ErasureRow)
                .where(
                    ErasureRow.site == site, ErasureRow.room == room, ErasureRow.student == student
                )
                .values(
                    attempts=ErasureRow.attempts + 1,
                    last_error=safe_text(error, 500),
                    last_try_at=at,
                )
            )

    def pending(self, site: str, student: str | None = None) -> dict[str, list[str]]:
        """Student → the rooms of ``site`` that have not confirmed their withdrawal yet."""
        out: dict[str, list[str]] = {}
        with self.engine.connect() as conn:
            where = [ErasureRow.site == site]
            if student is not None:
                where.append(ErasureRow.student == student)
            rows = conn.execute(
                select(ErasureRow.student, ErasureRow.room)
                .where(*where)
                .order_by(ErasureRow.student, ErasureRow.room)
            )
            for s, room in rows:
                out.setdefault(s, []).append(room)
        return out

    def annotate(
        self, site: str, students: list[dict[str, Any]], student: str | None = None
    ) -> list[dict[str, Any]]:
        """Give each consent record of ``AttendanceBook.consent`` its ``pending_rooms``."""
        pending = self.pending(site, student)
        for entry in students:
            entry["pending_rooms"] = pending.get(entry["student"], [])
        return students

    def due(self) -> list[tuple[str, str, str, str]]:
        """(site, room, student, by) of every pending withdrawal whose room is online."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(ErasureRow.site, ErasureRow.room, ErasureRow.student, ErasureRow.by)
                .join(Room, (Room.site_id == ErasureRow.site) & (Room.room_id == ErasureRow.room))
                .where(Room.online.is_(True))
                .order_by(ErasureRow.requested_at)
            )
            return [(r.site, r.room, r.student, r.by) for r in rows]

    # --- sending ---------------------------------------------------------------------------

    async def send(
        self, site: str, room: str, student: str, by: str, timeout_s: float | None = None
    ) -> Outcome:
        """Send one room the withdrawal; its row ends with any answer, stays on a link fault."""
        params = WithdrawParams(student=student, by=by)
        try:
            reply = await self.commander.send(
                site, room, DEVICE, "withdraw", as_data(params), issuer=f"user:{by}",
                timeout_s=timeout_s or self.timeout_s,
            )  # fmt: skip
        except UnknownRoom as exc:  # gone from the sites file: nothing left to reach
            await asyncio.to_thread(self.done, site, room, student)
            return Outcome(room, "unknown_room", str(exc))
        except HubError as exc:
            await asyncio.to_thread(self.failed, site, room, student, str(exc), utcnow())
            return Outcome(room, None, str(exc))
        outcome = Outcome(room, reply.code, reply.text)
        if outcome.pending:
            error = f"{reply.code}: {reply.text}"
            await asyncio.to_thread(self.failed, site, room, student, error, utcnow())
        else:
            await asyncio.to_thread(self.done, site, room, student)
        if not reply.ok:
            logger.info("room %s/%s answered a withdrawal with %s: %s", site, room, reply.code,
                        reply.text)  # fmt: skip
        return outcome

    def wake(self) -> None:
        """Look for due withdrawals now (a room came online, a withdrawal was kept)."""
        self._wake.set()

    def observe(self, batch: Sequence[Parsed]) -> None:
        """An ingest observer (on the loop): a room that comes online is sent its pending
        withdrawals at once, not at the next ``retry_s``."""
        if any(isinstance(p.message, Status) and p.message.state == "online" for p in batch):
            self.wake()

    async def send_due(self) -> int:
        """Send every due withdrawal once; returns how many rooms confirmed theirs."""
        confirmed = 0
        for site, room, student, by in await asyncio.to_thread(self.due):
            if self._stopping:
                break
            if not (await self.send(site, room, student, by)).pending:
                confirmed += 1
                logger.info("room %s/%s confirmed a pending withdrawal of consent", site, room)
        self.sent += confirmed
        return confirmed

    async def run(self) -> None:
        """Send due withdrawals every ``retry_s`` (or when woken) until stopped."""
        while not self._stopping:
            self._wake.clear()
            await self.send_due()
            with contextlib.suppress(TimeoutError):  # the period is over: look again
                async with asyncio.timeout(self.retry_s):
                    await self._wake.wait()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()


__all__ = ["RETRIED_CODES", "Erasures", "Outcome"]
