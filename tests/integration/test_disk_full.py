"""A running agent whose outbox disk fills: the hub hears of it while it lasts (a
``storage_fault`` event, ``health.outbox``), commands are still answered, and once the disk
has room again the hub gets ``storage_ok`` and every message kept meanwhile, each stored
once (on SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from edge.agent import Agent
from smartclass.broker import Mosquitto
from tests.integration.system import HubProcess, eventually, make_agent, running

pytestmark = pytest.mark.integration

SITE, ROOM = "thcs-nguyen-chi-thanh", "6a1"
AGENT = f"{SITE}/{ROOM}"
BURST = 600


async def _room(hub: HubProcess) -> dict[str, Any]:
    async with hub.client() as http:
        r = await http.get(f"/api/v1/rooms/{SITE}/{ROOM}")
    assert r.status_code == 200, r.text
    room: dict[str, Any] = r.json()
    return room


def _events(room: dict[str, Any], kind: str, boot: str) -> list[dict[str, Any]]:
    return [e for e in room["events"] if e["kind"] == kind and e["boot"] == boot]


async def _fill_the_disk(agent: Agent) -> None:
    """The outbox may not grow by a page more, and its free pages are taken: SQLite answers
    SQLITE_FULL, as on a full disk. A burst of events then waits in memory, more than what
    the hub's acknowledgements of earlier messages free, so the disk stays full."""
    conn = agent.storage.outbox._conn

    def fill() -> None:
        with conn:
            conn.execute("CREATE TABLE IF NOT EXISTS filler (b BLOB)")
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count = {pages}")
        for size in (65536, 4096, 256, 16):
            with contextlib.suppress(sqlite3.OperationalError):
                while True:
                    with conn:
                        conn.execute("INSERT INTO filler VALUES (zeroblob(?))", (size,))

    await agent.storage.run(fill)
    for i in range(BURST):  # more than one write takes, before the hub frees anything
        agent.emit_event("disk_test", text=f"written while the disk is full ({i})")


async def test_a_full_disk_in_a_running_agent_is_told_and_nothing_is_lost(
    own_broker: Mosquitto, topic_root: str, tmp_path: Path, own_hub: HubProcess
) -> None:
    hub = own_hub
    agent, pins = make_agent(own_broker, topic_root, tmp_path / "edge", interval=0.1)
    async with running(agent), hub.client() as http:

        async def stored_some() -> bool:
            return len(await asyncio.to_thread(hub.stored_seqs, AGENT)) >= 10

        await eventually(stored_some, 15, "telemetry stored at the hub")
        await _fill_the_disk(agent)

        async def told() -> dict[str, Any] | None:
            room = await _room(hub)
            health = room.get("agent_health") or {}
            fault = _events(room, "storage_fault", agent.boot)
            return room if fault and health.get("outbox", {}).get("storage_ok") is False else None

        room = await eventually(told, 15, "the hub told of the fault while it lasts")
        assert agent.storage.fault is not None, "the disk is still full"
        fault = _events(room, "storage_fault", agent.boot)[-1]
        assert fault["severity"] == "critical"
        assert "full" in fault["text"]
        assert "full" in room["agent_health"]["outbox"]["storage_text"]
        r = await http.post(  # the room is served meanwhile
            f"/api/v1/rooms/{SITE}/{ROOM}/devices/lights/commands",
            json={"action": "on", "params": {"zone": "middle"}},
        )
        assert r.status_code == 200, r.text
        assert pins.pin(23).state == 1
        kept = (await agent.storage.stats()).backlog
        await agent.storage.run(
            lambda: agent.storage.outbox._conn.execute("PRAGMA max_page_count = 1000000")
        )

        async def recovered() -> dict[str, Any] | None:
            room = await _room(hub)
            ok = room.get("agent_health", {}).get("outbox", {}).get("storage_ok")
            return room if _events(room, "storage_ok", agent.boot) and ok else None

        await eventually(recovered, 20, "storage_ok at the hub")
        last = agent.last_seq

        async def all_stored() -> list[tuple[str, int, int]] | None:
            rows = await asyncio.to_thread(hub.stored_seqs, AGENT)
            return rows if len([r for r in rows if r[1] <= last]) >= last else None

        rows = await eventually(all_stored, 30, f"the {last} messages stored")
    assert {b for b, _, _ in rows} == {agent.boot}
    assert [seq for _, seq, _ in rows][:last] == list(range(1, last + 1)), "a message lost"
    assert {copies for _, _, copies in rows} == {1}, "a message stored twice"
    print(f"disk full: {kept} messages waited in memory, {last} stored once each")
