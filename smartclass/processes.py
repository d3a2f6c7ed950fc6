"""Child processes that die with their parent and stop in order."""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

logger = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """Ask Linux to send SIGTERM to this child when its parent dies, even by SIGKILL."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


def spawn(
    args: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    log_file: Path | None = None,
) -> subprocess.Popen[bytes]:
    """Start a child in its own session (Ctrl-C reaches only us), tied to our lifetime."""
    full_env = {**os.environ, **(env or {})}
    out = open(log_file, "ab") if log_file else subprocess.DEVNULL  # noqa: SIM115
    try:
        return subprocess.Popen(
            list(args),
            env=full_env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=die_with_parent if sys.platform == "linux" else None,
        )
    finally:
        if log_file:
            out.close()  # type: ignore[union-attr]


class Service:
    """A child process that is started again when it dies, as systemd would on a Pi.

    ``check()`` (called now and then by the owner) notices a dead child, says so, and
    starts it again after a delay that doubles with each quick death (up to ``max_s``).
    """

    def __init__(
        self,
        name: str,
        args: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        log_file: Path | None = None,
        say: Callable[[str], None] = print,
        min_s: float = 1.0,
        max_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self.args = list(args)
        self.env = env
        self.log_file = log_file
        self.say = say
        self.min_s, self.max_s = min_s, max_s
        self._clock = clock
        self.restarts = 0
        self._delay = min_s
        self._restart_at: float | None = None
        self._started_at = clock()
        self.proc = spawn(self.args, env=env, log_file=log_file)

    def check(self) -> None:
        """Start the child again if it died and its delay has passed."""
        now = self._clock()
        if self._restart_at is None:
            code = self.proc.poll()
            if code is None:
                return
            if now - self._started_at > 60:
                self._delay = self.min_s  # it had been running well
            self._restart_at = now + self._delay
            where = f"; see {self.log_file}" if self.log_file else ""
            self.say(f"smartclass: {self.name} stopped (exit {code}); "
                     f"starting it again in {self._delay:.0f} s{where}")  # fmt: skip
            self._delay = min(self._delay * 2, self.max_s)
        if now >= self._restart_at:
            self._restart_at = None
            self.restarts += 1
            self._started_at = now
            self.proc = spawn(self.args, env=self.env, log_file=self.log_file)
            self.say(f"smartclass: {self.name} started again (restart {self.restarts})")

    def stop(self, timeout: float = 10.0) -> None:
        stop(self.proc, self.name, timeout)


def smartclass_command(*args: str) -> list[str]:
    """The command line that runs ``smartclass ARGS`` with this interpreter."""
    return [sys.executable, "-m", "smartclass", *args]


def stop(proc: subprocess.Popen[bytes], name: str, timeout: float = 10.0) -> None:
    """SIGTERM, wait, then SIGKILL: never leave a process behind."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            logger.warning("%s did not stop within %s s; killing it", name, timeout)
            proc.kill()
            proc.wait()


__all__ = ["Service", "die_with_parent", "smartclass_command", "spawn", "stop"]
