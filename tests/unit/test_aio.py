"""A wait with a time limit never loses a cancellation, even one that meets the answer.

On Python 3.11 ``asyncio.wait_for`` returns the result of a future completed in the same
loop turn as the cancel, and the cancelled part runs on: that left an agent's health loop
running after its room was stopped, and the stop hanging.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiomqtt
import paho.mqtt.client as paho
import pytest

from protocol.aio import wait_within
from protocol.client import AckedClient


async def cancelled_as_it_completes(
    start: Any, complete: Any, *, started: asyncio.Event
) -> asyncio.Task[Any]:
    """Start ``start()`` in a task; once it is waiting (``started``), complete and cancel it."""
    task = asyncio.create_task(start())
    await wait_within(started.wait(), 5)
    complete()  # the answer and the stop arrive in the same loop turn
    task.cancel()
    return task


async def test_a_cancel_that_meets_the_result_still_cancels() -> None:
    fut: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    waiting = asyncio.Event()

    async def wait() -> int:
        waiting.set()
        return await wait_within(fut, 10)

    task = await cancelled_as_it_completes(wait, lambda: fut.set_result(1), started=waiting)
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_the_time_limit_raises_timeout_and_none_waits_without_one() -> None:
    never: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    with pytest.raises(TimeoutError):
        await wait_within(never, 0.01)
    assert never.cancelled(), "what was waited for is cancelled when the time is up"
    assert await wait_within(asyncio.sleep(0, "done"), None) == "done"


@pytest.fixture
async def client() -> AckedClient:
    return AckedClient("127.0.0.1", 1)  # never connected: only its waiting is used


async def test_aiomqtt_waits_keep_a_cancel_that_meets_the_broker_answer(
    client: AckedClient,
) -> None:
    answer = asyncio.Event()  # e.g. the SUBACK of a subscribe made while the room stops
    waiting = asyncio.Event()

    async def wait() -> None:
        waiting.set()
        await client._wait_for(answer.wait(), 10)

    task = await cancelled_as_it_completes(wait, answer.set, started=waiting)
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_aiomqtt_waits_time_out_as_an_mqtt_error(client: AckedClient) -> None:
    with pytest.raises(aiomqtt.MqttError, match="timed out"):
        await client._wait_for(asyncio.Event().wait(), 0.01)


async def test_publish_acked_keeps_a_cancel_that_meets_the_puback(
    client: AckedClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    info = paho.MQTTMessageInfo(7)
    info.rc = paho.MQTT_ERR_SUCCESS
    published = asyncio.Event()

    def publish(*_args: Any) -> paho.MQTTMessageInfo:
        published.set()  # the wait for the PUBACK follows in the same step
        return info

    monkeypatch.setattr(client._client, "publish", publish)
    task = await cancelled_as_it_completes(
        lambda: client.publish_acked("t", b"x", 1, timeout=10),
        lambda: client._acks[7].set_result(None),
        started=published,
    )
    with pytest.raises(asyncio.CancelledError):
        await task
