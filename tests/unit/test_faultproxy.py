"""The fault-injection proxy against a loopback echo server: each fault mode, counters, close."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from types import TracebackType

import pytest

from tests.faultproxy import FaultProxy, ManualClock

Stream = tuple[asyncio.StreamReader, asyncio.StreamWriter]
TIMER_SLACK_S = 0.001
"""Timers may fire a clock tick early; lower bounds on elapsed time allow for it."""
QUIET_S = 0.1
"""How long a client must hear nothing to show that the proxy holds its bytes."""


class EchoServer:
    """A loopback echo server that counts its connections and the bytes it got."""

    def __init__(self) -> None:
        self.connections = 0
        self.open = 0
        self.received = 0
        self.idle = asyncio.Event()
        """Set while no connection is open."""
        self.port = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> EchoServer:
        self._server = await asyncio.start_server(self._echo, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._server is not None
        self._server.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    async def _echo(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self.connections += 1
        self.open += 1
        self.idle.clear()
        try:
            while data := await reader.read(65536):
                self.received += len(data)
                writer.write(data)
                await writer.drain()
        except OSError:
            pass
        finally:
            self.open -= 1
            if not self.open:
                self.idle.set()
            self._tasks.discard(task)
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()


@pytest.fixture
async def echo() -> AsyncIterator[EchoServer]:
    async with EchoServer() as server:
        yield server


@pytest.fixture
async def proxy(echo: EchoServer) -> AsyncIterator[FaultProxy]:
    async with FaultProxy("127.0.0.1", echo.port) as p:
        yield p


@contextlib.asynccontextmanager
async def connect(proxy: FaultProxy) -> AsyncIterator[Stream]:
    reader, writer = await asyncio.open_connection(proxy.host, proxy.port)
    try:
        yield reader, writer
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


async def read(reader: asyncio.StreamReader, n: int) -> bytes:
    async with asyncio.timeout(2):
        return await reader.readexactly(n)


async def roundtrip(stream: Stream, data: bytes) -> bytes:
    reader, writer = stream
    writer.write(data)
    await writer.drain()
    return await read(reader, len(data))


async def assert_silent(reader: asyncio.StreamReader) -> None:
    """Not a byte arrives for QUIET_S: a negative check, so it can only be a time window."""
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(QUIET_S):
            await reader.read(1)


async def assert_reset(reader: asyncio.StreamReader) -> None:
    with pytest.raises(ConnectionResetError):
        async with asyncio.timeout(2):
            await reader.read(100)


async def test_data_passes_both_ways_and_is_counted(proxy: FaultProxy) -> None:
    data = bytes(range(256)) * 1000
    async with connect(proxy) as a, connect(proxy) as b:
        assert await roundtrip(a, data) == data
        assert await roundtrip(b, b"hello") == b"hello"
        await proxy.wait_connections(2)
        assert proxy.stats.open == 2
    total = len(data) + 5
    stats = await proxy.wait_open(0)
    assert (stats.bytes_up, stats.forwarded_up) == (total, total)
    assert (stats.bytes_down, stats.forwarded_down) == (total, total)


async def test_stall_holds_bytes_with_the_socket_open_and_resume_delivers_them_in_order(
    proxy: FaultProxy, echo: EchoServer
) -> None:
    async with connect(proxy) as stream:
        assert await roundtrip(stream, b"before") == b"before"
        proxy.stall()
        reader, writer = stream
        for part in (b"one ", b"two ", b"three"):
            writer.write(part)
            await writer.drain()
        await proxy.wait_bytes_up(len(b"beforeone two three"))
        await assert_silent(reader)
        assert echo.received == len(b"before")  # the proxy is the only way there
        assert proxy.stats.forwarded_down == len(b"before")  # so nothing can come back
        assert not writer.is_closing()
        assert proxy.stats.open == 1
        proxy.resume()
        assert await read(reader, len(b"one two three")) == b"one two three"
        assert await roundtrip(stream, b"after") == b"after"


async def test_stall_leaves_a_new_connection_unanswered_until_resume(
    proxy: FaultProxy, echo: EchoServer
) -> None:
    proxy.stall()
    async with connect(proxy) as stream:
        reader, writer = stream
        writer.write(b"CONNECT")
        await writer.drain()
        await proxy.wait_bytes_up(7)
        await assert_silent(reader)
        assert (echo.received, proxy.stats.forwarded_down) == (0, 0)
        proxy.resume()
        assert await read(reader, 7) == b"CONNECT"


async def test_resume_with_drop_throws_the_held_bytes_away(proxy: FaultProxy) -> None:
    async with connect(proxy) as stream:
        proxy.stall()
        stream[1].write(b"lost")
        await proxy.wait_bytes_up(4)
        proxy.resume(drop=True)
        assert proxy.stats.dropped == 4
        assert await roundtrip(stream, b"kept") == b"kept"


async def test_reset_gives_the_client_a_connection_reset(
    proxy: FaultProxy, echo: EchoServer
) -> None:
    async with connect(proxy) as stream:
        assert await roundtrip(stream, b"x") == b"x"
        proxy.reset()
        await assert_reset(stream[0])
    assert proxy.stats.reset == 1
    async with connect(proxy) as stream:  # without refuse_new, new connections pass
        assert await roundtrip(stream, b"y") == b"y"


async def test_reset_with_refuse_new_resets_new_connections_until_pass_through(
    proxy: FaultProxy,
) -> None:
    proxy.reset(refuse_new=True)
    async with connect(proxy) as stream:
        await assert_reset(stream[0])
    assert proxy.stats.refused == 1
    proxy.pass_through()
    async with connect(proxy) as stream:
        assert await roundtrip(stream, b"back") == b"back"


async def test_slow_adds_the_latency_each_way(proxy: FaultProxy) -> None:
    latency = 0.1
    proxy.slow(latency)
    async with connect(proxy) as stream:
        start = time.monotonic()
        assert await roundtrip(stream, b"ping") == b"ping"
        assert time.monotonic() - start >= 2 * latency - TIMER_SLACK_S


async def test_slow_throttles_bandwidth_in_one_direction(proxy: FaultProxy) -> None:
    rate, data = 20_000, b"z" * 5000
    proxy.slow(bytes_per_s=rate, direction="up")
    async with connect(proxy) as stream:
        start = time.monotonic()
        assert await roundtrip(stream, data) == data
        # the first slice goes at once; each later one waits for the one before
        slice_ = rate * 0.05
        assert time.monotonic() - start >= (len(data) - slice_) / rate - TIMER_SLACK_S


async def test_blackhole_new_leaves_a_new_client_silent_while_an_old_one_works(
    proxy: FaultProxy, echo: EchoServer
) -> None:
    async with connect(proxy) as old:
        assert await roundtrip(old, b"old") == b"old"
        proxy.blackhole_new()
        async with connect(proxy) as new:
            new[1].write(b"CONNECT")
            await new[1].drain()
            await proxy.wait_bytes_up(len(b"old") + 7)
            await assert_silent(new[0])
            assert await roundtrip(old, b"still") == b"still"
            assert echo.connections == 1  # the new client never reached upstream
            assert proxy.stats.forwarded_down == len(b"oldstill")  # all of it to the old one
            assert not new[1].is_closing()


async def test_flap_alternates_pass_and_reset_on_a_manual_clock(proxy: FaultProxy) -> None:
    clock = ManualClock()
    proxy.flap(1.0, clock=clock)
    async with connect(proxy) as stream:
        assert await roundtrip(stream, b"up") == b"up"
        clock.advance(1.0)
        await proxy.wait_for(lambda s: s.flips == 1)
        await assert_reset(stream[0])
    async with connect(proxy) as stream:
        await assert_reset(stream[0])
    clock.advance(1.0)
    await proxy.wait_for(lambda s: s.flips == 2)
    async with connect(proxy) as stream:
        assert await roundtrip(stream, b"up again") == b"up again"
    assert (proxy.stats.reset, proxy.stats.refused) == (1, 1)


async def test_flap_can_stall_instead(proxy: FaultProxy, echo: EchoServer) -> None:
    clock = ManualClock()
    proxy.flap(1.0, down_s=0.5, fault="stall", clock=clock)
    async with connect(proxy) as stream:
        clock.advance(1.0)
        await proxy.wait_for(lambda s: s.flips == 1)
        stream[1].write(b"held")
        await proxy.wait_bytes_up(4)
        await assert_silent(stream[0])
        assert echo.received == 0
        clock.advance(0.5)
        assert await read(stream[0], 4) == b"held"


async def test_flap_runs_on_real_time_by_default(proxy: FaultProxy) -> None:
    proxy.flap(0.02)
    await proxy.wait_for(lambda s: s.flips >= 3, timeout=2)
    proxy.pass_through()
    async with connect(proxy) as stream:
        assert await roundtrip(stream, b"calm") == b"calm"


async def test_closing_the_proxy_closes_client_and_upstream_sockets(echo: EchoServer) -> None:
    proxy = FaultProxy("127.0.0.1", echo.port)
    await proxy.start()
    async with connect(proxy) as stream:
        assert await roundtrip(stream, b"x") == b"x"
        await proxy.close()
        async with asyncio.timeout(2):
            assert await stream[0].read(100) == b""
        await proxy.close()
    assert proxy.stats.open == 0
    with pytest.raises(ConnectionRefusedError):
        await asyncio.open_connection(proxy.host, proxy.port)
    async with asyncio.timeout(2):  # the echo server sees the end of the upstream side
        await echo.idle.wait()
