"""Make the databases of the previous release that the migration tests upgrade.

The hub of PREVIOUS_RELEASE (the last commit before migrations, taken out of git into a
temporary folder) makes its own schema and stores a small school's messages through its own
store, on SQLite and on a PostgreSQL server started for the purpose; each database is dumped
as SQL into ``tests/data/previous-release.{sqlite,postgresql}.sql``.

Usage, from the repository root (needs git, and PostgreSQL's server and pg_dump, which
``scripts/bootstrap --dev`` installs):

    .venv/bin/python scripts/previous_release_db.py [--commit COMMIT] [--out DIR]
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import sqlite3
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
PREVIOUS_RELEASE = "d641facf31e2c96d192f7b054df87fd3513e74f9"
"""The last commit whose hub made its schema without migrations."""
SCHEMA = "previous_release"
"""The PostgreSQL schema the dump is made in; its name is taken out of the dump, which then
loads into whatever schema comes first on the search path."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commit", default=PREVIOUS_RELEASE, help="default: %(default)s")
    parser.add_argument("--out", type=Path, default=REPO / "tests" / "data")
    parser.add_argument("--fill", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.fill:  # the child: runs on the release's own code
        _make_dumps(args.out.resolve(), args.commit)
        return 0
    with tempfile.TemporaryDirectory(prefix="smartclass-release-") as tmp:
        archive = subprocess.run(
            ["git", "-C", str(REPO), "archive", "--format=tar", args.commit],
            check=True,
            capture_output=True,
        ).stdout
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(tmp, filter="data")
        args.out.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [sys.executable, __file__, "--fill", "--commit", args.commit, "--out", str(args.out)],
            check=True,
            cwd=tmp,
            env={**os.environ, "PYTHONPATH": tmp},
        )
    return 0


def _make_dumps(out: Path, commit: str) -> None:
    from psycopg import sql

    from tests.postgres import PostgresServer

    header = f"-- The hub database of smartclass {commit[:12]} (scripts/previous_release_db.py)\n"
    with tempfile.TemporaryDirectory(prefix="smartclass-release-db-") as tmp:
        path = Path(tmp) / "hub.sqlite"
        _fill(f"sqlite:///{path}")
        with sqlite3.connect(path) as conn:
            dump = "\n".join(conn.iterdump())
        (out / "previous-release.sqlite.sql").write_text(header + dump + "\n", encoding="utf-8")

    with PostgresServer() as server:
        server.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier("hub")))
        server.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(SCHEMA)), "hub")
        _fill(f"{server.url('hub')}?options=-csearch_path%3D{SCHEMA}")
        pg_dump = shutil.which("pg_dump") or str(server.bin_dir / "pg_dump")
        dump = subprocess.run(
            [pg_dump, "--host", server.host, "--port", str(server.port), "--username", "postgres",
             "--schema", SCHEMA, "--no-owner", "--no-privileges", "--no-comments", "--inserts",
             "hub"],
            check=True, capture_output=True, text=True,
        ).stdout  # fmt: skip
    (out / "previous-release.postgresql.sql").write_text(
        header + _unqualified(dump), encoding="utf-8"
    )


def _unqualified(dump: str) -> str:
    """The dump without its schema: no ``CREATE SCHEMA``, no emptied search path, no names
    qualified by it, and no psql meta-commands (``\\restrict``), so it loads as plain SQL."""
    lines = []
    for line in dump.splitlines():
        skip = ("\\", f"CREATE SCHEMA {SCHEMA};", "SELECT pg_catalog.set_config('search_path'")
        if line.startswith(skip):
            continue
        lines.append(line.replace(f"{SCHEMA}.", ""))
    return "\n".join(lines) + "\n"


