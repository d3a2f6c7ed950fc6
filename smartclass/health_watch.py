"""The demo watches the hub's ``/healthz``: a hub process can be alive while its ingest is not.

The demo starts again a process that dies; a hub whose MQTT ingest stopped, lost the broker
or cannot write its database is alive, and only its health says so. ``HealthWatch`` asks
``/healthz`` (no credentials needed) every few seconds and says, once per change, when the
hub reports problems (and which), when it stops answering, and when it is well again. It
restarts nothing: the hub's own supervisor restarts its ingest.
"""

from __future__ import annotations

import contextlib
import json
import re
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass

POLL_S = 2.0
"""How often the demo asks the hub."""
SILENT_POLLS = 2
"""Polls without an answer before the demo says the hub does not answer (one can be slow)."""


@dataclass(frozen=True, slots=True)
class Healthz:
    """What one request to ``/healthz`` found."""

    answered: bool
    problems: tuple[str, ...] = ()
    """Empty when the hub is well (200); the 503's problems otherwise."""
    error: str = ""
    """Why there was no answer."""


def fetch_healthz(url: str, timeout_s: float = 2.0) -> Healthz:
    """GET ``url`` (the hub's ``/healthz``); never raises."""
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as resp:  # noqa: S310 - our own URL
            resp.read()
        return Healthz(answered=True)
    except urllib.error.HTTPError as exc:  # 503: the body lists the problems
        problems: tuple[str, ...] = ()
        try:
            problems = tuple(str(p) for p in json.loads(exc.read()).get("problems", []))
        except (ValueError, AttributeError, TypeError, OSError):
            pass  # a body that is not the hub's: its status says enough
        finally:
            with contextlib.suppress(AttributeError, OSError):
                exc.close()
        return Healthz(answered=True, problems=problems or (f"HTTP {exc.code}",))
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return Healthz(answered=False, error=str(getattr(exc, "reason", exc)))


def _kind(problem: str) -> str:
    """A problem without its numbers and details: "ingest restarted 3 times, the last 12 s
    ago (…)" is the same problem a poll later, when only its numbers have changed."""
    return re.sub(r"\d+(\.\d+)?", "#", re.sub(r"\s*\(.*\)$", "", problem))


class HealthWatch:
    """Polls the hub's health and says what changed; ``check()`` is called from the demo's
    loop as often as it likes, and asks at most every ``interval_s``."""

    def __init__(
        self,
        fetch: Callable[[], Healthz],
        *,
        say: Callable[[str], None] = print,
        clock: Callable[[], float] = time.monotonic,
        interval_s: float = POLL_S,
        silent_polls: int = SILENT_POLLS,
    ) -> None:
        self.fetch = fetch
        self.say = say
        self.clock = clock
        self.interval_s = interval_s
        self.silent_polls = silent_polls
        self._due = clock()
        self._shown: tuple[str, ...] | None = ()
        """What was last said: () well, the problems' kinds, or None (no answer)."""
        self._silent = 0

    def check(self) -> None:
        now = self.clock()
        if now < self._due:
            return
        self._due = now + self.interval_s
        found = self.fetch()
        if not found.answered:
            self._silent += 1
            if self._silent == self.silent_polls and self._shown is not None:
                self._shown = None
                self.say(f"smartclass: the hub does not answer its health check ({found.error})")
            return
        self._silent = 0
        kinds = tuple(sorted({_kind(p) for p in found.problems}))
        if kinds == self._shown:
            return
        self._shown = kinds
        if kinds:
            self.say(f"smartclass: the hub reports problems: {'; '.join(found.problems)}")
        else:
            self.say("smartclass: the hub is well again")


def watch_hub(url: str) -> HealthWatch:
    """The demo's watch of the hub's ``/healthz`` at ``url``, printing what changes."""
    return HealthWatch(lambda: fetch_healthz(url), say=lambda line: print(line, flush=True))


__all__ = ["POLL_S", "SILENT_POLLS", "HealthWatch", "Healthz", "fetch_healthz", "watch_hub"]
