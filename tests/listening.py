"""The TCP ports a process listens on, read from /proc (Linux): its sockets' inodes against
the kernel's TCP tables, with no tool to install."""

from __future__ import annotations

import os
from pathlib import Path

LISTEN = "0A"
"""The state of a listening socket in /proc/net/tcp."""


def listening_ports(pid: int) -> set[tuple[str, int]]:
    """(address, port) of each TCP socket ``pid`` listens on; the address as the kernel
    writes it (hex), ``"0"`` for every address (0.0.0.0 or ::)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:  # closed meanwhile
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    found: set[tuple[str, int]] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state == LISTEN and inode in inodes:
                address, port = local.rsplit(":", 1)
                found.add(("0" if set(address) == {"0"} else address, int(port, 16)))
    return found


def ports(pid: int) -> set[int]:
    """The ports ``pid`` listens on, whatever the address."""
    return {port for _, port in listening_ports(pid)}


__all__ = ["listening_ports", "ports"]
