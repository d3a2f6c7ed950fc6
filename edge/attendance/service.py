"""The attendance device: takes attendance in the timetable's windows with the room's camera,
sends one mark per student per period through the outbox, and takes the hub's commands."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, ClassVar, Protocol
from zoneinfo import ZoneInfo

import cv2
import numpy as np

from devices.base import Action, BadCommand, Device, parse_params
from devices.camera.sources import IMAGE_SUFFIXES, Frame
from edge.attendance.cards import QrReader, Refusal, load_public_key, verify
from edge.attendance.config import AttendanceConfig
from edge.attendance.engine import enrol
from edge.attendance.revoked import RevokedCards
from edge.attendance.roster import RosterMatcher
from edge.attendance.session import Take, Window, window_at
from edge.attendance.vault import ConsentRefused, Vault, VaultError
from faces.engine import build_engine
from faces.models import Box, FaceEngine
from protocol.attendance import (
    DEVICE,
    KIND_CARD_REFUSED,
    KIND_CONSENT,
    KIND_ENROLLED,
    KIND_HEADCOUNT,
    KIND_MARK,
    KIND_SUMMARY,
    NO_CONSENT,
    AttendanceData,
    CardRefused,
    ConsentParams,
    EnrolParams,
    EnrolTemplatesParams,
    MarkParams,
    RevokeCardParams,
    RosterParams,
    Slot,
    StudentMethod,
    TakeParams,
    WithdrawParams,
    as_data,
)
from protocol.timetable import TimetableConfig

logger = logging.getLogger(__name__)

RECHECK_FRAMES = 10
"""Every this many frames each face is embedded, named students' seats included."""

ROSTER_FILE = "roster.json"
"""The roster the hub sent (``roster`` command), in the attendance folder."""
UNKNOWN_SEAT = "?"
"""Seats of faces that matched no one start with this (student ids cannot)."""

Emit = Callable[..., Any]
"""``emit(kind, severity=, device=, text=, data=)``: an event into the outbox."""


class FrameFeed(Protocol):
    """What the service needs of a camera."""

    def want(self, on: bool) -> None: ...

    async def frame(self, timeout: float) -> Frame | None: ...


class WallClock(Protocol):
    def now(self) -> dt.datetime: ...


