"""The alert service of a hub: fed by ingest batches without ever making them wait, judging
off the event loop, sending each transition to a real webhook endpoint by severity, retrying
after a database failure, and saying so in its problems and warnings."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from hub.alerts.metrics import alert_source
from hub.alerts.service import AlertService
from hub.alerts.store import AlertQuery, AlertStore
from hub.alerts.views import AlertNotification
from hub.alerts.webhook import verify_signature
from hub.parsing import Parsed
from hub.settings import HubSettings
from hub.store import Store
from protocol.aio import wait_within
from tests.http_endpoint import Endpoint
from tests.integration.system import eventually
from tests.unit.hub_helpers import T0, event, make_store, status, telemetry


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    made = make_store(database_url)
    try:
        yield made
    finally:
        made.engine.dispose()


@contextlib.asynccontextmanager
async def running(service: AlertService) -> AsyncIterator[AlertService]:
    task = asyncio.create_task(service.run())
    try:
        yield service
    finally:
        service.stop()
        await wait_within(task, 10)
        await service.close()


def ingest(store: Store, service: AlertService, *items: Parsed, now: datetime) -> None:
    """What the ingest does with a batch: store it, then hand it to its observers."""
    store.write_batch(list(items), now=now)
    service.observe(list(items))


SECRET = "webhook-secret-of-the-tests"


def make_service(store: Store, clock: Clock, **settings: Any) -> AlertService:
    fields = {"database_url": "sqlite://", "alert_offline_grace_s": 60, **settings}
    if "webhook_url" in settings:
        fields["webhook_secret"] = SECRET
    return AlertService(AlertStore(store.engine), HubSettings(**fields), now=clock)


async def test_transitions_are_posted_by_severity(store: Store) -> None:
    clock = Clock()
    with Endpoint() as endpoint:
        service = make_service(
            store, clock, webhook_url=endpoint.url, webhook_severities="critical"
        )
        async with running(service):
            ingest(store, service, event(1, kind="help", text="mất điện"),
                   telemetry(2, co2_ppm=1500), now=clock.now)  # fmt: skip
            await wait_within(service.judged(), 10)
            [help_alert] = service.store.alerts(AlertQuery(kind="help"))
            assert service.store.alerts(AlertQuery(kind="co2_high")) != []
            await service.acknowledge(help_alert.id, "it-anh", "đang tới")
            ingest(store, service, status("offline"), now=clock.now)
            clock.now += timedelta(seconds=61)
            await wait_within(service.judged(), 10)  # time alone raises the offline agent
            assert service.webhook is not None
            await wait_within(service.webhook.idle(), 10)
        bodies = [AlertNotification.model_validate(b) for b in endpoint.bodies()]
    assert [(b.event, b.alert.kind, b.actor, b.comment) for b in bodies] == [
        ("alert.raised", "help", "", ""),
        ("alert.acknowledged", "help", "it-anh", "đang tới"),
        ("alert.raised", "agent_offline", "", ""),
    ]  # the CO2 alert is a warning: not sent
    assert bodies[0].alert.data["reason"] == "mất điện"
    assert bodies[1].alert.state == "acknowledged"
    assert {b.hub for b in bodies} == {service.settings.hub_id}
    for request in endpoint.requests:  # each signed with the hub's secret
        assert verify_signature(SECRET, request.body, request.headers)
        assert not verify_signature("another-secret-entirely", request.body, request.headers)


async def test_the_observer_only_notes_and_bounds_what_waits(store: Store) -> None:
    clock = Clock()
    service = make_service(store, clock, alert_events_max=2)
    batch = [event(seq, kind="help") for seq in (1, 2, 3)] + [telemetry(4)]
    store.write_batch(batch, now=clock.now)
    started = time.perf_counter()
    service.observe(batch)  # the service is not even running: nothing waits on it
    assert time.perf_counter() - started < 0.05
    assert service.stats.events_dropped == 1
    assert service.problems(time.monotonic()) == ["alerts: 1 help events dropped (queue full)"]
    async with running(service):
        await wait_within(service.judged(), 10)
        [alert] = service.store.alerts(AlertQuery(kind="help"))
    assert alert.repeats == 1  # the two events kept


async def test_a_failed_judgement_is_counted_reported_and_done_again(store: Store) -> None:
    clock = Clock()
    service = make_service(store, clock)
    async with running(service):
        await wait_within(service.judged(), 10)
        with store.engine.begin() as conn:
            conn.execute(text("ALTER TABLE alerts RENAME TO alerts_away"))
        ingest(store, service, event(1, kind="help"), now=clock.now)

        async def failed() -> bool:
            return service.stats.errors > 0

        await eventually(failed, 10, "a failed judgement")
        [problem] = service.problems(time.monotonic())
        assert problem.startswith("alerts: ")
        assert "judgements failed" in problem
        with store.engine.begin() as conn:
            conn.execute(text("ALTER TABLE alerts_away RENAME TO alerts"))
        await wait_within(service.judged(), 10)
        [alert] = service.store.alerts(AlertQuery(kind="help"))
    assert alert.state == "open"


async def test_a_webhook_giving_up_is_a_warning_not_a_problem(store: Store) -> None:
    clock = Clock()
    with Endpoint([400]) as endpoint:
        service = make_service(store, clock, webhook_url=endpoint.url)
        async with running(service):
            ingest(store, service, event(1, kind="help"), now=clock.now)
            await wait_within(service.judged(), 10)
            assert service.webhook is not None
            await wait_within(service.webhook.idle(), 10)
    now = time.monotonic()
    assert service.problems(now) == []
    [warning] = service.warnings(now)
    assert warning.startswith("alert webhook: 1 notifications given up")
    assert "HTTP 400" in warning
    families = {f.name: f for f in alert_source(service)()}
    outcomes = {
        s.labels["outcome"]: s.value
        for s in families["smartclass_hub_webhook_notifications"].samples
    }
    assert outcomes == {"sent": 0, "failed": 1, "dropped": 0}
