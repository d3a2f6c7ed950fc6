"""A simulated projector: a PJLink class 1/2 server on TCP, with warm-up, cool-down and lamp hours.

Time comes from an injectable clock, so tests move through a 30 s warm-up without waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Callable, Iterable

from devices.base import Clock
from devices.projector.pjlink import (
    AUTH_FAILED,
    CLASS1_INPUT_CODE,
    ERROR_CATEGORIES,
    ERROR_LEVELS,
    INPUT_CODE,
    POWER_STATES,
    ErrorLevel,
    PjlinkClass,
    PjlinkError,
    PowerState,
    auth_digest,
    read_line,
    split_digest,
)

logger = logging.getLogger(__name__)

_CODE_OF_POWER = {state: code for code, state in POWER_STATES.items()}
_CODE_OF_LEVEL = {level: code for code, level in ERROR_LEVELS.items()}


class SimProjector:
    """A projector on ``host:port`` that speaks PJLink; its state is open to tests.

    Power follows the usual rules: ``on`` from standby warms up for ``warmup_s``,
    ``off`` cools down for ``cooldown_s``; ``off`` while warming, ``on`` while
    cooling, and input or mute changes while not on are answered ``ERR3``. The
    lamp counts hours while lit (warming and on), the filter while the fan runs
    (warming, on and cooling).
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        password: str | None = None,
        pjlink_class: PjlinkClass = 2,
        name: str = "SIM-PROJECTOR",
        manufacturer: str = "smartclass",
        product: str = "SimProjector 1",
        inputs: Iterable[str] = ("11", "31", "32", "51"),
        warmup_s: float = 30.0,
        cooldown_s: float = 30.0,
        lamp_hours: float = 0.0,
        filter_hours: float = 0.0,
        idle_timeout_s: float = 30.0,
        clock: Clock | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.password = password
        self.pjlink_class: PjlinkClass = pjlink_class
        self.name, self.manufacturer, self.product = name, manufacturer, product
        self.inputs = list(inputs)
        bad = [c for c in self.inputs if not INPUT_CODE.match(c)]
        if bad or not self.inputs:
            msg = f"inputs must be PJLink input codes like '31', got {self.inputs!r}"
            raise ValueError(msg)
        self.warmup_s, self.cooldown_s = warmup_s, cooldown_s
        self.idle_timeout_s = idle_timeout_s
        self.input = self.inputs[0]
        self.picture_muted = False
        self.sound_muted = False
        self.errors: dict[str, ErrorLevel] = dict.fromkeys(ERROR_CATEGORIES, "ok")
        self.received: list[str] = []
        """Every command line received (without digest), for tests."""
        self.connections = 0
        self.busy_replies = 0
        self.silent = False
        """While True it takes connections and answers nothing, not even its greeting: a
        projector that hangs (tests and demos make it stop answering and come back)."""
        self._clock = clock or time.monotonic
        self._t = self._clock()
        self._power: PowerState = "off"
        self._phase_end = 0.0
        self._lamp_s = lamp_hours * 3600.0
        self._filter_s = filter_hours * 3600.0
        self._server: asyncio.Server | None = None
        self._clients: dict[asyncio.StreamWriter, asyncio.Task[None] | None] = {}
        self._changed = asyncio.Condition()

    # --- the simulated projector -------------------------------------------------

    @property
    def power(self) -> PowerState:
        self._advance()
        return self._power

    @property
    def lamp_hours(self) -> float:
        self._advance()
        return self._lamp_s / 3600.0

    @property
    def filter_hours(self) -> float:
        self._advance()
        return self._filter_s / 3600.0

    def set_error(self, category: str, level: ErrorLevel) -> None:
        """Report ``level`` for one ``ERST`` category (fan, lamp, temperature, ...)."""
        if category not in self.errors:
            msg = f"unknown error category {category!r} (known: {', '.join(ERROR_CATEGORIES)})"
            raise ValueError(msg)
        self.errors[category] = level

    def _advance(self) -> None:
        now = self._clock()
        if self._power in ("warming", "cooling") and self._phase_end <= now:
            self._accumulate(self._phase_end)
            self._power = "on" if self._power == "warming" else "off"
        self._accumulate(now)

    def _accumulate(self, until: float) -> None:
        dt = max(0.0, until - self._t)
        self._t = max(self._t, until)
        if self._power in ("warming", "on"):
            self._lamp_s += dt
        if self._power != "off":
            self._filter_s += dt

    def _set_power(self, on: bool) -> bool:
        """Apply POWR; False if refused now (ERR3)."""
        state = self.power
        if on and state == "off":
            self._power, self._phase_end = "warming", self._t + self.warmup_s
        elif not on and state == "on":
            self._power, self._phase_end = "cooling", self._t + self.cooldown_s
            self.picture_muted = self.sound_muted = False
        return not ((on and state == "cooling") or (not on and state == "warming"))

    # --- protocol --------------------------------------------------------------

    def handle(self, line: str) -> str:
        """The reply (without CR) to one command line (without CR and digest)."""
        if len(line) < 7 or line[0] != "%" or line[1] not in "12" or line[6] != " ":
            return "%1ERR1" if len(line) < 6 else f"{line[:6]}=ERR1"
        cls, body, param = int(line[1]), line[2:6].upper(), line[7:]
        if cls > self.pjlink_class:
            return f"%{cls}{body}=ERR1"
        try:
            result = self._command(cls, body, param)
        except _Refused as refused:
            result = refused.code
        if result == "ERR3":
            self.busy_replies += 1
        return f"%{cls}{body}={result}"

    def _command(self, cls: int, body: str, param: str) -> str:
        query = param == "?"
        power = self.power
        if body == "POWR":
            if query:
                return _CODE_OF_POWER[power]
            if param not in ("0", "1"):
                raise _Refused("ERR2")
            return "OK" if self._set_power(param == "1") else "ERR3"
        if body == "INPT":
            valid = INPUT_CODE if cls == 2 else CLASS1_INPUT_CODE
            if not query and (not valid.match(param) or param not in self.inputs):
                raise _Refused("ERR2")
            if power != "on":
                raise _Refused("ERR3")
            if not query:
                self.input = param
            return self.input if query else "OK"
        if body == "AVMT":
            return self._av_mute(param, power)
        if not query and body not in ("INNM",):
            raise _Refused("ERR2")
        return self._info(cls, body, param)

    def _av_mute(self, param: str, power: PowerState) -> str:
        if param != "?" and param not in ("10", "11", "20", "21", "30", "31"):
            raise _Refused("ERR2")
        if power != "on":
            raise _Refused("ERR3")
        if param == "?":
            key = (self.picture_muted, self.sound_muted)
            codes = {(True, False): "11", (False, True): "21", (True, True): "31"}
            return codes.get(key, "30")
        muted = param[1] == "1"
        if param[0] in "13":
            self.picture_muted = muted
        if param[0] in "23":
            self.sound_muted = muted
        return "OK"

    def _info(self, cls: int, body: str, param: str) -> str:
        if body == "ERST":
            return "".join(_CODE_OF_LEVEL[self.errors[c]] for c in ERROR_CATEGORIES)
        if body == "LAMP":
            return f"{int(self.lamp_hours)} {int(self.power in ('warming', 'on'))}"
        valid = INPUT_CODE if cls == 2 else CLASS1_INPUT_CODE
        simple = {
            "NAME": self.name,
            "INF1": self.manufacturer,
            "INF2": self.product,
            "INFO": "simulated projector",
            "CLSS": str(self.pjlink_class),
            "INST": " ".join(c for c in self.inputs if valid.match(c)),
        }
        if body in simple:
            return simple[body]
        if cls == 2:
            if body == "FILT":
                return str(int(self.filter_hours))
            if body == "INNM" and param[:1] == "?" and param[1:] in self.inputs:
                return f"INPUT {param[1:]}"
            extra = {"SNUM": "SIM0001", "SVER": "1.0", "RLMP": "LMP-SIM", "RFIL": "FLT-SIM"}
            if body in extra:
                return extra[body]
        raise _Refused("ERR1" if body not in ("INNM",) else "ERR2")

    # --- the TCP server ----------------------------------------------------------

    async def start(self) -> None:
        """Listen on ``host:port`` (port 0: a free one, then kept in ``port``)."""
        if self._server is not None:
            return
        self._server = await asyncio.start_server(self._serve_client, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        logger.info("simulated projector %s listening on %s:%d", self.name, self.host, self.port)

    def close(self) -> None:
        """Stop listening and drop open connections; safe to call twice."""
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in self._clients:
            writer.close()

    async def __aenter__(self) -> SimProjector:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def stop(self) -> None:
        """Close, then wait until the listening socket is released."""
        server = self._server
        tasks = [t for t in self._clients.values() if t is not None]
        self.close()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(5.0):
                if server is not None:
                    await server.wait_closed()
                await asyncio.gather(*tasks, return_exceptions=True)

    async def wait_busy_replies(self, count: int, timeout_s: float = 5.0) -> None:
        """Wait until ``count`` ERR3 replies have been sent in total."""
        async with asyncio.timeout(timeout_s), self._changed:
            await self._changed.wait_for(lambda: self.busy_replies >= count)

    async def _serve_client(self, reader: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._clients[w] = asyncio.current_task()
        password = self.password
        random = secrets.token_hex(4)
        try:
            if self.silent:
                await reader.read()  # nothing, until the client gives up
                return
            w.write(b"PJLINK 0\r" if password is None else f"PJLINK 1 {random}\r".encode())
            await w.drain()
            while True:
                async with asyncio.timeout(self.idle_timeout_s):
                    line = await read_line(reader)
                digest, command = split_digest(line)
                if password is not None:
                    if digest != auth_digest(random, password):
                        w.write(f"{AUTH_FAILED}\r".encode())
                        await w.drain()
                        return
                    password = None  # authenticated: later commands need no digest
                self.received.append(command)
                w.write(f"{self.handle(command)}\r".encode())
                await w.drain()
                async with self._changed:
                    self._changed.notify_all()
        except (PjlinkError, OSError, TimeoutError):
            pass  # the client left, was idle too long or sent garbage: close as a projector does
        finally:
            self._clients.pop(w, None)
            w.close()
            with contextlib.suppress(OSError):
                await w.wait_closed()


class _Refused(Exception):  # noqa: N818 - a reply code, not an error of ours
    def __init__(self, code: str) -> None:
        self.code = code


async def serve(
    *,
    host: str = "127.0.0.1",
    port: int = 4352,
    password: str | None = None,
    warmup_s: float = 30.0,
    cooldown_s: float = 30.0,
    pjlink_class: PjlinkClass = 2,
    name: str = "SIM-PROJECTOR",
    ready: Callable[[SimProjector], None] | None = None,
) -> None:
    """Run a simulated projector until cancelled (for a command-line tool or a demo)."""
    projector = SimProjector(
        host=host,
        port=port,
        password=password,
        warmup_s=warmup_s,
        cooldown_s=cooldown_s,
        pjlink_class=pjlink_class,
        name=name,
    )
    async with projector:
        if ready is not None:
            ready(projector)
        await asyncio.Event().wait()


__all__ = ["SimProjector", "serve"]
