"""Fixtures of the integration tests that need more than a broker."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from smartclass.broker import Mosquitto
from tests.integration.notify import NotifySocket
from tests.integration.system import HubProcess


@pytest.fixture
async def own_hub(
    own_broker: Mosquitto, topic_root: str, tmp_path: Path, database_url: str
) -> AsyncIterator[HubProcess]:
    """A hub process on the test's own broker, connected, stopped afterwards; the test runs
    on SQLite and on PostgreSQL."""
    process = HubProcess(
        own_broker, topic_root, tmp_path / "hub", hub_id=f"hub-{topic_root}",
        database_url=database_url,
    )  # fmt: skip
    process.start()
    try:
        await process.wait_connected()
        yield process
    finally:
        process.close()


@pytest.fixture
def notify() -> Iterator[NotifySocket]:
    """A notify socket standing in for systemd's (abstract, as systemd names its own)."""
    listener = NotifySocket()
    yield listener
    listener.close()
