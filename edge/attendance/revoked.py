"""Revoked QR card serials, kept on the agent's disk (serials only: no personal data)."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path


class RevokedCards:
    """A set of card serials written through to a small JSON file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self.serials: set[int] = set()
        try:
            loaded = json.loads(path.read_text())
            self.serials = {int(s) for s in loaded if isinstance(s, int)}
        except (OSError, ValueError, TypeError):
            self.serials = set()

    def add(self, serial: int) -> None:
        with self._lock:
            self.serials = self.serials | {serial}
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps(sorted(self.serials)))
            os.replace(tmp, self.path)


__all__ = ["RevokedCards"]
