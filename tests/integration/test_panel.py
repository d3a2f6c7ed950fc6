"""The teacher's panel served by a real agent on a real secured Mosquitto, over real TCP:
pairing (as the hub sends it, and with ``smartclass edge pair``), what an unpaired browser
gets, taps reaching the devices without the broker, the projector's busy time, the live
stream and its catching up, local mode, and faults that stay inside the panel."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from devices.projector.config import SimProjectorConfig
from edge.agent import Agent
from edge.config import load_room_config
from edge.panel.pairing import ATTEMPTS_MAX, COOKIE, code_sha256, new_code
from edge.panel.room import RoomView
from protocol import Command, CommandReply, DeviceState, HubStatus, decode, encode, utcnow
from protocol.aio import wait_within
from protocol.topics import HUB_SEGMENT
from smartclass.broker import Mosquitto, free_port
from smartclass.cli import main
from tests.integration.system import SIM_ROOM, eventually, make_agent, mqtt_client, running

pytestmark = pytest.mark.integration

WAIT_S = 10.0


class Ticks:
    """The simulated projector's clock: its warm-up lasts until the test moves it."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def projector(**changes: Any) -> SimProjectorConfig:
    config = load_room_config(SIM_ROOM).devices["projector"]
    assert isinstance(config, SimProjectorConfig)
    tuned = {"warmup_s": 20, "cooldown_s": 20, "transition_poll_s": 0.05, "input_switch_s": 0.5}
    return config.model_copy(update={**tuned, **changes})


@contextlib.asynccontextmanager
async def panel(agent: Agent, *, connected: bool = True) -> AsyncIterator[httpx.AsyncClient]:
    """The agent running, and an HTTP client on its panel (not paired)."""
    server = agent.panel_server
    assert server is not None
    async with running(agent, wait_connected=connected):
        await wait_within(server.listening.wait(), WAIT_S)
        async with httpx.AsyncClient(base_url=server.url, timeout=WAIT_S) as http:
            yield http


async def pair(agent: Agent, http: httpx.AsyncClient) -> str:
    """Pair ``http`` with a code put straight into the agent (the hub's path is tested below)."""
    code = new_code()
    await asyncio.to_thread(agent.pairing.add_code, code_sha256(code), 600)
    r = await http.post("/pair", data={"code": code})
    assert r.status_code == 303, r.text
    token = r.cookies[COOKIE]
    http.cookies.set(COOKIE, token)
    return token


async def hub_command(
    broker: Mosquitto, root: str, agent: Agent, device: str, action: str, **params: Any
) -> CommandReply:
    """A command as the hub sends it, through the broker, and the agent's reply."""
    command = Command(
        sender="hub/test", id=f"c-{time.monotonic_ns()}", device=device, action=action,
        params=params, issuer="it", expires=utcnow() + timedelta(seconds=10),
    )  # fmt: skip
    async with mqtt_client(broker, root, "hub") as hub:
        await hub.subscribe(agent.topics.reply, qos=1)
        await hub.publish(agent.topics.command(device), encode(command), qos=1)
        async with asyncio.timeout(WAIT_S):
            async for message in hub.messages:
                reply = decode(CommandReply, message.payload)  # type: ignore[arg-type]
                if reply.id == command.id:
                    return reply
    raise AssertionError("no reply")  # pragma: no cover


class Stream:
    """A page's live stream, read event by event."""

    def __init__(self, response: httpx.Response) -> None:
        self.lines = response.aiter_lines()
        self.last_id: str | None = None

    async def next(self, kind: str | None = None) -> tuple[str, dict[str, Any]]:
        async with asyncio.timeout(WAIT_S):
            event, data = "", ""
            async for line in self.lines:
                if line.startswith("id: "):
                    self.last_id = line[4:]
                elif line.startswith("event: "):
                    event = line[7:]
                elif line.startswith("data: "):
                    data = line[6:]
                elif line == "" and event:
                    if kind is None or event == kind:
                        return event, json.loads(data)
                    event, data = "", ""
        raise AssertionError(f"the stream ended before a {kind} event")

    async def until(self, kind: str, check: Any) -> dict[str, Any]:
        while True:
            _, data = await self.next(kind)
            if check(data):
                return data


