"""Child processes that die with their parent and stop in order."""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence
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


__all__ = ["die_with_parent", "smartclass_command", "spawn", "stop"]