def _fill(url: str) -> None:
    """A school's data, written by the release's own code: two sites, rooms with statuses,
    telemetry with a gap and a clock far ahead, events, device states, configuration
    versions of the school and a room (pushed, applied by one agent, refused by another),
    health with losses, two boots, dead letters, a command with its reply, users with their
    schools, rooms, a token and a session, the audit log, alerts with their transitions, and
    the usage rollups of a room's contract-v3 samples over two hours."""
    from zoneinfo import ZoneInfo

    from hub.access import Role
    from hub.alerts.kinds import AlertKey, AlertKind
    from hub.alerts.store import AlertStore, NewAlert
    from hub.audit import Audit
    from hub.config_versions import Author, ConfigVersions
    from hub.ratings import Ratings
    from hub.rollups import UsageRollups
    from hub.store import SiteSpec
    from hub.users import Users
    from protocol import Command, CommandReply, ConfigApplied, RoomTopics, encode
    from protocol.messages import BootLosses
    from tests.unit import hub_helpers as h

    store = h.make_store(url)  # the release's create_schema, and h.SITE with h.ROOMS
    store.upsert_sites([SiteSpec("thpt-vo-truong-toan", "THPT Võ Trường Toản", [("10a1", "10A1")])])
    store.rollups = UsageRollups(Ratings(), ZoneInfo("Asia/Ho_Chi_Minh"))  # as the hub does
    topics = RoomTopics(h.SITE, h.ROOM, h.ROOT)
    b1: dict[str, Any] = {"boot": "b1", "boot_no": 1}
    b2: dict[str, Any] = {"boot": "b2", "boot_no": 2}
    families = {"env": "environment", "lights": "lights"}
    online: dict[str, Any] = {
        "conn": 1,
        "agent_version": "0.1.0",
        "devices": list(families),
        "families": families,
    }
    losses = [BootLosses(boot="b1", dropped=[[8, 8]], count=1)]
    versions = ConfigVersions(store.engine)
    lan_it = Author("lan", "it")
    versions.change_site(h.SITE, {"settings": {"telemetry_interval_s": 10}}, lan_it, "cả trường")
    versions.change_room(h.SITE, h.ROOM, {"settings": {"telemetry_interval_s": 5}}, lan_it, "")
    for room, version in ((h.ROOM, 2), ("6a2", 1), ("9a1", 1)):
        versions.mark_pushed(h.SITE, room, version)
    refused = ConfigApplied(
        sender=f"edge/{h.SITE}/6a2", boot="b1", n=1, version=0, ok=False, refused=1,
        text="không lưu được", ts=h.at(20),
    )  # fmt: skip
    command = Command(
        sender="hub-test", id="cmd-0001", device="lights", action="scene",
        params={"scene": "projection"}, issuer="giao-vien-lan", ts=h.at(50), expires=h.at(60),
        reply_to="hub-test",
    )  # fmt: skip
    store.log_command(h.SITE, h.ROOM, command)
    reply = CommandReply(
        sender=f"edge/{h.AGENT}", id="cmd-0001", device="lights", code="ok", text="đã chiếu",
        ts=h.at(51),
    )  # fmt: skip
    batches: list[list[Any]] = [
        [h.status("online", **b1, **online)],
        [h.telemetry(seq, **b1, ts=seq) for seq in range(1, 31) if seq not in (7, 8)],
        [h.event(31, **b1, ts=31, kind="help", text="Cô ơi, máy chiếu không lên")],
        [h.state("lights", **b1, n=1, scene="lesson", on=True)],
        [h.applied(2, boot_no=1, n=1)],
        [h.parsed(RoomTopics(h.SITE, "6a2", h.ROOT).config_applied, refused)],
        [h.health(**b1, n=1, last_seq=31, losses=losses)],
        [h.telemetry(1, **b2, ts=40), h.telemetry(2, **b2, ts=41, device="air", co2_ppm=1250.5)],
        [h.telemetry(3, **b2, ts=86_400)],  # the agent's clock a day ahead
        [h.event(4, **b2, ts=42, kind="stale_air", text="CO2 cao")],
        [h.status("online", **b2, **online)],
        [h.health(**b2, n=1, last_seq=4, previous_boot="b1", previous_last_seq=31)],
        [h.parsed(topics.reply_to("hub-test"), reply)],
        [h.telemetry(seq, room="6a2", ts=seq) for seq in range(1, 6)],
        [
            h.item(topics.telemetry, b"{not json"),
            h.item(RoomTopics(h.SITE, "x9", h.ROOT).telemetry, encode(command)),
            h.item(topics.event, b"\x00\xff binary"),
        ],
        _usage_samples(h, "9a1"),
    ]
    for batch in batches:
        store.write_batch(batch, now=h.NOW)

    users = Users(store.engine)
    lan = users.add("lan", Role.IT, "mat-khau-cua-lan", sites=[h.SITE], display_name="Cô Lan")
    thu = users.add("thu", Role.TEACHER, "mat-khau-cua-thu", rooms=[(h.SITE, h.ROOM)])
    users.create_token(lan.id, "bao-cao-dem")
    assert users.verify("thu", "mat-khau-cua-thu") is not None  # her last login
    users.open_session(thu, address="192.0.2.10")
    audit = Audit(store.engine)
    audit.record_sync(thu.caller(), "login", address="192.0.2.10")
    audit.record_sync(None, "login", outcome="bad_password", actor_name="thu")
    detail = {"action": "scene", "params": {"scene": "off"}}
    where = {"site": h.SITE, "room": h.ROOM, "device": "lights"}
    audit.record_sync(thu.caller(), "command", **where, detail=detail, duration_ms=12.5)

    alerts = AlertStore(store.engine)
    help_key = AlertKey(AlertKind.HELP, h.SITE, h.ROOM)
    source = f"{h.AGENT}/b1/31"
    help_alert = NewAlert(help_key, "warning", "Cô ơi", source=source, event=source)
    opened = alerts.open(help_alert, h.at(31))
    assert opened is not None
    alerts.acknowledge(opened.id, "lan", "đang đến", h.at(40))
    offline = alerts.open(NewAlert(AlertKey(AlertKind.AGENT_OFFLINE, h.SITE, "6a2"), "critical",
                                   "offline"), h.at(45))  # fmt: skip
    assert offline is not None
    alerts.resolve(offline.id, "lan", "đã sửa", h.at(50))
    store.engine.dispose()


