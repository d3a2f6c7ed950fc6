"""The hub's half of tablet pairing, on the real broker and both databases: the command the
room's agent gets (the code's hash, never the code), the answer once the agent replied, the
errors of a command (an agent too old, one that does not answer), revoking every tablet,
who may ask, and what the audit and command logs keep (neither the code nor its hash)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import aiomqtt
import httpx
import pytest
from sqlalchemy import select

from hub.access import Role
from hub.audit import AuditEntry
from hub.db import CommandLog, make_engine
from hub.pairing import ALPHABET, CODE_LENGTH
from protocol import Command, CommandReply, RoomTopics, decode, encode, utcnow
from protocol.messages import ReplyCode
from smartclass.broker import Mosquitto
from tests.integration.system import agent_client, hub_settings, running_hub
from tests.unit.hub_helpers import bearer

pytestmark = pytest.mark.integration

SITE, ROOM = "thcs-nguyen-chi-thanh", "6a1"
PAIRING = f"/api/v1/rooms/{SITE}/{ROOM}/panel/pairing"


class FakePanel:
    """The room's agent as far as its ``panel`` device goes: it records each command and
    answers with ``code`` (or not at all when ``code`` is None)."""

    def __init__(self, client: aiomqtt.Client, topics: RoomTopics) -> None:
        self.client = client
        self.topics = topics
        self.code: ReplyCode | None = "ok"
        self.commands: list[Command] = []

    async def run(self) -> None:
        async for message in self.client.messages:
            assert isinstance(message.payload, bytes)
            command = decode(Command, message.payload)
            self.commands.append(command)
            if self.code is None:
                continue
            reply = CommandReply(
                sender=f"edge/{SITE}/{ROOM}", id=command.id, device=command.device,
                code=self.code, text="" if self.code == "ok" else "no such action",
                state={"paired_tablets": 0, "pairing_pending": True},
            )  # fmt: skip
            await self.client.publish(self.topics.reply_to(command.reply_to), encode(reply), qos=1)


@contextlib.asynccontextmanager
async def hub_and_panel(
    broker: Mosquitto, root: str, database_url: str
) -> AsyncIterator[tuple[httpx.AsyncClient, FakePanel]]:
    settings = hub_settings(broker, root, database_url, command_timeout_s=1.0)
    topics = RoomTopics(SITE, ROOM, root)
    async with running_hub(settings) as http, agent_client(broker, root) as edge:
        await edge.subscribe(topics.command("panel"), qos=1)
        panel = FakePanel(edge, topics)
        task = asyncio.create_task(panel.run())
        try:
            yield http, panel
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


def audit_and_commands(database_url: str) -> tuple[list[Any], list[Any]]:
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            audit = conn.execute(
                select(AuditEntry).where(AuditEntry.action.like("panel_%")).order_by(AuditEntry.id)
            ).all()
            commands = conn.execute(select(CommandLog).where(CommandLog.device == "panel")).all()
    finally:
        engine.dispose()
    return list(audit), list(commands)


async def test_a_code_is_made_its_hash_sent_to_the_room_and_kept_nowhere(
    broker: Mosquitto, topic_root: str, database_url: str
) -> None:
    async with hub_and_panel(broker, topic_root, database_url) as (http, panel):
        before = utcnow()
        r = await http.post(PAIRING)
        assert r.status_code == 201, r.text
        answer = r.json()
        code = answer["code"]
        assert len(code) == CODE_LENGTH
        assert set(code) <= set(ALPHABET)
        expires = datetime.fromisoformat(answer["expires_at"])
        assert before + timedelta(seconds=599) <= expires <= utcnow() + timedelta(seconds=601)

        [command] = panel.commands
        assert (command.device, command.action) == ("panel", "pair")
        assert command.params == {
            "code_sha256": hashlib.sha256(code.encode()).hexdigest(),
            "expires_in_s": 600,
        }
        assert command.issuer.startswith("user:")
        assert command.expires > utcnow(), "an ordinary command, with its expiry"

        second = (await http.post(PAIRING)).json()["code"]
        assert second != code, "a new code each time"

        r = await http.delete(PAIRING)
        assert r.status_code == 204, r.text
        assert (panel.commands[-1].action, panel.commands[-1].params) == ("unpair", {})

    audit, commands = await asyncio.to_thread(audit_and_commands, database_url)
    assert [(a.action, a.outcome, a.room) for a in audit] == [
        ("panel_pairing", "ok", ROOM),
        ("panel_pairing", "ok", ROOM),
        ("panel_unpair", "ok", ROOM),
    ]
    stored = repr([a.detail for a in audit]) + repr([c.params for c in commands])
    for secret in (code, second, hashlib.sha256(code.encode()).hexdigest()):
        assert secret not in stored, "neither the code nor its hash is kept by the hub"
    assert [c.params for c in commands if c.action == "pair"] == [{"expires_in_s": 600}] * 2


async def test_an_agent_too_old_or_silent_is_an_error_and_no_code_is_shown(
    broker: Mosquitto, topic_root: str, database_url: str
) -> None:
    async with hub_and_panel(broker, topic_root, database_url) as (http, panel):
        panel.code = "unknown_action"  # an agent from before pairing
        r = await http.post(PAIRING)
        assert r.status_code == 404, r.text
        assert "code" not in r.json()
        assert "unknown_action" in r.json()["detail"]

        panel.code = None  # the agent does not answer
        r = await http.post(PAIRING)
        assert r.status_code == 504, r.text
        assert "code" not in r.json()
        r = await http.delete(PAIRING)
        assert r.status_code == 504, r.text
        assert [c.action for c in panel.commands] == ["pair", "pair", "unpair"]

    audit, _ = await asyncio.to_thread(audit_and_commands, database_url)
    assert [(a.action, a.outcome) for a in audit] == [
        ("panel_pairing", "unknown_action"),
        ("panel_pairing", "CommandTimeout"),
        ("panel_unpair", "CommandTimeout"),
    ]


async def test_only_it_of_the_school_may_pair_a_tablet(
    broker: Mosquitto, topic_root: str, database_url: str
) -> None:
    async with hub_and_panel(broker, topic_root, database_url) as (http, panel):
        for role in (Role.TEACHER, Role.ADMIN, Role.DISTRICT):
            headers = bearer(database_url, role)
            assert (await http.post(PAIRING, headers=headers)).status_code == 403, role
            assert (await http.delete(PAIRING, headers=headers)).status_code == 403, role
        elsewhere = bearer(database_url, Role.IT, sites=["thpt-le-quy-don"])
        assert (await http.post(PAIRING, headers=elsewhere)).status_code == 403
        assert panel.commands == [], "a refused request sends nothing to the room"
