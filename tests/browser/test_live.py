"""Live updates in a real browser: a page follows a feed, loses its server, and catches up."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import Response
from playwright.sync_api import expect

from smartclass.broker import free_port
from tests.browser.conftest import OpenPage
from ui.live import LiveFeed, last_event_id, stream_response
from ui.pages import Pages, mount_static

PAGE = """{% extends "base.html" %}
{% block status %}<span data-live-status data-up="up" data-down="down"></span>{% endblock %}
{% block main %}
<ol id="seen">{% for n in shown %}<li>{{ n }}</li>{% endfor %}</ol>
{% endblock %}
{% block scripts %}<script>
SmartclassLive.follow("/stream", {
  note: function (data) {
    var li = document.createElement("li"); li.textContent = data.n;
    document.getElementById("seen").appendChild(li);
  }
}, {after: {{ after }}});
</script>{% endblock %}
"""


class Server:
    """The app under uvicorn in a thread, stopped and started again on the same port."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.loop: asyncio.AbstractEventLoop | None = None

    def start(self) -> None:
        config = uvicorn.Config(
            self.app, host="127.0.0.1", port=self.port, log_config=None, lifespan="off"
        )
        self._server = server = uvicorn.Server(config)
        started = threading.Event()

        async def serve() -> None:
            self.loop = asyncio.get_running_loop()
            started.set()
            await server.serve()

        def run() -> None:  # asyncio.run cancels what is left and closes the loop
            asyncio.run(serve())

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        assert started.wait(10)
        deadline = time.monotonic() + 10
        while not server.started:  # uvicorn says so only by this flag
            assert self._thread.is_alive(), "the server did not start"
            assert time.monotonic() < deadline, "the server did not start within 10 s"
            threading.Event().wait(0.01)

    def stop(self) -> None:
        """Stop as a crash would: the open connections are cut, not closed politely."""
        server = self._server
        assert server is not None
        assert self._thread is not None
        server.should_exit = True
        server.force_exit = True  # the open event streams would hold it otherwise

        def cut() -> None:
            for connection in list(server.server_state.connections):
                connection.transport.abort()  # type: ignore[attr-defined]

        self.call(cut)
        self._thread.join(10)
        assert not self._thread.is_alive()
        self.loop = None

    def call(self, fn: object, *args: object) -> None:
        """Run ``fn(*args)`` on the server's loop (the feed belongs to it), or here if stopped."""
        if self.loop is None:
            fn(*args)  # type: ignore[operator]
            return
        done = threading.Event()
        self.loop.call_soon_threadsafe(lambda: (fn(*args), done.set()))  # type: ignore[operator]
        assert done.wait(5)


@pytest.fixture
def live(tmp_path: Path) -> Iterator[tuple[Server, LiveFeed, list[int]]]:
    (tmp_path / "page.html").write_text(PAGE)
    pages = Pages(tmp_path, app_name="test")
    feed = LiveFeed(keep=5)
    shown: list[int] = []
    app = FastAPI()
    mount_static(app)

    @app.get("/")
    def page(request: Request) -> Response:
        return pages.render(request, "page.html", title="live", shown=shown, after=feed.last_id)

    @app.get("/stream")
    def stream(request: Request, after: str | None = None) -> Response:
        return stream_response(feed, last_event_id(request.headers.get("last-event-id"), after))

    server = Server(app)
    server.start()
    yield server, feed, shown
    if server.loop is not None:
        server.stop()


def note(feed: LiveFeed, shown: list[int], n: int) -> None:
    shown.append(n)
    feed.publish("note", {"n": n})


def test_a_page_catches_up_on_what_it_missed_while_its_server_was_away(
    live: tuple[Server, LiveFeed, list[int]], open_page: OpenPage
) -> None:
    server, feed, shown = live
    page = open_page()
    page.goto(server.url)
    status = page.locator("[data-live-status]")
    expect(status).to_have_attribute("data-state", "up")
    server.call(note, feed, shown, 1)
    expect(page.locator("#seen li")).to_have_text(["1"])
    server.stop()
    expect(status).to_have_attribute("data-state", "down")
    for n in (2, 3):
        note(feed, shown, n)
    server.start()
    expect(status).to_have_attribute("data-state", "up", timeout=15_000)
    expect(page.locator("#seen li")).to_have_text(["1", "2", "3"])
    server.call(note, feed, shown, 4)
    expect(page.locator("#seen li")).to_have_text(["1", "2", "3", "4"])


def test_a_page_too_far_behind_reloads_what_it_shows(
    live: tuple[Server, LiveFeed, list[int]], open_page: OpenPage
) -> None:
    server, feed, shown = live
    page = open_page()
    page.goto(server.url)
    expect(page.locator("[data-live-status]")).to_have_attribute("data-state", "up")
    server.stop()
    for n in range(1, 9):  # more than the feed keeps
        note(feed, shown, n)
    server.start()
    expected = [str(n) for n in range(1, 9)]
    expect(page.locator("#seen li")).to_have_text(expected, timeout=15_000)