async def test_an_unpaired_browser_gets_only_the_pairing_page(
    broker: Mosquitto, topic_root: str, tmp_path: Path
) -> None:
    agent, _ = make_agent(broker, topic_root, tmp_path)
    async with panel(agent) as http:
        page = await http.get("/")
        assert (page.status_code, page.headers["location"]) == (303, "/pair")
        pairing = await http.get("/pair")
        assert pairing.status_code == 200
        assert "Ghép nối máy tính bảng này" in pairing.text
        for secret in ("6A1", "thcs-nguyen-chi-thanh", "lights", "projector", "Máy chiếu"):
            assert secret not in pairing.text
        for url in ("/api/state", "/api/stream"):
            assert (await http.get(url)).status_code == 401
        for url, body in [
            ("/api/devices/lights/actions/on", {}),
            ("/api/lesson/start", {}),
            ("/api/help", {"reason": "sound"}),
        ]:
            r = await http.post(url, json=body)
            assert r.status_code == 401, url
            assert "pair" in r.json()["detail"]
        assert all(not z["on"] for z in (await agent.devices["lights"].state()).values())
        assert (await http.get("/")).headers["x-frame-options"] == "DENY"


async def test_a_code_the_hub_sends_pairs_one_tablet_once_with_a_strict_cookie(
    broker: Mosquitto, topic_root: str, tmp_path: Path
) -> None:
    agent, _ = make_agent(broker, topic_root, tmp_path)
    async with panel(agent) as http, mqtt_client(broker, topic_root, "watch") as watch:
        code = new_code()
        reply = await hub_command(
            broker, topic_root, agent, "panel", "pair",
            code_sha256=code_sha256(code), expires_in_s=600,
        )  # fmt: skip
        assert reply.code == "ok", reply.text
        assert reply.state is not None
        assert (reply.state["code_pending"], reply.state["paired_tablets"]) == (True, 0)
        assert code not in json.dumps(reply.state)
        r = await http.post("/pair", data={"code": f"{code[:4]}-{code[4:].lower()}"})
        assert (r.status_code, r.headers["location"]) == (303, "/")
        cookie = r.headers["set-cookie"]
        for attribute in ("HttpOnly", "SameSite=strict", "Max-Age=34560000", "Path=/"):
            assert attribute in cookie
        http.cookies.set(COOKIE, r.cookies[COOKIE])
        state = await http.get("/api/state")
        assert state.status_code == 200
        assert state.json()["room"] == {"site": agent.room_file.site, "room": "6a1",
                                        "name": "Lớp 6A1"}  # fmt: skip
        assert (await http.get("/")).status_code == 200
        await watch.subscribe(agent.topics.state("panel"), qos=1)

        async def panel_published() -> bool:
            async with asyncio.timeout(WAIT_S):
                async for message in watch.messages:
                    state = decode(DeviceState, message.payload).state  # type: ignore[arg-type]
                    if state["paired_tablets"] == 1 and not state["code_pending"]:
                        return True
            return False

        assert await panel_published()
        again = httpx.AsyncClient(base_url=http.base_url)
        async with again:
            r = await again.post("/pair", data={"code": code})
            assert r.status_code == 400
            assert "Mã không đúng hoặc đã hết hạn" in r.text
            assert COOKIE not in r.cookies


async def test_wrong_codes_close_pairing_with_a_clear_message(
    broker: Mosquitto, topic_root: str, tmp_path: Path
) -> None:
    agent, _ = make_agent(broker, topic_root, tmp_path)
    async with panel(agent, connected=False) as http:
        code = new_code()
        await asyncio.to_thread(agent.pairing.add_code, code_sha256(code), 600)
        statuses = [(await http.post("/pair", data={"code": "XXXXXXXX"})).status_code
                    for _ in range(ATTEMPTS_MAX - 1)]  # fmt: skip
        assert statuses == [400] * (ATTEMPTS_MAX - 1)
        last = await http.post("/pair", data={"code": "XXXXXXXX"})
        assert last.status_code == 429
        right = await http.post("/pair", data={"code": code}, headers={"Accept-Language": "en"})
        assert right.status_code == 429
        assert "Too many wrong codes. Try again in 10 minutes." in right.text
        assert 590 <= int(right.headers["retry-after"]) <= 600


