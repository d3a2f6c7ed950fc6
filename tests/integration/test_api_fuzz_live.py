"""Schemathesis on the operations that need the broker, against a hub process connected to
the suite's real Mosquitto, with a real agent process for one room: commands and
configuration pushes reach the agent, and every answer is a documented status, never a
server error (``tests/unit/test_api_fuzz.py`` fuzzes them without a broker, for their 503).
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from hub.app import create_app
from hub.settings import HubSettings
from smartclass.broker import Mosquitto
from tests.integration.system import AgentProcess, HubProcess, eventually, write_room

pytestmark = pytest.mark.integration

SITE, ROOM = "thcs-nguyen-chi-thanh", "6a1"
COMMANDS = "/api/v1/rooms/{site}/{room}/devices/{device}/commands"
PUSH = "/api/v1/rooms/{site}/{room}/config/push"
SCHEMA = schemathesis.openapi.from_dict(create_app(HubSettings(), connect_mqtt=False).openapi())
DEVICES = ("lights", "projector", "env", "occupancy", "noise", "panel", "no-such-device")
"""The sample room's devices, and one it does not have."""
LIGHTS: tuple[dict[str, Any], ...] = (
    {"action": "on"},
    {"action": "off", "params": {"zone": "front"}},
    {"action": "set", "params": {"level": 40}},
    {"action": "set", "params": {"level": 400}},
    {"action": "scene", "params": {"name": "lesson"}},
    {"action": "scene", "params": {"name": "no-such-scene"}, "timeout_s": 0.5},
)
"""Commands the lights know, with params they take or refuse: random actions only ever meet
``unknown_action``."""
EXAMPLES = 30
"""Per operation and mode (valid and invalid requests): each valid one is a real round trip."""
SERVER_ERRORS_DOCUMENTED = {502, 504}
"""What an agent's answer may make a 5xx: its device failed, or it did not answer in time.
A 503 would say the hub lost the broker: this hub is connected."""


@dataclass(frozen=True, slots=True)
class LiveHub:
    hub: HubProcess
    headers: dict[str, str]


@pytest.fixture(scope="module")
def live(mosquitto: Mosquitto, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveHub]:
    """A hub process and the agent process of one room, once for the module; the room has a
    configuration version, so that a push of it is accepted."""
    mosquitto.start()
    root = f"t{uuid.uuid4().hex[:10]}"
    work = tmp_path_factory.mktemp("live-fuzz")
    hub = HubProcess(mosquitto, root, work / "hub", hub_id=f"hub-{root}")
    hub.start()
    agent = AgentProcess(write_room(work / "rooms", root=root, interval=1), mosquitto, work)
    try:
        asyncio.run(_ready(hub))
        assert hub.headers is not None
        yield LiveHub(hub, hub.headers)
    finally:
        agent.close()
        hub.close()


async def _ready(hub: HubProcess) -> None:
    await hub.wait_connected()
    async with hub.client() as http:

        async def online() -> bool:
            room = (await http.get(f"/api/v1/rooms/{SITE}/{ROOM}")).json()
            return bool(room.get("online")) and len(room.get("devices", [])) >= 5

        await eventually(online, 30, "the room online with its devices")
        r = await http.put(
            f"/api/v1/rooms/{SITE}/{ROOM}/config",
            json={"config": {"settings": {"telemetry_interval_s": 2}}, "comment": "fuzz"},
        )
        assert r.status_code == 202, r.text


def _cases(path: str) -> st.SearchStrategy[schemathesis.Case]:
    """Generated requests, half of them with the known room (random ids only meet a 404),
    and of those some for each of its devices; valid and invalid bodies."""
    operation = SCHEMA[path]["POST"]
    known: list[dict[str, Any]] = [{"site": SITE, "room": ROOM}]
    if "{device}" in path:
        known = [{"site": SITE, "room": ROOM, "device": d} for d in DEVICES]
    strategies = [
        operation.as_strategy(mode, path_parameters=params)
        for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE)
        for params in (None, *known)
    ]
    if "{device}" in path:
        lights = {"site": SITE, "room": ROOM, "device": "lights"}
        strategies += [operation.as_strategy(path_parameters=lights, body=b) for b in LIGHTS]
    return st.one_of(*strategies)


def _fuzz(live: LiveHub, path: str) -> Counter[int]:
    seen: Counter[int] = Counter()

    @given(case=_cases(path))
    @settings(
        max_examples=EXAMPLES * 2,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    def run(case: schemathesis.Case) -> None:
        response = case.call_and_validate(
            base_url=live.hub.url,
            headers=live.headers,
            checks=[status_code_conformance, content_type_conformance, response_schema_conformance],
        )
        status = response.status_code
        assert status < 500 or status in SERVER_ERRORS_DOCUMENTED, (status, response.text)
        seen[status] += 1

    run()
    return seen


def test_commands_with_a_live_broker_and_agent_answer_as_documented(live: LiveHub) -> None:
    seen = _fuzz(live, COMMANDS)
    print(f"commands: {dict(sorted(seen.items()))}")
    assert seen[200] > 0, "some commands ran on the agent"
    assert seen[404] > 0, "some for devices or rooms that are not there"
    assert seen[422] > 0, "some refused"


def test_configuration_pushes_with_a_live_broker_answer_as_documented(live: LiveHub) -> None:
    seen = _fuzz(live, PUSH)
    print(f"pushes: {dict(sorted(seen.items()))}")
    assert seen[202] > 0, "some pushes reached the broker"
    assert seen[404] > 0 or seen[422] > 0, seen
