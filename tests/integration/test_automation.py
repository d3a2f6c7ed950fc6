"""Local automation on a fake clock: a school day, days off, rules, and a day offline."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiomqtt
import pytest
from gpiozero.pins.mock import MockFactory, MockPWMPin

from devices.base import Action, Device
from devices.lighting.config import GpioLightingConfig
from devices.lighting.gpio import GpioLighting
from edge.automation import Automation
from edge.clock import FakeClock
from edge.config import load_room_config
from edge.rules import RulesConfig
from protocol.aio import wait_within
from protocol.messages import Event, Telemetry, decode
from smartclass.broker import Mosquitto
from tests.integration.system import (
    SIM_ROOM,
    eventually,
    make_agent,
    persistent_subscriber,
    running,
)

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
MONDAY = date(2025, 10, 6)
ROOM = load_room_config(SIM_ROOM)
OFF, LESSON, PROJECTION = (0.0, 0.0, 1.0), (1.0, 1.0, 0.0), (0.0, 1.0, 0.0)
"""Pins 18 (front dimmer), 23 (middle relay), 24 (back relay, active low) of the sample room."""


def local(day: date, hhmm: str) -> datetime:
    return datetime.combine(day, time.fromisoformat(hhmm), tzinfo=HCM)


def pins(factory: MockFactory) -> tuple[float, float, float]:
    return tuple(float(factory.pin(n).state) for n in (18, 23, 24))  # type: ignore[return-value]


class Events:
    """Collects what the automation records."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def emit_event(self, kind: str, **fields: Any) -> object:
        self.events.append({"kind": kind, **fields})
        return None

    def of(self, *kinds: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["kind"] in kinds]


class Stub(Device):
    """A device of any family whose state tests set; actions ``on``/``off`` set ``power``."""

    def __init__(self, device_id: str, family: str, state: dict[str, Any]) -> None:
        super().__init__(device_id)
        self.family = family  # type: ignore[misc]
        self.current = state
        self._actions: dict[str, Action] = {"on": self._power("on"), "off": self._power("off")}

    def _power(self, value: str) -> Action:
        async def act(_params: dict[str, Any]) -> dict[str, Any]:
            self.current = {**self.current, "power": value}
            return self.current

        return act

    @property
    def actions(self) -> Mapping[str, Action]:
        return self._actions

    async def state(self) -> dict[str, Any]:
        return self.current


class Room:
    """The sample room's lights on mock pins, a projector and a PIR double, fan on pin 25."""

    def __init__(self, start: datetime, rules: dict[str, Any] | None = None) -> None:
        self.factory = MockFactory(pin_class=MockPWMPin)
        lights = ROOM.devices["lights"]
        assert isinstance(lights, GpioLightingConfig)
        fan = GpioLightingConfig.model_validate(
            {"backend": "gpio", "zones": {"fan": {"kind": "relay", "pin": 25}}}
        )
        self.projector = Stub(
            "proj", "projector", {"power": "off", "lamp_hours": 10, "filter_hours": 1, "errors": {}}
        )
        self.pir = Stub("pir", "occupancy", {"occupied": True})
        self.devices: dict[str, Device] = {
            "lights": GpioLighting("lights", lights, pin_factory=self.factory),
            "fan": GpioLighting("fan", fan, pin_factory=self.factory),
            "proj": self.projector,
            "pir": self.pir,
        }
        self.clock = FakeClock(start)
        self.recorder = Events()
        timetable = ROOM.timetable.model_copy(update={"lights": ["lights"]})  # type: ignore[union-attr]
        self.automation = Automation(
            self.devices,
            self.recorder,
            sender="edge/test/6a1",
            timetable=timetable,
            rules=RulesConfig.model_validate(rules or {}),
            tz=HCM,
            clock=self.clock,
        )

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        task = asyncio.create_task(self.automation.run())
        try:
            await self.clock.wait_for_sleepers(1)
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            for device in self.devices.values():
                device.close()

    async def settle(self) -> None:
        """Wait until the automation has taken in what it was handed."""
        await wait_within(self.automation.idle.wait(), 5)

    def schedule(self) -> list[tuple[str, str, str, dict[str, Any]]]:
        """(local time, device, action, params) of each timetable action recorded."""
        return [
            (
                e["ts"].astimezone(HCM).strftime("%H:%M"),
                e["device"],
                e["data"]["action"],
                e["data"]["params"],
            )
            for e in self.recorder.of("schedule")
        ]


def scene(name: str) -> tuple[str, str, dict[str, Any]]:
    return ("lights", "scene", {"name": name})