async def test_unpair_ends_every_tablets_stream_and_access(
    broker: Mosquitto, topic_root: str, tmp_path: Path
) -> None:
    agent, _ = make_agent(broker, topic_root, tmp_path)
    async with panel(agent) as http:
        await pair(agent, http)
        other = httpx.AsyncClient(base_url=http.base_url, timeout=WAIT_S)
        async with other, http.stream("GET", "/api/stream") as response:
            await pair(agent, other)
            assert response.status_code == 200
            stream = Stream(response)
            reply = await hub_command(broker, topic_root, agent, "panel", "unpair")
            assert reply.code == "ok"
            assert reply.state is not None
            assert reply.state["paired_tablets"] == 0
            kind, _ = await stream.next("unpaired")
            assert kind == "unpaired"
            with pytest.raises(AssertionError, match="ended"):
                await stream.next()
            for client in (http, other):
                assert (await client.get("/api/state")).status_code == 401
                assert (await client.get("/")).headers["location"] == "/pair"


async def test_paired_tablets_survive_the_agents_restart(
    broker: Mosquitto, topic_root: str, tmp_path: Path
) -> None:
    agent, _ = make_agent(broker, topic_root, tmp_path)
    async with panel(agent) as http:
        token = await pair(agent, http)
        port = http.base_url.port
    again, _ = make_agent(broker, topic_root, tmp_path, panel={"port": port})
    async with panel(again) as http:
        assert http.base_url.port == port
        http.cookies.set(COOKIE, token)
        assert (await http.get("/api/state")).status_code == 200


async def test_smartclass_edge_pair_makes_a_code_the_running_panel_takes(
    broker: Mosquitto, topic_root: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    agent, _ = make_agent(broker, topic_root, tmp_path / "edge")
    async with panel(agent) as http:
        room_file = tmp_path / "room.yaml"
        room_file.write_text(SIM_ROOM.read_text(encoding="utf-8"), encoding="utf-8")
        argv = ["edge", "pair", "--config", str(room_file), "--data-dir", str(tmp_path / "edge")]
        assert main(argv) == 0
        printed = capsys.readouterr().out
        code = printed.split("?code=")[1].split()[0]
        assert f"{code[:4]} {code[4:]}" in printed
        r = await http.post("/pair", data={"code": code})
        assert r.status_code == 303
        room_file.write_text(
            SIM_ROOM.read_text(encoding="utf-8").replace("  enabled: true", "  enabled: false")
        )
        assert main(argv) == 2
        assert "panel.enabled is false" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("method", "url", "body", "status", "says"),
    [
        ("post", "/api/devices/nowhere/actions/on", {}, 404, "no device"),
        ("post", "/api/devices/env/actions/on", {}, 404, "no device"),
        ("post", "/api/devices/panel/actions/pair", {}, 404, "no device"),
        ("post", "/api/devices/projector/actions/refresh", {}, 404, "no action"),
        ("post", "/api/devices/lights/actions/scene", {"name": "disco"}, 422, "no scene 'disco'"),
        ("post", "/api/devices/lights/actions/set", {"zone": "front"}, 422, "exactly one"),
        ("post", "/api/devices/lights/actions/on", [1], 422, "JSON object"),
        ("post", "/api/devices/lights/actions/on", "{not json", 400, "not JSON"),
        ("post", "/api/devices/lights/actions/on", None, 415, "Content-Type"),
        ("post", "/api/help", {"reason": "bored"}, 422, "reason"),
        ("post", "/api/help", {"reason": "sound", "text": "x" * 151}, 422, "text"),
        ("post", "/api/help", {"reason": "sound", "who": "me"}, 422, "who"),
        ("post", "/api/lesson/start", {"now": True}, 422, "now"),
        ("post", "/api/lesson/start", "x" * 5000, 413, "too large"),
    ],
)  # fmt: skip
async def test_a_bad_request_gets_a_clear_4xx(
    broker: Mosquitto, topic_root: str, tmp_path: Path,
    method: str, url: str, body: Any, status: int, says: str,
) -> None:  # fmt: skip
    agent, _ = make_agent(broker, topic_root, tmp_path)
    async with panel(agent, connected=False) as http:
        await pair(agent, http)
        if body is None:
            r = await http.post(url, content=b"{}")
        elif isinstance(body, str):
            r = await http.post(url, content=body.encode(),
                                headers={"Content-Type": "application/json"})  # fmt: skip
        else:
            r = await http.post(url, json=body)
        assert r.status_code == status, r.text
        answer = r.json()
        assert says in str(answer.get("text") or answer.get("detail")), answer
        assert (await http.get("/api/state")).status_code == 200  # and the panel goes on


