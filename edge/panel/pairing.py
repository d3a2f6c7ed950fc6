"""Which tablets may open the room's panel: one-time pairing codes, and the tablets paired.

IT makes a code (on the hub, which sends the agent only its SHA-256 in a ``panel.pair``
command; or with ``smartclass edge pair`` on the Pi itself) and types it on the tablet's
``/pair`` page. A code is single use and expires; at most ``PENDING_MAX`` wait at once, and
``ATTEMPTS_MAX`` wrong codes in ``ATTEMPT_WINDOW_S`` close pairing until the window passes,
so guessing one of 31**8 codes is hopeless. A code that matches makes a random tablet
token: the tablet keeps it in a cookie, the agent keeps only its SHA-256.

Both lists are small JSON files in the room's data folder, written atomically (temporary
file, fsync, rename) with mode 0600, so paired tablets survive a restart. The codes file is
shared with ``smartclass edge pair`` (another process), hence read afresh on each attempt,
under an advisory lock. Every method that touches a file blocks: the agent calls them in a
worker thread.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

logger = logging.getLogger(__name__)

CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
"""No 0/O, 1/I/L: a code read aloud or off a screen is typed right."""
CODE_LENGTH = 8
PENDING_MAX = 5
"""Most codes waiting at once; a new one replaces the one that expires first."""
EXPIRY_MAX_S = 86400
"""Longest a code may wait (the hub asks for 10 minutes)."""
ATTEMPTS_MAX = 10
ATTEMPT_WINDOW_S = 600.0
"""At most ATTEMPTS_MAX wrong codes in this many seconds; then pairing waits."""
TABLETS_MAX = 50
"""Most tablets remembered; pairing one more forgets the oldest."""
CODES_FILE = "panel-codes.json"
TABLETS_FILE = "panel-tablets.json"
LOCK_FILE = "panel-codes.lock"
COOKIE = "sc_panel"
COOKIE_MAX_AGE_S = 400 * 86400
"""The longest lifetime browsers keep a cookie for (Chromium caps at 400 days)."""
SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")


def new_code() -> str:
    """A random one-time code of CODE_LENGTH characters of CODE_ALPHABET."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalize(code: str) -> str:
    """The code as it is hashed: capitals, without the spaces or dashes a person may type."""
    return re.sub(r"[\s-]", "", code).upper()


def code_sha256(code: str) -> str:
    """Hex SHA-256 of a code (normalized): what the hub sends and the agent keeps."""
    return hashlib.sha256(normalize(code).encode("utf-8")).hexdigest()


