"""The alert service of a running hub: fed by the ingest, judged off the event loop, notified.

``observe`` is an ingest batch observer: on the event loop, it only notes the batch's rooms and
help events (bounded) and wakes the service. The service judges the rooms noted in one worker
thread (the engine reads what the batch committed), at most every ``EVALUATE_EVERY_S``, and at
least every ``check_interval_s`` for what time alone decides. IT's acknowledgements and
resolutions go through the same worker, so the engine sees one change at a time. Each
transition then goes to the webhook (if configured, by severity) and, for a help alert, to the
room's ``help`` topic; neither ever waits on the ingest, nor the ingest on them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import ParamSpec, TypeVar

from hub.alerts.engine import AlertEngine, RoomEvent, Transition, room_events
from hub.alerts.kinds import AlertKind, Severity
from hub.alerts.room_help import HelpPublisher, Publish
from hub.alerts.rules import Limits
from hub.alerts.store import AlertRecord, AlertStore, RoomKey
from hub.alerts.views import AlertsHealthPublic, WebhookHealthPublic, notification
from hub.alerts.webhook import Webhook
from hub.parsing import Parsed
from hub.settings import HubSettings
from hub.supervisor import describe
from protocol import utcnow

logger = logging.getLogger(__name__)

EVALUATE_EVERY_S = 0.25
"""Least time between two judgements of the rooms: under load, batches are judged together."""
RETRY_S = 1.0
"""Pause after a judgement failed (the database away) before the next."""
ERROR_WINDOW_S = 60.0
"""A failed judgement (or a dropped event) counts as a problem for this long after it."""
WEBHOOK_WINDOW_S = 600.0
"""A notification given up (or dropped) is reported for this long after it."""

P = ParamSpec("P")
T = TypeVar("T")


def limits_of(settings: HubSettings) -> Limits:
    s = settings
    return Limits(
        offline_grace_s=s.alert_offline_grace_s,
        gap_grace_s=s.alert_gap_grace_s,
        drops_quiet_s=s.alert_drops_quiet_s,
        co2_high_ppm=s.alert_co2_high_ppm,
        co2_hysteresis_ppm=s.alert_co2_hysteresis_ppm,
        lamp_hours=s.alert_lamp_hours,
        filter_hours=s.alert_filter_hours,
    )


@dataclass(slots=True)
class AlertStats:
    """What the service did since the hub started."""

    judgements: int = 0
    transitions: int = 0
    errors: int = 0
    """Judgements that failed (retried: the rooms and events wait for the next)."""
    last_error: str | None = None
    last_error_at: float | None = None
    """``time.monotonic()`` of the last failure."""
    events_dropped: int = 0
    """Help events not queued because the queue was full."""
    last_dropped_at: float | None = None
    started: bool = False


class AlertService:
    """Owns the engine, its worker thread, the webhook and the help answers of one hub."""

    def __init__(
        self,
        store: AlertStore,
        settings: HubSettings,
        *,
        publish: Publish | None = None,
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        self.settings = settings
        self.store = store
        self.engine = AlertEngine(store, limits_of(settings), now=now)
        self.stats = AlertStats()
        self.severities: frozenset[Severity] = frozenset(settings.webhook_severities)
        url = settings.webhook_url
        self.webhook = (
            None
            if url is None
            else Webhook(
                str(url),
                timeout_s=settings.webhook_timeout_s,
                retries=settings.webhook_retries,
                backoff_s=settings.webhook_backoff_s,
                queue_max=settings.webhook_queue_max,
                secret=(
                    settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
                ),
            )
        )
        self.help = (
            None
            if publish is None
            else HelpPublisher(settings.topic_root, settings.hub_id, publish)
        )
        self.listeners: list[Callable[[Transition], None]] = []
        """Told each transition on the event loop, after the webhook and the room (the live
        stream); each must return at once."""
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="hub-alerts")
        self._rooms: set[RoomKey] = set()
        self._events: deque[RoomEvent] = deque()
        self._wake = asyncio.Event()
        self._stopping = False
        self._judged = asyncio.Condition()
        self._tick_now = False
        self._noted = 0
        """Batches (and requests to judge) noted so far."""
        self._judged_upto = 0
        """How many of them the last judgement covered."""

    # --- fed by the ingest (on the event loop) ---------------------------------------------

    def observe(self, batch: Sequence[Parsed]) -> None:
        """Note a committed batch's rooms and help events; returns at once."""
        for item in batch:
            self._rooms.add((item.topic.site, item.topic.room))
        for event in room_events(batch):
            if len(self._events) >= self.settings.alert_events_max:
                self.stats.events_dropped += 1
                self.stats.last_dropped_at = time.monotonic()
                continue
            self._events.append(event)
        if batch:
            self._noted += 1
            self._wake.set()

    # --- IT, through the API -----------------------------------------------------------

    async def acknowledge(self, alert_id: int, actor: str, comment: str) -> AlertRecord:
        """Raise AlertNotFound or AlertConflict (``hub.alerts.store``)."""
        transition = await self._call(self.engine.acknowledge, alert_id, actor, comment)
        self._dispatch([transition])
        return transition.alert

    async def resolve(self, alert_id: int, actor: str, comment: str) -> AlertRecord:
        """Raise AlertNotFound or AlertConflict (``hub.alerts.store``)."""
        transition = await self._call(self.engine.resolve, alert_id, actor, comment)
        self._dispatch([transition])
        return transition.alert

    # --- running -------------------------------------------------------------------------

    async def run(self) -> None:
        """Take up the stored alerts, then judge until ``stop``; the webhook and the help
        answers are sent meanwhile."""
        async with asyncio.TaskGroup() as tg:
            senders = []
            if self.webhook is not None:
                senders.append(tg.create_task(self.webhook.run(), name="hub-alerts-webhook"))
            if self.help is not None:
                senders.append(tg.create_task(self.help.run(), name="hub-alerts-help"))
            try:
                await self._judge_loop()
            finally:
                for task in senders:
                    task.cancel()

    async def _judge_loop(self) -> None:
        if not self.stats.started:
            transitions = await self._call(self.engine.start)
            self.stats.started = True
            self._dispatch(transitions)
            if self.help is not None:  # an answer not sent before a restart goes now
                for alert in await self._call(self.store.newest_per_room, AlertKind.HELP):
                    self.help.submit(alert)
        interval = self.settings.alert_check_interval_s
        ticked = time.monotonic()
        while not self._stopping:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(max(0.0, ticked + interval - time.monotonic())):
                    await self._wake.wait()
            if self._stopping:
                return
            self._wake.clear()
            tick = self._tick_now or time.monotonic() >= ticked + interval
            self._tick_now = False
            if tick:
                ticked = time.monotonic()
            upto = self._noted
            rooms, self._rooms = self._rooms, set()
            events = list(self._events)
            self._events.clear()
            started = time.monotonic()
            try:
                transitions = await self._call(self._judge, rooms, events, tick)
            except Exception as exc:  # the database away: keep what waits, try again
                self._failed(exc, rooms, events)
                await asyncio.sleep(RETRY_S)
                continue
            self.stats.judgements += 1
            self._dispatch(transitions)
            async with self._judged:
                self._judged_upto = upto
                self._judged.notify_all()
            await asyncio.sleep(max(0.0, started + EVALUATE_EVERY_S - time.monotonic()))

    def _judge(self, rooms: set[RoomKey], events: list[RoomEvent], tick: bool) -> list[Transition]:
        out = self.engine.evaluate(rooms, events)
        if tick:
            out += self.engine.tick()
        return out

    def _failed(self, exc: Exception, rooms: set[RoomKey], events: list[RoomEvent]) -> None:
        self.stats.errors += 1
        self.stats.last_error = describe(exc)
        self.stats.last_error_at = time.monotonic()
        logger.error(
            "alerts: judging %d rooms failed (%s); trying again",
            len(rooms),
            self.stats.last_error,
            exc_info=exc,
        )
        self._rooms |= rooms
        room_left = self.settings.alert_events_max - len(self._events)
        self._events.extendleft(reversed(events[:room_left]))
        if len(events) > room_left:
            self.stats.events_dropped += len(events) - room_left
            self.stats.last_dropped_at = time.monotonic()
        self._wake.set()

    async def judged(self) -> None:
        """Wait until everything noted so far has been judged, and time's rules applied
        (for tests and tools)."""
        async with self._judged:
            self._noted += 1
            target = self._noted
            self._tick_now = True
            self._wake.set()
            await self._judged.wait_for(lambda: self._judged_upto >= target)

    def stop(self) -> None:
        """Let ``run`` return once the judgement under way is done (never cut it short: its
        thread would go on with the database after the hub closed it)."""
        self._stopping = True
        self._wake.set()

    async def close(self) -> None:
        await asyncio.to_thread(self._executor.shutdown, wait=True)

    # --- health ----------------------------------------------------------------------------

    def problems(self, now: float) -> list[str]:
        """What keeps alerts from being raised: judgements failing, help events dropped."""
        out: list[str] = []
        st = self.stats
        if st.last_error_at is not None and now - st.last_error_at < ERROR_WINDOW_S:
            out.append(
                f"alerts: {st.errors} judgements failed, the last {now - st.last_error_at:.0f} s "
                f"ago ({st.last_error})"
            )
        if st.last_dropped_at is not None and now - st.last_dropped_at < ERROR_WINDOW_S:
            out.append(f"alerts: {st.events_dropped} help events dropped (queue full)")
        return out

    def health(self, active: dict[str, int]) -> AlertsHealthPublic:
        """Counters for the hub's health, with ``active`` alerts per severity (from the store)."""
        hook = self.webhook
        st = hook.stats if hook is not None else None
        return AlertsHealthPublic(
            active=active,
            judgements=self.stats.judgements,
            errors=self.stats.errors,
            events_dropped=self.stats.events_dropped,
            help_answers_pending=self.help.pending if self.help is not None else 0,
            webhook=None
            if hook is None or st is None
            else WebhookHealthPublic(
                queued=hook.queued,
                sent=st.sent,
                failed=st.failed,
                retries=st.retries,
                dropped=st.dropped,
                last_error=st.last_error,
            ),
        )

    def warnings(self, now: float) -> list[str]:
        """What an operator should see without the hub being unwell: the webhook failing."""
        hook = self.webhook
        if hook is None:
            return []
        st, out = hook.stats, []
        if st.last_failed_at is not None and now - st.last_failed_at < WEBHOOK_WINDOW_S:
            out.append(
                f"alert webhook: {st.failed} notifications given up, the last "
                f"{now - st.last_failed_at:.0f} s ago ({st.last_error})"
            )
        if st.last_dropped_at is not None and now - st.last_dropped_at < WEBHOOK_WINDOW_S:
            out.append(f"alert webhook: {st.dropped} notifications dropped (queue full)")
        return out

    # --- after each change ---------------------------------------------------------------

    def _dispatch(self, transitions: Sequence[Transition]) -> None:
        for t in transitions:
            self.stats.transitions += 1
            try:
                self._tell(t)
            except Exception:  # who is told never stops the alerts themselves
                self.stats.errors += 1
                logger.exception("alert %d %s: telling failed", t.alert.id, t.action)

    def _tell(self, t: Transition) -> None:
        if t.action != "repeated":
            logger.info("alert %d %s: %s %s/%s %s", t.alert.id, t.action, t.alert.kind,
                        t.alert.site, t.alert.room, t.alert.device)  # fmt: skip
        if self.help is not None and t.alert.kind == AlertKind.HELP:
            self.help.submit(t.alert)
        notify = t.action != "repeated" and t.alert.severity in self.severities
        if self.webhook is not None and notify:
            body = notification(t, self.settings.hub_id).model_dump_json().encode()
            self.webhook.submit(body)
        for listener in self.listeners:
            listener(t)

    async def _call(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, lambda: fn(*args, **kwargs))


__all__ = ["EVALUATE_EVERY_S", "AlertService", "AlertStats", "limits_of"]
