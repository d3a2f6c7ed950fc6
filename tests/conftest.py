"""Fixtures shared by every test: a real Mosquitto broker, per-test topic roots, PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from smartclass.broker import Mosquitto
from tests.postgres import (  # noqa: F401 (fixtures)
    database_url,
    module_database_url,
    postgres,
    postgres_url,
)

BROWSER_TESTS = Path(__file__).parent / "browser"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The browser tests last: Playwright's sync API keeps an event loop running in the tests'
    thread from its first use to the end of the session, and no asyncio test runs after it."""
    items.sort(key=lambda item: item.path.is_relative_to(BROWSER_TESTS))


@pytest.fixture(scope="session")
def mosquitto() -> Iterator[Mosquitto]:
    """One real Mosquitto for the session, on a free loopback port, secured as in production:
    no anonymous client, one credential per agent, hub and test client, per-room ACLs."""
    with Mosquitto(auth=[]) as broker:
        yield broker


@pytest.fixture
def broker(mosquitto: Mosquitto) -> Mosquitto:
    """The session broker, started again if a test stopped it."""
    mosquitto.start()
    return mosquitto


@pytest.fixture
def own_broker() -> Iterator[Mosquitto]:
    """A secured broker of the test's own, for tests that stop, kill or restart it."""
    with Mosquitto(auth=[]) as b:
        yield b


@pytest.fixture
def topic_root() -> str:
    """A topic root unique to the test, so tests sharing a broker never see each other."""
    return f"t{uuid.uuid4().hex[:10]}"
