"""``smartclass demo`` end to end: rooms online through the API; Ctrl-C leaves nothing behind."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import aiomqtt
import httpx
import pytest

from smartclass.broker import free_port

pytestmark = pytest.mark.integration


def _processes_mentioning(text: str) -> list[str]:
    return [cmdline for _, cmdline in _pids_mentioning(text)]


def _pids_mentioning(text: str) -> list[tuple[int, str]]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if text in cmdline:
            found.append((int(entry.name), cmdline))
    return found


async def _watch_sc(port: int, rooms: int, user: str | None, password: str | None) -> set[str]:
    """What ``mosquitto_sub -t 'sc/#'`` shows: retained status and state, then telemetry."""
    seen: set[str] = set()
    login = {"username": user, "password": password}
    async with aiomqtt.Client("127.0.0.1", port, **login) as client, asyncio.timeout(15):
        await client.subscribe("sc/#")
        async for message in client.messages:
            seen.add(message.topic.value)
            statuses = sum(1 for t in seen if t.endswith("/status"))
            if statuses >= rooms and any(t.endswith("/telemetry") for t in seen):
                return seen
    return seen  # pragma: no cover - the timeout raises first


def test_demo_serves_its_rooms_and_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    port, rooms = free_port(), 3
    demo = subprocess.Popen(
        [sys.executable, "-m", "smartclass", "demo", "--rooms", str(rooms), "--port", str(port),
         "--mqtt-port", str(free_port()), "--data-dir", str(tmp_path), "--interval", "1"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    assert demo.stdout is not None
    started = time.monotonic()
    lines: list[str] = []
    try:
        for line in demo.stdout:
            lines.append(line)
            if "Press Ctrl-C to stop." in line:
                break
        took = time.monotonic() - started
        output = "".join(lines)
        assert f"smartclass demo is running ({rooms}/{rooms} rooms online)" in output, output
        assert took < 30
        found = re.search(r"API token of demo-it: (\S+)", output)
        assert found is not None, output
        auth = {"Authorization": f"Bearer {found.group(1)}"}
        logins = dict(
            re.findall(r"^  (?:teacher|it|admin|district) +(demo-\S+) +(\S+)", output, re.M)
        )
        assert set(logins) == {"demo-teacher", "demo-it", "demo-admin", "demo-district"}
        api = f"http://127.0.0.1:{port}/api/v1"
        assert httpx.get(f"{api}/rooms", timeout=5).status_code == 401, "nobody is anonymous"
        with httpx.Client(base_url=api, timeout=10) as browser:  # a teacher signs in
            signed = browser.post(
                "/auth/login", json={"username": "demo-teacher", "password": logins["demo-teacher"]}
            )
            assert signed.status_code == 200, signed.text
            assert len(browser.get("/rooms").json()) == 1, "a teacher sees their room only"
        listed = httpx.get(f"{api}/rooms", timeout=5, headers=auth).json()
        assert len(listed) == rooms
        assert all(room["online"] for room in listed)
        assert {room["name"] for room in listed} <= {"Lớp 6A1", "Lớp 1A", "Lớp 2A", "Lớp 6A2"}
        first = listed[0]
        detail = httpx.get(
            f"{api}/rooms/{first['site']}/{first['room']}", timeout=5, headers=auth
        ).json()
        families = {d["family"] for d in detail["devices"]}
        assert families == {"environment", "lighting", "projector", "noise", "occupancy", "panel"}
        assert len(_processes_mentioning(str(tmp_path))) >= 3  # broker, hub, agents
        mqtt_port = int(re.search(r"-p (\d+) -t 'sc/#'", output).group(1))  # type: ignore[union-attr]
        login = re.search(r"-u (\S+) -P '([^']+)'", output)
        assert login is not None, output
        seen = asyncio.run(_watch_sc(mqtt_port, rooms, login.group(1), login.group(2)))
        with pytest.raises(aiomqtt.MqttError):  # nobody is anonymous, the demo included
            asyncio.run(_watch_sc(mqtt_port, rooms, None, None))
        for site, room in {(r["site"], r["room"]) for r in listed}:
            base = f"sc/{site}/{room}"
            assert {f"{base}/status", f"{base}/state/lights", f"{base}/state/env"} <= seen
        assert any(t.endswith("/telemetry") for t in seen)

        # like systemd on a Pi, the demo starts again an agent process that dies
        [(pid, _)] = [p for p in _pids_mentioning(str(tmp_path)) if " edge " in p[1]]
        os.kill(pid, signal.SIGKILL)
        for line in demo.stdout:
            lines.append(line)
            if "the edge agents started again" in line:
                break
        assert "the edge agents stopped (exit -9)" in "".join(lines)
        url = f"http://127.0.0.1:{port}/api/v1/rooms/{first['site']}/{first['room']}"
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            again = httpx.get(url, timeout=5, headers=auth).json()
            if again["online"] and again["boot"] != detail["boot"]:
                break
            time.sleep(0.2)  # polling another process through its API
        assert again["online"], again
        assert again["boot"] != detail["boot"], "the room is served by a new agent process"
    finally:
        demo.send_signal(signal.SIGINT)  # what Ctrl-C does
        rest, _ = demo.communicate(timeout=30)
    assert demo.returncode == 0, rest
    assert "smartclass demo: stopped" in rest
    assert _processes_mentioning(str(tmp_path)) == []
