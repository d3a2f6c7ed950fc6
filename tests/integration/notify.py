"""A stand-in for systemd's notify socket: tests bind it and read what a process sends."""

from __future__ import annotations

import asyncio
import socket
import time
import uuid

from protocol.aio import wait_within

WATCHDOG_USEC = 1_000_000
"""WatchdogSec=1: the agent pings every 0.5 s."""
PING_S = WATCHDOG_USEC / 2 / 1_000_000
QUIET_S = 5 * PING_S
"""Five pings missed in a row: the pings have stopped (systemd would have restarted it)."""


class NotifySocket:
    """The datagram socket systemd would listen on (abstract, as systemd's own is named)."""

    def __init__(self) -> None:
        self.name = f"@smartclass-test-{uuid.uuid4().hex}"
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(b"\0" + self.name[1:].encode())
        self.sock.setblocking(False)
        self.received: list[dict[str, str]] = []

    def env(self) -> dict[str, str]:
        return {"NOTIFY_SOCKET": self.name, "WATCHDOG_USEC": str(WATCHDOG_USEC)}

    async def next(self, timeout: float) -> dict[str, str]:
        """The next notification, as its fields."""
        data = await wait_within(asyncio.get_running_loop().sock_recv(self.sock, 4096), timeout)
        lines = data.decode().splitlines()
        fields = dict(line.split("=", 1) for line in lines if line)
        self.received.append(fields)
        return fields

    async def until(self, key: str, timeout: float, value: str | None = None) -> dict[str, str]:
        """The first notification with ``key`` (equal to ``value``, if given)."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {key} within {timeout} s (got {self.received[-5:]})")
            try:
                fields = await self.next(left)
            except TimeoutError:
                continue
            if key in fields and (value is None or value in fields[key]):
                return fields

    async def status(self, text: str, timeout: float) -> str:
        """Wait until the last status sent says ``text``; that status."""
        last = [fields["STATUS"] for fields in self.received if "STATUS" in fields][-1:]
        if last and text in last[0]:
            return last[0]
        return (await self.until("STATUS", timeout, text))["STATUS"]

    async def pings(self, n: int, timeout: float) -> float:
        """Wait for ``n`` WATCHDOG pings; the mean seconds between them."""
        stamps = []
        for _ in range(n):
            await self.until("WATCHDOG", timeout)
            stamps.append(time.monotonic())
        return (stamps[-1] - stamps[0]) / max(1, n - 1)

    async def quiet(self, gap: float, timeout: float) -> list[str]:
        """Wait until no WATCHDOG ping comes for ``gap`` seconds; the statuses seen meanwhile."""
        deadline = time.monotonic() + timeout
        statuses: list[str] = []
        last_ping = time.monotonic()
        while time.monotonic() - last_ping < gap:
            if time.monotonic() > deadline:
                raise AssertionError(f"the pings did not stop within {timeout} s")
            try:
                fields = await self.next(min(gap, max(0.01, last_ping + gap - time.monotonic())))
            except TimeoutError:
                continue
            if "STATUS" in fields:
                statuses.append(fields["STATUS"])
            if "WATCHDOG" in fields:
                last_ping = time.monotonic()
        return statuses

    def close(self) -> None:
        self.sock.close()


__all__ = ["PING_S", "QUIET_S", "WATCHDOG_USEC", "NotifySocket"]
