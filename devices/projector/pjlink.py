"""PJLink class 1 and 2 over asyncio TCP: framing, authentication, error replies and parsing.

Our own client rather than ``aiopjlink2`` (typed, pure Python, class 2 and authentication,
so close to fitting): that package pulls in ``pyserial-asyncio-fast`` and ``pyserial`` without
importing them, prints its debug traffic with ``print``, opens and authenticates a new TCP
connection for every single command (a status refresh would be about ten), and reports a
silent projector and a garbled greeting as the same protocol error. The protocol is small:
here one connection carries a whole refresh, authenticated once, every step is under a
timeout, and the simulator shares these constants and parsers.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import re
from collections.abc import AsyncIterator
from typing import Literal

PJLINK_PORT = 4352
"""TCP port PJLink projectors listen on."""

PjlinkClass = Literal[1, 2]
PowerState = Literal["off", "on", "cooling", "warming"]
ErrorLevel = Literal["ok", "warning", "error"]

POWER_STATES: dict[str, PowerState] = {"0": "off", "1": "on", "2": "cooling", "3": "warming"}
ERROR_CATEGORIES = ("fan", "lamp", "temperature", "cover", "filter", "other")
"""The six digits of an ``ERST`` reply, in order."""
ERROR_LEVELS: dict[str, ErrorLevel] = {"0": "ok", "1": "warning", "2": "error"}
ERROR_CODES = {
    "ERR1": "undefined command",
    "ERR2": "out of parameter",
    "ERR3": "unavailable time (e.g. warming up or cooling down)",
    "ERR4": "projector failure",
}
INPUT_CODE = re.compile(r"^[1-6][1-9A-Z]$")
"""An input: type (1 RGB, 2 video, 3 digital, 4 storage, 5 network, 6 internal) and index."""
CLASS1_INPUT_CODE = re.compile(r"^[1-5][1-9]$")
AUTH_FAILED = "PJLINK ERRA"
MAX_LINE = 512
_COMMAND_BODY = re.compile(r"^[A-Z0-9]{4}$")
_DIGEST = re.compile(r"^[0-9a-f]{32}$")


class PjlinkError(Exception):
    """Something went wrong talking PJLink."""


class PjlinkConnectionError(PjlinkError, ConnectionError):
    """No connection: refused, reset or closed by the projector."""


class PjlinkTimeoutError(PjlinkError, TimeoutError):
    """The projector did not accept the connection or answer in time."""


class PjlinkAuthError(PjlinkError):
    """The projector wants a password and none was given, or it refused the one given."""


class PjlinkProtocolError(PjlinkError):
    """The peer sent something that is not PJLink."""


class PjlinkCommandError(PjlinkError):
    """The projector answered a command with ``ERR1`` .. ``ERR4``."""

    def __init__(self, command: str, code: str) -> None:
        super().__init__(f"{command}: {code} ({ERROR_CODES.get(code, 'unknown error')})")
        self.command = command
        self.code = code


def auth_digest(random: str, password: str) -> str:
    """The 32 hex digits that prefix the first command of an authenticated connection."""
    data = (random + password).encode("utf-8")
    return hashlib.md5(data, usedforsecurity=False).hexdigest()  # the spec's own scheme


def format_command(body: str, param: str, pjclass: PjlinkClass = 1) -> str:
    """One command line, e.g. ``%1POWR 1`` plus CR."""
    if not _COMMAND_BODY.match(body):
        msg = f"not a PJLink command body: {body!r}"
        raise ValueError(msg)
    if len(param) > 128 or "\r" in param:
        msg = f"bad PJLink parameter for {body}: {param!r}"
        raise ValueError(msg)
    return f"%{pjclass}{body} {param}\r"


def parse_reply(line: str, body: str, pjclass: PjlinkClass = 1) -> str:
    """The parameter of a reply line (without CR) to ``body``; raise on ``ERRn`` or garbage."""
    head = f"%{pjclass}{body}="
    if not line.upper().startswith(head):
        msg = f"expected a reply to %{pjclass}{body}, got {line[:40]!r}"
        raise PjlinkProtocolError(msg)
    param = line[len(head) :]
    if param.upper() in ERROR_CODES:
        raise PjlinkCommandError(body, param.upper())
    return param


def parse_power(param: str) -> PowerState:
    try:
        return POWER_STATES[param]
    except KeyError:
        raise PjlinkProtocolError(f"POWR: unexpected state {param!r}") from None


def parse_errors(param: str) -> dict[str, ErrorLevel]:
    if len(param) != len(ERROR_CATEGORIES) or any(c not in ERROR_LEVELS for c in param):
        raise PjlinkProtocolError(f"ERST: unexpected status {param!r}")
    return {cat: ERROR_LEVELS[c] for cat, c in zip(ERROR_CATEGORIES, param, strict=True)}


def parse_lamps(param: str) -> list[tuple[int, bool]]:
    """``LAMP`` reply: (hours, lit) for each lamp."""
    fields = param.split()
    if not fields or len(fields) % 2 or not all(f.isdigit() for f in fields):
        raise PjlinkProtocolError(f"LAMP: unexpected reply {param!r}")
    return [(int(fields[i]), fields[i + 1] == "1") for i in range(0, len(fields), 2)]


def parse_av_mute(param: str) -> tuple[bool, bool]:
    """``AVMT`` reply: (picture muted, sound muted)."""
    states = {"11": (True, False), "21": (False, True), "31": (True, True), "30": (False, False)}
    try:
        return states[param]
    except KeyError:
        raise PjlinkProtocolError(f"AVMT: unexpected state {param!r}") from None


class PjlinkConnection:
    """One open connection; its first command carries the authentication digest."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        digest: str | None,
        timeout_s: float,
    ) -> None:
        self._reader = reader
        self._writer = writer
        self._digest = digest
        self._timeout_s = timeout_s
        self.answered = False
        """True once the projector answered a command (not merely greeted us)."""

    async def command(self, body: str, param: str = "?", pjclass: PjlinkClass = 1) -> str:
        """Send one command and return its reply's parameter (``OK`` for most settings)."""
        line = format_command(body, param, pjclass)
        if self._digest is not None:
            line, self._digest = self._digest + line, None
        try:
            async with asyncio.timeout(self._timeout_s):
                self._writer.write(line.encode("utf-8"))
                await self._writer.drain()
                reply = await read_line(self._reader)
        except TimeoutError as exc:
            msg = f"no reply to {body} within {self._timeout_s} s"
            raise PjlinkTimeoutError(msg) from exc
        if reply.upper() == AUTH_FAILED:
            raise PjlinkAuthError("the projector refused the password")
        self.answered = True
        return parse_reply(reply, body, pjclass)

    async def close(self) -> None:
        self._writer.close()
        with contextlib.suppress(OSError, TimeoutError):
            async with asyncio.timeout(self._timeout_s):
                await self._writer.wait_closed()


