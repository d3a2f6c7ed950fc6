"""``smartclass bench latency``: request/reply through Mosquitto, with and without TCP_NODELAY."""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import aiomqtt

from protocol.aio import wait_within
from protocol.client import SOCKET_OPTIONS
from smartclass.broker import Mosquitto


async def _round_trips(broker: Mosquitto, rounds: int, *, nodelay: bool) -> list[float]:
    """Milliseconds per request/reply between two clients through the broker."""
    options = SOCKET_OPTIONS if nodelay else ()
    times: list[float] = []
    replies: asyncio.Queue[bytes] = asyncio.Queue()
    async with (
        aiomqtt.Client(broker.host, broker.port, socket_options=options) as requester,
        aiomqtt.Client(broker.host, broker.port, socket_options=options) as responder,
    ):
        await responder.subscribe("bench/req", qos=1)
        await requester.subscribe("bench/rep", qos=1)

        async def respond() -> None:
            async for message in responder.messages:
                await responder.publish("bench/rep", message.payload, qos=1)

        async def collect() -> None:
            async for message in requester.messages:
                replies.put_nowait(bytes(message.payload))

        tasks = [asyncio.create_task(respond()), asyncio.create_task(collect())]
        for i in range(rounds):
            start = time.perf_counter()
            await requester.publish("bench/req", str(i).encode(), qos=1)
            await wait_within(replies.get(), 10)
            times.append((time.perf_counter() - start) * 1000)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return times


def _summary(times: list[float]) -> str:
    q = statistics.quantiles(times, n=100)
    return f"median {statistics.median(times):7.2f} ms, p99 {q[98]:7.2f} ms"


def run_latency_bench(rounds: int) -> int:
    """Print both medians and their ratio: the baseline is the default socket settings."""
    print(
        f"bench latency: {rounds} QoS 1 request/reply rounds through Mosquitto on loopback",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="smartclass-bench-") as tmp:
        with Mosquitto(data_dir=Path(tmp) / "fast") as fast:
            ours = asyncio.run(_round_trips(fast, rounds, nodelay=True))
        with Mosquitto(data_dir=Path(tmp) / "slow", tcp_nodelay=False) as slow:
            baseline = asyncio.run(_round_trips(slow, rounds, nodelay=False))
    print(f"  default sockets (baseline):   {_summary(baseline)}")
    print(f"  TCP_NODELAY (smartclass):     {_summary(ours)}")
    ratio = statistics.median(baseline) / statistics.median(ours)
    print(f"  speed-up of the median:       {ratio:.0f}x")
    return 0


__all__ = ["run_latency_bench"]
