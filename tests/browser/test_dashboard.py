"""The IT dashboard in a real browser, on a hub process with a real agent on the real broker.

IT sees the school with the room online, opens it and switches its lights, and the confirmed
state arrives over the live stream; a teacher's help request flashes on the alerts page, IT
acknowledges it (the room's panel shows it) and resolves it with a comment; a configuration
with an error shows it by its field and line, a good one its differences, then is pushed and
applied; a tablet's pairing code is shown; IT adds a user who then signs in; a teacher stays
in their own room; a page recovers after the hub restarts; and every page is screenshot at
both sizes in both languages, checked with axe-core and for English left, and weighed.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import re
import threading
import uuid
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import aiomqtt
import pytest
from playwright.sync_api import Page, expect

from edge.agent import Agent
from edge.dispatch import run_command
from edge.help import PANEL_ID
from hub.access import Role
from hub.db import make_engine
from hub.users import Users
from protocol import Command, CommandReply, RoomTopics, decode, encode, utcnow
from smartclass.broker import Mosquitto
from tests.browser.conftest import (
    PASSWORD,
    SCREENSHOTS,
    Hub,
    OpenPage,
    add_users,
    assert_accessible,
    assert_no_english,
    in_thread,
    shoot,
    sign_in,
)
from tests.integration.system import (
    HubProcess,
    agent_client,
    eventually,
    make_agent,
    mqtt_client,
    running,
)

SITE, MINE, OTHER = "thcs-nguyen-chi-thanh", "6a1", "6a2"
ROOM_PAGE = f"/dashboard/rooms/{SITE}/{MINE}"
WEIGHT_MAX = 200_000
"""Bytes a first load of any dashboard page may transfer (the room's, with uPlot, is the
largest); measured figures go to build/screenshots/page-weight.json."""
WEIGHTS: dict[str, int] = {}


class Rooms:
    """The school's rooms in an event loop of their own (Playwright's sync API holds the test
    thread's): 6A1's real agent, and 6A2 as far as its tablet's pairing goes (a panel that
    answers ``pair`` and ``unpair``)."""

    def __init__(self, broker: Mosquitto, root: str, agent: Agent) -> None:
        self.broker = broker
        self.root = root
        self.agent = agent
        self.pairings: list[Command] = []
        self.loop = asyncio.new_event_loop()
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rooms", daemon=True)

    def start(self) -> None:
        self._thread.start()
        assert self._ready.wait(20), "the rooms did not start"

    def _run(self) -> None:
        try:
            self.loop.run_until_complete(self._main())
        finally:
            self.loop.close()

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        topics = RoomTopics(SITE, OTHER, self.root)
        async with running(self.agent), agent_client(self.broker, self.root, SITE, OTHER) as edge:
            await edge.subscribe(topics.command(PANEL_ID), qos=1)
            panel = asyncio.create_task(self._panel(edge, topics))
            self._ready.set()
            await self._stop.wait()
            panel.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await panel

    async def _panel(self, edge: aiomqtt.Client, topics: RoomTopics) -> None:
        async for message in edge.messages:
            assert isinstance(message.payload, bytes)
            command = decode(Command, message.payload)
            self.pairings.append(command)
            reply = CommandReply(
                sender=f"edge/{SITE}/{OTHER}", id=command.id, device=PANEL_ID, code="ok",
                state={"paired_tablets": 0},
            )  # fmt: skip
            await edge.publish(topics.reply_to(command.reply_to), encode(reply), qos=1)

    def call(self, make: Callable[[], Coroutine[Any, Any, Any]], timeout: float = 30) -> Any:
        return asyncio.run_coroutine_threadsafe(make(), self.loop).result(timeout)

    def press(self, device: str, action: str, **params: Any) -> Any:
        """What the room's own panel does: a command executed by the agent itself."""
        command = Command(
            sender=self.agent.sender, id=uuid.uuid4().hex, device=device, action=action,
            params=params, issuer="panel", expires=utcnow() + timedelta(seconds=10),
        )  # fmt: skip
        return self.call(lambda: run_command(self.agent.devices, command, sender="panel"))

    def command(self, device: str, action: str, **params: Any) -> None:
        """A command to the room over the broker (the agent runs it and publishes the state),
        from a client of the test: it works while the hub is away."""
        command = Command(
            sender="hub/test", id=uuid.uuid4().hex, device=device, action=action,
            params=params, issuer="test", expires=utcnow() + timedelta(seconds=10),
        )  # fmt: skip
        topic = RoomTopics(SITE, MINE, self.root).command(device)

        async def send() -> None:
            async with mqtt_client(self.broker, self.root, "dashboard-test") as client:
                await client.publish(topic, encode(command), qos=1)

        self.call(send)

    def panel_shows(self, request: str) -> dict[str, Any]:
        async def shown() -> dict[str, Any] | None:
            state = await self.agent.panel.state()
            return state if state["request"] == request else None

        result: dict[str, Any] = self.call(lambda: eventually(shown, 15, f"the panel: {request}"))
        return result

    def stop(self) -> None:
        if self._stop is not None:
            self.loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)


