"""``smartclass hub backup`` and ``hub restore`` on SQLite and PostgreSQL: a hub full of data
comes back row for row into an empty database, an older hub's backup comes up to this
release's schema, a backup taken while the hub ingests is consistent, and a restore into a
database that is not empty, or of a file that is no backup, is refused."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from psycopg import sql
from sqlalchemy import Engine, MetaData, Table, inspect, make_url, select, text

from hub.alerts.service import AlertService
from hub.alerts.store import AlertStore
from hub.audit import Audit
from hub.config_versions import Author, ConfigVersions
from hub.db import make_engine
from hub.migrate import head, revisions, upgrade
from hub.settings import HubSettings
from hub.store import Store
from protocol import Event, RoomTopics
from protocol.aio import wait_within
from protocol.attendance import KIND_CONSENT, KIND_ENROLLED, KIND_MARK
from smartclass.broker import Mosquitto
from smartclass.cli import main
from tests.integration.system import STORED_SEQS, HubProcess, eventually, make_agent, running
from tests.postgres import PostgresServer
from tests.previous_release import ROWS, load_previous_release
from tests.unit.hub_helpers import (
    ROOT,
    SITE,
    SITES,
    at,
    bearer,
    event,
    health,
    parsed,
    state,
    status,
    telemetry,
)

pytestmark = pytest.mark.integration

DAY = date(2025, 3, 3)


def every_row(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table of the database, in a fixed order."""
    engine = make_engine(url)
    try:
        return _every_row(engine)
    finally:
        engine.dispose()