async def test_a_tap_switches_the_lights_with_the_broker_down_and_the_hub_then_follows(
    own_broker: Mosquitto, topic_root: str, tmp_path: Path
) -> None:
    agent, factory = make_agent(own_broker, topic_root, tmp_path)
    async with panel(agent) as http:
        await pair(agent, http)
        after = (await http.get("/api/state")).json()["last_event"]
        own_broker.stop()
        await eventually(lambda: _false(agent.connected.is_set()), WAIT_S, "the link down")
        async with http.stream("GET", "/api/stream", params={"after": after}) as response:
            stream = Stream(response)
            link = await stream.until("link", lambda data: not data["broker"])
            assert link["local"]
            r = await http.post("/api/devices/lights/actions/set",
                                json={"zone": "middle", "on": True})  # fmt: skip
            assert r.status_code == 200, r.text
            assert factory.pin(23).state == 1
            view = await stream.until("device", lambda v: v["zones"]["middle"]["on"])
            assert view["id"] == "lights"
            own_broker.start()
            await stream.until("link", lambda data: data["broker"])
        async with mqtt_client(own_broker, topic_root, "hub") as hub:
            await hub.subscribe(agent.topics.state("lights"), qos=1)
            async with asyncio.timeout(WAIT_S):
                async for message in hub.messages:
                    state = decode(DeviceState, message.payload).state  # type: ignore[arg-type]
                    if state["middle"]["on"]:
                        break


async def _false(value: bool) -> bool:
    return not value


async def test_the_projector_takes_no_tap_while_warming_and_the_lesson_sets_its_input(
    broker: Mosquitto, topic_root: str, tmp_path: Path
) -> None:
    ticks = Ticks()
    agent, factory = make_agent(
        broker, topic_root, tmp_path, devices={"projector": projector()}, device_clock=ticks
    )
    sim = agent.devices["projector"].simulator  # type: ignore[attr-defined]
    async with panel(agent) as http:
        await pair(agent, http)
        r = await http.post("/api/lesson/start", json={})
        assert r.status_code == 200, r.text
        assert [x["code"] for x in r.json()["results"]] == ["ok", "ok"]
        assert factory.pin(23).state == 1
        assert factory.pin(18).state == 1
        state = (await http.get("/api/state")).json()
        view = state["devices"]["projector"]
        assert (view["power"], view["busy"]["what"]) == ("warming", "warming")
        assert 18 < view["busy"]["remaining_s"] <= 20
        assert state["lesson"]["state"] == "starting"
        powered = sim.received.count("%1POWR 1")
        for url in ("/api/devices/projector/actions/on", "/api/devices/projector/actions/off"):
            again = await http.post(url, json={})
            assert again.status_code == 409
            assert again.json()["what"] == "warming"
        assert (await http.post("/api/lesson/start", json={})).status_code == 409
        assert (await http.post("/api/lesson/end", json={})).status_code == 409
        assert sim.received.count("%1POWR 1") == powered  # nothing went to the projector
        assert not [c for c in sim.received if c.startswith("%1POWR 0")]
        ticks.now += 20  # warmed up: the panel switches to the room's default input

        async def lesson_running() -> dict[str, Any] | None:
            state = (await http.get("/api/state")).json()
            view = state["devices"]["projector"]
            ready = (view["power"], view["input"], state["lesson"]["state"]) == (
                "on",
                "hdmi1",
                "running",
            )
            return state if ready else None

        await eventually(lesson_running, WAIT_S, "the projector on, on HDMI 1")
        assert sim.input == "31"
        await eventually(lambda: _power(http, "on"), WAIT_S, "the input switched")
        r = await http.post("/api/lesson/end", json={})
        assert r.status_code == 200, r.text
        state = (await http.get("/api/state")).json()
        assert state["devices"]["projector"]["busy"]["what"] == "cooling"
        assert state["devices"]["lights"]["scenes"] == ["off"]
        assert (await http.post("/api/devices/projector/actions/on", json={})).status_code == 409