@dataclass
class School:
    hub: Hub
    rooms: Rooms
    teachers: dict[str, str] = field(default_factory=dict)


@pytest.fixture(scope="module")
def school(mosquitto: Mosquitto, tmp_path_factory: pytest.TempPathFactory) -> Iterator[School]:
    root = f"d{uuid.uuid4().hex[:10]}"
    work = tmp_path_factory.mktemp("dashboard")
    process = HubProcess(
        mosquitto, root, work / "hub", rooms=[(SITE, MINE), (SITE, OTHER)],
        env={"SMARTCLASS_HUB_LIVE_TELEMETRY_INTERVAL_S": "1"},
    )  # fmt: skip
    users = add_users(process.database_url, ((SITE, MINE), (SITE, OTHER)))
    engine = make_engine(process.database_url)
    try:
        Users(engine, argon2_time_cost=1, argon2_memory_kib=8192).add(
            "co.mai", Role.TEACHER, PASSWORD, rooms=[(SITE, OTHER)]
        )
    finally:
        engine.dispose()
    process.start()
    agent, _ = make_agent(mosquitto, root, work / "edge", interval=0.5)
    rooms = Rooms(mosquitto, root, agent)
    try:
        in_thread(process.wait_connected)
        rooms.start()
        yield School(Hub(process, users), rooms, {MINE: users[Role.TEACHER], OTHER: "co.mai"})
    finally:
        rooms.stop()
        process.close()


def weigh(page: Page, name: str) -> int:
    """Bytes the page's first load transferred: the document and every resource."""
    total: int = page.evaluate(
        "performance.getEntriesByType('navigation').concat(performance.getEntriesByType("
        "'resource')).filter(e => !e.name.includes('/api/v1/stream'))"
        ".reduce((n, e) => n + (e.transferSize || 0), 0)"
    )
    WEIGHTS[name] = max(total, WEIGHTS.get(name, 0))
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS / "page-weight.json").write_text(json.dumps(WEIGHTS, indent=2, sort_keys=True))
    assert total < WEIGHT_MAX, f"{name}: {total} bytes"
    return total


def live(page: Page) -> None:
    expect(page.locator("[data-live-status]")).to_have_attribute("data-state", "up")


def test_it_sees_the_room_online_and_its_lights_switch_live(
    school: School, open_page: OpenPage
) -> None:
    page = open_page("desktop", "vi")
    sign_in(page, school.hub, Role.IT)
    assert page.url.endswith("/dashboard"), "IT's start page is the overview"
    card = page.locator(f'[data-room-card="{SITE}/{MINE}"]')
    expect(card.locator(".badge.ok")).to_have_text("Đang kết nối")
    expect(page.locator(f'[data-room-card="{SITE}/{OTHER}"] .badge.bad')).to_have_text(
        "Mất kết nối"
    )
    card.locator("a").click()
    page.wait_for_url(f"**{ROOM_PAGE}")
    live(page)
    front = page.locator('[data-device="lights"] [data-zone="front"]')
    expect(front).to_have_text("Tắt")
    page.evaluate("window.notReloaded = true")
    page.locator('[data-device="lights"] button[data-command="scene"]', has_text="Học bài").click()
    expect(page.locator('[data-device="lights"] [data-outcome]')).to_have_text("Đã xong.")
    expect(front).to_have_text("Bật · 100 %")  # the confirmed state, from the live stream
    assert page.evaluate("window.notReloaded") is True, "the page was not reloaded"
    expect(page.locator('[data-chart="co2_ppm"] canvas').first).to_be_visible()


