"""The end of a projector's warm-up reaches the hub by itself: switched on through the hub's
command API, the room's detail shows ``warming``, then ``on`` once the simulated projector
has warmed up, without another command, within about one poll (on SQLite and PostgreSQL)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from devices.projector.config import SimProjectorConfig
from smartclass.broker import Mosquitto
from tests.integration.system import eventually, hub_settings, make_agent, running, running_hub

pytestmark = pytest.mark.integration

SITE, ROOM = "thcs-nguyen-chi-thanh", "6a1"
WARMUP_S = 1.5
POLL_S = 0.5
"""The projector's poll while it warms up (``transition_poll_s``)."""
SLACK_S = 1.0
"""For the state's way through the broker, the hub's ingest and the API."""


async def _power(http: httpx.AsyncClient) -> str | None:
    r = await http.get(f"/api/v1/rooms/{SITE}/{ROOM}")
    if r.status_code != 200:
        return None
    devices: list[dict[str, Any]] = r.json()["devices"]
    state = next((d["state"] for d in devices if d["device"] == "projector"), None)
    return state.get("power") if state else None


async def test_the_hub_shows_the_end_of_a_warm_up_without_another_command(
    broker: Mosquitto, topic_root: str, tmp_path: Path, database_url: str
) -> None:
    projector = SimProjectorConfig(
        backend="sim", warmup_s=WARMUP_S, cooldown_s=0, transition_poll_s=POLL_S,
        poll_interval_s=3600,  # no ordinary poll within the test: only the warm-up's
    )  # fmt: skip
    agent, _ = make_agent(
        broker, topic_root, tmp_path / "edge", interval=5, devices={"projector": projector}
    )
    settings = hub_settings(broker, topic_root, database_url)
    async with running(agent), running_hub(settings) as http:

        async def off() -> bool:
            return await _power(http) == "off"

        await eventually(off, 10, "the projector known to the hub, off")
        r = await http.post(
            f"/api/v1/rooms/{SITE}/{ROOM}/devices/projector/commands", json={"action": "on"}
        )
        switched = time.monotonic()
        assert r.status_code == 200, r.text
        assert r.json()["state"]["power"] == "warming"

        async def warming() -> bool:
            return await _power(http) == "warming"

        await eventually(warming, 5, "the hub showing warming")
        assert time.monotonic() - switched < WARMUP_S, "it warms up for a while"

        async def on() -> bool:
            return await _power(http) == "on"

        await eventually(on, WARMUP_S + POLL_S + 5, "the hub showing on, by itself")
        late = time.monotonic() - switched - WARMUP_S
    assert late <= POLL_S + SLACK_S, f"shown {late:.2f} s after the warm-up ended"
    print(f"warm-up end shown at the hub {late:.2f} s after it ended (poll {POLL_S} s)")
