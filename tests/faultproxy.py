"""A loopback TCP proxy that puts network faults (stall, reset, delay, flaps) under test control."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Literal, Protocol, Self

__all__ = ["FaultProxy", "FlapClock", "ManualClock", "MonotonicClock", "ProxyStats"]

Direction = Literal["up", "down"]
Mode = Literal["pass", "stall", "reset", "slow", "flap", "blackhole_new"]

CHUNK = 65536
CONNECT_TIMEOUT_S = 5.0
SLICE_S = 0.05
"""A throttled direction writes at most this many seconds' worth of bytes at a time."""


@dataclass(slots=True)
class ProxyStats:
    """Counters of a FaultProxy; ``up`` is client to upstream, ``down`` the way back."""

    accepted: int = 0
    """Connections accepted, refused and blackholed ones included."""
    open: int = 0
    """Client connections open now."""
    refused: int = 0
    """New connections reset at once (``reset(refuse_new=True)``, a flap's reset phase)."""
    reset: int = 0
    """Open connections reset by ``reset()`` or a flap."""
    bytes_up: int = 0
    """Bytes read from clients (held, blackholed and dropped ones too)."""
    bytes_down: int = 0
    """Bytes read from upstream."""
    forwarded_up: int = 0
    """Bytes written to upstream."""
    forwarded_down: int = 0
    """Bytes written to clients."""
    dropped: int = 0
    """Held bytes thrown away by ``resume(drop=True)``."""
    flips: int = 0
    """Phase changes of the current flap: odd while it is in its faulted phase."""


class FlapClock(Protocol):
    """Seconds that drive a flap schedule."""

    def now(self) -> float: ...

    def sleep_until(self, deadline: float) -> Awaitable[None]: ...


class MonotonicClock:
    """Real time (``time.monotonic``)."""

    def now(self) -> float:
        return time.monotonic()

    async def sleep_until(self, deadline: float) -> None:
        await asyncio.sleep(max(0.0, deadline - self.now()))


class ManualClock:
    """Seconds that move only on ``advance``; sleepers whose deadline is passed wake then."""

    def __init__(self, start: float = 0.0) -> None:
        self._now = start
        self._sleepers: list[tuple[float, asyncio.Future[None]]] = []

    def now(self) -> float:
        return self._now

    def sleep_until(self, deadline: float) -> asyncio.Future[None]:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if deadline <= self._now:
            future.set_result(None)
        else:
            self._sleepers.append((deadline, future))
        return future

    def advance(self, seconds: float) -> None:
        self._now += seconds
        due = [f for at, f in self._sleepers if at <= self._now]
        self._sleepers = [(at, f) for at, f in self._sleepers if at > self._now]
        for future in due:
            if not future.done():
                future.set_result(None)


def _abort(writer: asyncio.StreamWriter, *, rst: bool) -> None:
    """Close at once, discarding unsent data; with ``rst`` the peer gets a reset, not a FIN."""
    sock = writer.get_extra_info("socket")
    if rst and sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


class _Pipe:
    """One direction of a connection: chunks read from ``source`` are held, then written."""

    def __init__(
        self,
        conn: _Connection,
        direction: Direction,
        source: asyncio.StreamReader,
        sink: asyncio.StreamWriter,
    ) -> None:
        self.conn, self.direction, self.source, self.sink = conn, direction, source, sink
        self.held: deque[tuple[float, bytes]] = deque()  # (arrival time, bytes), in order
        self.eof = self.reset = False
        self.wake = asyncio.Event()
        self._link_free_at = 0.0

    async def read(self) -> None:
        try:
            while chunk := await self.source.read(CHUNK):
                self.held.append((time.monotonic(), chunk))
                self.conn.proxy._count(self.direction, received=len(chunk))
                self.wake.set()
        except OSError:  # a reset, passed on (like an end of stream) after the held bytes
            self.reset = True
        self.eof = True
        self.wake.set()

    async def write(self) -> None:
        proxy, direction = self.conn.proxy, self.direction
        try:
            while not self.conn.aborted:
                self.wake.clear()
                if proxy._stalled or not (self.held or self.eof):
                    await self.wake.wait()
                    continue
                if not self.held:  # end of stream, everything before it delivered
                    if self.reset:
                        self.conn.abort(rst=True)
                    elif self.sink.can_write_eof():
                        self.sink.write_eof()
                    return
                arrival, chunk = self.held[0]
                due = max(arrival + proxy._latency[direction], self._link_free_at)
                if (wait := due - time.monotonic()) > 0:
                    with contextlib.suppress(TimeoutError):  # woken early by a change of mode
                        async with asyncio.timeout(wait):
                            await self.wake.wait()
                    continue
                rate = proxy._rate[direction]
                piece = chunk if rate is None else chunk[: max(1, int(rate * SLICE_S))]
                if rate is not None:
                    self._link_free_at = time.monotonic() + len(piece) / rate
                if len(piece) < len(chunk):
                    self.held[0] = (arrival, chunk[len(piece) :])
                else:
                    self.held.popleft()
                self.sink.write(piece)
                proxy._count(direction, forwarded=len(piece))
                await self.sink.drain()
        except OSError:
            self.conn.abort(rst=True)

    def drop(self) -> int:
        dropped = sum(len(chunk) for _, chunk in self.held)
        self.held.clear()
        return dropped


