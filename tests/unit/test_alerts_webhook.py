"""The webhook against a real HTTP server on loopback: posted in order, a failing endpoint
retried with a backoff until it takes it, a hanging one cut off by the timeout, a refusal not
retried, and a full queue dropping (counted) instead of waiting."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator

from hub.alerts.webhook import Webhook, verify_signature
from protocol.aio import wait_within
from smartclass.broker import free_port
from tests.http_endpoint import HANG, Endpoint


@contextlib.asynccontextmanager
async def sending(hook: Webhook) -> AsyncIterator[Webhook]:
    task = asyncio.create_task(hook.run())
    try:
        yield hook
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def body(n: int) -> bytes:
    return json.dumps({"event": "alert.raised", "n": n}).encode()


async def test_each_notification_is_posted_as_json_in_order() -> None:
    with Endpoint() as endpoint:
        hook = Webhook(endpoint.url, timeout_s=5)
        async with sending(hook):
            assert hook.submit(body(1))
            assert hook.submit(body(2))
            await wait_within(hook.idle(), 10)
        assert [b["n"] for b in endpoint.bodies()] == [1, 2]
        assert {r.content_type for r in endpoint.requests} == {"application/json"}
        assert {r.path for r in endpoint.requests} == {"/hooks/alerts"}
        assert (hook.stats.sent, hook.stats.failed, hook.stats.retries) == (2, 0, 0)


async def test_an_endpoint_that_fails_then_succeeds_gets_it_after_a_backoff() -> None:
    with Endpoint([500, 503, 429]) as endpoint:
        hook = Webhook(endpoint.url, retries=3, backoff_s=0.05)
        started = time.monotonic()
        async with sending(hook):
            hook.submit(body(1))
            await wait_within(hook.idle(), 10)
        waited = time.monotonic() - started
        assert endpoint.answered == [500, 503, 429, 200]
        assert [b["n"] for b in endpoint.bodies()] == [1, 1, 1, 1]
        assert (hook.stats.sent, hook.stats.failed, hook.stats.retries) == (1, 0, 3)
        assert waited >= 0.05 + 0.1 + 0.2  # the delay doubled each time
        assert hook.stats.last_error == "HTTP 429"
        assert hook.stats.last_failed_at is None


async def test_after_its_retries_it_gives_up_counts_and_goes_on() -> None:
    with Endpoint([500, 500, 500]) as endpoint:
        hook = Webhook(endpoint.url, retries=2, backoff_s=0.01)
        async with sending(hook):
            hook.submit(body(1))
            hook.submit(body(2))
            await wait_within(hook.idle(), 10)
        assert [b["n"] for b in endpoint.bodies()] == [1, 1, 1, 2]
        assert (hook.stats.sent, hook.stats.failed, hook.stats.retries) == (1, 1, 2)
        assert hook.stats.last_failed_at is not None


async def test_a_hanging_endpoint_is_cut_off_by_the_timeout() -> None:
    with Endpoint([HANG, HANG, HANG]) as endpoint:
        hook = Webhook(endpoint.url, timeout_s=0.3, retries=1, backoff_s=0.01)
        started = time.monotonic()
        async with sending(hook):
            hook.submit(body(1))  # hangs twice: given up
            hook.submit(body(2))  # hangs once, then taken
            await wait_within(hook.idle(), 10)
        waited = time.monotonic() - started
        assert [b["n"] for b in endpoint.bodies()] == [1, 1, 2, 2]
        assert (hook.stats.sent, hook.stats.failed, hook.stats.retries) == (1, 1, 2)
        assert hook.stats.last_error == "no answer within 0.3 s"
        assert 3 * 0.3 <= waited < 3 * 0.3 + 3  # bounded by the timeout, not by the endpoint


async def test_a_refusal_is_not_retried() -> None:
    with Endpoint([400]) as endpoint:
        hook = Webhook(endpoint.url, retries=3, backoff_s=0.01)
        async with sending(hook):
            hook.submit(body(1))
            await wait_within(hook.idle(), 10)
        assert endpoint.answered == [400]
        assert (hook.stats.sent, hook.stats.failed, hook.stats.retries) == (0, 1, 0)
        assert hook.stats.last_error == "HTTP 400"


async def test_nothing_listening_is_retried_then_given_up() -> None:
    hook = Webhook(f"http://127.0.0.1:{free_port()}/x", retries=2, backoff_s=0.01)
    async with sending(hook):
        hook.submit(body(1))
        await wait_within(hook.idle(), 10)
    assert (hook.stats.sent, hook.stats.failed, hook.stats.retries) == (0, 1, 2)
    assert hook.stats.last_error is not None
    assert hook.stats.last_error.startswith("ConnectError")


def test_a_full_queue_drops_and_counts_without_waiting() -> None:
    hook = Webhook("http://127.0.0.1:9/x", queue_max=2)
    assert [hook.submit(body(n)) for n in range(3)] == [True, True, False]
    assert (hook.queued, hook.stats.dropped) == (2, 1)
    assert hook.stats.last_dropped_at is not None


async def test_a_signed_notification_can_be_checked_and_not_replayed_later() -> None:
    with Endpoint() as endpoint:
        hook = Webhook(endpoint.url, secret="s3cret-of-the-school", clock=lambda: 1_800_000_000)
        async with sending(hook):
            hook.submit(body(1))
            await wait_within(hook.idle(), 10)
    [request] = endpoint.requests
    assert request.headers["x-smartclass-timestamp"] == "1800000000"
    assert request.headers["x-smartclass-signature"].startswith("sha256=")
    secret = "s3cret-of-the-school"
    assert verify_signature(secret, request.body, request.headers, now=1_800_000_060)
    assert not verify_signature(secret, request.body + b" ", request.headers, now=1_800_000_060)
    assert not verify_signature("other-secret", request.body, request.headers, now=1_800_000_060)
    assert not verify_signature(secret, request.body, request.headers, now=1_800_000_000 + 301)
    forged = {**request.headers, "x-smartclass-timestamp": "1800000300"}
    assert not verify_signature(secret, request.body, forged, now=1_800_000_300)


async def test_without_a_secret_nothing_is_signed() -> None:
    with Endpoint() as endpoint:
        hook = Webhook(endpoint.url)
        async with sending(hook):
            hook.submit(body(1))
            await wait_within(hook.idle(), 10)
    assert "x-smartclass-signature" not in endpoint.requests[0].headers