def test_a_help_request_flashes_and_it_answers_it(school: School, open_page: OpenPage) -> None:
    page = open_page("tablet", "vi")
    sign_in(page, school.hub, Role.IT, next="/dashboard/alerts")
    live(page)
    sound = page.locator("[data-sound]")
    sound.click()
    expect(sound).to_have_attribute("aria-pressed", "true")
    school.rooms.press(PANEL_ID, "help", reason="Máy chiếu không lên hình")
    row = page.locator("tr.help[data-alert]")
    expect(row).to_have_class(re.compile(r"\bflashing\b"))  # arrived live, and flashes
    expect(row).to_contain_text("Máy chiếu không lên hình")
    expect(row).to_contain_text("Yêu cầu hỗ trợ")
    school.rooms.panel_shows("open")

    row.locator("button[data-alert-action=ack]").click()
    expect(row.locator(".field-error")).to_have_text("Hãy viết ghi chú trước.")
    row.locator("input[name=comment]").fill("Đang tới phòng 6A1")
    row.locator("button[data-alert-action=ack]").click()
    expect(row).to_contain_text("Đã xác nhận")
    state = school.rooms.panel_shows("acknowledged")
    assert (state["by"], state["comment"]) == ("it.minh", "Đang tới phòng 6A1")

    page.goto(f"{school.hub.url}{ROOM_PAGE}")
    expect(page.locator('[data-device="panel"] [data-request]')).to_have_text(
        "Bộ phận CNTT đã nhận"
    )  # the panel's state as the hub has it
    row = page.locator("tr.help[data-alert]")
    row.locator("input[name=comment]").fill("Đã thay dây HDMI")
    row.locator("button[data-alert-action=resolve]").click()
    expect(page.locator('[data-part="alerts"]')).to_contain_text(
        "Phòng này không có cảnh báo nào đang mở."
    )
    school.rooms.panel_shows("none")
    expect(page.locator('[data-device="panel"] [data-request]')).to_have_text("Không có yêu cầu")


def test_a_configuration_error_is_shown_by_its_field_then_a_good_one_is_pushed(
    school: School, open_page: OpenPage
) -> None:
    page = open_page("desktop", "vi")
    sign_in(page, school.hub, Role.IT, next=f"/dashboard/config/{SITE}?room={MINE}")
    timetable = page.locator("#section-timetable")
    bad = {"morning": [{"period": 1, "start": "07:00", "end": "07:45"},
                       {"period": 2, "start": "07:50", "end": "8h35"}]}  # fmt: skip
    timetable.fill(json.dumps(bad))
    page.click("[data-check]")
    error = page.locator('[data-error-for="timetable"]')
    expect(error).to_be_visible()
    expect(error).to_contain_text("Dòng 11 · morning.1.end")  # laid out again: the line of "end"
    expect(timetable).to_have_attribute("aria-invalid", "true")
    expect(page.locator("[data-push]")).to_be_hidden()

    morning = [{"period": 1, "start": "07:00", "end": "07:45"},
               {"period": 2, "start": "07:50", "end": "08:35"}]  # fmt: skip
    good = {"morning": morning, "lead_min": 10}
    timetable.fill(json.dumps(good))
    page.fill("#change-comment", "Tiết 2 sớm hơn")
    page.click("[data-check]")
    expect(error).to_be_hidden()
    diff = page.locator("[data-diff]")
    expect(diff).to_contain_text("+ timetable")
    expect(diff).to_contain_text("Các phòng sẽ nhận phiên bản mới: 6a1")
    page.click("[data-push]")
    expect(page.locator(".editor [data-outcome]")).to_have_text(
        "Đã lưu phiên bản 1; đã gửi xuống 1/1 phòng."
    )
    applied = page.locator(f'[data-config-room="{MINE}"]')
    expect(applied).to_contain_text("Đã áp dụng")  # the agent's report, over the live stream

    page.goto(f"{school.hub.url}{ROOM_PAGE}")  # the room's history, through the diff API
    expect(page.locator("[data-applied]")).to_have_text("1")
    page.click('[data-version-diff="1"]')
    expect(page.locator("#version-diff")).to_contain_text('+ timetable: {"morning"')


def test_a_pairing_code_is_shown_big_with_its_expiry(school: School, open_page: OpenPage) -> None:
    page = open_page("tablet", "vi")
    sign_in(page, school.hub, Role.IT, next=f"/dashboard/rooms/{SITE}/{OTHER}")
    page.click("[data-pair]")
    code = page.locator("[data-code]")
    expect(code).to_have_text(re.compile(r"^[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{8}$"))
    expect(page.locator("[data-expires]")).to_have_text(re.compile(r"^\d\d:\d\d$"))
    pair = school.rooms.pairings[-1]
    assert pair.action == "pair"
    assert pair.params["code_sha256"] == hashlib.sha256(code.inner_text().encode()).hexdigest()
    shoot(page, "dashboard-pairing")


