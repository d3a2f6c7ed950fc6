"""Publications outside the outbox survive a lost link: kept, the newest state wins, replies
in order, all sent first after the next connect."""

from __future__ import annotations

from typing import Any

import aiomqtt
import pytest

from edge.publisher import PENDING_MAX, Publisher


class Client:
    """An AckedClient double: records publishes, or fails them while ``down``."""

    def __init__(self, *, down: bool) -> None:
        self.down = down
        self.sent: list[tuple[str, bytes, bool]] = []

    async def publish_acked(self, topic: str, payload: bytes, qos: int, **kw: Any) -> None:
        if self.down:
            raise aiomqtt.MqttError("disconnected before acknowledgement")
        self.sent.append((topic, payload, kw["retain"]))


async def test_what_could_not_be_sent_goes_first_after_the_reconnect() -> None:
    link = Client(down=True)
    publisher = Publisher(lambda: link, label="room")  # type: ignore[arg-type, return-value]
    assert not await publisher.publish("sc/s/r/state/lights", b"on", retain=True)
    assert not await publisher.publish("sc/s/r/reply/hub-a", b"r1", retain=False, key="reply 1")
    assert not await publisher.publish("sc/s/r/state/lights", b"off", retain=True)  # newer
    assert not await publisher.publish("sc/s/r/reply/hub-a", b"r2", retain=False, key="reply 2")
    assert publisher.pending == 3
    link.down = False
    await publisher.flush(link)  # type: ignore[arg-type]
    assert link.sent == [
        ("sc/s/r/reply/hub-a", b"r1", False),
        ("sc/s/r/state/lights", b"off", True),  # only the newest state, never the stale one
        ("sc/s/r/reply/hub-a", b"r2", False),
    ]
    assert publisher.pending == 0


async def test_without_a_connection_it_keeps_and_never_raises() -> None:
    publisher = Publisher(lambda: None, label="room")
    assert not await publisher.publish("sc/s/r/status", b"online", retain=True)
    assert publisher.pending == 1


async def test_a_newer_publication_that_goes_out_drops_the_kept_one() -> None:
    link = Client(down=True)
    publisher = Publisher(lambda: link, label="room")  # type: ignore[arg-type, return-value]
    await publisher.publish("sc/s/r/health", b"old", retain=True)
    link.down = False
    assert await publisher.publish("sc/s/r/health", b"new", retain=True)
    assert publisher.pending == 0
    assert link.sent == [("sc/s/r/health", b"new", True)]


async def test_what_is_kept_is_bounded() -> None:
    publisher = Publisher(lambda: None, label="room")
    for i in range(PENDING_MAX + 5):
        await publisher.publish("sc/s/r/reply", str(i).encode(), retain=False, key=f"reply {i}")
    assert publisher.pending == PENDING_MAX
    assert publisher.dropped == 5


@pytest.mark.parametrize("failure", [aiomqtt.MqttError("lost")])
async def test_a_flush_that_fails_keeps_the_rest(failure: Exception) -> None:
    link = Client(down=True)
    publisher = Publisher(lambda: link, label="room")  # type: ignore[arg-type, return-value]
    await publisher.publish("a", b"1", retain=True)
    await publisher.publish("b", b"2", retain=True)
    with pytest.raises(aiomqtt.MqttError):
        await publisher.flush(link)  # type: ignore[arg-type]
    assert publisher.pending == 2
