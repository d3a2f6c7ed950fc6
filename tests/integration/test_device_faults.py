"""A device that fails in a way its driver never foresaw costs only that device: in a running
agent on the secured broker, the others' telemetry goes on every interval, the fault is
logged and reported once, the device is shown unavailable, and its recovery is reported."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from pathlib import Path
from typing import Any

import aiomqtt
import pytest

from protocol import DeviceState, Event, Telemetry, decode
from smartclass.broker import Mosquitto
from tests.integration.system import make_agent, mqtt_client, running

pytestmark = pytest.mark.integration

INTERVAL_S = 0.1
BROKEN = ("env", "noise")


class Breakable:
    """A sensor double: the real device, whose reads raise ``error`` while it is set."""

    def __init__(self, sensor: Any) -> None:
        self.error: Exception | None = None
        self._read = sensor.read
        sensor.read = self.read

    async def read(self) -> dict[str, float]:
        if self.error is not None:
            raise self.error
        result: dict[str, float] = await self._read()
        return result


class Watch:
    """What the room publishes: telemetry, events and device states, in arrival order."""

    def __init__(self) -> None:
        self.telemetry: list[Telemetry] = []
        self.events: list[Event] = []
        self.states: dict[str, list[DeviceState]] = {}

    def take(self, message: aiomqtt.Message) -> None:
        assert isinstance(message.payload, bytes)
        topic = message.topic.value
        if topic.endswith("/telemetry"):
            self.telemetry.append(decode(Telemetry, message.payload))
        elif topic.endswith("/event"):
            self.events.append(decode(Event, message.payload))
        elif "/state/" in topic:
            state = decode(DeviceState, message.payload)
            self.states.setdefault(state.device, []).append(state)

    def events_of(self, kind: str, device: str) -> list[Event]:
        return [e for e in self.events if e.kind == kind and e.device == device]

    def after(self, seq: int) -> Counter[str]:
        """Telemetry messages by device with a seq above ``seq``."""
        return Counter(t.device for t in self.telemetry if t.seq > seq)


async def _until(client: aiomqtt.Client, watch: Watch, done: Any, timeout: float = 15) -> None:
    if done():
        return
    async with asyncio.timeout(timeout):
        async for message in client.messages:
            watch.take(message)
            if done():
                return


@pytest.mark.parametrize(
    "error",
    [RuntimeError("driver bug"), OSError(5, "Input/output error")],
    ids=["RuntimeError", "OSError"],
)
async def test_one_sensor_failing_unexpectedly_costs_only_that_sensor(
    broker: Mosquitto,
    topic_root: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    error: Exception,
) -> None:
    agent, _ = make_agent(broker, topic_root, tmp_path, interval=INTERVAL_S)
    broken = {device: Breakable(agent.devices[device]) for device in BROKEN}
    others = {"projector", "presence", "lights"}
    watch = Watch()
    t = agent.topics
    async with mqtt_client(broker, topic_root, "watch") as client:
        for topic in (t.telemetry, t.event, f"{t.base}/state/+"):
            await client.subscribe(topic, qos=1)
        async with running(agent):
            await _until(client, watch, lambda: watch.after(0)["env"] >= 2)
            for double in broken.values():
                double.error = error
            caplog.clear()

            def reported() -> bool:
                return all(watch.events_of("device_unavailable", d) for d in BROKEN)

            await _until(client, watch, reported)
            fault_seq = max(watch.events_of("device_unavailable", d)[0].seq for d in BROKEN)

            def samples_went_on() -> bool:
                after = watch.after(fault_seq)
                return all(after[d] >= 10 for d in others)

            await _until(client, watch, samples_went_on)
            after = watch.after(fault_seq)
            assert not any(after[d] for d in BROKEN), "a failing sensor's reading was sent"
            for device in others:  # every interval: no sample was lost to the fault
                mine = [x for x in watch.telemetry if x.device == device]
                gaps = [x.interval_s for x in mine if x.seq > fault_seq]
                assert max(gaps) < 5 * INTERVAL_S, (device, gaps)
            for device in BROKEN:
                [event] = watch.events_of("device_unavailable", device)  # once, not per sample
                assert event.severity == "warning"
                assert type(error).__name__ in event.text
                assert event.data["available"] is False
                assert agent.faults.errors[device] >= 10, "it failed at every sample"
                assert watch.states[device][-1].available is False
                assert type(error).__name__ in watch.states[device][-1].state["reason"]
            logged = [
                r for r in caplog.records if r.levelno >= logging.ERROR and r.exc_info is not None
            ]
            assert sorted(r.getMessage().split()[1] for r in logged) == sorted(BROKEN), [
                r.getMessage() for r in logged
            ]  # once per device and fault, with the traceback
            assert all(r.getMessage().startswith(agent.label) for r in logged)

            for double in broken.values():
                double.error = None

            def recovered() -> bool:
                return all(
                    watch.events_of("device_available", d)
                    and watch.states[d][-1].available
                    and watch.after(watch.events_of("device_available", d)[0].seq)[d] >= 2
                    for d in BROKEN
                )

            await _until(client, watch, recovered)
            for device in BROKEN:
                assert len(watch.events_of("device_unavailable", device)) == 1
                assert len(watch.events_of("device_available", device)) == 1
                assert "reason" not in watch.states[device][-1].state


async def test_a_device_whose_state_cannot_be_read_costs_only_that_device(
    broker: Mosquitto, topic_root: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    agent, pins = make_agent(broker, topic_root, tmp_path, interval=INTERVAL_S)
    presence = agent.devices["presence"]
    real_state = presence.state
    failing: list[Exception] = [RuntimeError("state bug")]

    async def state() -> dict[str, Any]:
        if failing:
            raise failing[0]
        return await real_state()

    presence.state = state  # type: ignore[method-assign]
    watch = Watch()
    t = agent.topics
    async with mqtt_client(broker, topic_root, "watch") as client:
        for topic in (t.event, f"{t.base}/state/+"):
            await client.subscribe(topic, qos=1)
        # the connect publishes every device's state: one that raises must not stop it
        async with running(agent):
            await _until(
                client,
                watch,
                lambda: {"presence", "lights", "projector", "env"} <= set(watch.states),
            )
            assert watch.states["presence"][-1].available is False
            assert "state bug" in watch.states["presence"][-1].state["reason"]
            assert watch.states["lights"][-1].available is True
            await agent.inbox.hooks.republish()  # states published again: reported once still
            reply = await _command(agent, "lights", "on")
            assert reply.ok, reply
            assert pins.pin(23).state == 1
            failing.clear()
            await agent.inbox.hooks.republish()
            await _until(
                client,
                watch,
                lambda: (
                    bool(watch.events_of("device_available", "presence"))
                    and watch.states["presence"][-1].available
                ),
            )
            assert len(watch.events_of("device_unavailable", "presence")) == 1
            assert "reason" not in watch.states["presence"][-1].state
    logged = [r for r in caplog.records if r.levelno >= logging.ERROR and r.exc_info is not None]
    assert [r.getMessage().split()[1] for r in logged] == ["presence"]


async def _command(agent: Any, device: str, action: str) -> Any:
    from datetime import timedelta

    from edge.dispatch import run_command
    from protocol import Command, utcnow

    command = Command(
        sender="hub/test", id=f"c-{device}", device=device, action=action, issuer="test",
        expires=utcnow() + timedelta(seconds=5),
    )  # fmt: skip
    return await run_command(agent.devices, command, sender=agent.sender)