def test_it_adds_a_user_who_then_signs_in(school: School, open_page: OpenPage) -> None:
    page = open_page("desktop", "vi")
    sign_in(page, school.hub, Role.IT, next="/dashboard/users")
    form = page.locator("[data-add-user]")
    form.locator("#new-username").fill("co.hanh")
    form.locator("#new-display").fill("Cô Hạnh")
    form.locator("#new-role").select_option("teacher")
    form.locator("button[type=submit]").click()
    expect(form.locator('[data-error-for="rooms"]')).to_contain_text("Chọn ít nhất một")
    form.locator(f'input[name=rooms][value="{SITE}/{MINE}"]').check()
    form.locator("button[type=submit]").click()
    password = page.locator("[data-password]")
    expect(password).to_have_text(re.compile(r"^\S{16,}$"))
    expect(page.locator('[data-user-row="co.hanh"]')).to_contain_text("Cô Hạnh")

    teacher = open_page("tablet", "vi")
    teacher.goto(f"{school.hub.url}/login")
    teacher.fill("#username", "co.hanh")
    teacher.fill("#password", password.inner_text())
    teacher.click("button[type=submit]")
    teacher.wait_for_url("**/dashboard")
    cards = teacher.locator("[data-room-card]")
    expect(cards).to_have_count(1)
    expect(cards).to_have_attribute("data-room-card", f"{SITE}/{MINE}")


def test_a_teacher_stays_in_their_own_room(school: School, open_page: OpenPage) -> None:
    page = open_page("tablet", "vi")
    sign_in(page, school.hub, Role.TEACHER)  # the teacher of 6A1
    expect(page.locator("[data-room-card]")).to_have_count(1)
    expect(page.locator("nav a")).to_have_count(1)  # the overview only: no fleet, no config
    response = page.goto(f"{school.hub.url}/dashboard/rooms/{SITE}/{OTHER}")
    assert response is not None
    assert response.status == 403
    expect(page.locator("h1")).to_have_text("Không được phép")
    assert page.request.get(f"{school.hub.url}/api/v1/rooms/{SITE}/{OTHER}").status == 403
    page.goto(f"{school.hub.url}{ROOM_PAGE}")
    expect(
        page.locator('[data-device="lights"] button[data-command="scene"]').first
    ).to_be_visible()
    expect(page.locator("[data-pair]")).to_have_count(0)


def test_a_page_catches_up_after_the_hub_restarts(school: School, open_page: OpenPage) -> None:
    page = open_page("desktop", "vi")
    sign_in(page, school.hub, Role.IT, next=ROOM_PAGE)
    live(page)
    page.evaluate("window.notReloaded = true")
    middle = page.locator('[data-device="lights"] [data-zone="middle"]')
    school.rooms.command("lights", "set", zone="middle", on=True)
    expect(middle).to_contain_text("Bật")
    process = school.hub.process
    process.close()
    expect(page.locator("[data-live-status]")).to_have_attribute("data-state", "down")
    school.rooms.command("lights", "set", zone="middle", on=False)  # while the hub is away
    process.start()
    in_thread(process.wait_connected)
    live(page)
    expect(middle).to_have_text("Tắt", timeout=15_000)  # caught up without a reload
    assert page.evaluate("window.notReloaded") is True


PAGES = {
    "dashboard-overview": "/dashboard",
    "dashboard-alerts": "/dashboard/alerts",
    "dashboard-room": ROOM_PAGE,
    "dashboard-fleet": "/dashboard/fleet",
    "dashboard-config": f"/dashboard/config/{SITE}?room={MINE}",
    "dashboard-users": "/dashboard/users",
}


def show(page: Page, name: str) -> None:
    """Wait for what a page is about to be there (its live stream included)."""
    live(page)
    if name == "dashboard-alerts":
        expect(page.locator("tr.help[data-alert]")).to_have_count(1)
    if name == "dashboard-room":
        expect(page.locator('[data-chart="co2_ppm"] canvas').first).to_be_visible()


@pytest.mark.parametrize("locale", ["vi", "en"])
def test_every_page_in_both_languages_at_both_sizes(
    school: School, open_page: OpenPage, locale: str
) -> None:
    """At the tablet's size each page is a first load in a fresh browser (weighed), checked
    with axe-core and, in Vietnamese, for English left; at the desktop's, shown again."""
    school.rooms.press(PANEL_ID, "help", reason="Loa bị rè")  # an open help request to show
    first = open_page("tablet", locale)
    first.goto(f"{school.hub.url}/lang/{locale}?next=/login")
    sign_in(first, school.hub, Role.IT)
    cookies = first.context.cookies()
    for name, path in PAGES.items():
        page = open_page("tablet", locale)  # a fresh browser cache: the weight of a first load
        page.context.add_cookies(cookies)  # type: ignore[arg-type]
        page.goto(f"{school.hub.url}{path}")
        show(page, name)
        assert page.evaluate("document.documentElement.lang") == locale
        weigh(page, name)
        if locale == "vi":
            assert_no_english(page)
        assert_accessible(page)
        shoot(page, name)
    desktop = open_page("desktop", locale)
    desktop.context.add_cookies(cookies)  # type: ignore[arg-type]
    for name, path in PAGES.items():
        desktop.goto(f"{school.hub.url}{path}")
        show(desktop, name)
        if locale == "vi":
            assert_no_english(desktop)
        shoot(desktop, name)
