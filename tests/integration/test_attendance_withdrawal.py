"""A withdrawal of consent that IT makes on a hub process while the room's agent is away is
kept by the hub and reaches the agent when it is back: the student's templates are deleted on
the Pi, over a real broker, and the hub's pending list empties."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import pytest

from devices.camera.config import SimCameraConfig
from edge.agent import Agent
from edge.attendance.service import AttendanceService
from edge.attendance.vault import new_key
from edge.clock import FakeClock
from smartclass.broker import Mosquitto
from smartclass.faceset import CLASS_A
from tests import attendance_faces as faces
from tests.integration.system import QUIET_SUNDAY, HubProcess, eventually, make_agent, running

pytestmark = pytest.mark.integration

SITE, ROOM = "thcs-nguyen-chi-thanh", "6a1"
STUDENT = "obama"


def _portraits(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, image in faces.faceset().heads.items():
        cv2.imwrite(str(folder / f"{name}.png"), image)
    return folder


async def test_a_withdrawal_made_while_the_room_is_away_reaches_it_when_it_is_back(
    own_broker: Mosquitto, topic_root: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SC_TEST_ATTENDANCE_KEY", new_key())
    clock = FakeClock(QUIET_SUNDAY)
    camera = SimCameraConfig(backend="sim", photos=_portraits(tmp_path / "portraits"), retry_s=0.1)
    attendance = {
        "camera": "camera", "class_id": "6a1", "students": dict.fromkeys(CLASS_A),
        "key_env": "SC_TEST_ATTENDANCE_KEY",
    }  # fmt: skip

    def room_agent() -> tuple[Agent, AttendanceService]:
        agent, _ = make_agent(
            own_broker, topic_root, tmp_path / "edge", clock=clock, auth=own_broker,
            devices={"camera": camera}, attendance=attendance,
        )  # fmt: skip
        service = agent.devices["attendance"]
        assert isinstance(service, AttendanceService)
        service._engine = faces.engine()  # the models once per test session
        return agent, service

    # a retry period far longer than the test: only the room's coming back can send it
    hub = HubProcess(own_broker, topic_root, tmp_path / "hub",
                     env={"SMARTCLASS_HUB_ERASURE_RETRY_S": "3600"})  # fmt: skip
    hub.start()
    try:
        await hub.wait_connected()
        agent, service = room_agent()
        reply = await agent.local_command("attendance", "consent", {
            "student": STUDENT, "parent": True, "age_7_or_over": True, "student_own": True,
            "by": "it-lan",
        }, issuer="it-lan")  # fmt: skip
        assert reply.ok, reply.text
        service.vault.enrol(STUDENT, faces.templates()[STUDENT], clock.now().date())
        async with hub.client() as http:

            async def online(expected: bool) -> bool:
                r = await http.get(f"/api/v1/rooms/{SITE}/{ROOM}")
                assert r.status_code == 200, r.text
                return bool(r.json()["online"]) is expected

            async def pending() -> list[str]:
                r = await http.get(f"/api/v1/sites/{SITE}/attendance/consent",
                                   params={"student": STUDENT})  # fmt: skip
                assert r.status_code == 200, r.text
                [record] = r.json()["students"]
                rooms: list[str] = record["pending_rooms"]
                return rooms

            async with running(agent):
                await eventually(lambda: online(True), 20, "the room online at the hub")
            await eventually(lambda: online(False), 20, "the room offline at the hub")

            r = await http.post(f"/api/v1/rooms/{SITE}/{ROOM}/attendance/withdraw",
                                json={"student": STUDENT, "timeout_s": 1})  # fmt: skip
            assert r.status_code == 202, r.text
            body: dict[str, Any] = r.json()
            assert (body["code"], body["pending_rooms"]) == ("pending", [ROOM])
            assert await pending() == [ROOM]

            agent, service = room_agent()  # the same data folder: the vault on the Pi's disk
            assert service.vault.templates([STUDENT]), "the room was away: still enrolled"
            async with running(agent):

                async def erased() -> bool:
                    return not await pending()

                await eventually(erased, 30, "the withdrawal confirmed by the room")
                assert not service.vault.templates([STUDENT])
                assert not service.vault.consented(STUDENT)
    finally:
        hub.close()
