"""Attendance pages in a real browser, on a hub process and the real broker, with a room that
speaks the attendance contract (its marks arrive as events; its attendance device answers
the hub's commands).

An admin reads the attendance rates and the CSV says what the API and the table say; IT
records a consent and withdraws it, each after a confirmation, and the room gets both
commands; IT enrols a student's face from photos and is told when the room has no consent or
a photo shows several faces; a teacher cannot read another room's attendance. Each page is
checked with axe-core and for English left on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import re
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin
from zoneinfo import ZoneInfo

import aiomqtt
import pytest
from playwright.sync_api import Dialog, Page, expect

from hub.access import Role
from protocol import Command, CommandReply, Event, RoomTopics, decode, encode, utcnow
from protocol.attendance import DEVICE, KIND_MARK, KIND_SUMMARY
from smartclass.broker import Mosquitto
from smartclass.faceset import ensure_faces
from tests.browser.conftest import (
    Hub,
    OpenPage,
    add_users,
    assert_no_english,
    both_languages,
    in_thread,
    sign_in,
)
from tests.integration.system import HubProcess, agent_client, eventually

SITE, MINE, OTHER = "thcs-nguyen-chi-thanh", "6a1", "6a2"
TODAY = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date()
MARKS = {"hs01": "present", "hs02": "late", "hs03": "absent", "hs04": "present"}


class AttendanceRoom:
    """Room 6A1 in an event loop of its own: an attendance device that answers every command
    with ``ok`` (``enrol_templates`` only for a student whose consent it holds, as the agent
    does), and marks sent as the room's events."""

    def __init__(self, broker: Mosquitto, root: str) -> None:
        self.broker = broker
        self.root = root
        self.topics = RoomTopics(SITE, MINE, root)
        self.commands: list[Command] = []
        self.loop = asyncio.new_event_loop()
        self._client: aiomqtt.Client | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="attendance-room", daemon=True)
        self._seq = 0
        self.boot = uuid.uuid4().hex[:12]
        self.consented = {"hs07"}
        """Students whose consent the room's vault holds (recorded there with the CLI)."""

    def start(self) -> None:
        self._thread.start()
        assert self._ready.wait(20), "the room did not start"

    def _run(self) -> None:
        try:
            self.loop.run_until_complete(self._main())
        finally:
            self.loop.close()

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        async with agent_client(self.broker, self.root, SITE, MINE) as edge:
            self._client = edge
            await edge.subscribe(self.topics.command(DEVICE), qos=1)
            answering = asyncio.create_task(self._answer(edge))
            self._ready.set()
            await self._stop.wait()
            answering.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await answering

    async def _answer(self, edge: aiomqtt.Client) -> None:
        async for message in edge.messages:
            assert isinstance(message.payload, bytes)
            command = decode(Command, message.payload)
            self.commands.append(command)
            student = command.params.get("student")
            if command.action == "enrol_templates" and student not in self.consented:
                reply = CommandReply(
                    sender=f"edge/{SITE}/{MINE}", id=command.id, device=DEVICE,
                    code="bad_params", text=f"no_consent: {student}: no consent recorded",
                )  # fmt: skip
            else:
                reply = CommandReply(
                    sender=f"edge/{SITE}/{MINE}",
                    id=command.id,
                    device=DEVICE,
                    code="ok",
                    state={},
                )
            await edge.publish(self.topics.reply_to(command.reply_to), encode(reply), qos=1)

    def send(self, kind: str, data: dict[str, Any]) -> None:
        """An attendance event of the room, published as the agent's outbox would."""
        self._seq += 1
        event = Event(
            sender=f"edge/{SITE}/{MINE}", boot=self.boot, seq=self._seq, ts=utcnow(),
            kind=kind, data={"av": 1, **data},
        )  # fmt: skip

        async def publish() -> None:
            assert self._client is not None
            await self._client.publish(self.topics.event, encode(event), qos=1)

        asyncio.run_coroutine_threadsafe(publish(), self.loop).result(10)

    def got(self, action: str) -> Command:
        async def found() -> Command | None:
            return next((c for c in self.commands if c.action == action), None)

        command: Command = asyncio.run_coroutine_threadsafe(
            eventually(found, 10, f"the {action} command"), self.loop
        ).result(15)
        return command

    def stop(self) -> None:
        if self._stop is not None:
            self.loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)


