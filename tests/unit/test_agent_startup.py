"""An agent whose device cannot open starts anyway: that device is unavailable, with an alert."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from gpiozero import DigitalOutputDevice
from gpiozero.pins.mock import MockFactory, MockPWMPin

from devices.base import UnavailableDevice
from edge.agent import Agent
from edge.config import load_room_config
from edge.dispatch import run_command
from edge.settings import EdgeSettings
from protocol import Command, Event, decode, utcnow

SAMPLE = Path(__file__).parents[2] / "firmware_configs" / "rooms" / "sim-room.yaml"


async def test_a_device_that_cannot_open_is_unavailable_and_the_room_goes_on(
    tmp_path: Path,
) -> None:
    factory = MockFactory(pin_class=MockPWMPin)
    squatter = DigitalOutputDevice(23, pin_factory=factory)  # the middle zone's pin, taken
    agent = Agent(load_room_config(SAMPLE), EdgeSettings(data_dir=tmp_path), pin_factory=factory)
    try:
        lights = agent.devices["lights"]
        assert isinstance(lights, UnavailableDevice)
        assert lights.family == "lighting"
        assert (await lights.state())["available"] is False
        await agent.storage.flush()
        [stored] = agent.outbox.peek(10)
        event = decode(Event, stored.payload)
        assert (event.kind, event.device, event.severity) == (
            "device_unavailable",
            "lights",
            "critical",
        )
        assert "23" in event.text

        def command(device: str, action: str) -> Command:
            return Command(
                sender="hub/test", id=f"c-{device}", device=device, action=action,
                issuer="test", expires=utcnow() + timedelta(seconds=5),
            )  # fmt: skip

        reply = await run_command(agent.devices, command("lights", "on"), sender=agent.sender)
        assert reply.code == "device_unavailable"
        assert "unavailable" in reply.text
        reply = await run_command(agent.devices, command("presence", "set_occupied"), sender="x")
        assert reply.code in ("ok", "bad_params")  # the other devices are there
        assert "env" in {t.device for t in await agent.sample()}
    finally:
        agent.close()
        squatter.close()


async def test_a_clock_far_from_the_hubs_raises_an_alert_and_its_end_another(
    tmp_path: Path,
) -> None:
    agent = Agent(
        load_room_config(SAMPLE),
        EdgeSettings(data_dir=tmp_path),
        pin_factory=MockFactory(pin_class=MockPWMPin),
    )
    try:
        now = utcnow()
        for _ in range(5):  # the hub's clock is two minutes ahead of ours
            agent.clock_offset.add(now + timedelta(seconds=120), now)
        agent._check_clock()
        agent._check_clock()  # raised once, not at every check
        assert (await agent.health()).clock_offset_s == pytest.approx(120)
        for _ in range(15):
            agent.clock_offset.add(now, now)
        agent._check_clock()
        await agent.storage.flush()
        events = [decode(Event, row.payload) for row in agent.outbox.peek(100)]
        kinds = [(e.kind, e.severity) for e in events if e.kind.startswith("clock")]
        assert kinds == [("clock_skew", "warning"), ("clock_ok", "info")]
        assert events[0].data["offset_s"] == pytest.approx(120)
    finally:
        agent.close()
