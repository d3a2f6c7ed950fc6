"""Configuration from the hub to a real agent over the real broker: a timetable pushed and
switched to at once, kept across the agent's restart, a bad push refused while the last good
one runs on, old and unreadable pushes, and a push made while the broker was away."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiomqtt
import httpx
from gpiozero.pins.mock import MockFactory

from edge.agent import Agent
from edge.clock import FakeClock
from edge.managed import SAVED_FILE, SavedConfig
from protocol import ConfigApplied, RoomConfig, RoomSettings, RoomTopics, decode, encode
from protocol.aio import wait_within
from smartclass.broker import Mosquitto
from tests.integration.system import (
    eventually,
    hub_settings,
    make_agent,
    mqtt_client,
    running,
    running_hub,
)

SITE, ROOM = "thcs-nguyen-chi-thanh", "6a1"
SCHOOL = f"/api/v1/sites/{SITE}/config"
CONFIG = f"/api/v1/rooms/{SITE}/{ROOM}/config"
HCM = ZoneInfo("Asia/Ho_Chi_Minh")
MONDAY, TUESDAY = date(2025, 10, 6), date(2025, 10, 7)
LESSON, PROJECTION = (1.0, 1.0, 0.0), (0.0, 1.0, 0.0)
"""Pins 18 (front dimmer), 23 (middle relay), 24 (back relay, active low) in the lesson scene
(all on) and the projection scene (the front off)."""
EARLY = {
    "morning": [
        {"period": 1, "start": "06:30", "end": "07:15"},
        {"period": 2, "start": "07:20", "end": "08:05"},
    ],
    "lead_min": 0,
}
"""A timetable whose day starts at 06:30 (the room file's prepares at 06:55)."""


def local(day: date, hhmm: str) -> datetime:
    return datetime.combine(day, time.fromisoformat(hhmm), tzinfo=HCM)


def pins(factory: MockFactory) -> tuple[float, ...]:
    return tuple(float(factory.pin(n).state) for n in (18, 23, 24))


async def scene(factory: MockFactory, levels: tuple[float, ...]) -> None:
    async def reached() -> bool:
        return pins(factory) == levels

    await eventually(reached, 5, f"the lights at {levels}")


async def change(http: httpx.AsyncClient, url: str, config: dict[str, Any]) -> int:
    r = await http.put(url, json={"config": config, "comment": "from the test"})
    assert r.status_code == 202, r.text
    version: int = r.json()["version"]
    return version


async def status_when(http: httpx.AsyncClient, what: str, check: Any) -> dict[str, Any]:
    async def ready() -> Any:
        state = (await http.get(CONFIG)).json()["status"]
        return check(state) and state

    found: dict[str, Any] = await eventually(ready, 10, what)
    return found


async def applied(http: httpx.AsyncClient, version: int) -> dict[str, Any]:
    return await status_when(
        http, f"version {version} applied", lambda s: s["applied"] == version and s["applied_ok"]
    )


async def settled(agent: Agent, clock: FakeClock) -> None:
    """The automation has taken in what it was handed and sleeps on its clock."""
    await wait_within(agent.automation.idle.wait(), 5)
    await clock.wait_for_sleepers(1)


async def test_a_timetable_pushed_runs_at_once_and_after_a_restart(
    broker: Mosquitto, topic_root: str, tmp_path: Path, database_url: str
) -> None:
    settings = hub_settings(broker, topic_root, database_url)
    clock = FakeClock(local(MONDAY, "06:00"))
    agent, factory = make_agent(broker, topic_root, tmp_path, clock=clock)
    async with running_hub(settings) as http:
        async with running(agent):
            await settled(agent, clock)
            await change(http, SCHOOL, {"timetable": EARLY})
            plan = {"timetable": {"lesson_plan": {"mon": {"1": {"projector": True}}}}}
            version = await change(http, CONFIG, plan)
            state = await applied(http, version)
            assert (state["pushed"], state["pending"], state["refused"]) == (version, False, None)
            assert agent.config_version == version

            await settled(agent, clock)
            await clock.advance_to(local(MONDAY, "06:31"))
            await scene(factory, PROJECTION)
            projector = await agent.devices["projector"].state()
            assert projector["power"] == "on", "period 1 uses the projector in this room"

        # The retained configuration is cleared: the restarted agent runs the one on its disk.
        async with mqtt_client(broker, topic_root) as tester:
            topics = RoomTopics(SITE, ROOM, topic_root)
            await tester.publish(topics.config, b"", qos=1, retain=True)
        tuesday = FakeClock(local(TUESDAY, "06:00"))
        again, factory = make_agent(broker, topic_root, tmp_path, clock=tuesday)
        assert again.config_version == version, "read from its data folder"
        assert again.room.timetable is not None
        assert again.room.timetable.morning[0].start == time(6, 30)
        async with running(again):
            await settled(again, tuesday)
            await tuesday.advance_to(local(TUESDAY, "06:31"))
            await scene(factory, LESSON)
            assert (await again.devices["projector"].state())["power"] == "off", "Monday's only"


async def test_a_bad_push_is_refused_and_the_last_good_one_runs_on(
    broker: Mosquitto, topic_root: str, tmp_path: Path, database_url: str
) -> None:
    settings = hub_settings(broker, topic_root, database_url)
    agent, _ = make_agent(broker, topic_root, tmp_path)
    async with running_hub(settings) as http, running(agent):
        good = await change(http, CONFIG, {"timetable": EARLY})
        await applied(http, good)
        bad = await change(http, CONFIG, {"timetable": {**EARLY, "lesson_scene": "disco"}})
        state = await status_when(http, "the refusal", lambda s: s["refused"] == bad)
        assert (state["applied"], state["applied_ok"], state["pushed"]) == (good, False, bad)
        assert state["applied_text"] == (
            f"version {bad} refused: timetable: Value error, lighting 'lights' has no scene "
            "'disco' (has lesson, projection, off, reading)"
        )
        assert agent.config_version == good
        assert agent.automation.timetable is not None
        assert agent.automation.timetable.lesson_scene == "lesson", "still the last good one"
        saved = SavedConfig(tmp_path / f"{SITE}--{ROOM}" / SAVED_FILE).load()
        assert saved is not None
        assert saved.version == good

        async def refusal_event() -> Any:
            events = (await http.get(f"/api/v1/rooms/{SITE}/{ROOM}")).json()["events"]
            return [e for e in events if e["kind"] == "config_refused"]

        [event] = await eventually(refusal_event, 10, "the agent's config_refused event")
        assert (event["severity"], event["data"]) == ("warning", {"version": bad, "running": good})

        scenes = {"disco": {"front": 20, "middle": "off", "back": "on"}, "reading": {"front": 70}}
        fixed = await change(
            http,
            CONFIG,
            {
                "timetable": {**EARLY, "lesson_scene": "disco"},
                "devices": {"lights": {"family": "lighting", "scenes": scenes}},
            },
        )
        state = await applied(http, fixed)
        assert (state["refused"], state["applied_text"]) == (None, "")
        assert agent.devices["lights"].scenes["disco"] == {"front": 20, "middle": 0, "back": 100}  # type: ignore[attr-defined]
        assert agent.automation.timetable.lesson_scene == "disco"

        r = await http.get(f"{CONFIG}/versions/{good}/diff/{fixed}")
        assert [(c["path"], c["op"]) for c in r.json()["effective"]] == [
            (["timetable", "lesson_scene"], "changed"),
            (["devices"], "added"),
        ]
        entries = (await http.get("/api/v1/audit", params={"action": "config_push"})).json()
        assert [(e["detail"]["version"], e["outcome"]) for e in entries] == [
            (good, "ok"),
            (bad, "ok"),
            (fixed, "ok"),
        ], "the broker took every push; the agent's refusal is its own report"


async def next_applied(client: aiomqtt.Client) -> ConfigApplied:
    async with asyncio.timeout(10):
        async for message in client.messages:
            assert isinstance(message.payload, bytes)
            return decode(ConfigApplied, message.payload)
    raise AssertionError("no config/applied")


async def test_older_repeated_and_unreadable_pushes(
    broker: Mosquitto, topic_root: str, tmp_path: Path
) -> None:
    agent, _ = make_agent(broker, topic_root, tmp_path)
    topics = agent.topics

    async def push(version: int, interval: float) -> None:
        config = RoomConfig(
            sender="hub/test", version=version, settings=RoomSettings(telemetry_interval_s=interval)
        )
        await hub.publish(topics.config, encode(config), qos=1, retain=True)

    async with running(agent), mqtt_client(broker, topic_root, "hub") as hub:
        await hub.subscribe(topics.config_applied, qos=1)
        await push(5, 42)
        report = await next_applied(hub)
        assert (report.version, report.ok, report.refused) == (5, True, 0)
        assert agent.telemetry_interval_s == 42

        await push(3, 7)
        report = await next_applied(hub)
        assert (report.version, report.ok) == (5, True)
        assert report.text == "version 3 ignored: older than version 5, applied"
        assert agent.telemetry_interval_s == 42

        await push(5, 42)
        report = await next_applied(hub)
        assert (report.version, report.ok, report.text) == (5, True, ""), "it runs it already"

        await hub.publish(topics.config, b'{"sender": "hub/test", "version": 6, "timetable": 3}',
                          qos=1, retain=True)  # fmt: skip
        report = await next_applied(hub)
        assert (report.version, report.ok, report.refused) == (5, False, 6)
        assert report.text.startswith("version 6 refused: invalid RoomConfig payload: timetable:")
        assert agent.telemetry_interval_s == 42
        await hub.publish(topics.config, b"", qos=1, retain=True)


async def test_a_configuration_that_cannot_be_saved_still_runs_and_says_so(
    broker: Mosquitto, topic_root: str, tmp_path: Path
) -> None:
    agent, _ = make_agent(broker, topic_root, tmp_path)
    folder = tmp_path / f"{SITE}--{ROOM}"
    (folder / f"{SAVED_FILE}.tmp").mkdir(parents=True)  # where the save writes first
    async with running(agent), mqtt_client(broker, topic_root, "hub") as hub:
        await hub.subscribe(agent.topics.config_applied, qos=1)
        config = RoomConfig(sender="hub/test", version=2, timetable=EARLY)
        await hub.publish(agent.topics.config, encode(config), qos=1, retain=True)
        report = await next_applied(hub)
        assert (report.version, report.ok, report.refused) == (2, True, 0)
        assert report.text.startswith("applied, but not saved to disk (a restart goes back")
        assert agent.config_version == 2
        (folder / f"{SAVED_FILE}.tmp").rmdir()
        config = RoomConfig(sender="hub/test", version=3, timetable=EARLY, rules={})
        await hub.publish(agent.topics.config, encode(config), qos=1, retain=True)
        report = await next_applied(hub)
        assert (report.version, report.ok, report.text) == (3, True, "")
        await hub.publish(agent.topics.config, b"", qos=1, retain=True)
    saved = SavedConfig(folder / SAVED_FILE).load()
    assert saved is not None
    assert saved.version == 3


async def test_a_change_made_while_the_broker_is_away_is_pushed_when_it_is_back(
    own_broker: Mosquitto, topic_root: str, tmp_path: Path, database_url: str
) -> None:
    settings = hub_settings(own_broker, topic_root, database_url)
    agent, _ = make_agent(own_broker, topic_root, tmp_path / "edge")
    async with running_hub(settings) as http, running(agent):
        own_broker.stop()
        r = await http.put(CONFIG, json={"config": {"settings": {"telemetry_interval_s": 3}}})
        assert r.status_code == 202
        [push] = r.json()["pushes"]
        assert (push["pushed"], push["version"]) == (False, 1)
        state = (await http.get(CONFIG)).json()["status"]
        assert (state["latest"], state["pushed"], state["pending"]) == (1, 0, True)
        health = (await http.get("/api/v1/health")).json()
        assert health["config_pushes_pending"] == 1
        assert health["config_pushes_failed"] >= 1
        own_broker.start()
        state = await status_when(
            http, "the push after the broker is back", lambda s: s["applied"] == 1
        )
        assert (state["pushed"], state["pending"]) == (1, False)
        assert agent.telemetry_interval_s == 3
        assert (await http.get("/api/v1/health")).json()["config_pushes_pending"] == 0
        entries = (await http.get("/api/v1/audit", params={"action": "config_push"})).json()
        outcomes = [(e["actor"], e["detail"]["retry"], e["outcome"]) for e in entries]
        assert outcomes[0][1:] == (False, "NotConnected")
        assert outcomes[-1] == ("", True, "ok"), "the hub's own retry, audited"