async def test_a_school_day_played_on_the_fake_clock() -> None:
    room = Room(local(MONDAY, "05:00"))
    async with room.running():
        await room.clock.advance_to(local(MONDAY, "06:54"))
        assert pins(room.factory) == OFF
        await room.clock.advance_to(local(MONDAY, "06:55"))
        assert pins(room.factory) == LESSON  # before period 1 (07:00)
        await room.clock.advance_to(local(MONDAY, "08:50"))  # period 3 uses the projector
        assert pins(room.factory) == PROJECTION
        assert room.projector.current["power"] == "on"
        await room.clock.advance_to(local(MONDAY, "10:25"))  # end of period 4
        assert pins(room.factory) == LESSON
        assert room.projector.current["power"] == "off"
        await room.clock.advance_to(local(MONDAY, "11:24"))
        assert pins(room.factory) == LESSON
        await room.clock.advance_to(local(MONDAY, "11:25"))  # 10 min after period 5
        assert pins(room.factory) == OFF
        await room.clock.advance_to(local(MONDAY, "15:44"))
        assert pins(room.factory) == LESSON  # afternoon
        await room.clock.advance_to(local(MONDAY, "15:45"))  # 10 min after period 8
        assert pins(room.factory) == OFF

    assert [(t, *step) for t, *step in room.schedule()] == [
        ("06:55", *scene("lesson")),
        ("08:50", "proj", "on", {}),
        ("08:50", *scene("projection")),
        ("09:35", *scene("lesson")),  # the break between periods 3 and 4
        ("09:40", *scene("projection")),
        ("10:25", *scene("lesson")),
        ("10:25", "proj", "off", {}),
        ("11:25", *scene("off")),
        ("11:25", "proj", "off", {}),
        ("12:55", *scene("lesson")),
        ("15:45", *scene("off")),
        ("15:45", "proj", "off", {}),
    ]
    first = room.recorder.of("schedule")[0]
    assert first["data"]["issuer"] == "schedule"
    assert first["data"]["transition"] == "morning prepare"
    assert first["data"]["code"] == "ok"
    assert first["severity"] == "info"
    assert room.recorder.of("maintenance", "vacancy_warning", "co2_high") == []


@pytest.mark.parametrize(
    ("start", "lights", "projector"),
    [
        ("09:00", PROJECTION, "on"),  # period 3 with the projector: a power cut is over
        ("10:00", PROJECTION, "on"),  # period 4 uses it too
        ("10:27", LESSON, "off"),  # after period 4: nothing switched off, nothing on
        ("12:00", OFF, "off"),  # between sessions: the room stays closed
    ],
)
async def test_an_agent_started_mid_session_puts_the_room_back(
    start: str, lights: tuple[float, float, float], projector: str
) -> None:
    room = Room(local(MONDAY, start))
    async with room.running():
        assert pins(room.factory) == lights
        assert room.projector.current["power"] == projector
    caught_up = [e for e in room.recorder.of("schedule") if e["data"].get("catch_up")]
    assert bool(caught_up) == (lights != OFF)
    assert all(e["data"]["code"] == "ok" for e in caught_up)


@pytest.mark.parametrize(
    ("start", "day_off"),
    [
        (local(date(2025, 10, 11), "16:00"), date(2025, 10, 12)),  # Saturday evening -> Sunday
        (local(date(2025, 12, 31), "16:00"), date(2026, 1, 1)),  # New Year's Day, a Thursday
    ],
    ids=["sunday", "holiday"],
)
async def test_nothing_happens_on_sunday_or_a_holiday(start: datetime, day_off: date) -> None:
    room = Room(start)
    next_day = date.fromordinal(day_off.toordinal() + 1)
    async with room.running():
        await room.clock.advance_to(local(next_day, "06:54"))
        assert room.recorder.events == []
        assert pins(room.factory) == OFF
        await room.clock.advance_to(local(next_day, "06:55"))
        assert pins(room.factory) == LESSON  # the day after is a school day again
    assert room.schedule() == [("06:55", *scene("lesson"))]


async def test_vacancy_warns_then_switches_off_through_dispatch() -> None:
    room = Room(local(MONDAY, "06:50"))
    async with room.running():
        await room.clock.advance_to(local(MONDAY, "06:55"))
        room.automation.notify_state("pir", {"occupied": False})
        await room.settle()
        await room.clock.advance_to(local(MONDAY, "07:09:59"))
        assert room.recorder.of("vacancy_warning") == []
        await room.clock.advance_to(local(MONDAY, "07:10"))
        [warning] = room.recorder.of("vacancy_warning")
        assert (warning["severity"], warning["ts"]) == ("warning", local(MONDAY, "07:10"))
        await room.clock.advance_to(local(MONDAY, "07:14:59"))
        assert pins(room.factory) == LESSON
        await room.clock.advance_to(local(MONDAY, "07:15"))
        assert pins(room.factory) == OFF
    [action] = room.recorder.of("rule_action")
    assert (action["device"], action["data"]["action"], action["data"]["issuer"]) == (
        "lights",
        "off",
        "rule:vacancy",
    )
    assert action["data"]["code"] == "ok"
    [off] = room.recorder.of("vacancy_off")
    assert off["ts"] == local(MONDAY, "07:15")


