"""Runs a long-lived task again after an unexpected exception, with a capped backoff."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable

from protocol.bounds import safe_text

logger = logging.getLogger(__name__)


class Supervisor:
    """Keeps ``target`` running: an exception is logged and counted, and ``target`` starts
    again after a delay that doubles up to ``max_s`` (back to ``min_s`` once a run has lasted
    ``settled_s``). Only cancellation stops it."""

    def __init__(
        self,
        name: str,
        target: Callable[[], Awaitable[None]],
        *,
        min_s: float = 0.5,
        max_s: float = 30.0,
        settled_s: float = 60.0,
    ) -> None:
        self.name = name
        self.target = target
        self.min_s = min_s
        self.max_s = max_s
        self.settled_s = settled_s
        self.running = False
        """True while ``target`` runs (False while it waits to restart)."""
        self.restarts = 0
        self.last_error: str | None = None
        self.last_restart_at: float | None = None
        """``time.monotonic()`` of the last restart."""
        self.stopping = False
        """Set before asking ``target`` to return: then its return ends the supervision."""

    async def run(self) -> None:
        delay = self.min_s
        while True:
            started = time.monotonic()
            failure: BaseException | None = None
            self.running = True
            try:
                await self.target()
                error = "stopped without an error"
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the point: nothing may stop the task for good
                error = describe(exc)
                failure = exc
            finally:
                self.running = False
            if self.stopping:
                return
            self.restarts += 1
            self.last_error = error
            self.last_restart_at = time.monotonic()
            if self.last_restart_at - started >= self.settled_s:
                delay = self.min_s
            logger.error(
                "%s: %s; restart %d in %.1f s", self.name, error, self.restarts, delay,
                exc_info=failure,
            )  # fmt: skip
            await asyncio.sleep(delay * random.uniform(0.8, 1.2))
            delay = min(delay * 2, self.max_s)


def describe(exc: BaseException) -> str:
    """``Type: message`` of the first error inside any task groups around it."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return f"{type(exc).__name__}: {safe_text(exc, 500)}"


__all__ = ["Supervisor", "describe"]
