"""What every server the test suite starts has in common: one child process in a temporary
folder, stopped with a signal (then killed), the folder removed, usable as a context."""

from __future__ import annotations

import shutil
import signal
import subprocess
from abc import ABC, abstractmethod
from pathlib import Path
from types import TracebackType
from typing import Self


class ServerProcess(ABC):
    """Subclasses set ``tmp`` and start ``_proc``; ``stop_signal`` is how they end cleanly."""

    stop_signal = signal.SIGTERM
    tmp: Path
    _proc: subprocess.Popen[bytes] | None

    @abstractmethod
    def start(self) -> None:
        """Start the child and return once it serves."""

    def stop(self, timeout: float = 10.0) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(self.stop_signal)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


__all__ = ["ServerProcess"]
