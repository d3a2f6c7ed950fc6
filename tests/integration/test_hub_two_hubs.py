"""Two hub processes sharing the ingest (MQTT 5 shared subscription) and one PostgreSQL."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiomqtt
import pytest
from sqlalchemy import text

from hub.db import make_engine
from protocol import Command, CommandReply, RoomTopics, Telemetry, decode, encode
from smartclass.broker import Mosquitto
from tests.integration.system import HubProcess, agent_client, eventually

pytestmark = [pytest.mark.integration, pytest.mark.postgresql]

SITE, ROOM = "thcs-nguyen-chi-thanh", "6a1"
SENDER = f"edge/{SITE}/{ROOM}"
COUNT = 600


def stored(url: str) -> list[tuple[int, int]]:
    """(seq, copies) of every telemetry message stored."""
    engine = make_engine(url)
    try:
        # one snapshot for both queries: the hubs go on writing meanwhile
        with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn:
            rows = conn.execute(
                text(
                    "SELECT seq, count(*) FROM (SELECT DISTINCT boot, seq, metric FROM telemetry)"
                    " AS t GROUP BY seq ORDER BY seq"
                )
            ).all()
            points = conn.execute(text("SELECT count(*) FROM telemetry")).scalar_one()
    finally:
        engine.dispose()
    assert points == len(rows), "a point stored twice"
    return [(int(s), int(n)) for s, n in rows]


async def answer_commands(edge: aiomqtt.Client, topics: RoomTopics) -> None:
    """A small fake agent: every command is answered on ``reply/{reply_to}``."""
    async for message in edge.messages:
        assert isinstance(message.payload, bytes)
        command = decode(Command, message.payload)
        reply = CommandReply(sender=SENDER, id=command.id, device=command.device, code="ok",
                             state={"by": command.reply_to})  # fmt: skip
        await edge.publish(topics.reply_to(command.reply_to), encode(reply), qos=1)


async def test_two_hubs_share_the_ingest_store_each_message_once_and_get_their_own_replies(
    broker: Mosquitto, topic_root: str, tmp_path: Path, postgres_url: str
) -> None:
    share = {"SMARTCLASS_HUB_SHARE_GROUP": "hubs", "SMARTCLASS_HUB_INGEST_FLUSH_MS": "5"}
    hubs = [
        HubProcess(broker, topic_root, tmp_path / name, hub_id=f"{name}-{topic_root}",
                   database_url=postgres_url, env=share)
        for name in ("hub-a", "hub-b")
    ]  # fmt: skip
    topics = RoomTopics(SITE, ROOM, topic_root)
    try:
        for hub in hubs:
            hub.start()
        for hub in hubs:
            await hub.wait_connected()
        async with agent_client(broker, topic_root) as edge:
            for seq in range(1, COUNT + 1):
                msg = Telemetry(sender=SENDER, boot="b1", boot_no=1, seq=seq, device="env",
                                readings={"co2_ppm": float(seq)})  # fmt: skip
                await edge.publish(topics.telemetry, encode(msg), qos=1)

            async def all_stored() -> list[tuple[int, int]] | None:
                rows = await asyncio.to_thread(stored, postgres_url)
                return rows if len(rows) >= COUNT else None

            rows = await eventually(all_stored, 60, f"all {COUNT} messages stored")
            assert rows == [(seq, 1) for seq in range(1, COUNT + 1)]

            counters = []
            for hub in hubs:
                async with hub.client() as http:
                    counters.append((await http.get("/api/v1/health")).json()["counters"])
            assert sum(c["stored"] for c in counters) == COUNT  # each message to one hub
            assert all(c["stored"] > 0 for c in counters), counters  # both took a share
            async with hubs[0].client() as http:
                detail = (await http.get(f"/api/v1/rooms/{SITE}/{ROOM}")).json()
            [boot] = detail["boots"]
            assert (boot["highest"], boot["missing_count"]) == (COUNT, 0)  # one boot row, merged

            await edge.subscribe(topics.commands, qos=1)
            agent = asyncio.create_task(answer_commands(edge, topics))
            try:
                url = f"/api/v1/rooms/{SITE}/{ROOM}/devices/lights/commands"

                async def command(hub: HubProcess) -> Any:
                    async with hub.client() as http:
                        return await http.post(url, json={"action": "on"})

                answers = await asyncio.gather(*(command(h) for h in hubs))
            finally:
                agent.cancel()
            for hub, r in zip(hubs, answers, strict=True):
                assert r.status_code == 200, r.text
                assert r.json()["state"] == {"by": hub.hub_id}  # its own reply
    finally:
        for hub in hubs:
            hub.close()
