"""The browser suite: Debian's Chromium driven by Playwright, against servers the suite starts.

Playwright cannot download its own browsers here, so it drives ``/usr/bin/chromium``
(installed by ``scripts/bootstrap --dev``), headless. Each test gets pages at the tablet
(1280x800) or desktop (1920x1080) size in Vietnamese or English; ``shoot`` saves a
screenshot under ``build/screenshots/`` (or ``$SMARTCLASS_SCREENSHOTS``), the suite's
artefacts. ``assert_accessible`` runs axe-core (vendored in ``vendor/``) for WCAG 2 A and
AA, contrast included; ``assert_no_english`` fails on a string of the code left in English
on a Vietnamese page.
"""

from __future__ import annotations

import asyncio
import os
import re
import uuid
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Playwright,
    expect,
    sync_playwright,
)

from hub.access import Role
from hub.db import create_schema, make_engine
from hub.users import Users
from smartclass.broker import Mosquitto
from tests.integration.system import ROOMS, HubProcess
from ui.catalogs import SAME_IN_VIETNAMESE, extract

CHROMIUM = Path(os.environ.get("SMARTCLASS_CHROMIUM", "/usr/bin/chromium"))
VENDOR = Path(__file__).parent / "vendor"
AXE = VENDOR / "axe-4.11.0.min.js"
SCREENSHOTS = Path(os.environ.get("SMARTCLASS_SCREENSHOTS", "build/screenshots"))
SIZES = {"tablet": {"width": 1280, "height": 800}, "desktop": {"width": 1920, "height": 1080}}
PASSWORD = "browser-suite-password-1"
"""The password of the users these tests make (each hub has its own database)."""

pytestmark = pytest.mark.browser


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    """Playwright for the session (the browser suite runs last: see tests/conftest.py)."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/bootstrap --dev (it installs chromium)")
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
    )
    yield browser
    browser.close()


OpenPage = Callable[..., Page]


@pytest.fixture
def open_page(browser: Browser) -> Iterator[OpenPage]:
    """``open_page(size="tablet", locale="vi")``: a page in a new browser context (its own
    cookies), failing the test on any script error of the page."""
    contexts: list[BrowserContext] = []
    errors: list[str] = []

    def make(size: str = "tablet", locale: str = "vi") -> Page:
        context = browser.new_context(viewport=SIZES[size], locale=locale)  # type: ignore[arg-type]
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        return page

    yield make
    for context in contexts:
        context.close()
    assert errors == [], f"script errors on the page: {errors}"


def shoot(page: Page, name: str) -> Path:
    """Save a screenshot of the whole page as ``{name}.{lang}.{width}x{height}.png``."""
    size = page.viewport_size or {"width": 0, "height": 0}
    lang = page.evaluate("document.documentElement.lang")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.{lang}.{size['width']}x{size['height']}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def assert_accessible(page: Page) -> None:
    """No WCAG 2 A or AA violation that axe-core finds on the page as it is now."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    result: dict[str, Any] = page.evaluate(
        "axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa']}})"
    )
    violations = [
        f"{v['id']}: {v['help']} ({', '.join(n['target'][0] for n in v['nodes'][:3])})"
        for v in result["violations"]
    ]
    assert violations == [], "\n".join(violations)


def _english_strings() -> list[re.Pattern[str]]:
    ids = sorted({e.id for e in extract().values()} - SAME_IN_VIETNAMESE, key=len, reverse=True)
    wordy = [i for i in ids if re.search("[A-Za-z]{2,}", i)]
    return [re.compile(rf"(?<![\w-]){re.escape(i)}(?![\w-])") for i in wordy]


ENGLISH = _english_strings()


def assert_no_english(page: Page) -> None:
    """The visible text of a Vietnamese page has none of the code's English strings."""
    assert page.evaluate("document.documentElement.lang") == "vi"
    text = page.evaluate(
        "document.body.innerText + '\\n' + Array.from(document.querySelectorAll("
        "'[placeholder],[aria-label],[title]')).map(e => [e.placeholder, "
        "e.getAttribute('aria-label'), e.title].filter(Boolean).join('\\n')).join('\\n')"
    )
    left = sorted({p.pattern for p in ENGLISH if p.search(text)})
    assert left == [], f"English left on a Vietnamese page: {left}"


def in_thread(make: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
    """Run a coroutine to its end in a thread of its own: Playwright's sync API keeps an
    event loop running in the tests' thread."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(make())).result()


@dataclass
class Hub:
    """A hub process for the browser, and the users it knows (all with ``PASSWORD``)."""

    process: HubProcess
    users: dict[Role, str]

    @property
    def url(self) -> str:
        return self.process.url


def add_users(database_url: str, rooms: tuple[tuple[str, str], ...]) -> dict[Role, str]:
    """One user per role: a teacher of the first room, IT and an admin of its school."""
    engine = make_engine(database_url)
    try:
        create_schema(engine)
        users = Users(engine, argon2_time_cost=1, argon2_memory_kib=8192)
        site = rooms[0][0]
        made = {
            Role.TEACHER: users.add("co.lan", Role.TEACHER, PASSWORD, rooms=[rooms[0]]),
            Role.IT: users.add("it.minh", Role.IT, PASSWORD, sites=[site]),
            Role.ADMIN: users.add("bgh.hoa", Role.ADMIN, PASSWORD, sites=[site]),
            Role.DISTRICT: users.add("phong.gd", Role.DISTRICT, PASSWORD),
        }
        return {role: user.username for role, user in made.items()}
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def hub(mosquitto: Mosquitto, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    """A hub process on the suite's broker, with a user of each role (one per module)."""
    root = f"b{uuid.uuid4().hex[:10]}"
    process = HubProcess(mosquitto, root, tmp_path_factory.mktemp("hub"), rooms=ROOMS)
    users = add_users(process.database_url, tuple(ROOMS))
    process.start()
    try:
        in_thread(process.wait_connected)
        yield Hub(process, users)
    finally:
        process.close()


def sign_in(page: Page, hub: Hub, role: Role, *, next: str = "/") -> None:
    """Sign in through the sign-in page, as a person would."""
    page.goto(f"{hub.url}/login?next={next}")
    page.fill("#username", hub.users[role])
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)


def both_languages(page: Page, name: str) -> None:
    """The page in Vietnamese as it is (no English left), then in English: each checked for
    accessibility and shot, so both languages can be looked at."""
    assert_no_english(page)
    assert_accessible(page)
    shoot(page, name)
    page.click("a[hreflang=en]")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    assert_accessible(page)
    shoot(page, name)