async def read_line(reader: asyncio.StreamReader) -> str:
    """One CR-terminated line without its CR; PjlinkConnectionError if the peer hung up."""
    try:
        raw = await reader.readuntil(b"\r")
    except asyncio.IncompleteReadError as exc:
        raise PjlinkConnectionError("the projector closed the connection") from exc
    except asyncio.LimitOverrunError as exc:
        raise PjlinkProtocolError("line too long for PJLink") from exc
    except OSError as exc:
        raise PjlinkConnectionError(f"connection lost: {exc}") from exc
    return raw[:-1].decode("utf-8", errors="replace").lstrip("\n\x00")


@contextlib.asynccontextmanager
async def connect(
    host: str, port: int = PJLINK_PORT, *, password: str | None = None, timeout_s: float = 5.0
) -> AsyncIterator[PjlinkConnection]:
    """Open a connection, read the greeting, and yield it ready for commands."""
    try:
        async with asyncio.timeout(timeout_s):
            reader, writer = await asyncio.open_connection(host, port, limit=MAX_LINE)
    except TimeoutError as exc:
        msg = f"{host}:{port} did not accept a connection within {timeout_s} s"
        raise PjlinkTimeoutError(msg) from exc
    except OSError as exc:
        raise PjlinkConnectionError(f"cannot connect to {host}:{port}: {exc}") from exc
    conn = PjlinkConnection(reader, writer, None, timeout_s)
    try:
        try:
            async with asyncio.timeout(timeout_s):
                greeting = await read_line(reader)
        except TimeoutError as exc:
            msg = f"{host}:{port} sent no PJLink greeting within {timeout_s} s"
            raise PjlinkTimeoutError(msg) from exc
        conn = PjlinkConnection(reader, writer, _digest_for(greeting, password), timeout_s)
        yield conn
    finally:
        await conn.close()


def _digest_for(greeting: str, password: str | None) -> str | None:
    parts = greeting.split(" ")
    if parts[0].upper() != "PJLINK" or len(parts) < 2:
        raise PjlinkProtocolError(f"not a PJLink greeting: {greeting[:40]!r}")
    if parts[1] == "0":
        return None
    if parts[1].upper() == "ERRA":
        raise PjlinkAuthError("the projector refused the connection (authentication)")
    if parts[1] != "1" or len(parts) != 3:
        raise PjlinkProtocolError(f"unknown PJLink greeting: {greeting[:40]!r}")
    if password is None:
        raise PjlinkAuthError("the projector requires a password and none is configured")
    return auth_digest(parts[2], password)


def split_digest(line: str) -> tuple[str | None, str]:
    """Split a received command line into its digest (if any) and the command (for servers)."""
    if len(line) > 32 and _DIGEST.match(line[:32].lower()):
        return line[:32].lower(), line[32:]
    return None, line


__all__ = [
    "AUTH_FAILED",
    "CLASS1_INPUT_CODE",
    "ERROR_CATEGORIES",
    "ERROR_CODES",
    "ERROR_LEVELS",
    "INPUT_CODE",
    "PJLINK_PORT",
    "POWER_STATES",
    "ErrorLevel",
    "PjlinkAuthError",
    "PjlinkClass",
    "PjlinkCommandError",
    "PjlinkConnection",
    "PjlinkConnectionError",
    "PjlinkError",
    "PjlinkProtocolError",
    "PjlinkTimeoutError",
    "PowerState",
    "auth_digest",
    "connect",
    "format_command",
    "parse_av_mute",
    "parse_errors",
    "parse_lamps",
    "parse_power",
    "parse_reply",
    "read_line",
    "split_digest",
]