async def test_occupancy_returning_cancels_the_switch_off() -> None:
    room = Room(local(MONDAY, "06:50"))
    async with room.running():
        await room.clock.advance_to(local(MONDAY, "06:55"))
        room.automation.notify_state("pir", {"occupied": False})
        await room.settle()
        await room.clock.advance_to(local(MONDAY, "07:12"))
        room.automation.notify_state("pir", {"occupied": True})
        await room.settle()
        await room.clock.advance_to(local(MONDAY, "08:00"))
        assert pins(room.factory) == LESSON
    assert [e["kind"] for e in room.recorder.of("vacancy_warning", "vacancy_cancelled")] == [
        "vacancy_warning",
        "vacancy_cancelled",
    ]
    assert room.recorder.of("rule_action", "vacancy_off") == []


def sample(ppm: float) -> list[Telemetry]:
    return [
        Telemetry(sender="edge/test/6a1", boot="b", seq=1, device="env", readings={"co2_ppm": ppm})
    ]


@pytest.mark.parametrize(("ppm", "fires"), [(1199, False), (1200, True)])
async def test_co2_sample_raises_an_alert_and_runs_the_fan(ppm: float, fires: bool) -> None:
    room = Room(local(MONDAY, "08:00"), rules={"co2": {"co2_ppm": 1200, "fan": {"device": "fan"}}})
    async with room.running():
        room.automation.feed_sample(sample(ppm))
        await room.settle()
        assert room.factory.pin(25).state == int(fires)
        room.automation.feed_sample(sample(1100))  # at the hysteresis edge: still high
        await room.settle()
        assert room.factory.pin(25).state == int(fires)
        room.automation.feed_sample(sample(1099))
        await room.settle()
        assert room.factory.pin(25).state == 0
    kinds = [e["kind"] for e in room.recorder.of("co2_high", "co2_ok", "rule_action")]
    assert kinds == (["co2_high", "rule_action", "co2_ok", "rule_action"] if fires else [])


async def test_projector_maintenance_alert_once_from_polled_state() -> None:
    room = Room(local(MONDAY, "08:00"))
    room.projector.current |= {"lamp_hours": 4000}
    async with room.running():
        for _ in range(3):
            room.automation.feed_sample([])
            await room.settle()
    [alert] = room.recorder.of("maintenance")
    assert (alert["device"], alert["data"]["condition"], alert["data"]["hours"]) == (
        "proj",
        "lamp_hours",
        4000,
    )


@pytest.mark.integration
@pytest.mark.parametrize("broker_down", [False, True], ids=["online", "broker-down"])
async def test_a_school_day_on_the_agent_online_and_with_the_broker_down(
    own_broker: Mosquitto, topic_root: str, tmp_path: Path, broker_down: bool
) -> None:
    """The same Monday, played on a fake clock: the pins follow the timetable either way,
    and the schedule events reach the broker, live or once the link returns."""
    clock = FakeClock(local(MONDAY, "05:00"))
    agent, factory = make_agent(own_broker, topic_root, tmp_path, clock=clock)
    topic = agent.topics.event

    def subscriber() -> aiomqtt.Client:
        return persistent_subscriber(own_broker, f"sub-{topic_root}", topic_root)

    async with subscriber() as sub:
        await sub.subscribe(topic, qos=1)
    async with running(agent):
        await clock.wait_for_sleepers(1)
        if broker_down:
            own_broker.stop()
            await eventually(
                lambda: asyncio.sleep(0, not agent.connected.is_set()), 10, "the agent to notice"
            )
        await clock.advance_to(local(MONDAY, "06:55"))
        assert pins(factory) == LESSON
        await clock.advance_to(local(MONDAY, "08:50"))
        assert pins(factory) == PROJECTION
        await clock.advance_to(local(MONDAY, "11:25"))
        assert pins(factory) == OFF
        await clock.advance_to(local(MONDAY, "12:55"))
        assert pins(factory) == LESSON
        await clock.advance_to(local(MONDAY, "15:45"))
        assert pins(factory) == OFF
        if broker_down:
            assert not agent.connected.is_set()
            assert await agent.unsent() >= 8  # the schedule events (and telemetry) wait there
            own_broker.start()
        await wait_within(agent.connected.wait(), 10)

        async def all_sent() -> bool:
            return await agent.unsent() == 0

        await eventually(all_sent, 10, "the outbox to be sent")

    async with subscriber() as sub:
        received: list[Event] = []
        async with asyncio.timeout(10):
            async for message in sub.messages:
                received.append(decode(Event, message.payload))
                if len([e for e in received if e.kind == "schedule" and e.device == "lights"]) == 8:
                    break
    schedule = [e for e in received if e.kind == "schedule" and e.device == "lights"]
    assert [
        (e.ts.astimezone(HCM).strftime("%H:%M"), e.data["params"]["name"]) for e in schedule
    ] == [
        ("06:55", "lesson"),
        ("08:50", "projection"),
        ("09:35", "lesson"),
        ("09:40", "projection"),
        ("10:25", "lesson"),
        ("11:25", "off"),
        ("12:55", "lesson"),
        ("15:45", "off"),
    ]
    assert all(e.device == "lights" and e.data["issuer"] == "schedule" for e in schedule)
    assert all(e.data["code"] == "ok" and e.boot == agent.boot for e in schedule)
    assert [e.seq for e in schedule] == sorted(e.seq for e in schedule)
