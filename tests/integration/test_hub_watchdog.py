"""A real ``smartclass hub`` process under a systemd stand-in: READY once it serves, WATCHDOG
while its ingest runs and its database takes the writes, none while the database refuses
them, and on with the broker away."""

from __future__ import annotations

import signal
import sqlite3
from pathlib import Path

import pytest

from smartclass.broker import Mosquitto
from tests.integration.notify import PING_S, QUIET_S, NotifySocket
from tests.integration.system import HubProcess, make_agent, running

pytestmark = pytest.mark.integration

START_S = 30.0


def hub_process(broker: Mosquitto, root: str, work: Path, notify: NotifySocket) -> HubProcess:
    hub = HubProcess(broker, root, work, hub_id=f"hub-{root}", env=notify.env())
    hub.start()
    return hub


async def test_ready_once_the_hub_serves_then_pings_then_stopping(
    broker: Mosquitto, topic_root: str, tmp_path: Path, notify: NotifySocket
) -> None:
    hub = hub_process(broker, topic_root, tmp_path / "hub", notify)
    try:
        ready = await notify.until("READY", START_S)
        assert ready["STATUS"].startswith("serving")
        mean = await notify.pings(6, 5 * PING_S)
        assert 0.5 * PING_S < mean < 2 * PING_S, mean
        await notify.status("serving, connected to the broker", 10)
        assert hub.proc is not None
        hub.proc.send_signal(signal.SIGTERM)
        await notify.until("STOPPING", 10)
    finally:
        hub.close()


async def test_no_pings_while_the_database_refuses_writes_and_pings_after(
    broker: Mosquitto, topic_root: str, tmp_path: Path, notify: NotifySocket
) -> None:
    hub = hub_process(broker, topic_root, tmp_path / "hub", notify)
    agent, _ = make_agent(broker, topic_root, tmp_path / "edge", interval=0.2)
    try:
        await notify.until("READY", START_S)
        async with running(agent):
            await notify.pings(3, 5 * PING_S)
            # Another program holds the write lock of the hub's SQLite file (longer than the
            # hub's busy timeout): every batch the agent's telemetry makes fails, and is retried
            lock = sqlite3.connect(hub.db, isolation_level=None)
            try:
                lock.execute("BEGIN EXCLUSIVE")
                statuses = await notify.quiet(QUIET_S, 60)
                assert any("database writes failing" in s for s in statuses), statuses
            finally:
                lock.close()
            await notify.pings(3, 30)
            await notify.status("serving, connected to the broker", 10)
    finally:
        hub.close()


async def test_pings_go_on_while_the_broker_is_away(
    own_broker: Mosquitto, topic_root: str, tmp_path: Path, notify: NotifySocket
) -> None:
    hub = hub_process(own_broker, topic_root, tmp_path / "hub", notify)
    try:
        await notify.until("READY", START_S)
        await notify.status("serving, connected to the broker", 30)
        own_broker.stop()
        await notify.status("serving, not connected to the broker", 30)
        mean = await notify.pings(6, 5 * PING_S)
        assert mean < 2 * PING_S
    finally:
        hub.close()
