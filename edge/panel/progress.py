"""How long a projector still needs: warming up, cooling down or showing a new input.

PJLink says only *that* a projector warms up or cools down, not for how long; the panel
counts down from the projector's configured ``warmup_s`` / ``cooldown_s`` from the moment the
agent first saw the transition (a tap's own command, or a poll), and from ``input_switch_s``
after an input tap. A countdown that reaches zero before the projector is done says
"almost ready" rather than lying; the busy state ends with the confirmed one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from edge.panel.views import Busy, BusyWhat

TRANSITIONS: dict[str, BusyWhat] = {"warming": "warming", "cooling": "cooling"}


@dataclass
class _Seen:
    what: BusyWhat
    since: float
    total_s: float


class Progress:
    """The transitions of a room's projectors, on a monotonic clock."""

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._now = monotonic
        self._power: dict[str, _Seen] = {}
        self._inputs: dict[str, tuple[float, float, bool]] = {}
        """device → (since, seconds, command still running)."""

    def observe(self, device: str, power: object, *, warmup_s: float, cooldown_s: float) -> None:
        """A confirmed power state: a transition starts when first seen, ends when left."""
        what = TRANSITIONS.get(power) if isinstance(power, str) else None
        seen = self._power.get(device)
        if what is None:
            self._power.pop(device, None)
        elif seen is None or seen.what != what:
            total = warmup_s if what == "warming" else cooldown_s
            self._power[device] = _Seen(what, self._now(), total)

    def input_started(self, device: str, seconds: float) -> None:
        self._inputs[device] = (self._now(), seconds, True)

    def input_done(self, device: str) -> float:
        """The input command returned; seconds the switch is still held (0: not at all)."""
        since, seconds, _ = self._inputs.get(device, (self._now(), 0.0, True))
        left = since + seconds - self._now()
        if left <= 0:
            self._inputs.pop(device, None)
            return 0.0
        self._inputs[device] = (since, seconds, False)
        return left

    def busy(self, device: str) -> Busy | None:
        """What the projector is busy with now, if anything."""
        now = self._now()
        seen = self._power.get(device)
        if seen is not None:
            return Busy(seen.what, max(0.0, seen.since + seen.total_s - now), seen.total_s)
        if device in self._inputs:
            since, seconds, running = self._inputs[device]
            left = since + seconds - now
            if left > 0 or running:
                return Busy("input", max(0.0, left), seconds)
            del self._inputs[device]
        return None


__all__ = ["TRANSITIONS", "Progress"]
