"""The hub's live stream: what the ingest committed and what the alerts did, for the pages.

Two feeders, neither of which may slow what feeds it: :meth:`HubLive.observe` is an ingest
batch observer (on the event loop, after each commit: a few dictionary look-ups per message,
no I/O), and :meth:`HubLive.alert_changed` is told each transition of an alert by the alert
service. Both publish small events to one bounded :class:`ui.live.LiveFeed`; every page that
follows ``GET /api/v1/stream`` receives, from that feed, only the events of the rooms its
caller may read (:meth:`HubLive.response`).

The events say what arrived, for a page to show it at once; what is *current* stays the
API's to say (it orders by the agents' counters). Redeliveries and replays are left out by
the same counters, cheaply: a telemetry message or event whose seq is not above the
highest seen of its boot, a state, status, health or configuration report not newer than
the last of its boot. Telemetry is throttled per room: at most one event per
``telemetry_interval_s``, carrying the latest readings of each device since the last.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from fastapi.responses import StreamingResponse

from hub.access import Scope
from hub.alerts.engine import Transition
from hub.parsing import Parsed
from protocol import ConfigApplied, DeviceState, Event, Health, Message, Status, Telemetry
from ui.live import LiveEvent, LiveFeed

__all__ = ["CLOSING", "EVENT_KINDS", "HELP_KINDS", "HubLive", "LiveStats"]

EVENT_KINDS: Final = ("room", "state", "telemetry", "help", "alert", "config", "health")
"""The kinds of event the stream carries (besides ``resync``)."""
HELP_KINDS: Final = frozenset({"help", "help_cancelled"})
"""The help panel's events (``edge/help.py``)."""
CLOSING: Final = "closing"
"""The last event of every stream, when the hub stops."""
MARKS_MAX: Final = 100_000
"""Most (room, device) positions remembered to leave replays out; beyond, they are
forgotten at once (a replay may then pass once: harmless, the pages re-read the API)."""

Room = tuple[str, str]


@dataclass(slots=True)
class LiveStats:
    """What the stream did since the hub started."""

    published: dict[str, int] = field(default_factory=lambda: dict.fromkeys(EVENT_KINDS, 0))
    replays: int = 0
    """Messages left out: already seen (a redelivery) or older than one seen."""
    merged: int = 0
    """Telemetry samples merged into a later event of their room (the throttle)."""