def _every_row(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    metadata = MetaData()
    rows: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as conn:
        for name in sorted(inspect(conn).get_table_names()):
            table = Table(name, metadata, autoload_with=conn)
            order = list(table.primary_key.columns) or list(table.columns)
            rows[name] = [tuple(r) for r in conn.execute(select(table).order_by(*order))]
    return rows


def attendance(kind: str, seq: int, data: dict[str, Any]) -> Any:
    msg = Event(
        sender=f"edge/{SITE}/6a1", boot="b-now", seq=seq, ts=at(0), kind=kind,
        data={"av": 1, **data},
    )  # fmt: skip
    return parsed(RoomTopics(SITE, "6a1", ROOT).event, msg)


def fill(url: str) -> None:
    """A hub of the previous release, upgraded, then given this release's data through its
    store: telemetry, events, states, health, attendance marks and consent, users, tokens."""
    load_previous_release(url)
    engine = make_engine(url)
    try:
        upgrade(engine)
        store = Store(engine)
        store.upsert_sites(SITES)
        batch = [telemetry(seq, boot="b-now", ts=seq) for seq in range(1, 41)]
        batch += [event(41, boot="b-now", kind="help", text="xin trợ giúp")]
        batch += [status("online", boot="b-now"), state("lights", boot="b-now", on=True)]
        batch += [health(boot="b-now", last_seq=41)]
        batch += [
            attendance(KIND_MARK, 42 + n, {
                "class_id": "6a1", "date": DAY.isoformat(), "period": 1, "student": f"hs{n:02}",
                "status": "present", "method": "face", "confidence": 0.9,
                "at": at(0).isoformat(), "revision": 0,
            })
            for n in range(5)
        ]  # fmt: skip
        batch += [
            attendance(KIND_CONSENT, 50, {
                "student": "hs01", "state": "recorded", "parent": True, "student_own": True,
                "by": "it.an", "at": at(0).isoformat(), "templates_deleted": 0,
            })
        ]  # fmt: skip
        batch += [attendance(KIND_ENROLLED, 51, {"student": "hs01", "templates": 3,
                                                 "expires": "2026-06-01"})]  # fmt: skip
        batch += [telemetry(52, boot="b-now", ts=86_400)]  # a day ahead of the hub's clock
        store.write_batch(batch)
        asyncio.run(raise_alerts(store, [event(53, boot="b-now", kind="help", text="mất điện"),
                                         telemetry(54, boot="b-now", co2_ppm=1900)]))  # fmt: skip
        ConfigVersions(engine).change_room(
            SITE, "6a1", {"settings": {"telemetry_interval_s": 10}}, Author("lan", "it"), "10 s"
        )
        Audit(engine).record_sync(None, "command", site=SITE, room="6a1", device="lights")
    finally:
        engine.dispose()
    bearer(url)  # a user and their token


async def raise_alerts(store: Store, batch: list[Any]) -> None:
    """What the ingest does with a batch: store it, then let the alert service judge it."""
    settings = HubSettings(database_url="sqlite://", alert_offline_grace_s=60)
    service = AlertService(AlertStore(store.engine), settings)
    task = asyncio.create_task(service.run())
    try:
        store.write_batch(batch)
        service.observe(batch)
        await wait_within(service.judged(), 10)
    finally:
        service.stop()
        await wait_within(task, 10)
        await service.close()


@pytest.fixture
def empty_url(request: pytest.FixtureRequest, database_url: str, tmp_path: Path) -> Iterator[str]:
    """An empty database of the same kind as ``database_url``: a new SQLite file, or a new
    PostgreSQL database whose search path selects the schema of ``database_url``."""
    parsed_url = make_url(database_url)
    if parsed_url.get_backend_name() == "sqlite":
        yield f"sqlite:///{tmp_path / 'restored' / 'hub.sqlite'}"
        return
    postgres: PostgresServer = request.getfixturevalue("postgres")
    name = f"restore_{uuid.uuid4().hex[:10]}"
    postgres.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    options = quote(str(parsed_url.query["options"]), safe="")
    yield f"{postgres.url(name)}?options={options}"
    postgres.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(autouse=True)
def root_logging() -> Iterator[None]:
    """``main`` points the root logger at this test's captured stderr: undo it after."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def make_schema(url: str) -> None:
    """On PostgreSQL, the schema the URL's search path selects (as a DBA makes it for a hub)."""
    parsed_url = make_url(url)
    if parsed_url.get_backend_name() == "sqlite":
        return
    schema = str(parsed_url.query["options"]).split("=", 1)[1]
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
    finally:
        engine.dispose()


def test_backup_and_restore_have_help_with_examples(capsys: pytest.CaptureFixture[str]) -> None:
    for command in ("backup", "restore"):
        with pytest.raises(SystemExit) as exit_:
            main(["hub", command, "--help"])
        assert exit_.value.code == 0
        out = capsys.readouterr().out
        assert "examples:" in out
        assert f"smartclass hub {command} " in out


def test_a_backup_restored_into_an_empty_database_holds_every_row_of_every_table(
    database_url: str, empty_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fill(database_url)
    before = every_row(database_url)
    counted = {name: len(rows) for name, rows in before.items()}
    previous = ROWS  # what the previous release's database held: this release added more
    for table in ("alerts", "alert_transitions", "audit_log", "room_config_versions", "users"):
        assert counted[table] > previous[table], (table, counted[table])
    for table in ("telemetry", "events", "users", "api_tokens", "audit_log", "alerts", "rooms",
                  "room_config_versions", "attendance_marks", "attendance_consent",
                  "attendance_enrolments", "suspect_readings"):  # fmt: skip
        assert counted.get(table, 0) > 0, f"{table} is empty: {counted}"

    out = tmp_path / "backups" / "hub.backup"
    assert main(["hub", "backup", "--out", str(out), "--database-url", database_url]) == 0
    said = capsys.readouterr().out
    assert f"backup written: {out}" in said
    assert list(out.parent.iterdir()) == [out]  # no partial file left beside it
    assert out.stat().st_mode & 0o777 == 0o600  # personal data: its owner's only

    assert main(["hub", "restore", str(out), "--database-url", empty_url]) == 0
    said = capsys.readouterr().out
    assert f"at {head()} (head)" in said
    after = every_row(empty_url)
    assert set(after) == set(before)
    for name in before:
        assert after[name] == before[name], name
    assert every_row(database_url) == before  # the backup changed nothing


def test_a_restore_into_a_database_that_is_not_empty_is_refused_unless_forced(
    database_url: str, empty_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fill(database_url)
    out = tmp_path / "hub.backup"
    assert main(["hub", "backup", "--out", str(out), "--database-url", database_url]) == 0
    make_schema(empty_url)
    engine = make_engine(empty_url)
    try:
        upgrade(engine)  # a hub started on it: its tables, no data yet
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO sites (id, name) VALUES ('other', 'Other')"))
    finally:
        engine.dispose()
    capsys.readouterr()
    assert main(["hub", "restore", str(out), "--database-url", empty_url]) == 2
    err = capsys.readouterr().err
    assert "is not empty" in err
    assert "--force" in err
    assert every_row(empty_url)["sites"] == [("other", "Other")]  # untouched

    assert main(["hub", "restore", str(out), "--database-url", empty_url, "--force"]) == 0
    assert every_row(empty_url) == every_row(database_url)


def test_an_older_hubs_backup_is_restored_and_migrated_to_this_releases_schema(
    database_url: str, empty_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    load_previous_release(database_url)  # as the previous release left it: no migrations
    out = tmp_path / "old.backup"
    assert main(["hub", "backup", "--out", str(out), "--database-url", database_url]) == 0
    assert main(["hub", "restore", str(out), "--database-url", empty_url]) == 0
    assert "migrating the restored database" in capsys.readouterr().out
    engine = make_engine(empty_url)
    try:
        assert not revisions(engine).pending
        rows = _every_row(engine)
    finally:
        engine.dispose()
    assert {name: len(rows[name]) for name in ROWS} == ROWS


def test_without_database_url_the_hubs_own_setting_is_used(
    database_url: str,
    empty_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    fill(database_url)
    out = tmp_path / "new-folder" / "hub.backup"
    monkeypatch.setenv("SMARTCLASS_HUB_DATABASE_URL", database_url)
    assert main(["hub", "backup", "--out", str(out)]) == 0
    monkeypatch.setenv("SMARTCLASS_HUB_DATABASE_URL", empty_url)
    assert main(["hub", "restore", str(out)]) == 0
    said = capsys.readouterr().out
    assert f"database: {make_url(empty_url).render_as_string()}" in said
    assert every_row(empty_url) == every_row(database_url)


def test_a_file_that_is_not_a_backup_is_refused_with_a_clear_error_and_exit_2(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text_file = tmp_path / "notes.txt"
    text_file.write_text("not a backup\n", encoding="utf-8")
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE things (x)")
    conn.close()
    damaged = tmp_path / "damaged.dump"
    damaged.write_bytes(b"PGDMP" + bytes(range(256)) * 4)
    cases = {
        text_file: "not a hub backup",
        damaged: "a damaged or unreadable pg_dump archive",
        other: "a SQLite database, but not a hub's",
        tmp_path / "missing.backup": "cannot be read",
    }
    for path, why in cases.items():
        assert main(["hub", "restore", str(path), "--database-url", database_url]) == 2
        err = capsys.readouterr().err
        assert why in err, err
        assert str(path) in err
    assert inspect_tables(database_url) == set()  # nothing was made


def test_a_backup_of_one_kind_of_database_is_refused_by_the_other(
    postgres_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sqlite_url = f"sqlite:///{tmp_path / 'hub.sqlite'}"
    fill(sqlite_url)
    out = tmp_path / "hub.backup"
    assert main(["hub", "backup", "--out", str(out), "--database-url", sqlite_url]) == 0
    assert main(["hub", "restore", str(out), "--database-url", postgres_url]) == 2
    assert "a sqlite backup cannot be restored into a postgresql database" in (
        capsys.readouterr().err
    )


@pytest.mark.postgresql
def test_a_hub_in_the_public_schema_comes_back_into_a_new_databases_public_schema(
    postgres: PostgresServer, tmp_path: Path
) -> None:
    names = [f"public_{n}_{uuid.uuid4().hex[:8]}" for n in ("from", "to")]
    for name in names:
        postgres.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    source, target = (postgres.url(name) for name in names)
    try:
        fill(source)
        out = tmp_path / "public.dump"
        assert main(["hub", "backup", "--out", str(out), "--database-url", source]) == 0
        assert main(["hub", "restore", str(out), "--database-url", target]) == 0
        assert every_row(target) == every_row(source)
    finally:
        for name in names:
            drop = sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name))
            postgres.execute(drop)


def inspect_tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return set(inspect(conn).get_table_names())
    finally:
        engine.dispose()


async def test_a_backup_taken_while_the_hub_ingests_is_consistent(
    broker: Mosquitto,
    topic_root: str,
    tmp_path: Path,
    database_url: str,
    empty_url: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    hub = HubProcess(broker, topic_root, tmp_path / "hub", hub_id=f"hub-{topic_root}",
                     database_url=database_url)  # fmt: skip
    hub.start()
    agent, _ = make_agent(broker, topic_root, tmp_path / "edge", interval=0.05)
    label = f"{agent.room.site}/{agent.room.room}"
    out = tmp_path / "busy.backup"
    try:
        await hub.wait_connected()
        async with running(agent):

            async def stored(n: int) -> int:
                rows = await asyncio.to_thread(stored_in, database_url, label)
                return len(rows) if len(rows) >= n else 0

            await eventually(lambda: stored(50), 30, "the hub to store 50 messages")
            before = len(await asyncio.to_thread(stored_in, database_url, label))
            args = ["hub", "backup", "--out", str(out), "--database-url", database_url]
            assert await asyncio.to_thread(main, args) == 0
            after = len(await asyncio.to_thread(stored_in, database_url, label))
            await eventually(lambda: stored(after + 1), 10, "the hub to go on storing")
    finally:
        hub.close()
    restore = ["hub", "restore", str(out), "--database-url", empty_url]
    assert await asyncio.to_thread(main, restore) == 0
    capsys.readouterr()
    rows = stored_in(empty_url, label)
    assert before <= len(rows) <= after, (before, len(rows), after)
    assert {copies for _, _, copies in rows} == {1}, "a message twice in a snapshot"
    if make_url(database_url).get_backend_name() == "sqlite":
        with sqlite3.connect(make_url(empty_url).database or "") as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        conn.close()


def stored_in(url: str, agent: str) -> list[tuple[str, int, int]]:
    """(boot, seq, copies) of every telemetry message and event stored for ``agent``."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text(STORED_SEQS), {"agent": agent}).all()
    finally:
        engine.dispose()
    return [(str(b), int(s), int(n)) for b, s, n in rows]