async def test_an_input_tap_holds_the_inputs_for_the_projectors_switch_time(
    broker: Mosquitto, topic_root: str, tmp_path: Path
) -> None:
    agent, _ = make_agent(
        broker, topic_root, tmp_path, devices={"projector": projector(warmup_s=0, input_switch_s=2)}
    )
    async with panel(agent) as http:
        await pair(agent, http)
        assert (await http.post("/api/devices/projector/actions/on", json={})).status_code == 200
        await eventually(lambda: _power(http, "on"), WAIT_S, "the projector on (no warm-up)")
        async with http.stream("GET", "/api/stream") as response:
            stream = Stream(response)
            r = await http.post("/api/devices/projector/actions/input", json={"source": "hdmi2"})
            assert r.status_code == 200, r.text
            # a poll's view may come first, showing the old input while the switch runs
            held = await stream.until(
                "device", lambda v: v.get("busy") is not None and v["input"] == "hdmi2"
            )
            assert held["busy"]["what"] == "input"
            refused = await http.post("/api/devices/projector/actions/input",
                                      json={"source": "vga1"})  # fmt: skip
            assert refused.status_code == 409
            released = await stream.until("device", lambda v: v.get("busy") is None)
            assert released["input"] == "hdmi2"
        r = await http.post("/api/devices/projector/actions/input", json={"source": "vga1"})
        assert r.status_code == 200


async def _power(http: httpx.AsyncClient, power: str) -> bool:
    view = (await http.get("/api/state")).json()["devices"]["projector"]
    return bool(view["power"] == power and view["busy"] is None)


async def test_the_stream_catches_up_after_a_drop_and_a_restart_of_the_server(
    broker: Mosquitto, topic_root: str, tmp_path: Path
) -> None:
    agent, _ = make_agent(broker, topic_root, tmp_path)
    server = agent.panel_server
    assert server is not None
    async with panel(agent) as http:
        await pair(agent, http)
        after = (await http.get("/api/state")).json()["last_event"]
        async with http.stream("GET", "/api/stream", params={"after": after}) as response:
            stream = Stream(response)
            await http.post("/api/devices/lights/actions/scene", json={"name": "reading"})
            view = await stream.until("device", lambda v: "reading" in v["scenes"])
            assert view["zones"]["front"]["level"] == 70
            seen = stream.last_id
        server.restart()  # the page is away while the room changes (the hub's command)
        await eventually(_async(lambda: server.starts == 2), WAIT_S, "the server again")
        reply = await hub_command(broker, topic_root, agent, "lights", "scene", name="lesson")
        assert reply.code == "ok"
        await wait_within(server.listening.wait(), WAIT_S)
        headers = {"Last-Event-ID": str(seen)}
        async with http.stream("GET", "/api/stream", headers=headers) as response:
            stream = Stream(response)
            _, missed = await stream.next("device")  # sent at once: what happened meanwhile
            assert missed["scenes"] == ["lesson"]
        async with http.stream("GET", "/api/stream", headers={"Last-Event-ID": "99999"}) as r:
            kind, _ = await Stream(r).next()  # an id of another run of the agent
            assert kind == "resync"


async def test_local_mode_follows_the_broker_link_and_the_hub(
    broker: Mosquitto, topic_root: str, tmp_path: Path
) -> None:
    agent, _ = make_agent(broker, topic_root, tmp_path)
    async with panel(agent) as http:
        await pair(agent, http)
        assert (await http.get("/api/state")).json()["link"] == {
            "broker": True, "hub": False, "local": True,
        }  # fmt: skip
        topic = f"{topic_root}/{HUB_SEGMENT}/hub-x/status"
        async with mqtt_client(broker, topic_root, "hub") as hub:
            for state in ("online", "offline"):
                status = HubStatus(sender="hub/hub-x", state=state, boot="b1")
                await hub.publish(topic, encode(status), qos=1, retain=True)

                async def shown(state: str = state) -> bool:
                    link = (await http.get("/api/state")).json()["link"]
                    return bool(link["local"] == (state == "offline"))

                await eventually(shown, WAIT_S, f"the hub {state}")
            await hub.publish(topic, b"", qos=1, retain=True)


