"""systemd's notification protocol, by hand: one datagram of ``KEY=value`` lines to
``$NOTIFY_SOCKET`` (a file path, or an abstract socket written ``@name``).

Without ``$NOTIFY_SOCKET`` (not under systemd, or not ``Type=notify``) nothing is sent. A
send that fails is logged once and never raised: the process runs on without systemd.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Mapping

logger = logging.getLogger(__name__)

STATUS_MAX = 200
"""Longest ``STATUS=`` text sent (systemd shows one line of it in ``systemctl status``)."""


def message(**fields: str | int) -> bytes:
    """One notification: ``READY=1``, ``STATUS=…`` each on its own line, in the order given.

    A value is one line: a newline in it would start another field, so it becomes a space.
    """
    lines = []
    for key, value in fields.items():
        text = " ".join(str(value).splitlines()).strip()
        lines.append(f"{key}={text}")
    return ("\n".join(lines) + "\n").encode("utf-8")


def socket_address(value: str) -> str | bytes | None:
    """The address of ``$NOTIFY_SOCKET``: a path, or an abstract name (``@x`` is ``\\0x``);
    None for what this module cannot send to (vsock, a relative path)."""
    if value.startswith("@") and len(value) > 1:
        return b"\0" + value[1:].encode("utf-8")
    if value.startswith("/"):
        return value
    return None


def watchdog_interval_s(environ: Mapping[str, str], pid: int) -> float | None:
    """Seconds between watchdog pings systemd expects of process ``pid`` (half of
    ``$WATCHDOG_USEC``); None when it expects none of this process."""
    usec = environ.get("WATCHDOG_USEC", "")
    if not usec:
        return None
    owner = environ.get("WATCHDOG_PID", "")
    if owner and owner.strip() != str(pid):
        return None  # the watchdog is another process's (a parent that started us)
    try:
        value = int(usec)
    except ValueError:
        logger.warning("systemd: WATCHDOG_USEC=%r is not a number; no watchdog pings", usec)
        return None
    if value <= 0:
        logger.warning("systemd: WATCHDOG_USEC=%r is not positive; no watchdog pings", usec)
        return None
    return value / 2 / 1_000_000


class Notifier:
    """Sends notifications to systemd, if it listens; every method is safe to call without it."""

    def __init__(self, address: str | bytes | None, *, watchdog_s: float | None = None) -> None:
        self.address = address
        self.watchdog_s = watchdog_s if address is not None else None
        """Seconds between watchdog pings systemd expects; None: it expects none."""
        self.sent = 0
        """Notifications sent."""
        self.failed = 0
        """Notifications that could not be sent."""
        self._sock: socket.socket | None = None
        self._last_error: str | None = None

    @classmethod
    def from_environ(
        cls, environ: Mapping[str, str] | None = None, pid: int | None = None
    ) -> Notifier:
        """A notifier for the socket and the watchdog the environment names (by default the
        process's own environment)."""
        env = os.environ if environ is None else environ
        raw = env.get("NOTIFY_SOCKET", "")
        address = socket_address(raw) if raw else None
        if raw and address is None:
            logger.warning("systemd: NOTIFY_SOCKET=%r is not a path or @name; not notifying", raw)
        pid = os.getpid() if pid is None else pid
        return cls(address, watchdog_s=watchdog_interval_s(env, pid))

    @property
    def enabled(self) -> bool:
        """Whether anything is sent at all."""
        return self.address is not None

    def send(self, **fields: str | int) -> bool:
        """Send one notification; False if there is no socket or the send failed."""
        if self.address is None:
            return False
        try:
            if self._sock is None:
                self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
                self._sock.setblocking(False)  # systemd reads at once; never wait for it
            self._sock.sendto(message(**fields), self.address)
        except OSError as exc:
            self.failed += 1
            why = f"{type(exc).__name__}: {exc}"
            if why != self._last_error:  # once per kind of failure, not at every ping
                logger.warning("systemd: cannot notify %r: %s", self.address, why)
                self._last_error = why
            return False
        self.sent += 1
        self._last_error = None
        return True

    def ready(self, status: str) -> bool:
        return self.send(READY=1, STATUS=status[:STATUS_MAX])

    def watchdog(self) -> bool:
        return self.send(WATCHDOG=1)

    def status(self, status: str) -> bool:
        return self.send(STATUS=status[:STATUS_MAX])

    def stopping(self, status: str = "stopping") -> bool:
        return self.send(STOPPING=1, STATUS=status[:STATUS_MAX])

    def close(self) -> None:
        """Close the socket; safe to call twice (a later send opens one again)."""
        if self._sock is not None:
            self._sock.close()
            self._sock = None


__all__ = ["STATUS_MAX", "Notifier", "message", "socket_address", "watchdog_interval_s"]
