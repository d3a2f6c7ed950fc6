"""Live updates for pages: a bounded feed of numbered events, streamed as server-sent events.

An app publishes what changed (a device's confirmed state, an alert, a help request) to a
:class:`LiveFeed`; each page holds an ``EventSource`` on the app's stream. Every event has
an increasing id, so a browser that lost its connection reconnects with ``Last-Event-ID``
and receives what it missed from the feed's memory; when that is older than the memory
holds, it receives one ``resync`` event and reloads what it shows (``ui/static/live.js``).
The feed is bounded in events and subscribers, and a slow subscriber never holds up the
publisher: it only falls behind and, past the memory, resyncs.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from fastapi.responses import StreamingResponse

__all__ = [
    "KEEPALIVE_S",
    "LiveEvent",
    "LiveFeed",
    "ListenersFullError",
    "last_event_id",
    "stream_response",
]

KEEPALIVE_S: Final = 15.0
"""A comment line this often keeps proxies and the browser from closing an idle stream."""
RETRY_MS: Final = 2000
"""How soon a browser reconnects after the stream drops."""


@dataclass(frozen=True, slots=True)
class LiveEvent:
    id: int
    kind: str
    data: Mapping[str, Any]

    def encode(self) -> bytes:
        body = json.dumps(self.data, separators=(",", ":"), ensure_ascii=False, default=str)
        return f"id: {self.id}\nevent: {self.kind}\ndata: {body}\n\n".encode()


class ListenersFullError(RuntimeError):
    """The feed already streams to as many pages as it allows."""


class LiveFeed:
    """The last ``keep`` events of an app, and the streams of the pages that follow them."""

    def __init__(self, *, keep: int = 1000, max_listeners: int = 200, first_id: int = 1) -> None:
        """``first_id``: the id of the first event. An app that restarts while its pages stay
        open starts above every id of its previous run (the time in µs, say), so a page that
        comes back with an old id gets ``resync`` rather than events it takes for others."""
        self._events: deque[LiveEvent] = deque(maxlen=keep)
        self._next_id = first_id
        self._changed = asyncio.Event()
        self._listeners = 0
        self.max_listeners = max_listeners

    @property
    def last_id(self) -> int:
        return self._next_id - 1

    @property
    def listeners(self) -> int:
        return self._listeners

    def publish(self, kind: str, data: Mapping[str, Any]) -> LiveEvent:
        """Add an event; every stream sends it at its next turn. Never blocks."""
        event = LiveEvent(self._next_id, kind, dict(data))
        self._next_id += 1
        self._events.append(event)
        self._changed.set()
        self._changed = asyncio.Event()
        return event

    def since(self, last_id: int) -> list[LiveEvent] | None:
        """Events after ``last_id``, or None when some of them are no longer kept."""
        if last_id >= self.last_id:
            return []
        oldest = self._events[0].id if self._events else self._next_id
        if last_id < oldest - 1:
            return None
        return [event for event in self._events if event.id > last_id]

    async def wait(self, last_id: int, timeout: float) -> None:
        """Return when there is an event after ``last_id`` or after ``timeout`` seconds."""
        if last_id < self.last_id:
            return
        changed = self._changed
        try:
            async with asyncio.timeout(timeout):
                await changed.wait()
        except TimeoutError:
            return

    async def stream(
        self,
        last_id: int | None,
        *,
        keepalive: float = KEEPALIVE_S,
        accept: Callable[[LiveEvent], bool] | None = None,
    ) -> AsyncIterator[bytes]:
        """The bytes of an SSE stream from ``last_id`` (None: from now); with ``accept``,
        only the events it accepts (a caller's own rooms, say) are sent."""
        if self._listeners >= self.max_listeners:
            raise ListenersFullError
        self._listeners += 1
        try:
            resync = last_id is not None and last_id > self.last_id  # an earlier run's id
            position = self.last_id if last_id is None or resync else last_id
            # an id without data moves the browser's Last-Event-ID without an event, so a
            # page that reconnects before any event still says where it was
            yield f"retry: {RETRY_MS}\nid: {position}\n\n".encode()
            if resync:
                yield LiveEvent(position, "resync", {}).encode()
            clock = asyncio.get_running_loop().time
            sent_at = clock()
            while True:
                missed = self.since(position)
                if missed is None:
                    position = self.last_id
                    yield LiveEvent(position, "resync", {}).encode()
                    continue
                for event in missed:
                    if accept is None or accept(event):
                        yield event.encode()
                        sent_at = clock()
                    position = event.id
                await self.wait(position, max(0.0, sent_at + keepalive - clock()))
                if clock() - sent_at >= keepalive:  # quiet, or only others' events
                    yield b": keepalive\n\n"
                    sent_at = clock()
        finally:
            self._listeners -= 1


def last_event_id(header: str | None, query: str | None = None) -> int | None:
    """The id a reconnecting browser gives (``Last-Event-ID``, or ``?after=`` on a first load)."""
    for raw in (header, query):
        if raw is not None and raw.isdigit() and len(raw) < 19:
            return int(raw)
    return None


def stream_response(
    feed: LiveFeed, last_id: int | None, accept: Callable[[LiveEvent], bool] | None = None
) -> StreamingResponse:
    """An SSE response of the feed (only the events ``accept`` accepts, if given); 503 when
    it has too many listeners already."""
    if feed.listeners >= feed.max_listeners:
        return StreamingResponse(iter([b""]), status_code=503, headers={"Retry-After": "5"})
    return StreamingResponse(
        feed.stream(last_id, accept=accept),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
