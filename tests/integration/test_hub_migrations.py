"""The hub process on a database of the previous release: it upgrades it at start, shows what
that release stored and goes on storing; two hubs starting together migrate once."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Connection, text

from hub.db import make_engine
from hub.migrate import MIGRATION_LOCK, head
from protocol import RoomTopics, Telemetry, encode
from smartclass.broker import Mosquitto
from tests.integration.system import HubProcess, agent_client, eventually
from tests.previous_release import AGENT, ROOM, SITE, load_previous_release

pytestmark = pytest.mark.integration

ROOMS = ((SITE, ROOM), (SITE, "6a2"), (SITE, "9a1"), ("thpt-vo-truong-toan", "10a1"))
"""The rooms of the previous release's database."""


async def started(hub: HubProcess, timeout: float = 30) -> None:
    """Until the hub answers /healthz: its start (the upgrade included) is over."""
    async with httpx.AsyncClient(base_url=hub.url, timeout=5) as http:

        async def answers() -> bool:
            if hub.proc is not None and hub.proc.poll() is not None:
                log = (hub.work / "hub.log").read_text(errors="replace")
                msg = f"hub exited with {hub.proc.returncode}:\n{log[-3000:]}"
                raise AssertionError(msg)
            try:
                return (await http.get("/healthz")).status_code in (200, 503)
            except httpx.TransportError:
                return False

        await eventually(answers, timeout, "the hub to start")


async def test_the_hub_upgrades_the_previous_release_shows_its_data_and_goes_on(
    own_broker: Mosquitto, topic_root: str, tmp_path: Path, database_url: str
) -> None:
    load_previous_release(database_url)
    keep = {"SMARTCLASS_HUB_DEAD_LETTERS_MAX_AGE_S": str(100 * 365 * 86400)}  # from 2025
    hub = HubProcess(own_broker, topic_root, tmp_path / "hub", hub_id=f"hub-{topic_root}",
                     rooms=ROOMS, database_url=database_url, env=keep)  # fmt: skip
    hub.start()
    try:
        await started(hub)
        log = (hub.work / "hub.log").read_text(errors="replace")
        assert "made by a hub from before migrations; adopted" in log
        await hub.wait_connected()
        async with hub.client() as http:
            rooms = (await http.get("/api/v1/rooms")).json()
            assert [(r["site"], r["room"]) for r in rooms] == sorted(ROOMS)
            detail = (await http.get(f"/api/v1/rooms/{SITE}/{ROOM}")).json()
            assert [(b["boot"], b["missing"]) for b in detail["boots"]] == [
                ("b2", []), ("b1", [[7, 7]])
            ]  # fmt: skip
            assert [e["seq"] for e in detail["events"]] == [4, 31]
            assert detail["devices"][0]["state"] == {"scene": "lesson", "on": True}
            assert (detail["config"]["pushed"], detail["config"]["applied"]) == (2, 2)
            refused = (await http.get(f"/api/v1/rooms/{SITE}/6a2/config")).json()["status"]
            assert (refused["latest"], refused["pending"], refused["refused"]) == (1, False, 1)
            usage = await http.get(
                "/api/v1/reports/usage",
                params={"scope": "school", "site": SITE, "from": "2025-03-03", "to": "2025-03-03"},
            )  # the release's rollups of USAGE_ROOM (tests/unit/test_hub_migrations.py)
            total = usage.json()["total"]
            assert (total["rooms"], total["projector_on_h"], total["energy_kwh"]) == (
                1,
                0.833,
                0.392,
            )
            history = await http.get(
                f"/api/v1/rooms/{SITE}/{ROOM}/telemetry",
                params={"metric": "co2_ppm", "start": "2025-03-03T00:00:00Z",
                        "end": "2025-03-05T00:00:00Z"},
            )  # fmt: skip
            assert len(history.json()["points"]) == 28 + 3  # boot b1 without 7 and 8; b2
            letters = (await http.get("/api/v1/dead-letters")).json()
            assert len(letters) == 3
        async with httpx.AsyncClient(base_url=hub.url, timeout=10) as anonymous:
            login = {"username": "lan", "password": "mat-khau-cua-lan"}
            assert (await anonymous.post("/api/v1/auth/login", json=login)).status_code == 200

        topics = RoomTopics(SITE, ROOM, topic_root)
        async with agent_client(own_broker, topic_root) as edge:
            for seq in (1, 7):  # one stored by the previous release, one it never got
                msg = Telemetry(sender=f"edge/{AGENT}", boot="b1", boot_no=1, seq=seq,
                                device="env", readings={"co2_ppm": 407.0})  # fmt: skip
                await edge.publish(topics.telemetry, encode(msg), qos=1)

            async def gap_closed() -> bool:
                async with hub.client() as http:
                    room = (await http.get(f"/api/v1/rooms/{SITE}/{ROOM}")).json()
                return room["boots"][1]["missing"] == []

            await eventually(gap_closed, 15, "the new message to close the gap")
        seqs = [(seq, n) for boot, seq, n in hub.stored_seqs(AGENT) if boot == "b1"]
        assert seqs == [(s, 1) for s in range(1, 32) if s != 8]  # 8: dropped by the agent
    finally:
        hub.close()


def _waiting_hubs(conn: Connection) -> int:
    query = text(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND objid = :k"
    )
    return int(conn.execute(query, {"k": MIGRATION_LOCK}).scalar_one())


@pytest.mark.postgresql
async def test_two_hubs_starting_together_migrate_once(
    broker: Mosquitto, topic_root: str, tmp_path: Path, postgres_url: str
) -> None:
    """The test holds the lock until both hubs wait for it, so they go at the same moment."""
    hubs = [
        HubProcess(broker, topic_root, tmp_path / name, hub_id=f"{name}-{topic_root}",
                   database_url=postgres_url)
        for name in ("hub-a", "hub-b")
    ]  # fmt: skip
    engine = make_engine(postgres_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": MIGRATION_LOCK})
            for hub in hubs:
                hub.start()
            deadline = time.monotonic() + 30
            while _waiting_hubs(conn) < len(hubs):
                assert time.monotonic() < deadline, "the hubs never waited for the lock"
                await asyncio.sleep(0.05)
        for hub in hubs:
            await started(hub)
        logs = [(h.work / "hub.log").read_text(errors="replace") for h in hubs]
        assert all("another hub is migrating it; waiting" in log for log in logs)
        assert sum("database: upgrading from nothing" in log for log in logs) == 1
        with engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).all() == [
                (head(),)
            ]
        for hub in hubs:
            await hub.wait_connected()
    finally:
        for hub in hubs:
            hub.close()
        engine.dispose()
