"""A teacher's help request end to end, on a real secured Mosquitto with a real agent and the
hub process: the panel's command, its event through the outbox, the alert, IT's acknowledgement
through the API, the retained answer on the room's help topic, and the room showing it; also
when the request is made, and acknowledged, while the broker is down."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from edge.agent import Agent
from edge.dispatch import run_command
from edge.help import PANEL_ID
from hub.access import Role
from protocol import Command, HelpAck, RoomTopics, decode, utcnow
from protocol.aio import wait_within
from smartclass.broker import Mosquitto
from tests.integration.system import HubProcess, eventually, make_agent, mqtt_client, running
from tests.unit.hub_helpers import bearer

pytestmark = pytest.mark.integration

SITE, ROOM = "thcs-nguyen-chi-thanh", "6a1"


async def open_help(hub: HubProcess) -> dict[str, Any] | None:
    async with hub.client() as http:
        r = await http.get("/api/v1/alerts", params={"kind": "help", "state": "open"})
    assert r.status_code == 200, r.text
    found = r.json()["alerts"]
    return found[0] if found else None


async def panel_shows(agent: Agent, request: str) -> dict[str, Any] | None:
    state = await agent.panel.state()
    return state if state["request"] == request else None


async def retained_answer(broker: Mosquitto, root: str) -> HelpAck:
    """What a client subscribing now gets on the room's help topic (the retained answer)."""
    async with mqtt_client(broker, root, "help-watcher") as client:
        await client.subscribe(RoomTopics(SITE, ROOM, root).help, qos=1)
        async for message in client.messages:
            assert message.retain
            payload = message.payload
            assert isinstance(payload, bytes)
            return decode(HelpAck, payload)
    raise AssertionError("no retained answer")


async def test_a_help_request_goes_to_it_and_its_answer_back_to_the_room(
    own_hub: HubProcess, own_broker: Mosquitto, topic_root: str, tmp_path: Path
) -> None:
    agent, _ = make_agent(own_broker, topic_root, tmp_path / "edge")
    teacher = bearer(own_hub.database_url, Role.TEACHER)  # of SITE/ROOM
    async with running(agent), own_hub.client() as it:
        r = await it.post(
            f"/api/v1/rooms/{SITE}/{ROOM}/devices/{PANEL_ID}/commands",
            json={"action": "help", "params": {"reason": "máy chiếu không lên"}},
            headers=teacher,
        )
        assert r.status_code == 200, r.text
        assert r.json()["state"]["request"] == "requested"
        alert = await eventually(lambda: open_help(own_hub), 10, "the help alert")
        assert (alert["site"], alert["room"], alert["severity"]) == (SITE, ROOM, "critical")
        assert alert["data"]["reason"] == "máy chiếu không lên"
        await eventually(lambda: panel_shows(agent, "open"), 10, "the room to see it reached IT")

        r = await it.post(f"/api/v1/alerts/{alert['id']}/ack", json={"comment": "đang tới"})
        assert r.status_code == 200, r.text
        who = r.json()["acknowledged_by"]
        state = await eventually(lambda: panel_shows(agent, "acknowledged"), 10, "the ack")
        assert (state["by"], state["comment"], state["alert"]) == (who, "đang tới", alert["id"])
        answer = await wait_within(retained_answer(own_broker, topic_root), 10)
        assert (answer.state, answer.alert, answer.by, answer.comment, answer.seq) == (
            "acknowledged", alert["id"], who, "đang tới", alert["data"]["request"]["seq"],
        )  # fmt: skip

        async def hub_sees_the_panel() -> bool:
            room = (await it.get(f"/api/v1/rooms/{SITE}/{ROOM}", headers=teacher)).json()
            panel = [d for d in room["devices"] if d["device"] == PANEL_ID]
            return bool(panel) and panel[0]["state"]["request"] == "acknowledged"

        await eventually(hub_sees_the_panel, 10, "the panel's state at the hub")

        r = await it.post(f"/api/v1/alerts/{alert['id']}/resolve", json={"comment": "xong"})
        assert r.status_code == 200, r.text
        await eventually(lambda: panel_shows(agent, "none"), 10, "the panel to clear")
        answer = await wait_within(retained_answer(own_broker, topic_root), 10)
        assert (answer.state, answer.comment) == ("resolved", "xong")
        mine = await it.get(f"/api/v1/rooms/{SITE}/{ROOM}/alerts", headers=teacher)
        [seen] = mine.json()["alerts"]
        assert (seen["state"], seen["resolved_by"]) == ("resolved", who)


async def test_a_help_request_made_while_the_link_is_down_arrives_when_it_is_back(
    own_hub: HubProcess, own_broker: Mosquitto, topic_root: str, tmp_path: Path
) -> None:
    agent, _ = make_agent(own_broker, topic_root, tmp_path / "edge")
    async with running(agent):
        own_broker.stop()

        async def disconnected() -> bool:
            return not agent.connected.is_set()

        await eventually(disconnected, 10, "the agent to lose the broker")
        button = Command(
            sender=agent.sender, id="panel-1", device=PANEL_ID, action="help",
            params={"reason": "mất mạng"}, issuer="panel",
            expires=utcnow() + timedelta(seconds=5),
        )  # fmt: skip
        reply = await run_command(agent.devices, button, sender=agent.sender)  # the room's button
        assert (reply.code, (reply.state or {}).get("request")) == ("ok", "requested")
        own_broker.start()
        await own_hub.wait_connected()
        alert = await eventually(lambda: open_help(own_hub), 20, "the help alert after the outage")
        assert alert["data"]["reason"] == "mất mạng"
        await eventually(lambda: panel_shows(agent, "open"), 10, "the room to see it reached IT")

        own_broker.stop()  # IT acknowledges while the hub cannot publish: it tries again
        async with own_hub.client() as it:
            r = await it.post(f"/api/v1/alerts/{alert['id']}/ack", json={"comment": "thấy rồi"})
            assert r.status_code == 200, r.text
        own_broker.start()
        state = await eventually(lambda: panel_shows(agent, "acknowledged"), 30, "the late ack")
        assert state["comment"] == "thấy rồi"