@dataclass
class School:
    hub: Hub
    room: AttendanceRoom


@pytest.fixture(scope="module")
def school(mosquitto: Mosquitto, tmp_path_factory: pytest.TempPathFactory) -> Iterator[School]:
    root = f"a{uuid.uuid4().hex[:10]}"
    work = tmp_path_factory.mktemp("attendance")
    process = HubProcess(mosquitto, root, work / "hub", rooms=[(SITE, MINE), (SITE, OTHER)])
    users = add_users(process.database_url, ((SITE, MINE), (SITE, OTHER)))
    process.start()
    room = AttendanceRoom(mosquitto, root)
    try:
        in_thread(process.wait_connected)
        room.start()
        slot = {"class_id": "6a1", "date": TODAY.isoformat(), "period": 1}
        for student, status in MARKS.items():
            room.send(KIND_MARK, {**slot, "student": student, "status": status, "method": "face",
                                  "confidence": 0.93, "at": utcnow().isoformat()})  # fmt: skip
        room.send(KIND_SUMMARY, {**slot, "method": "face", "roster": 5, "present": 2, "late": 1,
                                 "absent": 1})  # fmt: skip
        yield School(Hub(process, users), room)
    finally:
        room.stop()
        process.close()


def api(page: Page, url: str) -> Any:
    r = page.request.get(urljoin(page.url, url))
    assert r.ok, r.text()
    return r.json()


def rates_url(day: date) -> str:
    return f"/api/v1/sites/{SITE}/attendance/rates?from={day}&to={day}&group=class"


def test_an_admin_reads_the_rates_and_the_csv_says_what_the_api_says(
    school: School, open_page: OpenPage
) -> None:
    page = open_page("desktop")
    sign_in(page, school.hub, Role.ADMIN, next="/reports")
    page.get_by_role("link", name="Điểm danh").click()
    expect(page).to_have_url(re.compile(r"/reports/attendance$"))

    # the room's events went through the broker and the ingest
    page.wait_for_function(
        "async url => (await (await fetch(url)).json()).rates.length > 0",
        arg=rates_url(TODAY), polling=100,
    )  # fmt: skip
    page.goto(f"{school.hub.url}/reports/attendance?place={SITE}&from={TODAY}&to={TODAY}")
    row = page.locator('tr[data-class="6a1"]')
    expect(row.locator('td[data-key="rate"]')).to_have_text("60%")  # 3 of a roster of 5
    [rate] = api(page, rates_url(TODAY))["rates"]
    assert (rate["roster"], rate["present"], rate["late"], rate["absent"], rate["rate"]) == (
        5, 2, 1, 1, 0.6,
    )  # fmt: skip
    with page.expect_download() as info:
        page.locator('[data-csv="attendance"]').click()
    with Path(info.value.path()).open(encoding="utf-8", newline="") as fh:
        [line] = list(csv.DictReader(fh))
    assert line["class_id"] == "6a1"
    assert (int(line["roster"]), int(line["present"]), int(line["late"]), float(line["rate"])) == (
        rate["roster"], rate["present"], rate["late"], rate["rate"],
    )  # fmt: skip
    assert row.locator('td[data-key="rate"]').get_attribute("data-value") == line["rate"]
    both_languages(page, "attendance-report")


