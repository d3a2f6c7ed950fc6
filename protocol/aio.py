"""Waiting with a time limit, without losing a cancellation.

Not ``asyncio.wait_for``: on Python 3.11 (Raspberry Pi OS Bookworm's Python) it returns
the result of an awaitable that completes in the same loop turn as a cancellation of the
waiting task, and so swallows the cancel (CPython gh-86296, fixed in 3.12). A part told
to stop would run on for ever: a room that cannot be stopped, a shutdown that hangs.
``asyncio.timeout`` counts cancellations and never does that. The linter bans
``asyncio.wait_for`` in this project (``pyproject.toml``, ruff ``TID251``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

T = TypeVar("T")


async def wait_within(aw: Awaitable[T], timeout: float | None) -> T:
    """Await ``aw`` for at most ``timeout`` seconds (None: no limit).

    Raises TimeoutError when the time is up (``aw`` is then cancelled), and
    CancelledError whenever the waiting task is cancelled, even if ``aw`` finished
    in the same loop turn.
    """
    async with asyncio.timeout(timeout):
        return await aw


__all__ = ["wait_within"]
