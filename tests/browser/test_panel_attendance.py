"""The teacher panel's attendance card in a real browser, served by a real agent on the suite's
Mosquitto whose camera shows composed classroom frames: the students present, one arriving
late, the rest missing; a teacher's manual mark from the card reaches the period's marks."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import pytest
from playwright.sync_api import Page, expect

from devices.camera import Camera
from devices.camera.config import SimCameraConfig
from devices.camera.sim import SimSource
from edge.agent import Agent
from edge.attendance.service import AttendanceService
from edge.attendance.vault import new_key
from edge.clock import FakeClock
from edge.panel.pairing import code_sha256, new_code
from protocol.aio import wait_within
from protocol.attendance import ConsentParams
from smartclass.broker import Mosquitto
from smartclass.faceset import CLASS_A
from tests import attendance_faces as faces
from tests.browser.conftest import OpenPage, both_languages
from tests.browser.test_panel import Loop
from tests.integration.system import QUIET_SUNDAY, make_agent

HERE = ("obama", "biden")
LATE = "hanks"


@dataclass
class Room:
    agent: Agent
    service: AttendanceService
    source: SimSource
    clock: FakeClock
    loop: Loop

    def command(self, device: str, action: str, **params: Any) -> Any:
        return self.loop.run(self.agent.local_command(device, action, params, issuer="test"))


@pytest.fixture
def room(mosquitto: Mosquitto, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Room]:
    monkeypatch.setenv("SC_TEST_ATTENDANCE_KEY", new_key())
    folder = tmp_path / "portraits"
    folder.mkdir()
    for name, image in faces.faceset().heads.items():
        cv2.imwrite(str(folder / f"{name}.png"), image)
    loop = Loop()
    camera = SimCameraConfig(backend="sim", photos=folder, fps=10)
    attendance = {
        "camera": "camera", "class_id": "6a1", "students": dict.fromkeys(CLASS_A),
        "key_env": "SC_TEST_ATTENDANCE_KEY", "sample_interval_s": 0.05, "min_frames": 2,
    }  # fmt: skip
    root = f"pa{uuid.uuid4().hex[:10]}"

    async def start() -> tuple[Room, asyncio.Task[None]]:
        clock = FakeClock(QUIET_SUNDAY)
        agent, _ = make_agent(mosquitto, root, tmp_path / "edge", interval=0.5, clock=clock,
                              devices={"camera": camera}, attendance=attendance)  # fmt: skip
        service = agent.devices["attendance"]
        assert isinstance(service, AttendanceService)
        service._engine = faces.engine()  # the models once per test session
        for student in (*HERE, LATE):
            service.vault.record_consent(ConsentParams(student=student, parent=True,
                                                       age_7_or_over=False, by="it"))  # fmt: skip
            service.vault.enrol(student, faces.templates()[student], clock.now().date())
        sim = agent.devices["camera"]
        assert isinstance(sim, Camera)
        assert isinstance(sim.source, SimSource)
        task = asyncio.create_task(agent.run())
        assert agent.panel_server is not None
        await wait_within(agent.panel_server.listening.wait(), 10)
        await wait_within(agent.connected.wait(), 10)
        return Room(agent, service, sim.source, clock, loop), task

    made, task = loop.run(start())
    try:
        yield made
    finally:

        async def stop() -> None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

        loop.run(stop())
        loop.close()


def pair(page: Page, room: Room) -> None:
    """Pair the tablet with a code IT made (here sent to the panel as the hub would)."""
    code = new_code()
    assert room.command("panel", "pair", code_sha256=code_sha256(code), expires_in_s=600).ok
    server = room.agent.panel_server
    assert server is not None
    page.goto(f"{server.url}/")
    page.fill("#code", code)
    page.click("form.pair-form button[type=submit]")
    expect(page.locator(".panel-grid")).to_be_visible()


def numbers(*values: int) -> re.Pattern[str]:
    """A line holding exactly these numbers, in this order, whatever the language's words."""
    return re.compile(r"^\D*" + r"\D+".join(str(v) for v in values) + r"\D*$")


def test_the_attendance_card_shows_present_late_and_missing_and_takes_a_manual_mark(
    room: Room, open_page: OpenPage
) -> None:
    page = open_page("tablet", "vi")
    pair(page, room)
    card = page.locator("#attendance")
    room.source.present = list(HERE)
    assert room.command("attendance", "take").ok
    for student in HERE:
        expect(card.locator(f'li[data-student="{student}"]')).to_have_attribute(
            "data-status", "present", timeout=20_000
        )
    missing = set(CLASS_A) - set(HERE)
    for student in missing:
        expect(card.locator(f'li[data-student="{student}"]')).to_have_attribute(
            "data-status", "missing"
        )
    # past the window, within the late one: hanks walks in
    room.source.present = [*HERE, LATE]
    room.loop.run(room.clock.advance(dt.timedelta(minutes=11)))
    expect(card.locator(f'li[data-student="{LATE}"]')).to_have_attribute(
        "data-status", "late", timeout=20_000
    )
    counts = card.locator("#attendance-counts")  # period 1: present, late, missing
    expect(counts).to_have_text(numbers(1, 2, 1, len(missing) - 1))
    # the teacher marks hopper present by hand from the card
    hopper = card.locator('li[data-student="hopper"]')
    hopper.locator('button[data-mark="present"]').click()
    expect(hopper).to_have_attribute("data-status", "present")
    expect(counts).to_have_text(numbers(1, 3, 1, len(missing) - 2))
    take = room.service.take
    assert take is not None
    mark = take.marks["hopper"]
    assert (mark.status, mark.method, mark.revision) == ("present", "manual", 1)
    assert take.marks[LATE].status == "late"
    both_languages(page, "panel-attendance")