async def test_a_panel_that_cannot_listen_is_retried_and_the_room_goes_on(
    broker: Mosquitto, topic_root: str, tmp_path: Path
) -> None:
    port = free_port()
    squatter = socket.socket()
    squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    squatter.bind(("127.0.0.1", port))
    squatter.listen(1)
    agent, factory = make_agent(broker, topic_root, tmp_path, panel={"port": port})
    server = agent.panel_server
    assert server is not None
    async with running(agent):
        await eventually(_async(lambda: agent.restarts.get("panel", 0) >= 1), WAIT_S,
                         "the panel's failure")  # fmt: skip
        reply = await hub_command(broker, topic_root, agent, "lights", "on")
        assert reply.code == "ok"  # the room answers all the same
        assert factory.pin(23).state == 1
        squatter.close()
        await wait_within(server.listening.wait(), WAIT_S)
        async with httpx.AsyncClient(base_url=server.url) as http:
            assert (await http.get("/pair")).status_code == 200


def _async(check: Any) -> Any:
    async def run() -> Any:
        return check()

    return run


async def test_a_fault_in_a_request_or_in_a_view_stays_in_the_panel(
    broker: Mosquitto, topic_root: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    agent, factory = make_agent(broker, topic_root, tmp_path)
    server = agent.panel_server
    assert server is not None
    async with panel(agent) as http:
        await pair(agent, http)

        async def broken(*_: Any) -> Any:
            raise RuntimeError("a bug in the panel")

        monkeypatch.setattr(server.controls, "act", broken)
        r = await http.post("/api/devices/lights/actions/on", json={})
        assert r.status_code == 500
        assert r.json()["detail"] == "the panel failed; see the agent's log"

        def broken_view(*_: Any) -> None:
            raise RuntimeError("a bug in a view")

        monkeypatch.setattr(RoomView, "device_state", broken_view)
        reply = await hub_command(broker, topic_root, agent, "lights", "off")
        assert reply.code == "ok"  # published and answered despite the panel
        monkeypatch.undo()
        assert (await http.get("/api/state")).status_code == 200
        assert agent.connected.is_set()
        assert factory.pin(23).state == 0


async def test_the_panel_stops_with_the_agent(
    broker: Mosquitto, topic_root: str, tmp_path: Path
) -> None:
    agent, _ = make_agent(broker, topic_root, tmp_path)
    server = agent.panel_server
    assert server is not None
    task = asyncio.create_task(agent.run())
    await wait_within(server.listening.wait(), WAIT_S)
    http = httpx.AsyncClient(base_url=server.url, timeout=WAIT_S)
    async with http:
        await pair(agent, http)
        async with http.stream("GET", "/api/stream") as response:
            assert response.status_code == 200  # a page follows the room
            started = time.monotonic()
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            took = time.monotonic() - started
        assert took < 3.0
        with pytest.raises(httpx.ConnectError):
            await http.get("/pair")


async def test_a_help_request_from_the_panel_goes_through_the_outbox(
    broker: Mosquitto, topic_root: str, tmp_path: Path
) -> None:
    agent, _ = make_agent(broker, topic_root, tmp_path)
    async with panel(agent, connected=False) as http:
        await pair(agent, http)
        r = await http.post("/api/help", json={"reason": "projector", "text": "  mờ   quá "})
        assert r.status_code == 200, r.text
        help_view = (await http.get("/api/state")).json()["help"]
        assert (help_view["request"], help_view["reason"]) == ("requested", "projector: mờ quá")
        await agent.storage.flush()
        kinds = [row.topic for row in agent.outbox.peek(1000)]
        assert agent.topics.event in kinds
        assert (await http.post("/api/help/cancel", json={})).status_code == 200
        assert (await http.get("/api/state")).json()["help"]["request"] == "none"


async def test_the_panels_connections_send_small_answers_at_once(
    broker: Mosquitto, topic_root: str, tmp_path: Path
) -> None:
    """TCP_NODELAY on every connection: an answer written in two parts (headers, body) must
    not wait for the client's delayed ACK, which adds some 40 ms to every tap."""
    agent, _ = make_agent(broker, topic_root, tmp_path)
    server = agent.panel_server
    assert server is not None
    async with panel(agent, connected=False) as http:
        assert (await http.get("/pair")).status_code == 200
        uvicorn_server = server._server
        assert uvicorn_server is not None
        connections = list(uvicorn_server.server_state.connections)
        assert connections
        for connection in connections:
            sock = connection.transport.get_extra_info("socket")
            assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
