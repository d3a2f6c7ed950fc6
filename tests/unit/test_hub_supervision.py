"""The ingest's supervisor, the throttled acknowledgements, the pruning of dead letters,
the hub's id and its health."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest

from hub.acks import AckPublisher
from hub.health import problems
from hub.ingest import Ingest
from hub.pruning import Pruner
from hub.settings import HubSettings, default_hub_id
from hub.store import Store
from hub.supervisor import Supervisor
from protocol import StoredAck, decode, utcnow, validate_id
from tests.unit.hub_helpers import AGENT, SITE, item, make_store


async def until(check: Callable[[], bool], within_s: float = 5.0) -> None:
    deadline = time.monotonic() + within_s
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.002)


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    store = make_store(database_url)
    yield store
    store.engine.dispose()


async def test_the_supervisor_restarts_a_task_that_failed_with_a_capped_backoff() -> None:
    runs = 0
    forever = asyncio.Event()

    async def target() -> None:
        nonlocal runs
        runs += 1
        if runs <= 3:
            raise OverflowError("a bug nobody foresaw")
        await forever.wait()

    supervisor = Supervisor("test", target, min_s=0.001, max_s=0.004)
    task = asyncio.create_task(supervisor.run())
    try:
        await until(lambda: supervisor.running and runs == 4)
        assert supervisor.restarts == 3
        assert supervisor.last_error == "OverflowError: a bug nobody foresaw"
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert not supervisor.running


def test_health_names_each_problem(store: Store) -> None:
    ingest = Ingest(HubSettings(hub_id="hub-test"), store)
    supervisor = Supervisor("ingest", ingest.run)
    assert problems(None, None) == []  # without MQTT nothing is expected of the ingest
    found = problems(ingest, supervisor)
    assert found == ["ingest not running", "MQTT not connected"]
    supervisor.running, ingest._ready = True, True
    assert problems(ingest, supervisor) == []
    supervisor.restarts, supervisor.last_error = 2, "KeyError: 'x'"
    supervisor.last_restart_at = time.monotonic() - 5
    ingest.stats.db_failing, ingest.stats.last_write_error = True, "database is locked"
    found = problems(ingest, supervisor, database_error="connection refused")
    assert found == [
        "database unreachable: connection refused",
        "database errors: writes failing, retried (database is locked)",
        "ingest restarted 2 times, the last 5 s ago (KeyError: 'x')",
    ]
    later = time.monotonic() + 3600
    ingest.stats.db_failing = False
    assert problems(ingest, supervisor, now=later) == []  # old news


async def test_acks_are_throttled_per_agent_and_the_last_always_goes_out() -> None:
    sent: list[tuple[str, float, StoredAck]] = []

    async def send(topic: str, payload: bytes) -> None:
        sent.append((topic, time.monotonic(), decode(StoredAck, payload)))

    acks = AckPublisher("sc", "hub-test", send, interval_s=0.05)
    task = asyncio.create_task(acks.run())
    try:
        for n in range(1, 21):
            acks.submit({AGENT: {"b1": [(1, n)]}, f"{SITE}/6a2": {"b9": [(1, 1)]}})
            await asyncio.sleep(0)
        await until(lambda: any(a.boots.get("b1") == [(1, 20)] for _, _, a in sent))
        mine = [(t, a) for topic, t, a in sent if topic == f"sc/{AGENT}/ack"]
        assert len(mine) == 2  # the first at once, the newest one interval later
        assert mine[1][0] - mine[0][0] >= 0.045
        assert mine[0][1].sender == "hub/hub-test"
        assert len([s for s in sent if s[0] == f"sc/{SITE}/6a2/ack"]) == 2
    finally:
        task.cancel()


async def test_an_ack_that_could_not_be_sent_goes_again_after_a_reconnect() -> None:
    link_up = False
    sent: list[str] = []

    async def send(topic: str, payload: bytes) -> None:
        if not link_up:
            raise ConnectionError("not connected")
        sent.append(topic)

    acks = AckPublisher("sc", "hub-test", send, interval_s=0)
    task = asyncio.create_task(acks.run())
    try:
        acks.submit({AGENT: {"b1": [(1, 3)]}})
        await until(lambda: acks.stats.acks_failed == 1)
        link_up = True
        acks.reconnected()
        await until(lambda: sent == [f"sc/{AGENT}/ack"])
    finally:
        task.cancel()


async def test_dead_letters_are_pruned_by_count_and_age(store: Store) -> None:
    now = utcnow()
    old = [item("sc/x/y/telemetry", b"{}", now=now - timedelta(days=9)) for _ in range(3)]
    new = [item("sc/x/y/telemetry", b"{}", now=now) for _ in range(5)]
    store.write_batch([*old, *new])
    pruner = Pruner(store, keep=4, max_age=timedelta(days=7), interval_s=3600)
    assert await pruner.prune() == 4
    assert len(store.dead_letters()) == 4


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("vm", "hub-vm"),
        ("School-Server.lan", "hub-school-server-lan"),
        ("--", "hub-1"),
        ("x" * 100, "hub-" + "x" * 59),
        ("ưu tiên", "hub-u-ti-n"),
    ],
)
def test_the_default_hub_id_is_the_host_made_an_id(host: str, expected: str) -> None:
    assert default_hub_id(host) == expected
    assert validate_id(default_hub_id(host))


def test_settings_refuse_a_hub_id_that_is_not_an_id() -> None:
    with pytest.raises(ValueError, match="invalid hub id"):
        HubSettings(hub_id="Hub 1")
    assert HubSettings().hub_id == default_hub_id()
