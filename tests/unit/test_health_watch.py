"""The demo's watch of the hub's health: once per change, on an injected fetch and clock."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from smartclass.health_watch import HealthWatch, Healthz, fetch_healthz

WELL = Healthz(answered=True)
SILENT = Healthz(answered=False, error="connection refused")


def unwell(*problems: str) -> Healthz:
    return Healthz(answered=True, problems=problems)


class Hub:
    """What /healthz answers next, the time, and what the demo said."""

    def __init__(self) -> None:
        self.now = 100.0
        self.answer = WELL
        self.asked = 0
        self.said: list[str] = []

    def fetch(self) -> Healthz:
        self.asked += 1
        return self.answer

    def watch(self) -> HealthWatch:
        return HealthWatch(self.fetch, say=self.said.append, clock=lambda: self.now, interval_s=2.0)

    def poll(self, watch: HealthWatch, answer: Healthz) -> list[str]:
        """The next poll's answer; what the demo said at it."""
        self.answer = answer
        self.now += 2.0
        before = len(self.said)
        watch.check()
        return self.said[before:]


def test_it_says_once_when_the_ingest_stops_and_once_when_it_is_well_again() -> None:
    hub = Hub()
    watch = hub.watch()
    assert hub.poll(watch, WELL) == []
    assert hub.poll(watch, unwell("ingest not running (last error: boom)")) == [
        "smartclass: the hub reports problems: ingest not running (last error: boom)"
    ]
    assert hub.poll(watch, unwell("ingest not running (last error: boom again)")) == []
    assert hub.poll(watch, WELL) == ["smartclass: the hub is well again"]
    assert hub.poll(watch, WELL) == []


def test_numbers_that_move_are_the_same_problem_and_a_new_problem_is_said() -> None:
    hub = Hub()
    watch = hub.watch()
    restarted = "ingest restarted 1 times, the last 3 s ago (OverflowError)"
    said = hub.poll(watch, unwell(restarted))
    assert said == [f"smartclass: the hub reports problems: {restarted}"]
    later = "ingest restarted 1 times, the last 5 s ago (OverflowError)"
    assert hub.poll(watch, unwell(later)) == []
    both = unwell(later, "MQTT not connected")
    assert hub.poll(watch, both) == [
        f"smartclass: the hub reports problems: {later}; MQTT not connected"
    ]


def test_a_hub_that_stops_answering_is_said_after_two_silent_polls() -> None:
    hub = Hub()
    watch = hub.watch()
    assert hub.poll(watch, SILENT) == []  # one slow answer is no news
    assert hub.poll(watch, SILENT) == [
        "smartclass: the hub does not answer its health check (connection refused)"
    ]
    assert hub.poll(watch, SILENT) == []
    assert hub.poll(watch, WELL) == ["smartclass: the hub is well again"]


def test_it_asks_at_most_once_per_interval() -> None:
    hub = Hub()
    watch = hub.watch()
    for _ in range(10):  # the demo's loop turns every half second
        watch.check()
    assert hub.asked == 1
    hub.now += 1.9
    watch.check()
    assert hub.asked == 1
    hub.now += 0.1
    watch.check()
    assert hub.asked == 2


class _Healthz(BaseHTTPRequestHandler):
    status = 200
    body = b'{"status": "ok"}'

    def do_GET(self) -> None:
        self.send_response(self.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[ThreadingHTTPServer]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Healthz)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield httpd
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def test_fetch_reads_200_and_the_problems_of_a_503(server: ThreadingHTTPServer) -> None:
    url = f"http://127.0.0.1:{server.server_address[1]}/healthz"
    assert fetch_healthz(url) == WELL
    _Healthz.status = 503
    _Healthz.body = json.dumps({"status": "unhealthy", "problems": ["MQTT not connected"]}).encode()
    try:
        assert fetch_healthz(url) == unwell("MQTT not connected")
        _Healthz.body = b"<html>gateway</html>"
        assert fetch_healthz(url) == unwell("HTTP 503")
    finally:
        _Healthz.status, _Healthz.body = 200, b'{"status": "ok"}'
    server.shutdown()
    server.server_close()
    found = fetch_healthz(url, timeout_s=1)
    assert (found.answered, found.problems) == (False, ())
