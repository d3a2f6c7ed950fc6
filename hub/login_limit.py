"""Failed sign-ins are limited per account and per address, so passwords cannot be guessed.

After ``max_failures`` failures within ``window`` for one user name, or ``address_failures``
from one address, further attempts are refused (429, with ``Retry-After``) until the oldest
failure leaves the window. A success clears the account's count. The memory is bounded:
at most ``keys_max`` accounts and addresses are tracked, the least recent forgotten first
(a flood of made-up names cannot exhaust the hub). The count lives in the hub process:
behind several hubs, each limits on its own (a stricter bound per hub then).
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable


class Window:
    """Failure times per key within a sliding window, for a bounded set of keys."""

    def __init__(self, limit: int, window_s: float, keys_max: int, clock: Callable[[], float]):
        self.limit = limit
        self.window_s = window_s
        self.keys_max = keys_max
        self.clock = clock
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()

    def retry_after(self, key: str) -> float:
        """Seconds until ``key`` may try again (0: now)."""
        times = self._fresh(key)
        if times is None or len(times) < self.limit:
            return 0.0
        return max(times[0] + self.window_s - self.clock(), 0.0)

    def fail(self, key: str) -> None:
        times = self._fresh(key)
        if times is None:
            times = self._failures[key] = deque(maxlen=self.limit)
            while len(self._failures) > self.keys_max:
                self._failures.popitem(last=False)
        self._failures.move_to_end(key)
        times.append(self.clock())

    def clear(self, key: str) -> None:
        self._failures.pop(key, None)

    def _fresh(self, key: str) -> deque[float] | None:
        times = self._failures.get(key)
        if times is None:
            return None
        cutoff = self.clock() - self.window_s
        while times and times[0] <= cutoff:
            times.popleft()
        if not times:
            del self._failures[key]
            return None
        return times


class LoginLimiter:
    """The two windows a sign-in passes: its account's and its address's."""

    def __init__(
        self,
        *,
        max_failures: int = 5,
        address_failures: int = 20,
        window_s: float = 900.0,
        keys_max: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.accounts = Window(max_failures, window_s, keys_max, clock)
        self.addresses = Window(address_failures, window_s, keys_max, clock)
        self.refused = 0
        """Attempts refused by the limit (never checked against a password)."""

    def retry_after(self, username: str, address: str) -> float:
        wait = max(self.accounts.retry_after(username), self.addresses.retry_after(address))
        if wait > 0:
            self.refused += 1
        return wait

    def failed(self, username: str, address: str) -> None:
        self.accounts.fail(username)
        self.addresses.fail(address)

    def succeeded(self, username: str) -> None:
        self.accounts.clear(username)


__all__ = ["LoginLimiter", "Window"]