class HubLive:
    """The live stream of one hub: its feed, its two feeders and the streams of the pages."""

    def __init__(
        self,
        *,
        keep: int = 1000,
        max_listeners: int = 200,
        telemetry_interval_s: float = 5.0,
        stream_max_s: float = 600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        # ids above every id of the hub's previous runs (a hub publishes far fewer than one
        # event per µs): a page that comes back after a restart resyncs
        self.feed = LiveFeed(
            keep=keep, max_listeners=max_listeners, first_id=time.time_ns() // 1000
        )
        self.telemetry_interval_s = telemetry_interval_s
        self.stream_max_s = stream_max_s
        self.clock = clock
        self.stats = LiveStats()
        self._seqs: dict[tuple[str, str, str], int] = {}
        """(site, room, boot) → the highest seq seen (telemetry and events share it)."""
        self._orders: dict[tuple[str, str, str, str], tuple[int, ...]] = {}
        """(site, room, topic, boot) → the counters of the newest ordered message seen."""
        self.closed = False
        """Set at shutdown: every stream ends (the browsers reconnect to the next process)."""
        self._readings: dict[Room, dict[str, dict[str, Any]]] = {}
        """Readings waiting for their room's next telemetry event, by device."""
        self._sent_at: dict[Room, float] = {}

    # --- the ingest's observer (on the event loop) ------------------------------------------

    def observe(self, batch: Sequence[Parsed]) -> None:
        """Publish what a committed batch brought; returns at once."""
        for item in batch:
            self._note(item.topic.site, item.topic.room, item.message)

    def _note(self, site: str, room: str, msg: Message) -> None:
        if isinstance(msg, Telemetry | Event):
            if not self._fresh_seq(site, room, msg.boot, msg.seq):
                return
            if isinstance(msg, Telemetry):
                self._telemetry(site, room, msg)
            elif msg.kind in HELP_KINDS:
                reason = msg.data.get("reason", msg.text) if msg.kind == "help" else ""
                self._publish(
                    "help", site, room, kind=msg.kind, reason=str(reason), device=msg.device,
                    ts=msg.ts,
                )  # fmt: skip
            return
        if isinstance(msg, Status):
            order = (msg.conn, 1 if msg.state == "offline" else 0)  # a will after its online
            if self._fresh_order(site, room, "status", msg.boot, order):
                self._publish(
                    "room", site, room, online=msg.state == "online",
                    agent_version=msg.agent_version, ts=msg.ts,
                )  # fmt: skip
        elif isinstance(msg, DeviceState):
            if self._fresh_order(site, room, f"state/{msg.device}", msg.boot, (msg.n,)):
                self._publish(
                    "state", site, room, device=msg.device, family=msg.family,
                    available=msg.available, state=dict(msg.state), ts=msg.ts,
                )  # fmt: skip
        elif isinstance(msg, ConfigApplied):
            if self._fresh_order(site, room, "config", msg.boot, (msg.n,)):
                self._publish(
                    "config", site, room, version=msg.version, ok=msg.ok, refused=msg.refused,
                    text=msg.text, ts=msg.ts,
                )  # fmt: skip
        elif isinstance(msg, Health) and self._fresh_order(
            site, room, "health", msg.boot, (msg.n,)
        ):
            self._publish(
                "health", site, room, backlog=msg.outbox.backlog,
                storage_ok=msg.outbox.storage_ok, clock_offset_s=msg.clock_offset_s, ts=msg.ts,
            )  # fmt: skip

    def _fresh_seq(self, site: str, room: str, boot: str, seq: int) -> bool:
        key = (site, room, boot)
        if seq <= self._seqs.get(key, 0):
            self.stats.replays += 1
            return False
        if len(self._seqs) >= MARKS_MAX and key not in self._seqs:
            self._seqs.clear()
        self._seqs[key] = seq
        return True

    def _fresh_order(
        self, site: str, room: str, topic: str, boot: str, order: tuple[int, ...]
    ) -> bool:
        """Newer than the last of its topic and boot (counters of 0: not said, contract v1)."""
        key = (site, room, topic, boot)
        last = self._orders.get(key)
        if last is not None and any(order) and order <= last:
            self.stats.replays += 1
            return False
        if len(self._orders) >= MARKS_MAX and key not in self._orders:
            self._orders.clear()
        self._orders[key] = order
        return True

    def _telemetry(self, site: str, room: str, msg: Telemetry) -> None:
        key = (site, room)
        waiting = self._readings.setdefault(key, {})
        waiting[msg.device] = {"ts": msg.ts.isoformat(), "readings": dict(msg.readings)}
        now = self.clock()
        sent = self._sent_at.get(key)
        if sent is not None and now - sent < self.telemetry_interval_s:
            self.stats.merged += 1
            return
        self._sent_at[key] = now
        del self._readings[key]
        self._publish("telemetry", site, room, devices=waiting, ts=msg.ts)

    # --- the alert service's listener (on the event loop) ------------------------------------

    def alert_changed(self, t: Transition) -> None:
        """Publish one transition of an alert (raised, repeated, acknowledged, resolved, ended)."""
        a = t.alert
        self._publish(
            "alert", a.site, a.room, id=a.id, action=t.action, kind=a.kind, severity=a.severity,
            state=a.state.value, device=a.device or None, text=a.text, actor=t.actor,
            comment=t.comment, ts=t.at,
        )  # fmt: skip

    def _publish(self, event: str, site: str, room: str, /, **data: Any) -> LiveEvent:
        self.stats.published[event] += 1
        plain = {k: v.isoformat() if isinstance(v, datetime) else v for k, v in data.items()}
        return self.feed.publish(event, {"site": site, "room": room, **plain})

    # --- the pages' streams --------------------------------------------------------------------

    def response(self, scope: Scope, last_id: int | None) -> StreamingResponse:
        """An SSE response with only the events of rooms within ``scope``, from ``last_id``
        (None: from now); it ends after ``stream_max_s`` (the browser reconnects and catches
        up). 503 when as many pages follow the stream as it allows."""
        feed = self.feed
        if feed.listeners >= feed.max_listeners:
            return StreamingResponse(iter([b""]), status_code=503, headers={"Retry-After": "5"})

        def within(event: LiveEvent) -> bool:
            if event.kind == CLOSING:
                return True
            return scope.allows(str(event.data.get("site")), str(event.data.get("room")))

        return StreamingResponse(
            self._until_max(feed.stream(last_id, accept=within)),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    def close(self) -> None:
        """End every stream now (the hub is stopping): a stream never ends by itself, and the
        web server waits for open responses before it stops. Call it on the event loop."""
        self.closed = True
        self.feed.publish(CLOSING, {})

    async def _until_max(self, stream: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
        deadline = asyncio.get_running_loop().time() + self.stream_max_s
        try:
            while True:
                try:
                    async with asyncio.timeout_at(deadline):
                        chunk = await anext(stream)
                except TimeoutError:
                    return
                yield chunk
                if self.closed:
                    return
        finally:
            close = getattr(stream, "aclose", None)
            if close is not None:
                await close()
