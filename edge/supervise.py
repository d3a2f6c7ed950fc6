"""Keeps one room's parts running: an unexpected error restarts that part, never the room."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

logger = logging.getLogger(__name__)

RESTART_MIN_S = 0.5
RESTART_MAX_S = 60.0
STABLE_S = 60.0
"""A part that ran this long before failing restarts after the shortest delay again."""


class PartStates:
    """Which supervised parts are down now: failed, and waiting to restart.

    A part that returned is not down: it finished what it had to do.
    """

    def __init__(self) -> None:
        self.restarting: set[str] = set()
        """Names of the parts that failed and have not started again yet."""

    def running(self, name: str) -> None:
        self.restarting.discard(name)

    def failed(self, name: str) -> None:
        self.restarting.add(name)


async def supervised(
    name: str,
    part: Callable[[], Awaitable[None]],
    *,
    label: str,
    on_restart: Callable[[str, BaseException], None] | None = None,
    min_s: float = RESTART_MIN_S,
    max_s: float = RESTART_MAX_S,
    states: PartStates | None = None,
) -> None:
    """Run ``part()`` until it returns or is cancelled; restart it after an exception.

    The exception is logged with the room and the part, counted through ``on_restart``,
    and the part restarts after a capped, jittered exponential delay. ``states`` is told
    whether the part runs or waits to restart.
    """
    states = states or PartStates()
    loop = asyncio.get_running_loop()
    delay = min_s
    try:
        while True:
            started = loop.time()
            states.running(name)
            try:
                await part()
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                states.failed(name)
                if loop.time() - started >= STABLE_S:
                    delay = min_s
                logger.exception("%s: %s failed; restarting it in %.1f s", label, name, delay)
                if on_restart is not None:
                    on_restart(name, exc)
            await asyncio.sleep(delay * random.uniform(0.8, 1.0))
            delay = min(delay * 2, max_s)
    finally:
        states.running(name)  # returned or cancelled: no longer waiting to restart


async def guarded(coro: Coroutine[Any, Any, None], *, label: str, what: str) -> None:
    """Run a short task; log any exception with the room instead of letting it spread."""
    try:
        await coro
    except asyncio.CancelledError:
        raise
    except Exception:
        logger.exception("%s: %s failed", label, what)


__all__ = ["PartStates", "guarded", "supervised"]
