"""Alert notifications by webhook: a JSON POST per transition, from a bounded queue.

``submit`` never waits: it queues the body or, when the queue is full, drops it and counts it.
One sender posts them in order; an attempt that fails (no connection, a time-out, a 5xx, 408
or 429) is tried again after a delay that doubles, up to ``retries`` times; any other answer
that is not 2xx is a refusal, not retried. Every failure is counted and the last one kept for
the hub's health.

With a secret, each POST is signed so the receiver can tell it comes from the hub and is not
replayed: ``X-Smartclass-Timestamp`` (Unix seconds, new at each attempt) and
``X-Smartclass-Signature: sha256=<hex>``, the HMAC-SHA256 under the secret of
``{timestamp}.{body}``. A receiver recomputes it over the raw body, compares in constant time
and refuses a timestamp more than a few minutes old (``verify_signature`` does all three).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from protocol.bounds import safe_text

logger = logging.getLogger(__name__)

BACKOFF_MAX_S = 60.0
"""Longest wait before another attempt."""
RETRIED_STATUSES = frozenset({408, 429})
"""Statuses below 500 that say "later", not "never"."""
TIMESTAMP_HEADER = "X-Smartclass-Timestamp"
SIGNATURE_HEADER = "X-Smartclass-Signature"
SIGNATURE_MAX_AGE_S = 300.0
"""A receiver should refuse a signature older than this (a replay)."""


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The ``X-Smartclass-Signature`` of ``body`` sent at ``timestamp``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def verify_signature(
    secret: str,
    body: bytes,
    headers: dict[str, str],
    *,
    now: float | None = None,
    max_age_s: float = SIGNATURE_MAX_AGE_S,
) -> bool:
    """What a receiver checks (headers by lower-case name): the HMAC, then the age."""
    sent = headers.get(TIMESTAMP_HEADER.lower(), "")
    if not sent.isdigit() or len(sent) > 12:
        return False
    expected = signature(secret, int(sent), body)
    if not hmac.compare_digest(expected, headers.get(SIGNATURE_HEADER.lower(), "")):
        return False
    return abs((time.time() if now is None else now) - int(sent)) <= max_age_s


@dataclass(slots=True)
class WebhookStats:
    """What the webhook did since the hub started."""

    sent: int = 0
    failed: int = 0
    """Notifications given up after every attempt (or refused)."""
    retries: int = 0
    """Attempts after a first one failed."""
    dropped: int = 0
    """Notifications not queued: the queue was full."""
    last_error: str | None = None
    """What the last failed attempt met."""
    last_failed_at: float | None = None
    """``time.monotonic()`` of the last notification given up."""
    last_dropped_at: float | None = None


class Webhook:
    """Posts JSON bodies to ``url`` from a bounded queue; ``run`` is its sender."""

    def __init__(
        self,
        url: str,
        *,
        timeout_s: float = 5.0,
        retries: int = 3,
        backoff_s: float = 1.0,
        queue_max: int = 1000,
        secret: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.url = url
        self._secret = secret
        self._clock = clock
        self.timeout_s = timeout_s
        self.retries = retries
        self.backoff_s = backoff_s
        self.queue_max = queue_max
        self.stats = WebhookStats()
        self._queue: deque[bytes] = deque()
        self._ready = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def queued(self) -> int:
        """Waiting to be sent (the one being sent included)."""
        return len(self._queue)

    def submit(self, body: bytes) -> bool:
        """Queue a JSON body; False (counted) when the queue is full. Never waits."""
        if len(self._queue) >= self.queue_max:
            self.stats.dropped += 1
            self.stats.last_dropped_at = time.monotonic()
            logger.warning("webhook: queue full (%d); a notification is dropped", self.queue_max)
            return False
        self._queue.append(body)
        self._idle.clear()
        self._ready.set()
        return True

    async def idle(self) -> None:
        """Wait until everything queued was sent or given up."""
        await self._idle.wait()

    async def run(self) -> None:
        """Send until cancelled."""
        timeout = httpx.Timeout(self.timeout_s)
        async with httpx.AsyncClient(timeout=timeout, follow_redirects=False) as client:
            while True:
                if not self._queue:
                    self._idle.set()
                    self._ready.clear()
                    await self._ready.wait()
                    continue
                body = self._queue[0]
                try:
                    await self._deliver(client, body)
                finally:
                    self._queue.popleft()

    async def _deliver(self, client: httpx.AsyncClient, body: bytes) -> None:
        delay = self.backoff_s
        for attempt in range(self.retries + 1):
            if attempt:
                self.stats.retries += 1
                await asyncio.sleep(delay)
                delay = min(delay * 2, BACKOFF_MAX_S)
            again, error = await self._attempt(client, body)
            if error is None:
                self.stats.sent += 1
                return
            self.stats.last_error = error
            if not again:
                break
        self.stats.failed += 1
        self.stats.last_failed_at = time.monotonic()
        logger.warning("webhook %s: notification given up (%s)", self.url, self.stats.last_error)

    async def _attempt(self, client: httpx.AsyncClient, body: bytes) -> tuple[bool, str | None]:
        """(worth trying again, the error or None when it was taken)."""
        headers = {"content-type": "application/json"}
        if self._secret:
            timestamp = int(self._clock())
            headers[TIMESTAMP_HEADER] = str(timestamp)
            headers[SIGNATURE_HEADER] = signature(self._secret, timestamp, body)
        try:
            async with asyncio.timeout(self.timeout_s):  # a whole attempt, however slow the drip
                response = await client.post(self.url, content=body, headers=headers)
        except TimeoutError:
            return True, f"no answer within {self.timeout_s:g} s"
        except Exception as exc:  # httpx's errors, and anything else: never the sender's end
            return True, f"{type(exc).__name__}: {safe_text(exc, 300)}"
        if response.is_success:
            return False, None
        retry = response.status_code >= 500 or response.status_code in RETRIED_STATUSES
        return retry, f"HTTP {response.status_code}"


__all__ = [
    "BACKOFF_MAX_S",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "Webhook",
    "WebhookStats",
    "signature",
    "verify_signature",
]
