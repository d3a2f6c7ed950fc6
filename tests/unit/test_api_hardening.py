"""Bad input found by outside testers, and its class: each a 4xx the OpenAPI lists, never a 500."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
from fastapi import FastAPI, HTTPException

from hub.api.models import PARAMS_MAX_BYTES
from hub.api.routes.commands import LINK_STATUS, REPLY_STATUS, raise_for_link
from hub.app import create_app
from hub.commands import Commander
from hub.errors import CommandTimeout, HubError, PublishFailed
from hub.settings import HubSettings
from protocol import Command, CommandReply, decode
from protocol.messages import ReplyCode
from tests.unit.hub_helpers import ROOM, SITE, bearer

API = "/api/v1"
COMMANDS = f"{API}/rooms/{SITE}/{ROOM}/devices/lights/commands"
TELEMETRY = f"{API}/rooms/{SITE}/{ROOM}/telemetry"
JSON = {"content-type": "application/json"}


class Agent:
    """A connected broker link whose agent replies at once, with ``code`` (None: never)."""

    def __init__(self, commander: Commander) -> None:
        self.commander = commander
        self.code: ReplyCode | None = "ok"
        self.published: list[Command] = []

    @property
    def connected(self) -> bool:
        return True

    async def publish(
        self,
        topic: str,
        payload: bytes,
        *,
        retain: bool,
        ack_timeout_s: float,
        expiry_s: float | None = None,
    ) -> None:
        command = decode(Command, payload)
        self.published.append(command)
        if self.code is not None:
            reply = CommandReply(
                sender=f"edge/{SITE}/{ROOM}",
                id=command.id,
                device=command.device,
                code=self.code,
                text="" if self.code == "ok" else "from the device",
                state={"on": True} if self.code == "ok" else None,
            )
            self.commander.resolve(reply, SITE, ROOM)


@pytest.fixture
def app(tmp_path: Path, database_url: str) -> FastAPI:
    sites = tmp_path / "sites.yaml"
    sites.write_text(f"sites:\n  - id: {SITE}\n    name: S\n    rooms: ['{ROOM}']\n")
    settings = HubSettings(database_url=database_url, sites_file=sites)
    return create_app(settings, connect_mqtt=False)


@pytest.fixture
async def http(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hub") as c,
    ):
        c.headers.update(bearer(app))  # IT staff of the school
        yield c


@pytest.fixture
def agent(app: FastAPI, http: httpx.AsyncClient) -> Agent:
    commander: Commander = app.state.hub.commander
    commander.publisher = agent = Agent(commander)
    return agent


def strict_json(response: httpx.Response) -> Any:
    """The body as JSON, refusing NaN and infinities (not JSON) as browsers do."""

    def refuse(constant: str) -> None:
        raise ValueError(constant)

    return json.loads(response.content.decode("utf-8"), parse_constant=refuse)


def problems(response: httpx.Response) -> list[tuple[list[Any], str]]:
    assert response.status_code == 422, response.text
    return [(p["loc"], p["msg"]) for p in strict_json(response)["detail"]]


async def post_raw(http: httpx.AsyncClient, body: str) -> httpx.Response:
    return await http.post(COMMANDS, content=body.encode("utf-8", "surrogatepass"), headers=JSON)


def deep(depth: int) -> str:
    return "[" * depth + "]" * depth


# Findings: each was a 500 or was accepted.


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity"])
async def test_timeout_nan_is_a_422(http: httpx.AsyncClient, agent: Agent, value: str) -> None:
    r = await post_raw(http, f'{{"action": "on", "timeout_s": {value}}}')
    assert problems(r) == [(["body", "timeout_s"], "Input should be a finite number")]
    assert agent.published == []


async def test_timeout_5e_324_is_a_422(http: httpx.AsyncClient, agent: Agent) -> None:
    r = await http.post(COMMANDS, json={"action": "on", "timeout_s": 5e-324})
    assert problems(r) == [(["body", "timeout_s"], "Input should be greater than or equal to 0.5")]
    r = await http.post(COMMANDS, json={"action": "on", "timeout_s": 60.001})
    assert problems(r) == [(["body", "timeout_s"], "Input should be less than or equal to 60")]
    assert agent.published == []
    for timeout in (0.5, 60):
        r = await http.post(COMMANDS, json={"action": "on", "timeout_s": timeout})
        assert r.status_code == 200, r.text


@pytest.mark.parametrize(
    ("params", "where"),
    [
        ('{"zone": "\\ud800"}', "lone surrogate U+D800 in string at $.zone"),
        ('{"zone": ["a", "\\udfff"]}', "lone surrogate U+DFFF in string at $.zone[1]"),
        ('{"\\ud800": 1}', 'lone surrogate U+D800 in key at $["\\ud800"]'),
        ('{"zone": "a\\u0000"}', "NUL character in string at $.zone"),
        ('{"a\\u0000": 1}', 'NUL character in key at $["a\\u0000"]'),
    ],
)
async def test_unstorable_text_in_params_is_a_422(
    http: httpx.AsyncClient, agent: Agent, params: str, where: str
) -> None:
    r = await post_raw(http, f'{{"action": "set", "params": {params}}}')
    assert problems(r) == [(["body", "params"], f"Value error, {where}")]
    assert agent.published == []


async def test_params_256_deep_are_a_422(http: httpx.AsyncClient, agent: Agent) -> None:
    r = await post_raw(http, f'{{"action": "set", "params": {{"a": {deep(255)}}}}}')
    where = "$.a" + "[0]" * 7  # the params object is the first level
    msg = f"Value error, nested more than 8 levels deep at {where}"
    assert problems(r) == [(["body", "params"], msg)]
    assert agent.published == []


async def test_params_are_bounded_in_depth_and_size(http: httpx.AsyncClient, agent: Agent) -> None:
    eight = {"a": [[[[[[[]]]]]]]}  # the params object and 7 levels inside it
    assert (await http.post(COMMANDS, json={"action": "set", "params": eight})).status_code == 200
    nine = {"a": [[[[[[[[]]]]]]]]}
    [(_, msg)] = problems(await http.post(COMMANDS, json={"action": "set", "params": nine}))
    assert msg.startswith("Value error, nested more than 8 levels deep")

    overhead = len('{"pad":""}')
    fits = {"pad": "x" * (PARAMS_MAX_BYTES - overhead)}
    assert (await http.post(COMMANDS, json={"action": "set", "params": fits})).status_code == 200
    over = {"pad": "x" * (PARAMS_MAX_BYTES - overhead + 1)}
    [(_, msg)] = problems(await http.post(COMMANDS, json={"action": "set", "params": over}))
    assert msg.startswith(f"Value error, larger than {PARAMS_MAX_BYTES} bytes as JSON")
    assert [c.params for c in agent.published] == [eight, fits]


@pytest.mark.parametrize(
    "query",
    [
        {"end": "0001-01-01T00:00:00Z"},  # end - 1 h overflowed
        {"end": "0001-01-01T00:00:00+01:00"},  # the conversion to UTC overflowed
        {"start": "9999-12-31T23:59:59Z"},
        {"start": "9999-12-31T23:59:59-12:00"},
        {"start": "0001-01-01T00:00:00Z", "end": "9999-12-31T23:59:59Z"},
        {"end": "1969-12-31T23:59:59Z"},
        {"end": "2200-01-01T00:00:00.000001Z"},
        {"end": "10413792000000"},  # Unix time in milliseconds: 2300-01-01
    ],
)
async def test_history_bounds_out_of_range_are_a_422(
    http: httpx.AsyncClient, query: dict[str, str]
) -> None:
    r = await http.get(TELEMETRY, params={"metric": "co2_ppm", "interval_s": 60, **query})
    assert problems(r) == [
        (["query", name], f"Value error, {name} must be between 1970-01-01 and 2200-01-01 (UTC)")
        for name in query
    ]


@pytest.mark.parametrize(
    "query",
    [
        {"end": "1970-01-01T00:00:00Z"},  # default start: an hour before 1970, still fine
        {"start": "1970-01-01T00:00:00Z", "end": "2200-01-01T00:00:00Z"},
        {"start": "1970-01-01T01:00:00+01:00", "end": "1970-01-01T01:00:01+01:00"},
    ],
)
async def test_history_bounds_at_the_ends_are_fine(
    http: httpx.AsyncClient, query: dict[str, str]
) -> None:
    r = await http.get(TELEMETRY, params={"metric": "co2_ppm", "interval_s": 60, **query})
    assert (r.status_code, r.json()["points"]) == (200, [])


async def test_start_after_end_names_start(http: httpx.AsyncClient) -> None:
    query = {"metric": "co2_ppm", "start": "2025-01-02T00:00:00Z", "end": "2025-01-01T00:00:00Z"}
    assert problems(await http.get(TELEMETRY, params=query)) == [
        (["query", "start"], "start must be before end")
    ]


# The class: a 422 must be sendable whatever the input was.


@pytest.mark.parametrize(
    "body",
    [
        '{"action": NaN}',
        '{"action": "on", "extra": [Infinity, -Infinity, NaN]}',
        '{"action": "O\\ud800"}',
        '{"action": "on", "\\udc00": "\\ud800"}',
        '{"action": "on", "params": {"a": NaN}}',
        f'{{"action": "on", "extra": {deep(900)}}}',
        f"[{', '.join(['NaN'] * 5000)}]",
    ],
)
async def test_validation_errors_are_json_whatever_the_input(
    http: httpx.AsyncClient, body: str
) -> None:
    r = await post_raw(http, body)
    assert r.status_code == 422
    detail = strict_json(r)["detail"]
    assert 1 <= len(detail) <= 50
    assert all(set(p) <= {"loc", "msg", "type", "input", "ctx"} for p in detail)


async def test_a_body_that_is_not_utf8_is_refused(http: httpx.AsyncClient) -> None:
    as_json = await http.post(COMMANDS, content=b'{"action": "\xff"}', headers=JSON)
    assert as_json.status_code == 400
    as_text = await http.post(COMMANDS, content=b"\xff\xfe", headers={"content-type": "text/plain"})
    assert as_text.status_code == 422
    assert strict_json(as_text)["detail"][0]["input"] == "\ufffd\ufffd"


async def test_json_nested_past_the_parser_is_a_400(http: httpx.AsyncClient) -> None:
    r = await post_raw(http, f'{{"action": "on", "params": {{"a": {deep(20_000)}}}}}')
    assert (r.status_code, r.json()) == (400, {"detail": "There was an error parsing the body"})


# Every status a route answers is in its OpenAPI.


def documented(app: FastAPI, path: str, method: str) -> set[int]:
    return {int(code) for code in app.openapi()["paths"][path][method]["responses"]}


async def test_every_reply_code_answers_a_documented_status(
    app: FastAPI, http: httpx.AsyncClient, agent: Agent
) -> None:
    allowed = documented(app, f"{API}/rooms/{{site}}/{{room}}/devices/{{device}}/commands", "post")
    assert set(REPLY_STATUS.values()) | set(LINK_STATUS.values()) <= allowed
    for code in REPLY_STATUS:
        agent.code = cast(ReplyCode, code)
        r = await http.post(COMMANDS, json={"action": "on"})
        assert r.status_code == REPLY_STATUS[code]
        assert r.json() == {"detail": f"{code}: from the device"}
    agent.code = None
    r = await http.post(COMMANDS, json={"action": "on", "timeout_s": 0.5})
    assert r.status_code == 504
    assert r.status_code in allowed


def test_every_operation_documents_its_errors(app: FastAPI) -> None:
    rooms = f"{API}/rooms/{{site}}/{{room}}"
    sites = f"{API}/sites/{{site}}"
    auth = {401, 403}  # every route but /healthz: not signed in; not allowed, or no CSRF token
    expected = {
        (f"{API}/auth/login", "post"): {200, 400, 413, 422, 429} | auth,
        (f"{API}/auth/logout", "post"): {204, 413} | auth,
        (f"{API}/auth/me", "get"): {200, 413} | auth,
        (f"{API}/auth/tokens", "get"): {200, 413} | auth,
        (f"{API}/auth/tokens", "post"): {201, 400, 409, 413, 422} | auth,
        (f"{API}/auth/tokens/{{token_id}}", "delete"): {204, 404, 413, 422} | auth,
        (f"{API}/health", "get"): {200, 413} | auth,
        ("/healthz", "get"): {200, 413, 503},
        ("/metrics", "get"): {200, 413} | auth,
        (f"{API}/rooms", "get"): {200, 413} | auth,
        (rooms, "get"): {200, 404, 413, 422} | auth,
        (f"{rooms}/telemetry", "get"): {200, 404, 413, 422} | auth,
        (f"{rooms}/config", "get"): {200, 404, 413, 422} | auth,
        (f"{rooms}/config", "put"): {202, 400, 404, 413, 422} | auth,
        (f"{rooms}/config/versions", "get"): {200, 404, 413, 422} | auth,
        (f"{rooms}/config/versions/{{version}}", "get"): {200, 404, 413, 422} | auth,
        (f"{rooms}/config/versions/{{a}}/diff/{{b}}", "get"): {200, 404, 413, 422} | auth,
        (f"{rooms}/config/push", "post"): {202, 404, 409, 413, 422, 503} | auth,
        (f"{sites}/config", "get"): {200, 404, 413, 422} | auth,
        (f"{sites}/config", "put"): {202, 400, 404, 413, 422} | auth,
        (f"{sites}/config/versions", "get"): {200, 404, 413, 422} | auth,
        (f"{sites}/config/versions/{{version}}", "get"): {200, 404, 413, 422} | auth,
        (f"{sites}/config/versions/{{a}}/diff/{{b}}", "get"): {200, 404, 413, 422} | auth,
        (f"{rooms}/devices/{{device}}/commands", "post"): {
            200, 400, 404, 409, 413, 422, 502, 503, 504
        } | auth,
        (f"{API}/dead-letters", "get"): {200, 413, 422} | auth,
        (f"{API}/audit", "get"): {200, 413, 422} | auth,
        (f"{API}/audit.csv", "get"): {200, 413, 422} | auth,
        (f"{API}/fleet", "get"): {200, 413, 422} | auth,
        (f"{API}/fleet/{{site}}/{{room}}", "get"): {200, 404, 413, 422} | auth,
        (f"{API}/alerts", "get"): {200, 413, 422} | auth,
        (f"{API}/alerts/{{alert_id}}", "get"): {200, 404, 413, 422} | auth,
        (f"{API}/alerts/{{alert_id}}/ack", "post"): {200, 400, 404, 409, 413, 422, 503} | auth,
        (f"{API}/alerts/{{alert_id}}/resolve", "post"): {
            200, 400, 404, 409, 413, 422, 503
        } | auth,
        (f"{rooms}/alerts", "get"): {200, 404, 413, 422} | auth,
        (f"{API}/reports/usage", "get"): {200, 404, 413, 422} | auth,
        (f"{API}/reports/compare", "get"): {200, 404, 413, 422} | auth,
        (f"{API}/reports/forecasts", "get"): {200, 404, 413, 422} | auth,
        (f"{API}/reports/forecasts/lamps.csv", "get"): {200, 404, 413, 422} | auth,
        (f"{API}/reports/forecasts/energy.csv", "get"): {200, 404, 413, 422} | auth,
        (f"{rooms}/config/preview", "post"): {200, 400, 404, 413, 422} | auth,
        (f"{sites}/config/preview", "post"): {200, 400, 404, 413, 422} | auth,
        (f"{API}/stream", "get"): {200, 413, 422, 503} | auth,
        (f"{rooms}/panel/pairing", "post"): {201, 404, 409, 413, 422, 502, 503, 504} | auth,
        (f"{rooms}/panel/pairing", "delete"): {204, 404, 409, 413, 422, 502, 503, 504} | auth,
        (f"{API}/users", "get"): {200, 413} | auth,
        (f"{API}/users", "post"): {201, 400, 409, 413, 422} | auth,
        (f"{API}/users/{{username}}/disable", "post"): {200, 400, 404, 409, 413, 422} | auth,
        (f"{API}/users/{{username}}/enable", "post"): {200, 404, 413, 422} | auth,
        (f"{API}/users/{{username}}/password", "post"): {200, 404, 413, 422} | auth,
        (f"{API}/users/{{username}}/reach", "put"): {200, 400, 404, 413, 422} | auth,
        (f"{rooms}/attendance", "get"): {200, 404, 413, 422} | auth,
        (f"{sites}/attendance", "get"): {200, 404, 413, 422} | auth,
        (f"{sites}/attendance/rates", "get"): {200, 404, 413, 422} | auth,
        (f"{sites}/attendance/rates.csv", "get"): {200, 404, 413, 422} | auth,
        (f"{sites}/attendance/consent", "get"): {200, 404, 413, 422} | auth,
        (f"{sites}/attendance/methods", "get"): {200, 404, 413, 422} | auth,
        (f"{rooms}/attendance/consent", "post"): {
            200, 400, 404, 409, 413, 422, 502, 503, 504
        } | auth,
        (f"{rooms}/attendance/withdraw", "post"): {
            200, 202, 400, 404, 409, 413, 422, 502, 503, 504
        } | auth,
        (f"{rooms}/attendance/roster", "post"): {
            200, 400, 404, 409, 413, 422, 502, 503, 504
        } | auth,
        (f"{rooms}/attendance/enrol", "post"): {
            200, 404, 409, 413, 422, 502, 503, 504
        } | auth,
    }  # fmt: skip
    paths = app.openapi()["paths"]
    assert {(p, m) for p, ops in paths.items() for m in ops} == set(expected)
    for (path, method), statuses in expected.items():
        assert documented(app, path, method) == statuses, (path, method)
        for code, response in paths[path][method]["responses"].items():
            if code == "204":
                continue
            if path.endswith(".csv") and code == "200":
                assert "text/csv" in response["content"], (path, method, code)
                continue
            if path == "/metrics" and code == "200":
                assert "text/plain" in response["content"], (path, method, code)
                continue
            if path == f"{API}/stream" and code == "200":
                assert "text/event-stream" in response["content"], (path, method, code)
                continue
            assert response["content"]["application/json"]["schema"], (path, method, code)


def test_hub_errors_map_by_kind_and_unknown_ones_are_a_documented_503() -> None:
    class Refused(PublishFailed):
        pass

    for exc, code in [(Refused("no"), 503), (CommandTimeout("late"), 504), (HubError("new"), 503)]:
        with pytest.raises(HTTPException) as caught:
            raise_for_link(exc)
        assert (caught.value.status_code, caught.value.detail) == (code, str(exc))