def _usage_samples(h: Any, room: str) -> list[Any]:
    """Contract-v3 samples of a room's presence, projector, lights and air every 10 minutes
    from 06:30 to 07:50 local (two UTC hours, one local day): lesson, break, then closed;
    occupied, then empty; so every usage table gets rows, waste and CO2 time included."""
    from datetime import timedelta

    from protocol import RoomTopics, Telemetry

    topic = RoomTopics(h.SITE, room, h.ROOT).telemetry
    out = []
    seq = 0
    for i in range(1, 9):
        schedule = "lesson" if i <= 4 else "break" if i <= 6 else "closed"
        occupied = i <= 5
        devices = {
            "presence": {"occupied": float(occupied)},
            "projector": {"power_on": float(2 <= i <= 6), "lamp_hours": 1200.0 + (i >= 5),
                          "filter_hours": 300.0},
            "lights": {"level_front_pct": 100.0, "level_back_pct": 50.0 if i >= 6 else 0.0},
            "air": {"co2_ppm": 900.0 if i <= 3 else 1300.0 if i <= 5 else 1600.0,
                    "temperature_c": 29.5},
        }  # fmt: skip
        for device, readings in devices.items():
            seq += 1
            msg = Telemetry(
                sender=f"edge/{h.SITE}/{room}", boot="c1", boot_no=1, seq=seq,
                ts=h.T0 + timedelta(seconds=600 * i - 5400), device=device, readings=readings,
                interval_s=600, occupied=occupied, schedule=schedule,
            )  # fmt: skip
            out.append(h.parsed(topic, msg))
    return out


if __name__ == "__main__":
    sys.exit(main())
