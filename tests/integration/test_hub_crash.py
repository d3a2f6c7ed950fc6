"""A hub killed with SIGKILL in the middle of ingest loses nothing and stores nothing twice."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from protocol import RoomTopics, Telemetry, encode
from smartclass.broker import Mosquitto
from tests.integration.system import HubProcess, agent_client, eventually

pytestmark = pytest.mark.integration

SITE, ROOM = "thcs-nguyen-chi-thanh", "6a1"
COUNT = 3000


async def publish_all(broker: Mosquitto, root: str, started: asyncio.Event) -> None:
    topics = RoomTopics(SITE, ROOM, root)
    async with agent_client(broker, root) as edge:
        for seq in range(1, COUNT + 1):
            msg = Telemetry(
                sender=f"edge/{SITE}/{ROOM}", boot="b1", seq=seq, device="env",
                readings={"co2_ppm": float(seq)},
            )  # fmt: skip
            await edge.publish(topics.telemetry, encode(msg), qos=1)
            if seq == 50:
                started.set()


async def test_sigkill_during_ingest_loses_nothing(
    broker: Mosquitto, topic_root: str, tmp_path: Path, database_url: str
) -> None:
    hub = HubProcess(broker, topic_root, tmp_path / "hub", hub_id=f"hub-{topic_root}",
                     database_url=database_url)  # fmt: skip
    hub.start()
    try:
        await hub.wait_connected()
        started = asyncio.Event()
        publisher = asyncio.create_task(publish_all(broker, topic_root, started))
        await started.wait()

        async def some_stored() -> bool:
            return len(await asyncio.to_thread(hub.stored_seqs, f"{SITE}/{ROOM}")) >= 100

        await eventually(some_stored, 20, "the hub to store the first messages")
        hub.kill()
        hub.start()
        await hub.wait_connected()
        await publisher

        async def all_stored() -> list[tuple[str, int, int]] | None:
            rows = await asyncio.to_thread(hub.stored_seqs, f"{SITE}/{ROOM}")
            return rows if len(rows) >= COUNT else None

        rows = await eventually(all_stored, 60, f"all {COUNT} messages stored")
        assert [seq for _, seq, _ in rows] == list(range(1, COUNT + 1))
        assert {copies for _, _, copies in rows} == {1}
    finally:
        hub.close()