def _token_sha256(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class Paired:
    """The code matched: ``token`` goes into the tablet's cookie (and nowhere else)."""

    token: str


@dataclass(frozen=True, slots=True)
class Refused:
    """The code did not match (``wrong``) or pairing waits after too many (``locked``)."""

    reason: Literal["wrong", "locked"]
    attempts_left: int
    retry_after_s: float = 0.0


class AttemptLimit:
    """At most ``limit`` failures in a sliding window of ``window_s`` (monotonic seconds)."""

    def __init__(self, limit: int = ATTEMPTS_MAX, window_s: float = ATTEMPT_WINDOW_S) -> None:
        self.limit = limit
        self.window_s = window_s
        self._failures: deque[float] = deque()

    def _forget(self, now: float) -> None:
        while self._failures and self._failures[0] <= now - self.window_s:
            self._failures.popleft()

    def locked_for(self, now: float) -> float:
        """Seconds until another attempt is taken (0: now)."""
        self._forget(now)
        if len(self._failures) < self.limit:
            return 0.0
        return self._failures[0] + self.window_s - now

    def failed(self, now: float) -> int:
        """Count a failure; the attempts left in the window."""
        self._forget(now)
        self._failures.append(now)
        return max(0, self.limit - len(self._failures))


def write_atomically(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` (mode 0600): after a power cut, the old file or the new."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    tmp.replace(path)
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


def _read_json(path: Path, key: str) -> list[dict[str, Any]]:
    """The list under ``key`` of a JSON file; [] if there is none or it cannot be read."""
    try:
        data = json.loads(path.read_bytes())
    except FileNotFoundError:
        return []
    except (OSError, ValueError) as exc:
        logger.error("%s cannot be read (%s): taken as empty", path, exc)
        return []
    items = data.get(key) if isinstance(data, dict) else None
    return [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []


class PendingCodes:
    """The codes file of one room: hashes and expiry times (the agent's wall clock)."""

    def __init__(self, folder: Path, *, now: Callable[[], float] = time.time) -> None:
        self.path = folder / CODES_FILE
        self._lock_path = folder / LOCK_FILE
        self._now = now

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the codes file against other processes (``smartclass edge pair``)."""
        self._lock_path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock

    def load(self) -> list[tuple[str, float]]:
        """(sha256, expires_at) of the codes not yet expired."""
        now = self._now()
        codes = []
        for item in _read_json(self.path, "codes"):
            digest, expires = item.get("sha256"), item.get("expires_at")
            if not (isinstance(digest, str) and SHA256_HEX.match(digest)):
                continue
            if isinstance(expires, int | float) and expires > now:
                codes.append((digest, float(expires)))
        return codes

    def save(self, codes: list[tuple[str, float]]) -> None:
        body = {"codes": [{"sha256": d, "expires_at": e} for d, e in codes]}
        write_atomically(self.path, json.dumps(body).encode("utf-8"))

    def add(self, digest: str, expires_in_s: float) -> list[tuple[str, float]]:
        """Add a code's hash (again: a new expiry); keep the PENDING_MAX that last longest."""
        if not SHA256_HEX.match(digest):
            raise ValueError("a code's hash is 64 lowercase hex digits")
        with self.locked():
            codes = [c for c in self.load() if c[0] != digest]
            codes.append((digest, self._now() + expires_in_s))
            codes = sorted(codes, key=lambda c: c[1])[-PENDING_MAX:]
            self.save(codes)
        return codes


class Pairing:
    """The room's pending codes and paired tablets, and the limit on wrong codes."""

    def __init__(
        self,
        folder: Path,
        *,
        label: str = "",
        now: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.folder = folder
        self.label = label or str(folder)
        self.codes = PendingCodes(folder, now=now)
        self._now = now
        self._monotonic = monotonic
        self._tablets_path = folder / TABLETS_FILE
        self._write = threading.Lock()
        self.limit = AttemptLimit()
        self._tablets: tuple[tuple[str, str], ...] = tuple(
            (str(t["sha256"]), str(t.get("paired_at", "")))
            for t in _read_json(self._tablets_path, "tablets")
            if isinstance(t.get("sha256"), str) and SHA256_HEX.match(t["sha256"])
        )
        """(sha256 of the token, when paired): replaced whole, never changed in place, so the
        event loop reads it while a worker thread writes."""
        self._pending: tuple[float, ...] = tuple(e for _, e in self.codes.load())
        """Expiry of the codes known to wait (for the device state; refreshed on each use)."""
        self.generation = 0
        """Counts revocations: a page streaming to a tablet checks it is still paired."""

    # --- what the panel asks, on the event loop (memory only) -------------------------

    @property
    def tablets(self) -> int:
        return len(self._tablets)

    @property
    def code_pending(self) -> bool:
        """Whether a code waits (as last seen: ``smartclass edge pair`` adds behind our back)."""
        now = self._now()
        return any(expires > now for expires in self._pending)

    def paired(self, token: str | None) -> bool:
        """Whether ``token`` (a cookie's value) belongs to a paired tablet."""
        if not token or len(token) > 200:
            return False
        digest = _token_sha256(token)
        found = False
        for known, _ in self._tablets:  # every one, so the time says nothing of which
            found |= hmac.compare_digest(known, digest)
        return found

    # --- what changes a file (blocking: call in a worker thread) ----------------------

    def add_code(self, digest: str, expires_in_s: float) -> None:
        """Let a tablet pair with the code whose SHA-256 is ``digest`` for ``expires_in_s``."""
        if not 0 < expires_in_s <= EXPIRY_MAX_S:
            raise ValueError(f"a code expires within 1 to {EXPIRY_MAX_S} s")
        codes = self.codes.add(digest, expires_in_s)
        self._pending = tuple(e for _, e in codes)
        logger.info("%s: a pairing code waits (%d in all)", self.label, len(codes))

    def redeem(self, code: str) -> Paired | Refused:
        """Pair a tablet if ``code`` matches a waiting one (which is then used up)."""
        with self._write:
            wait = self.limit.locked_for(self._monotonic())
            if wait > 0:
                return Refused("locked", 0, wait)
            digest = code_sha256(code)
            with self.codes.locked():
                codes = self.codes.load()
                match = None
                for known, expires in codes:  # every one, in constant time each
                    if hmac.compare_digest(known, digest):
                        match = (known, expires)
                if match is not None:
                    codes.remove(match)
                    self.codes.save(codes)
            self._pending = tuple(e for _, e in codes)
            if match is None:
                left = self.limit.failed(self._monotonic())
                logger.warning("%s: a wrong pairing code (%d attempts left)", self.label, left)
                wait = self.limit.locked_for(self._monotonic())
                return Refused("locked" if wait > 0 else "wrong", left, wait)
            token = secrets.token_urlsafe(32)
            paired_at = datetime.now(UTC).isoformat(timespec="seconds")
            tablets = (*self._tablets, (_token_sha256(token), paired_at))[-TABLETS_MAX:]
            self._save_tablets(tablets)
            self._tablets = tablets
        logger.info("%s: a tablet is paired (%d in all)", self.label, len(tablets))
        return Paired(token)

    def revoke_all(self) -> int:
        """Forget every paired tablet at once; how many there were."""
        with self._write:
            count = len(self._tablets)
            self._tablets = ()
            self.generation += 1
            self._save_tablets(())
        logger.info("%s: %d paired tablets forgotten", self.label, count)
        return count

    def _save_tablets(self, tablets: tuple[tuple[str, str], ...]) -> None:
        body = {"tablets": [{"sha256": d, "paired_at": at} for d, at in tablets]}
        write_atomically(self._tablets_path, json.dumps(body).encode("utf-8"))


__all__ = [
    "ATTEMPTS_MAX",
    "ATTEMPT_WINDOW_S",
    "CODE_ALPHABET",
    "CODE_LENGTH",
    "CODES_FILE",
    "COOKIE",
    "COOKIE_MAX_AGE_S",
    "EXPIRY_MAX_S",
    "PENDING_MAX",
    "TABLETS_FILE",
    "TABLETS_MAX",
    "AttemptLimit",
    "Paired",
    "Pairing",
    "PendingCodes",
    "Refused",
    "code_sha256",
    "new_code",
    "normalize",
    "write_atomically",
]