def test_it_records_a_consent_and_withdraws_it(school: School, open_page: OpenPage) -> None:
    page = open_page("desktop")
    sign_in(page, school.hub, Role.IT, next="/dashboard")
    page.get_by_role("link", name="Đồng ý và đăng ký khuôn mặt").click()
    expect(page).to_have_url(f"{school.hub.url}/dashboard/consent/{SITE}")
    asked: list[str] = []

    def confirm(dialog: Dialog) -> None:
        asked.append(dialog.message)
        dialog.accept()

    page.on("dialog", confirm)
    page.select_option("#consent-room", MINE)
    page.fill("#consent-student", "hs01")
    page.check("#consent-parent")
    page.check("#consent-age")
    page.check("#consent-own")
    page.get_by_role("button", name="Ghi nhận", exact=True).click()
    row = page.locator('tr[data-student-row="hs01"]')
    expect(row).to_have_attribute("data-state", "recorded")
    expect(row.locator('[data-key="by"]')).to_have_text("it.minh")
    consent = school.room.got("consent")
    assert (consent.params["student"], consent.params["by"]) == ("hs01", "it.minh")
    assert_no_english(page)

    row.get_by_role("button", name="Rút lại sự đồng ý").click()
    expect(row).to_have_attribute("data-state", "withdrawn")
    withdraw = school.room.got("withdraw")
    assert withdraw.params == {"av": 1, "student": "hs01", "by": "it.minh"}
    assert len(asked) == 2
    assert "hs01" in asked[1]
    [record] = api(page, f"/api/v1/sites/{SITE}/attendance/consent")["students"]
    assert [h["state"] for h in record["history"]] == ["withdrawn", "recorded"]
    both_languages(page, "attendance-consent")


def test_a_teacher_cannot_read_another_rooms_attendance(
    school: School, open_page: OpenPage
) -> None:
    page = open_page()
    sign_in(page, school.hub, Role.TEACHER)
    base = school.hub.url
    query = f"from={TODAY}&to={TODAY}"
    own = page.request.get(f"{base}/api/v1/rooms/{SITE}/{MINE}/attendance?{query}")
    assert own.status == 200
    assert page.request.get(f"{base}/api/v1/rooms/{SITE}/{OTHER}/attendance?{query}").status == 403
    assert page.request.get(f"{base}/api/v1/sites/{SITE}/attendance?{query}").status == 403
    refused = page.goto(f"{base}/dashboard/consent/{SITE}")
    assert refused is not None
    assert refused.status == 403


def test_it_enrols_a_students_face_from_photos_in_vietnamese(
    school: School, open_page: OpenPage
) -> None:
    folder = ensure_faces()
    page = open_page("desktop")
    sign_in(page, school.hub, Role.IT, next=f"/dashboard/consent/{SITE}")
    form = page.locator("form[data-enrol]")
    outcome = page.locator("#outcome-enrol")
    page.select_option("#enrol-room", MINE)

    def enrol(student: str, *photos: str) -> None:
        page.fill("#enrol-student", student)
        page.set_input_files("#enrol-photos", [str(folder / p) for p in photos])
        # the picker's words in the page's language, not the browser's
        expect(page.locator("#enrol-chosen")).to_have_text(f"Đã chọn {len(photos)} ảnh")
        form.get_by_role("button", name="Đăng ký", exact=True).click()

    enrol("hs08", "obama.jpg")  # the room holds no consent for hs08
    expect(form).to_have_attribute("data-result", "no_consent")
    expect(outcome).to_have_text(re.compile(r"^Chưa đăng ký được: phòng học chưa ghi nhận"))
    enrol("hs07", "obama.jpg", "t1.jpg")  # the second photo is of a whole group
    expect(form).to_have_attribute("data-result", "422")
    expect(outcome).to_have_text("Chưa đăng ký được: ảnh 2 có nhiều hơn một khuôn mặt.")
    before = len([c for c in school.room.commands if c.action == "enrol_templates"])
    enrol("hs07", "obama.jpg", "obama2.jpg")
    expect(form).to_have_attribute("data-result", "enrolled")
    expect(outcome).to_have_text("Đã đăng ký: 2 mẫu khuôn mặt đã được lưu trong phòng học.")
    sent = [c for c in school.room.commands if c.action == "enrol_templates"]
    assert len(sent) == before + 1, "a refused photo sends nothing to the room"
    command = sent[-1]
    assert (command.params["student"], command.params["by"]) == ("hs07", "it.minh")
    assert [len(t) for t in command.params["templates"]] == [128, 128]
    assert page.locator("#enrol-photos").evaluate("e => e.files.length") == 0, "form cleared"
    expect(page.locator("#enrol-chosen")).to_have_text("Chưa chọn ảnh nào")
    both_languages(page, "attendance-enrol")
