"""The request body limit: refused by Content-Length, or counted while a chunked body streams."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from hub.api.limits import BodyLimit
from hub.app import create_app
from hub.settings import HubSettings
from tests.unit.hub_helpers import ROOM, SITE

LIMIT = 64 * 1024
COMMANDS = f"/api/v1/rooms/{SITE}/{ROOM}/devices/lights/commands"
CONFIG = f"/api/v1/rooms/{SITE}/{ROOM}/config"
TWENTY_MB = 20 * 1024 * 1024


class Chunks:
    """A request body sent chunked, counting how much of it the server pulled."""

    def __init__(self, total: int, size: int = 16 * 1024) -> None:
        self.total = total
        self.size = size
        self.pulled = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while self.pulled < self.total:
            chunk = b" " * min(self.size, self.total - self.pulled)
            self.pulled += len(chunk)
            yield chunk


async def echo(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """An ASGI app answering with the length of the body it read."""
    size = 0
    while True:
        message = await receive()
        size += len(message.get("body", b""))
        if not message.get("more_body"):
            break
    body = json.dumps({"read": size}).encode()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})


def client(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hub")


@pytest.mark.parametrize("size", [0, 1, LIMIT - 1, LIMIT])
async def test_bodies_up_to_the_limit_pass(size: int) -> None:
    async with client(BodyLimit(echo, max_bytes=LIMIT)) as http:
        by_length = await http.post("/", content=b"x" * size)
        chunked = await http.post("/", content=Chunks(size))
    assert by_length.json() == chunked.json() == {"read": size}


async def test_a_declared_length_past_the_limit_is_refused_unread() -> None:
    body = Chunks(LIMIT + 1)
    async with client(BodyLimit(echo, max_bytes=LIMIT)) as http:
        r = await http.post("/", content=body, headers={"content-length": str(LIMIT + 1)})
    assert r.status_code == 413
    assert r.json() == {"detail": f"request body larger than {LIMIT} bytes"}
    assert r.headers["connection"] == "close"
    assert body.pulled == 0


async def test_a_chunked_body_is_cut_at_the_chunk_that_passes_the_limit() -> None:
    body = Chunks(TWENTY_MB, size=10_000)
    async with client(BodyLimit(echo, max_bytes=LIMIT)) as http:
        r = await http.post("/", content=body)
    assert r.status_code == 413
    assert r.json() == {"detail": f"request body larger than {LIMIT} bytes"}
    assert body.pulled == 70_000  # the 7th chunk passes 64 KiB; nothing after it is read


@pytest.mark.parametrize("length", ["abc", "-1", "1e3", ""])
async def test_an_unreadable_length_falls_back_to_counting(length: str) -> None:
    """A real server refuses these; here the body is still counted."""
    scope = {"type": "http", "method": "POST", "headers": [(b"content-length", length.encode())]}
    sent: list[dict[str, Any]] = []
    messages = iter([{"type": "http.request", "body": b"x" * (LIMIT + 1)}])

    async def receive() -> dict[str, Any]:
        return next(messages)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await BodyLimit(echo, max_bytes=LIMIT)(scope, receive, send)
    assert sent[0]["status"] == 413


async def test_a_length_of_many_digits_is_refused() -> None:
    async with client(BodyLimit(echo, max_bytes=LIMIT)) as http:
        r = await http.post("/", content=Chunks(10), headers={"content-length": "9" * 5000})
    assert r.status_code == 413


async def test_other_scopes_pass_through() -> None:
    seen: list[str] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        seen.append(scope["type"])

    async def nothing() -> dict[str, Any]:
        raise AssertionError

    async def drop(message: dict[str, Any]) -> None:
        raise AssertionError

    for kind in ("lifespan", "websocket"):
        await BodyLimit(app, max_bytes=1)({"type": kind}, nothing, drop)
    assert seen == ["lifespan", "websocket"]


async def test_a_refusal_after_the_response_started_is_not_hidden() -> None:
    from hub.api.limits import BodyTooLarge

    async def answers_then_reads(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await receive()

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"x" * 10}

    async def send(message: dict[str, Any]) -> None:
        pass

    with pytest.raises(BodyTooLarge):
        await BodyLimit(answers_then_reads, max_bytes=5)({"type": "http"}, receive, send)


# The hub app itself: 20 MB command bodies (a finding) with and without Content-Length.


@pytest.fixture
def hub_app(tmp_path: Path, database_url: str) -> FastAPI:
    sites = tmp_path / "sites.yaml"
    sites.write_text(f"sites:\n  - id: {SITE}\n    name: S\n    rooms: ['{ROOM}']\n")
    settings = HubSettings(database_url=database_url, sites_file=sites)
    return create_app(settings, connect_mqtt=False)


def big_command() -> bytes:
    """A 20 MB command that is valid JSON: it must be refused for its size alone."""
    padding = "x" * (TWENTY_MB - 100)
    return json.dumps({"action": "on", "params": {"padding": padding}}).encode()


@pytest.mark.parametrize(
    ("method", "url"), [("POST", COMMANDS), ("PUT", CONFIG), ("GET", "/api/v1/health")]
)
async def test_the_hub_refuses_a_20_mb_body_by_its_length(
    hub_app: FastAPI, method: str, url: str
) -> None:
    body = big_command()
    async with hub_app.router.lifespan_context(hub_app), client(hub_app) as http:
        r = await http.request(method, url, content=body)
    assert r.status_code == 413
    assert r.json() == {"detail": "request body larger than 65536 bytes"}


@pytest.mark.parametrize(("method", "url"), [("POST", COMMANDS), ("PUT", CONFIG)])
async def test_the_hub_refuses_a_20_mb_chunked_body_early(
    hub_app: FastAPI, method: str, url: str
) -> None:
    body = Chunks(TWENTY_MB)
    json_type = {"content-type": "application/json"}
    async with hub_app.router.lifespan_context(hub_app), client(hub_app) as http:
        r = await http.request(method, url, content=body, headers=json_type)
    assert r.status_code == 413
    assert r.json() == {"detail": "request body larger than 65536 bytes"}
    assert body.pulled == LIMIT + 16 * 1024  # up to the chunk past the limit, no further


async def test_the_limit_is_a_setting(database_url: str) -> None:
    settings = HubSettings(database_url=database_url, max_body_bytes=2048)
    app = create_app(settings, connect_mqtt=False)
    async with app.router.lifespan_context(app), client(app) as http:
        small = await http.put(CONFIG, content=b" " * 2048)
        large = await http.put(CONFIG, content=b" " * 2049)
    assert small.status_code != 413  # read, then found wanting
    assert large.status_code == 413
    assert large.json() == {"detail": "request body larger than 2048 bytes"}
