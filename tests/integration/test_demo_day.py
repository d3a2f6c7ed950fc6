"""``smartclass demo --fast-day``: within seconds the hub's API shows lessons started by the
timetable, rooms filling, CO2 rising and the simulated teachers' help requests, while every
time the hub stores is the real one."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from edge.config import load_room_config
from edge.teacher import HelpCall, plan_day
from smartclass.broker import free_port

pytestmark = pytest.mark.integration

SPEED = 900
"""A quarter of an hour of the school day each real second."""
START = "05:00"
"""Two hours before the first lesson: the agents are up well before the lights come on."""
SEED = 11
HELP_RATE = 8
"""A request a period: each room's first one comes in its first lesson."""
WAIT_S = 40.0
"""Real seconds for all of it; the last of it, a projector from period 3 (08:50), is due
some 15 s after the start at this speed."""
SLACK = timedelta(seconds=3)
"""How far a stored time may be from the real time of the run."""
HCM = ZoneInfo("Asia/Ho_Chi_Minh")


@dataclass
class Seen:
    """What the test has seen of one room through the hub's API."""

    lights_on: bool = False
    projector_on: bool = False
    timetable: set[str] = field(default_factory=set)
    """``device.action`` of the timetable's switching (a catch-up at start is not counted)."""
    help: list[dict[str, Any]] = field(default_factory=list)
    occupied: list[float] = field(default_factory=list)
    co2: list[float] = field(default_factory=list)

    def take(self, detail: dict[str, Any]) -> None:
        devices = {d["device"]: d["state"] for d in detail["devices"]}
        lights = devices.get("lights", {})
        self.lights_on |= any(zone.get("on") for zone in lights.values() if isinstance(zone, dict))
        # switched on: warming up, or on (the driver sees the end of a warm-up at its next
        # poll, up to poll_interval_s later, however short the warm-up is on the school clock)
        self.projector_on |= devices.get("projector", {}).get("power") in ("warming", "on")
        self.timetable |= {
            f"{e['device']}.{e['data']['action']}"
            for e in detail["events"]
            if e["kind"] == "schedule" and not e["data"].get("catch_up")
        }

    @property
    def filled(self) -> bool:
        """Empty at first, then the class came in."""
        return 0.0 in self.occupied and 1.0 in self.occupied[self.occupied.index(0.0) :]

    @property
    def co2_rose(self) -> bool:
        """By more than 200 ppm since a lower sample (the class came in, or back)."""
        return any(c > min(self.co2[:i]) + 200 for i, c in enumerate(self.co2) if i)


def _start_demo(tmp_path: Path, port: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "smartclass", "demo", "--rooms", "2", "--port", str(port),
         "--mqtt-port", str(free_port()), "--data-dir", str(tmp_path), "--interval", "0.5",
         "--fast-day", "--speed", str(SPEED), "--start", START, "--seed", str(SEED),
         "--help-rate", str(HELP_RATE)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip


def _series(api: httpx.Client, site: str, room: str, metric: str) -> list[dict[str, Any]]:
    answer = api.get(f"/rooms/{site}/{room}/telemetry", params={"metric": metric})
    assert answer.status_code == 200, answer.text
    points: list[dict[str, Any]] = answer.json()["points"]
    return points


def _plans(tmp_path: Path, school_day: date) -> dict[tuple[str, str], dict[int, HelpCall]]:
    """Each room's help requests of the day by period, as the seed plans them."""
    plans = {}
    for path in (tmp_path / "rooms").glob("*.yaml"):
        room = load_room_config(path)
        assert room.timetable is not None
        calls = plan_day(
            room.timetable, school_day, HCM, seed=SEED, room=f"{room.site}/{room.room}",
            per_day=HELP_RATE,
        )  # fmt: skip
        plans[room.site, room.room] = {call.period: call for call in calls}
    return plans


def _first_asked(log: Path, site: str, room: str) -> tuple[int, str]:
    """The period and reason of the room's first request, as its agent logged it (the first
    planned may have passed before a slow start of the agents' process)."""
    found = re.search(
        rf"{site}/{room}: simulated teacher asks for help in period (\d+): (\w+)", log.read_text()
    )
    assert found is not None, f"{site}/{room} asked for no help"
    return int(found.group(1)), found.group(2)


def test_a_fast_day_shows_lessons_a_filling_room_rising_co2_and_help_on_real_time(
    tmp_path: Path,
) -> None:
    port = free_port()
    began = datetime.now(UTC)
    demo = _start_demo(tmp_path, port)
    assert demo.stdout is not None
    lines: list[str] = []
    try:
        for line in demo.stdout:
            lines.append(line)
            if "Press Ctrl-C to stop." in line:
                break
        output = "".join(lines)
        token = re.search(r"API token of demo-it: (\S+)", output)
        day = re.search(rf"fast, {SPEED} times real time, from \w+ (\S+) {START}", output)
        assert token is not None, output
        assert day is not None, output
        plans = _plans(tmp_path, date.fromisoformat(day.group(1)))
        seen = {room: Seen() for room in plans}
        headers = {"Authorization": f"Bearer {token.group(1)}"}
        base = f"http://127.0.0.1:{port}/api/v1"
        with httpx.Client(base_url=base, headers=headers, timeout=10) as api:

            def done() -> bool:
                return all(
                    s.lights_on and s.filled and s.co2_rose and s.help for s in seen.values()
                ) and any(s.projector_on and "projector.on" in s.timetable for s in seen.values())

            deadline = time.monotonic() + WAIT_S
            while not done() and time.monotonic() < deadline:
                for (site, room), room_seen in seen.items():
                    room_seen.take(api.get(f"/rooms/{site}/{room}").json())
                    room_seen.occupied = [p["value"] for p in _series(api, site, room, "occupied")]
                    room_seen.co2 = [p["value"] for p in _series(api, site, room, "co2_ppm")]
                    room_seen.help = api.get(
                        "/alerts", params={"kind": "help", "site": site, "room": room}
                    ).json()["alerts"]
                time.sleep(0.25)  # polling another process through its API
            assert done(), seen

            for (site, room), room_seen in seen.items():
                # the lights came on by the timetable, on its own clock, not at a catch-up
                assert "lights.scene" in room_seen.timetable, (room, room_seen)
                [alert] = room_seen.help  # the teacher waits while the request is open
                assert alert["state"] == "open"
                period, reason = _first_asked(tmp_path / "edge.log", site, room)
                assert alert["data"]["reason"] == reason == plans[site, room][period].reason

            # every time stored is the real one, though the school clock is hours ahead
            finished = datetime.now(UTC)
            for site, room in seen:
                detail = api.get(f"/rooms/{site}/{room}").json()
                assert not detail["clock_suspect"], detail
                times = [datetime.fromisoformat(e["ts"]) for e in detail["events"]]
                for metric in ("co2_ppm", "occupied", "noise_dba"):
                    times += [
                        datetime.fromisoformat(p["ts"]) for p in _series(api, site, room, metric)
                    ]
                times += [datetime.fromisoformat(a["started_at"]) for a in seen[site, room].help]
                assert len(times) > 20
                assert began - SLACK <= min(times), (room, min(times), began)
                assert max(times) <= finished + SLACK, (room, max(times), finished)
    finally:
        demo.send_signal(signal.SIGINT)  # what Ctrl-C does
        rest, _ = demo.communicate(timeout=30)
    assert demo.returncode == 0, rest