class AttendanceService(Device):
    """Device ``attendance``: the pipeline of one room's camera for one class."""

    family: ClassVar[str] = "attendance"

    def __init__(
        self,
        config: AttendanceConfig,
        *,
        camera: FrameFeed,
        vault: Vault,
        emit: Emit,
        clock: WallClock,
        timetable: Callable[[], TimetableConfig | None],
        tz: ZoneInfo,
        data_dir: Path,
        engine: FaceEngine | None = None,
        label: str = "",
        changed: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(DEVICE)
        self.config = config
        self.camera = camera
        self.vault = vault
        self._emit = emit
        self.clock = clock
        self._timetable = timetable
        self.tz = tz
        self.data_dir = data_dir
        self.label = label
        self._changed = changed or (lambda: None)
        """Called when the period's marks change: the agent publishes the state (the panel)."""
        self._engine = engine
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="attendance")
        self.class_id = config.class_id
        self.method: StudentMethod = config.method
        self.roster: dict[str, StudentMethod] = {
            s: m or config.method for s, m in config.students.items()
        }
        self._roster_file = data_dir / ROSTER_FILE
        self._load_roster()
        self.take: Take | None = None
        self.closed: dict[tuple[dt.date, int], Take] = {}
        """The last periods taken (for corrections), by (date, period)."""
        self._forced: Window | None = None
        self._matcher: RosterMatcher | None = None
        self._qr = QrReader()
        self._card_key = load_public_key(config.card_public_key) if config.card_public_key else None
        self.revoked = RevokedCards(data_dir / "revoked_cards.json")
        self._refused_tokens: set[str] = set()
        self._seats: dict[str, Box] = {}
        """Where each student already named in the open window sits: not embedded again."""
        self._expired_on: dt.date | None = None
        self.errors = 0
        """Frames that could not be analysed (counted, logged; the window goes on)."""

    # --- the device ---------------------------------------------------------------------

    @property
    def actions(self) -> Mapping[str, Action]:
        return {
            "status": self._status, "consent": self._consent, "withdraw": self._withdraw,
            "mark": self._mark, "roster": self._roster, "revoke_card": self._revoke,
            "enrol": self._enrol, "enrol_templates": self._enrol_templates,
            "take": self._take_now,
        }  # fmt: skip

    async def state(self) -> dict[str, Any]:
        last = max(self.closed.values(), key=lambda t: t.window.opens, default=None)
        return {
            "class_id": self.class_id,
            "method": self.method,
            "roster": len(self.roster),
            "period": self.take.view() if self.take else None,
            "last": last.view() if last else None,
            "errors": self.errors,
        }

    def emit(self, kind: str, payload: AttendanceData, severity: str = "info") -> None:
        self._emit(kind, severity=severity, device=DEVICE, data=as_data(payload))
        if kind == KIND_MARK:
            self._changed()

    def report_history(self) -> None:
        """Send the consent and enrolment changes the vault holds (from the CLI too)."""
        try:
            history = self.vault.take_history()
        except VaultError as exc:
            logger.error("%s: attendance vault: %s", self.label, exc)
            return
        for item in history:
            kind = KIND_CONSENT if item.get("kind") == "consent" else KIND_ENROLLED
            self._emit(kind, severity="info", device=DEVICE, data=item["data"])

    async def engine(self) -> FaceEngine:
        if self._engine is None:
            self._engine = await asyncio.get_running_loop().run_in_executor(
                self._worker, build_engine, self.config.models
            )
        return self._engine

    # --- windows ------------------------------------------------------------------------

    def current_window(self, now: dt.datetime) -> Window | None:
        if self._forced is not None and now < self._forced.closes:
            return self._forced
        self._forced = None
        return window_at(
            self._timetable(), now, self.tz, class_id=self.class_id,
            window_min=self.config.window_min, late_min=self.config.late_min,
            periods=self.config.periods,
        )  # fmt: skip

    async def open(self, window: Window) -> None:
        self.report_history()
        self.take = Take(window, dict(self.roster), self.method, self.config.min_frames)
        self._seats = {}
        face_students = [s for s, m in self.roster.items() if m == "face"]
        self._matcher = None
        if face_students:
            engine = await self.engine()
            assert engine.recogniser is not None
            templates = await asyncio.get_running_loop().run_in_executor(
                self._worker, self.vault.templates, face_students
            )
            self._matcher = RosterMatcher(
                templates, engine.recogniser, threshold=self.config.models.threshold,
                margin=self.config.models.margin,
            )  # fmt: skip
        self.camera.want(True)
        self._changed()
        logger.info("%s: attendance of %s period %d opened", self.label, self.class_id,
                    window.slot.period)  # fmt: skip

    def close(self) -> None:  # the Device hook: the worker goes
        self._worker.shutdown(wait=False, cancel_futures=True)

    def finish(self, now: dt.datetime) -> None:
        """Close the open window: absent marks, the summary and the headcount."""
        take, self.take = self.take, None
        if take is None:
            return
        self.camera.want(False)
        absent, summary, headcount = take.close(now)
        for mark in absent:
            self.emit(KIND_MARK, mark)
        if take.identified():
            self.emit(KIND_SUMMARY, summary)
        if any(m == "headcount" for m in take.roster.values()) or self.method == "headcount":
            self.emit(KIND_HEADCOUNT, headcount)
        self.closed[(take.slot.date, take.slot.period)] = take
        self._changed()
        for key in sorted(self.closed, key=lambda k: self.closed[k].window.opens)[:-16]:
            del self.closed[key]
        self._refused_tokens.clear()

    async def step(self) -> None:
        """One turn: open or close a window as the clock says, analyse one frame if open."""
        now = self.clock.now()
        today = now.astimezone(self.tz).date()
        if self._expired_on != today:
            self._expired_on = today
            try:
                expired = self.vault.expire(today)
                if expired:
                    logger.info("%s: templates of %d students expired", self.label, len(expired))
            except VaultError as exc:
                logger.error("%s: attendance vault: %s", self.label, exc)
            self.report_history()
        window = self.current_window(now)
        if self.take is not None and (window is None or window.slot != self.take.slot):
            self.finish(now)
        if self.take is None and window is not None:
            if (window.slot.date, window.slot.period) in self.closed:
                return
            await self.open(window)
        if self.take is None:
            return
        frame = await self.camera.frame(timeout=max(self.config.sample_interval_s, 2.0))
        if frame is not None:
            await self.analyse(frame, self.clock.now())

    async def analyse(self, frame: Frame, at: dt.datetime) -> None:
        """Faces and cards of one frame, off the event loop; marks go out as decided."""
        take = self.take
        if take is None:
            return
        identify = self._matcher is not None
        engine = await self.engine()
        loop = asyncio.get_running_loop()
        # a class sits still: faces where a named student sits are not embedded again, but
        # every RECHECK_FRAMES-th frame is, in case someone else sat down there
        if take.frames % RECHECK_FRAMES == 0:
            self._seats = {s: b for s, b in self._seats.items() if not s.startswith(UNKNOWN_SEAT)}
        known = dict(self._seats) if identify and take.frames % RECHECK_FRAMES else {}
        try:
            faces, codes = await loop.run_in_executor(
                self._worker, self._look, engine, frame, identify, known
            )
        except Exception:  # a frame the models choke on: counted, the window goes on
            self.errors += 1
            logger.exception("%s: a frame could not be analysed", self.label)
            return
        matches, unknown = [], 0
        if self._matcher is not None:
            for face in faces:
                if face.known is not None and face.known.startswith(UNKNOWN_SEAT):
                    unknown += 1
                if face.embedding is None:
                    continue
                match = self._matcher.match(face.embedding)
                if match is None:  # a stranger's seat, looked at again at the next recheck
                    unknown += 1
                    self._seats[f"{UNKNOWN_SEAT}{len(self._seats)}"] = face.box
                else:
                    matches.append(match)
                    if (
                        match.student in take.marks
                        or len(take.hits.get(match.student, ())) + 1 >= take.min_frames
                    ):
                        self._seats[match.student] = face.box
        for mark in take.feed_faces(matches, faces=len(faces), unknown=unknown, at=at):
            self.emit(KIND_MARK, mark)
        for token in codes:
            self._card(token, at)
        if self.config.debug_snapshots:  # stays on the Pi, in the data folder
            await loop.run_in_executor(self._worker, self._snapshot, frame)

    def _look(
        self, engine: FaceEngine, frame: Frame, identify: bool, known: dict[str, Box]
    ) -> tuple[list[Any], list[str]]:
        faces = engine.faces(frame, embed=identify, known=known)
        codes = self._qr.read(frame) if self._card_key is not None else []
        return faces, codes

    def _snapshot(self, frame: Frame) -> None:
        folder = self.data_dir / "debug"
        folder.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(folder / "last.jpg"), frame)

    def _card(self, token: str, at: dt.datetime) -> None:
        take = self.take
        if take is None or self._card_key is None:
            return
        result = verify(self._card_key, token, revoked=self.revoked.serials,
                        class_id=self.class_id, today=at.astimezone(self.tz).date())  # fmt: skip
        if isinstance(result, Refusal):
            digest = hashlib.sha256(token.encode()).hexdigest()
            if digest in self._refused_tokens:
                return
            self._refused_tokens.add(digest)
            logger.warning("%s: a QR card was refused: %s", self.label, result.reason)
            self.emit(
                KIND_CARD_REFUSED,
                CardRefused(reason=result.reason, serial=result.serial),
                severity="warning",
            )
            return
        if result.student not in take.roster:
            self.emit(KIND_CARD_REFUSED, CardRefused(reason="other_class", serial=result.serial),
                      severity="warning")  # fmt: skip
            return
        mark = take.feed_card(result.student, at)
        if mark is not None:
            self.emit(KIND_MARK, mark)

    async def run(self) -> None:
        """Take attendance whenever the timetable says, until cancelled."""
        self.report_history()
        while True:
            await self.step()
            if self.take is None:
                await asyncio.sleep(min(self.config.sample_interval_s * 5, 10.0))
            else:
                await asyncio.sleep(self.config.sample_interval_s)

    # --- commands -----------------------------------------------------------------------

    async def _in_worker(self, fn: Callable[..., Any], *args: Any) -> Any:
        try:
            return await asyncio.get_running_loop().run_in_executor(self._worker, fn, *args)
        except VaultError as exc:
            raise BadCommand("bad_params", str(exc)) from exc

    async def _status(self, params: dict[str, Any]) -> dict[str, Any]:
        return await self.state()

    async def _consent(self, params: dict[str, Any]) -> dict[str, Any]:
        await self._in_worker(self.vault.record_consent, parse_params(ConsentParams, params))
        self.report_history()
        return await self.state()

    async def _withdraw(self, params: dict[str, Any]) -> dict[str, Any]:
        p = parse_params(WithdrawParams, params)
        await self._in_worker(self.vault.withdraw, p.student, p.by)
        if self._matcher is not None:  # gone from the open window too
            self._matcher.templates.pop(p.student, None)
        self._seats.pop(p.student, None)
        self.report_history()
        return await self.state()

    async def _enrol(self, params: dict[str, Any]) -> dict[str, Any]:
        p = parse_params(EnrolParams, params)
        inbox = (self.config.enrol_inbox or self.data_dir / "inbox") / p.student
        photos = sorted(x for x in inbox.glob("*") if x.suffix.lower() in IMAGE_SUFFIXES)
        if not photos:
            raise BadCommand("bad_params", f"no photos in the enrolment inbox for {p.student}")
        engine = await self.engine()
        today = self.clock.now().astimezone(self.tz).date()
        try:
            await self._in_worker(enrol, engine, self.vault, p.student, photos, today)
        finally:
            for photo in photos:  # photos are never kept, enrolled or refused
                photo.unlink(missing_ok=True)
        self.report_history()
        return await self.state()

    async def _enrol_templates(self, params: dict[str, Any]) -> dict[str, Any]:
        """Templates the hub computed from IT's photos: stored only for a consented student,
        and only when they come from this room's recogniser (name and model version)."""
        p = parse_params(EnrolTemplatesParams, params)
        engine = await self.engine()
        recogniser = engine.recogniser
        if recogniser is None or (p.recogniser, p.recogniser_version) != (
            recogniser.name, recogniser.version,
        ):  # fmt: skip
            mine = f"{recogniser.name} {recogniser.version}" if recogniser else "none"
            raise BadCommand("bad_params", f"recogniser: templates of {p.recogniser} "
                             f"{p.recogniser_version}, this room's is {mine}")  # fmt: skip
        today = self.clock.now().astimezone(self.tz).date()
        embeddings = [np.asarray(t, dtype=np.float32) for t in p.templates]
        try:
            await asyncio.get_running_loop().run_in_executor(
                self._worker, self.vault.enrol, p.student, embeddings, today
            )
        except ConsentRefused as exc:
            raise BadCommand("bad_params", f"{NO_CONSENT}: {exc}") from exc
        except VaultError as exc:
            raise BadCommand("bad_params", str(exc)) from exc
        logger.info("%s: %d templates enrolled through the hub by %s", self.label,
                    len(embeddings), p.by)  # fmt: skip
        self.report_history()
        return await self.state()

    async def _mark(self, params: dict[str, Any]) -> dict[str, Any]:
        p = parse_params(MarkParams, params)
        take = self.take
        if p.date is not None or p.period is not None or take is None:
            key = (p.date or self.clock.now().astimezone(self.tz).date(), p.period or 0)
            take = self.closed.get(key) if take is None or take.slot.period != key[1] else take
        if take is None:
            raise BadCommand("bad_params", "no such period taken on this agent")
        if p.student not in take.roster:
            raise BadCommand("bad_params", f"{p.student} is not in class {self.class_id}")
        self.emit(KIND_MARK, take.manual(p.student, p.status, p.by, self.clock.now()))
        if p.status == "absent":
            self._seats.pop(p.student, None)
        return await self.state()

    async def _roster(self, params: dict[str, Any]) -> dict[str, Any]:
        p = parse_params(RosterParams, params)
        await asyncio.get_running_loop().run_in_executor(self._worker, self._save_roster, p)
        self._use_roster(p)
        return await self.state()

    def _use_roster(self, p: RosterParams) -> None:
        self.class_id, self.method = p.class_id, p.method
        self.roster = {e.student: e.method or p.method for e in p.students}

    def _load_roster(self) -> None:
        """The roster the hub sent last, kept on disk (ids only): it outlives a restart."""
        try:
            text = self._roster_file.read_text()
        except FileNotFoundError:
            return
        except OSError as exc:
            logger.error("%s: attendance roster %s: %s", self.label, self._roster_file, exc)
            return
        try:
            self._use_roster(RosterParams.model_validate_json(text))
        except ValueError as exc:
            logger.error("%s: attendance roster %s unreadable, the room file's is used: %s",
                         self.label, self._roster_file, exc)  # fmt: skip

    def _save_roster(self, p: RosterParams) -> None:
        self._roster_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = self._roster_file.with_suffix(".tmp")
        tmp.write_text(p.model_dump_json())
        tmp.replace(self._roster_file)

    async def _revoke(self, params: dict[str, Any]) -> dict[str, Any]:
        p = parse_params(RevokeCardParams, params)
        await asyncio.get_running_loop().run_in_executor(self._worker, self.revoked.add, p.serial)
        return await self.state()

    async def _take_now(self, params: dict[str, Any]) -> dict[str, Any]:
        p = parse_params(TakeParams, params)
        now = self.clock.now()
        period = p.period or 0
        slot_period = (
            period
            or max((k[1] for k in self.closed if k[0] == now.astimezone(self.tz).date()), default=0)
            + 1
        )
        slot = Slot(class_id=self.class_id, date=now.astimezone(self.tz).date(),
                    period=min(slot_period, 20))  # fmt: skip
        late_from = now + dt.timedelta(minutes=self.config.window_min)
        self._forced = Window(slot, now, late_from,
                              late_from + dt.timedelta(minutes=self.config.late_min))  # fmt: skip
        return await self.state()


__all__ = ["AttendanceService", "FrameFeed"]
