"""The agent's help panel: a request goes through the outbox, the hub's answers show on the
panel's state only while they are about the latest request, and a resolution clears it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiomqtt
import pytest
from gpiozero.pins.mock import MockFactory, MockPWMPin

from edge.agent import Agent
from edge.config import ConfigError, load_room_config, parse_room_config
from edge.dispatch import run_command
from edge.help import PANEL_ID
from edge.settings import EdgeSettings
from protocol import Command, Event, HelpAck, Status, decode, encode, utcnow

SAMPLE = Path(__file__).parents[2] / "firmware_configs" / "rooms" / "sim-room.yaml"


@pytest.fixture
async def agent(tmp_path: Path) -> AsyncIterator[Agent]:
    factory = MockFactory(pin_class=MockPWMPin)
    made = Agent(load_room_config(SAMPLE), EdgeSettings(data_dir=tmp_path), pin_factory=factory)
    try:
        yield made
    finally:
        made.close()


async def ask(agent: Agent, action: str, **params: Any) -> dict[str, Any]:
    command = Command(
        sender="hub/test", id=f"c-{action}-{len(params)}-{utcnow().timestamp()}", device=PANEL_ID,
        action=action, params=params, issuer="teacher", expires=utcnow() + timedelta(seconds=5),
    )  # fmt: skip
    reply = await run_command(agent.devices, command, sender=agent.sender)
    assert reply.code == "ok", reply.text
    assert reply.state is not None
    return reply.state


async def events(agent: Agent) -> list[Event]:
    await agent.storage.flush()
    return [decode(Event, row.payload) for row in agent.outbox.peek(100)]


async def answer(agent: Agent, state: str, seq: int, boot: str | None = None, **extra: Any) -> None:
    ack = HelpAck(
        sender="hub/h1", alert=extra.pop("alert", 3), state=state, boot=boot or agent.boot,
        seq=seq, **extra,
    )  # fmt: skip
    message = aiomqtt.Message(agent.topics.help, encode(ack), 1, True, 1, None)
    await agent.inbox.handle(message)


async def test_a_help_request_is_an_event_in_the_outbox_with_its_reason(agent: Agent) -> None:
    state = await ask(agent, "help", reason="  máy chiếu không lên  ")
    assert (state["request"], state["reason"]) == ("requested", "máy chiếu không lên")
    [event] = [e for e in await events(agent) if e.kind == "help"]
    assert (event.text, event.data, event.device) == (
        "máy chiếu không lên",
        {"reason": "máy chiếu không lên"},
        PANEL_ID,
    )
    assert agent.topics.help in agent.inbox.subscriptions
    status = decode(Status, agent._status("online", 1))
    assert status.families[PANEL_ID] == "panel"


async def test_the_hubs_answers_show_and_a_resolution_clears_the_panel(agent: Agent) -> None:
    await ask(agent, "help", reason="mất mạng")
    [request] = [e for e in await events(agent) if e.kind == "help"]
    await answer(agent, "open", request.seq, reason="mất mạng")
    assert (await agent.panel.state())["request"] == "open"
    await answer(agent, "acknowledged", request.seq, by="it-anh", comment="đang tới")
    state = await agent.panel.state()
    assert (state["request"], state["by"], state["comment"], state["alert"]) == (
        "acknowledged", "it-anh", "đang tới", 3,
    )  # fmt: skip
    await answer(agent, "resolved", request.seq, by="it-anh", comment="xong")
    state = await agent.panel.state()
    assert (state["request"], state["reason"], state["by"]) == ("none", None, None)


async def test_an_answer_about_an_earlier_request_is_not_shown(agent: Agent) -> None:
    await ask(agent, "help", reason="first")
    await ask(agent, "help", reason="again")
    first, second = [e for e in await events(agent) if e.kind == "help"]
    await answer(agent, "acknowledged", first.seq, by="it")
    await answer(agent, "open", second.seq, boot="another-boot")
    assert (await agent.panel.state())["request"] == "requested"
    await answer(agent, "acknowledged", second.seq, by="it", reason="again")
    assert (await agent.panel.state())["request"] == "acknowledged"


async def test_after_a_restart_the_retained_answer_is_shown(agent: Agent) -> None:
    await answer(agent, "acknowledged", 41, boot="the-previous-boot", by="it", comment="ok")
    state = await agent.panel.state()
    assert (state["request"], state["comment"]) == ("acknowledged", "ok")


async def test_a_withdrawn_request_is_an_event_and_clears_the_panel(agent: Agent) -> None:
    assert (await ask(agent, "cancel"))["request"] == "none"
    assert not [e for e in await events(agent) if e.kind.startswith("help")]  # nothing to withdraw
    await ask(agent, "help", reason="x")
    [request] = [e for e in await events(agent) if e.kind == "help"]
    await answer(agent, "acknowledged", request.seq, by="it")
    assert (await ask(agent, "cancel"))["request"] == "none"
    assert [e.kind for e in await events(agent) if e.kind.startswith("help")] == [
        "help",
        "help_cancelled",
    ]
    await answer(agent, "acknowledged", request.seq, by="it")  # the retained answer, again
    assert (await agent.panel.state())["request"] == "none"


async def test_a_reason_too_long_or_an_unknown_param_is_refused(agent: Agent) -> None:
    for params in ({"reason": "x" * 201}, {"why": "x"}):
        command = Command(
            sender="hub/test", id=f"c{len(params)}{len(str(params))}", device=PANEL_ID,
            action="help", params=params, issuer="t", expires=utcnow() + timedelta(seconds=5),
        )  # fmt: skip
        reply = await run_command(agent.devices, command, sender=agent.sender)
        assert reply.code == "bad_params"
    assert not [e for e in await events(agent) if e.kind == "help"]


def test_a_room_file_cannot_name_a_device_panel(tmp_path: Path) -> None:
    text = SAMPLE.read_text(encoding="utf-8").replace("\n  lights:", "\n  panel:", 1)
    assert "\n  panel:" in text
    with pytest.raises(ConfigError, match="help panel"):
        parse_room_config(text, tmp_path / "room.yaml")