class _Connection:
    """One client connection and, unless it is blackholed, its connection upstream."""

    def __init__(
        self, proxy: FaultProxy, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.proxy, self.reader, self.writer = proxy, reader, writer
        self.upstream: asyncio.StreamWriter | None = None
        self.pipes: list[_Pipe] = []
        self.aborted = False

    def _writers(self) -> list[asyncio.StreamWriter]:
        return [self.writer] + ([self.upstream] if self.upstream is not None else [])

    def abort(self, *, rst: bool) -> None:
        self.aborted = True
        for writer in self._writers():
            _abort(writer, rst=rst)
        for pipe in self.pipes:
            pipe.wake.set()

    async def run(self) -> None:
        proxy = self.proxy
        if proxy._refusing:
            proxy.stats.refused += 1
            self.abort(rst=True)
            return
        if proxy._blackhole:
            await self._swallow()
            return
        try:
            async with asyncio.timeout(CONNECT_TIMEOUT_S):
                up_reader, self.upstream = await asyncio.open_connection(
                    proxy.upstream_host, proxy.upstream_port
                )
        except (OSError, TimeoutError):
            self.abort(rst=True)
            return
        if self.aborted:  # reset while connecting upstream
            self.abort(rst=True)
            return
        self.pipes = [
            _Pipe(self, "up", self.reader, self.upstream),
            _Pipe(self, "down", up_reader, self.writer),
        ]
        async with asyncio.TaskGroup() as tasks:
            for pipe in self.pipes:
                tasks.create_task(pipe.read())
                tasks.create_task(pipe.write())

    async def _swallow(self) -> None:
        """A blackholed connection: read what the client sends, forward nothing, answer nothing."""
        with contextlib.suppress(OSError):
            while chunk := await self.reader.read(CHUNK):
                self.proxy._count("up", received=len(chunk))

    async def close(self) -> None:
        for writer in self._writers():
            if not self.aborted:
                writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()


class FaultProxy:
    """A TCP proxy on ``host`` (a free port) to ``upstream_host:upstream_port``.

    One fault mode at a time, switched by the methods below; a switch applies to
    open and new connections. ``host`` and ``port`` make it usable wherever a
    broker address is expected. Use ``async with`` or ``start``/``close``.
    """

    def __init__(self, upstream_host: str, upstream_port: int, *, host: str = "127.0.0.1") -> None:
        self.upstream_host, self.upstream_port = upstream_host, upstream_port
        self.host, self.port = host, 0
        self.stats = ProxyStats()
        self._mode: Mode = "pass"
        self._stalled = self._refusing = self._blackhole = False
        self._latency: dict[Direction, float] = {"up": 0.0, "down": 0.0}
        self._rate: dict[Direction, float | None] = {"up": None, "down": None}
        self._server: asyncio.Server | None = None
        self._connections: set[_Connection] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._flap: asyncio.Task[None] | None = None
        self._changed = asyncio.Event()
        self._closed = False

    @property
    def mode(self) -> Mode:
        """The fault switched on last."""
        return self._mode

    async def start(self) -> None:
        """Listen on a free port (then in ``port``)."""
        if self._closed or self._server is not None:
            msg = "a FaultProxy starts once"
            raise RuntimeError(msg)
        self._server = await asyncio.start_server(self._handle, self.host, 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        """Stop listening and close every connection the proxy made; safe to call twice."""
        if self._closed:
            return
        self._closed = True
        self._switch("pass")
        if self._server is not None:
            self._server.close()
        for conn in list(self._connections):
            conn.abort(rst=False)
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # Faults

    def pass_through(self) -> None:
        """Forward everything as it comes (the default); what a stall held goes on, in order."""
        self._switch("pass")

    def stall(self) -> None:
        """Forward nothing either way, sockets open: bytes are read and held, new
        connections accepted (and connected upstream) but nothing is forwarded."""
        self._switch("stall")
        self._stalled = True

    def resume(self, *, drop: bool = False) -> None:
        """End a stall: pass through, delivering what was held in order or, with
        ``drop``, throwing it away (the peers then see a stream with a hole in it)."""
        if drop:
            for conn in self._connections:
                for pipe in conn.pipes:
                    self.stats.dropped += pipe.drop()
        self._switch("pass")

    def reset(self, *, refuse_new: bool = False) -> None:
        """Reset (RST) every open connection; with ``refuse_new``, reset each new one at
        once until another mode is set, otherwise new connections get the current mode."""
        if refuse_new:
            self._switch("reset")
            self._refusing = True
        self._reset_all()

    def slow(
        self,
        latency_s: float = 0.0,
        bytes_per_s: float | None = None,
        *,
        direction: Literal["up", "down", "both"] = "both",
    ) -> None:
        """Deliver each chunk ``latency_s`` after it arrived, at most ``bytes_per_s``, in
        ``direction``; called again while slow, it changes only that direction."""
        if latency_s < 0 or (bytes_per_s is not None and bytes_per_s <= 0):
            msg = f"latency_s must be >= 0 and bytes_per_s > 0, not {latency_s}, {bytes_per_s}"
            raise ValueError(msg)
        if self._mode != "slow":
            self._switch("slow")
        directions: tuple[Direction, ...] = ("up", "down") if direction == "both" else (direction,)
        for d in directions:
            self._latency[d], self._rate[d] = latency_s, bytes_per_s
        self._wake_all()

    def flap(
        self,
        period_s: float,
        *,
        down_s: float | None = None,
        fault: Literal["reset", "stall"] = "reset",
        clock: FlapClock | None = None,
    ) -> None:
        """Pass for ``period_s``, then ``fault`` for ``down_s`` (default ``period_s``), and
        so on, timed by ``clock`` (real time by default); ``stats.flips`` counts the
        changes. A reset phase resets open connections and refuses new ones."""
        down_s = period_s if down_s is None else down_s
        if period_s <= 0 or down_s <= 0:
            msg = f"flap periods must be > 0, not {period_s}, {down_s}"
            raise ValueError(msg)
        self._switch("flap")
        clock = clock or MonotonicClock()
        self._flap = asyncio.get_running_loop().create_task(
            self._flapping(clock, clock.now(), period_s, down_s, fault)
        )
        self._tasks.add(self._flap)
        self._flap.add_done_callback(self._tasks.discard)

    def blackhole_new(self) -> None:
        """Accept new connections and never forward or answer (a broker that takes the
        connection and stays silent) for their lifetime; open ones pass through."""
        self._switch("blackhole_new")
        self._blackhole = True

    # Observability

    async def wait_for(
        self, predicate: Callable[[ProxyStats], bool], timeout: float = 5.0, what: str = ""
    ) -> ProxyStats:
        """Wait until ``predicate(stats)`` holds; TimeoutError after ``timeout`` seconds."""
        try:
            async with asyncio.timeout(timeout):
                while not predicate(self.stats):
                    await self._changed.wait()
        except TimeoutError:
            msg = f"timed out after {timeout} s waiting for {what or 'a condition'}: {self.stats}"
            raise TimeoutError(msg) from None
        return self.stats

    async def wait_connections(self, n: int, timeout: float = 5.0) -> ProxyStats:
        """Wait until at least ``n`` connections were accepted in all."""
        return await self.wait_for(lambda s: s.accepted >= n, timeout, f"{n} connections")

    async def wait_open(self, n: int, timeout: float = 5.0) -> ProxyStats:
        """Wait until exactly ``n`` client connections are open."""
        return await self.wait_for(lambda s: s.open == n, timeout, f"{n} open connections")

    async def wait_bytes_up(self, n: int, timeout: float = 5.0) -> ProxyStats:
        """Wait until clients have sent the proxy at least ``n`` bytes in all."""
        return await self.wait_for(lambda s: s.bytes_up >= n, timeout, f"{n} bytes up")

    async def wait_bytes_down(self, n: int, timeout: float = 5.0) -> ProxyStats:
        """Wait until upstream has sent the proxy at least ``n`` bytes in all."""
        return await self.wait_for(lambda s: s.bytes_down >= n, timeout, f"{n} bytes down")

    # Internals

    def _switch(self, mode: Mode) -> None:
        """Leave the current mode for ``mode`` with nothing set yet."""
        if self._flap is not None:
            self._flap.cancel()
            self._flap = None
        self._mode = mode
        self._stalled = self._refusing = self._blackhole = False
        self._latency = {"up": 0.0, "down": 0.0}
        self._rate = {"up": None, "down": None}
        self._wake_all()

    def _wake_all(self) -> None:
        for conn in self._connections:
            for pipe in conn.pipes:
                pipe.wake.set()
        self._notify()

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    def _count(self, direction: Direction, *, received: int = 0, forwarded: int = 0) -> None:
        if direction == "up":
            self.stats.bytes_up += received
            self.stats.forwarded_up += forwarded
        else:
            self.stats.bytes_down += received
            self.stats.forwarded_down += forwarded
        self._notify()

    def _reset_all(self) -> None:
        for conn in list(self._connections):
            if not conn.aborted:
                conn.abort(rst=True)
                self.stats.reset += 1
        self._notify()

    async def _flapping(
        self, clock: FlapClock, at: float, up_s: float, down_s: float, fault: str
    ) -> None:
        faulted = False
        while True:
            at += down_s if faulted else up_s
            await clock.sleep_until(at)
            faulted = not faulted
            if fault == "stall":
                self._stalled = faulted
            else:
                self._refusing = faulted
                if faulted:
                    self._reset_all()
            self.stats.flips += 1
            self._wake_all()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        conn = _Connection(self, reader, writer)
        self._connections.add(conn)
        self.stats.accepted += 1
        self.stats.open = len(self._connections)
        self._notify()
        try:
            if self._closed:
                conn.abort(rst=False)
            else:
                await conn.run()
        finally:
            await conn.close()
            self._connections.discard(conn)
            self._tasks.discard(task)
            self.stats.open = len(self._connections)
            self._notify()
