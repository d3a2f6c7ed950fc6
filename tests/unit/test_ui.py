"""The pages' shared part: language choice, safe redirects, formats and the live feed."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient

from ui.i18n import Formats, negotiate
from ui.live import LiveFeed, last_event_id
from ui.pages import LANG_COOKIE, Pages, language_routes, mount_static, safe_next


@pytest.mark.parametrize(
    ("cookie", "header", "expected"),
    [
        (None, None, "vi"),
        ("en", "vi-VN", "en"),
        ("xx", "en-US,en;q=0.9", "en"),
        (None, "fr-FR, en;q=0.5, vi;q=0.8", "vi"),
        (None, "en;q=0, fr", "vi"),
        (None, "en;q=abc", "vi"),
        (None, "," * 5000, "vi"),
    ],
)
def test_the_language_is_the_choice_then_the_browser_then_vietnamese(
    cookie: str | None, header: str | None, expected: str
) -> None:
    assert negotiate(cookie, header) == expected


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/rooms?x=1", "/rooms?x=1"),
        ("//evil.example/", "/"),
        ("https://evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("rooms", "/"),
        ("/a\nb", "/"),
    ],
)
def test_going_back_after_choosing_a_language_stays_on_the_site(target: str, expected: str) -> None:
    assert safe_next(target) == expected


def test_dates_and_numbers_follow_the_locale_in_the_school_time_zone() -> None:
    noon_utc = datetime(2026, 12, 2, 5, 0, tzinfo=UTC)
    assert Formats("vi").time(noon_utc) == "12:00"
    assert Formats("en").time(noon_utc) == "12:00\u202fPM"
    assert Formats("vi").number(1234.5) == "1.234,5"
    assert Formats("en").number(1234.5) == "1,234.5"
    assert Formats("vi").number(None) == "—"


def test_a_page_is_rendered_in_the_chosen_language_and_the_choice_is_kept(tmp_path: Path) -> None:
    (tmp_path / "page.html").write_text(
        '{% extends "base.html" %}{% block main %}<h1>{{ _("Language") }}</h1>{% endblock %}'
    )
    pages = Pages(tmp_path, app_name="test")
    app = FastAPI()
    mount_static(app)
    app.include_router(language_routes())

    @app.get("/page")
    def page(request: Request) -> object:
        return pages.render(request, "page.html", title="t")

    with TestClient(app) as client:
        first = client.get("/page")
        assert "<h1>Ngôn ngữ</h1>" in first.text
        assert 'lang="vi"' in first.text
        switched = client.get("/lang/en?next=/page", follow_redirects=False)
        assert switched.status_code == 303
        assert switched.headers["location"] == "/page"
        assert client.cookies.get(LANG_COOKIE) == "en"
        assert "<h1>Language</h1>" in client.get("/page").text
        unknown = client.get("/lang/xx?next=//evil.example", follow_redirects=False)
        assert unknown.headers["location"] == "/"
        assert client.cookies.get(LANG_COOKIE) == "en"
        assert client.get("/static/ui/live.js").status_code == 200


def test_last_event_id_reads_only_plain_numbers() -> None:
    assert last_event_id("12", None) == 12
    assert last_event_id(None, "7") == 7
    assert last_event_id("x", "-1") is None
    assert last_event_id("9" * 30, None) is None


async def _take(stream: object, n: int) -> list[bytes]:
    out = []
    async for chunk in stream:  # type: ignore[attr-defined]
        out.append(chunk)
        if len(out) == n:
            break
    return out


async def test_a_stream_sends_what_a_reconnecting_page_missed() -> None:
    feed = LiveFeed(keep=10)
    for n in range(5):
        feed.publish("state", {"n": n})
    chunks = await _take(feed.stream(3), 3)
    assert chunks[0].startswith(b"retry: ")
    assert b"id: 4\nevent: state\n" in chunks[1]
    assert b'{"n":3}' in chunks[1]
    assert b"id: 5\n" in chunks[2]


async def test_a_page_too_far_behind_is_told_to_resync() -> None:
    feed = LiveFeed(keep=3)
    for n in range(10):
        feed.publish("state", {"n": n})
    chunks = await _take(feed.stream(2), 2)
    assert b"event: resync" in chunks[1]
    later = await _take(feed.stream(99), 2)  # an id of an earlier run of the app
    assert b"event: resync" in later[1]


async def test_a_live_stream_gets_new_events_and_keepalives() -> None:
    feed = LiveFeed()
    stream = feed.stream(None, keepalive=0.05)
    assert (await anext(stream)).startswith(b"retry: ")
    assert await anext(stream) == b": keepalive\n\n"
    waiting = asyncio.ensure_future(anext(stream))
    await asyncio.sleep(0)
    feed.publish("alert", {"id": 1})
    assert b"event: alert" in await waiting
    assert feed.listeners == 1
    await stream.aclose()
    assert feed.listeners == 0


def test_a_feed_keeps_a_bounded_memory() -> None:
    feed = LiveFeed(keep=100)
    for n in range(10_000):
        feed.publish("state", {"n": n})
    assert feed.since(feed.last_id - 100) is not None
    assert feed.since(feed.last_id - 101) is None
    assert feed.since(0) is None
