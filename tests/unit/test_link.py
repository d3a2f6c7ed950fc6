"""The agent's MQTT link: the reconnect backoff grows while connections die young."""

from __future__ import annotations

import asyncio
from typing import Any

import aiomqtt
import pytest

from edge.config import MqttConfig
from edge.link import Endpoint, Link


class ShortLived:
    """A client that connects, then loses its connection at once."""

    async def __aenter__(self) -> ShortLived:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None


async def test_a_broker_that_accepts_and_drops_at_once_is_retried_with_a_growing_delay(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def nothing(_: Any) -> None:
        return None

    link = Link(
        Endpoint("127.0.0.1", 1, "edge-x"),
        MqttConfig(reconnect_min_s=0.5, reconnect_max_s=30),
        will=lambda _conn: aiomqtt.Will("t", b"x"),
        subscriptions=[],
        on_connect=nothing,
        on_message=nothing,
    )
    attempts: list[int] = []
    lives = iter([0.0, 0.0, 0.0, 20.0, 0.0, 0.0])  # how long each connection lasts

    async def serve(_client: Any) -> None:
        life = next(lives)
        link_time.now += life
        raise aiomqtt.MqttError("disconnected")

    class LinkTime:
        now = 0.0

    link_time = LinkTime()
    loop = asyncio.get_running_loop()
    monkeypatch.setattr(loop, "time", lambda: link_time.now)
    monkeypatch.setattr(link, "_make_client", ShortLived)
    monkeypatch.setattr(link, "_serve", serve)

    def backoff(attempt: int) -> float:
        attempts.append(attempt)
        if len(attempts) == 6:
            raise asyncio.CancelledError
        return 0.0

    monkeypatch.setattr(link, "backoff", backoff)
    with pytest.raises(asyncio.CancelledError):
        await link.run()
    # young deaths: 0, 1, 2; a connection of 20 s resets it; then 0, 1 again
    assert attempts == [0, 1, 2, 0, 1, 2]
