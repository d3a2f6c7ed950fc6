"""Hub migrations: upgrade at start, the previous release's database adopted with all its
data, the models and the migrations' head in agreement, one hub migrating at a time."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import (
    Column,
    Connection,
    DateTime,
    Engine,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    inspect,
    text,
)

from hub.config_versions import ConfigVersions, PushState
from hub.db import Base, load_models, make_engine
from hub.migrate import (
    BASELINE,
    MIGRATION_LOCK,
    MigrationError,
    Revisions,
    alembic_config,
    head,
    revisions,
    server_defaults_differ,
    upgrade,
)
from hub.migrations import baseline
from hub.ratings import Ratings
from hub.reports import ReportQuery, Reports
from hub.store import Store
from tests.previous_release import (
    AGENT,
    ROOM,
    ROWS,
    SITE,
    USAGE_ROOM,
    load_previous_release,
    snapshot,
)
from tests.unit.hub_helpers import event, telemetry

HEAD = head()
load_models()  # every table the models declare, whichever modules the tests imported


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def differences(engine: Engine, metadata: MetaData = Base.metadata) -> list[Any]:
    """What autogenerate would put in a new revision: the models against the database."""
    with engine.connect() as conn:
        opts = {"compare_type": True, "compare_server_default": server_defaults_differ}
        context = MigrationContext.configure(conn, opts=opts)
        return list(compare_metadata(context, metadata))


def extra_revision(folder: Path, body: str, *, down: str = HEAD, rev: str = "e0e0e0e0e0e0") -> str:
    """A revision of the test's own after ``down``, in ``folder`` (an extra version location)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{rev}_test.py").write_text(
        f"from alembic import op\nimport sqlalchemy as sa\n\nrevision = {rev!r}\n"
        f"down_revision = {down!r}\nbranch_labels = None\ndepends_on = None\n\n"
        f"def upgrade():\n{body}\n\ndef downgrade():\n    pass\n",
        encoding="utf-8",
    )
    return str(folder)


def test_an_empty_database_is_upgraded_to_the_head_once(engine: Engine) -> None:
    assert revisions(engine) == Revisions(None, HEAD)
    assert upgrade(engine) == Revisions(None, HEAD)
    assert revisions(engine) == Revisions(HEAD, HEAD)
    assert upgrade(engine) == Revisions(HEAD, HEAD)  # nothing to do the second time
    assert not revisions(engine).pending


def test_the_models_and_the_migrations_head_agree(engine: Engine) -> None:
    """Fails when a model changes without a migration: add one (docs/design.md)."""
    upgrade(engine)
    assert differences(engine) == []


def test_load_models_alone_declares_every_table_of_the_head(engine: Engine) -> None:
    """What ``env.py`` and ``scripts/new_migration.py`` compare with: in a process that
    imported nothing else, a table left out would be written as dropped."""
    upgrade(engine)
    code = (
        "from hub.db import Base, load_models; load_models(); print(*sorted(Base.metadata.tables))"
    )
    repo = Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=repo, check=True, capture_output=True, text=True
    ).stdout
    assert out.split() == sorted(set(inspect(engine).get_table_names()) - {"alembic_version"})


def test_the_comparison_sees_a_table_and_a_column_without_a_migration(engine: Engine) -> None:
    upgrade(engine)
    models = MetaData()
    for table in Base.metadata.sorted_tables:
        table.to_metadata(models)
    Table("hourly_rollups", models, Column("id", Integer, primary_key=True))
    models.tables["rooms"].append_column(Column("floor", Integer))
    found = differences(engine, models)
    [(op, table)] = [d for d in found if d[0] == "add_table"]
    assert (op, table.name) == ("add_table", "hourly_rollups")
    [(op, _schema, name, column)] = [d for d in found if d[0] != "add_table"]
    assert (op, name, column.name) == ("add_column", "rooms", "floor")
    assert len(found) == 2


def test_the_previous_release_is_stamped_and_keeps_all_its_data(
    engine: Engine, database_url: str
) -> None:
    load_previous_release(database_url)
    before = snapshot(engine)
    assert {table: len(rows) for table, rows in before.items()} == ROWS
    assert differences(engine, baseline.metadata) == []  # the baseline is that release's schema

    assert upgrade(engine) == Revisions(None, HEAD, legacy=True)
    assert revisions(engine) == Revisions(HEAD, HEAD)
    assert snapshot(engine) == before
    assert differences(engine) == []  # the baseline is exactly what that release made

    store = Store(engine)
    store.load_roster()
    assert (SITE, ROOM) in store.roster
    [b2, b1] = store.boots(SITE, ROOM)
    assert (b1.boot, b1.missing, b1.dropped_count, b2.boot) == ("b1", [(7, 7)], 1, "b2")
    room = store.get_room(SITE, ROOM)
    assert room is not None
    assert (room.online, room.boot, room.clock_suspects, room.config_version_applied) == (
        True, "b2", 1, 2
    )  # fmt: skip
    versions = ConfigVersions(engine)
    assert versions.push_state(SITE, "6a2") == PushState(
        latest=1, pushed=1, applied=0, applied_ok=False, refused=1, applied_text="không lưu được"
    )
    assert versions.room_version(SITE, ROOM) == versions.room_version(SITE, ROOM, 2)
    assert versions.site_version(SITE).document == {"settings": {"telemetry_interval_s": 10}}
    assert (room.readings["co2_ppm"].device, room.readings["co2_ppm"].value) == ("env", 403.0)
    # stored before the upgrade: a duplicate now; the next seqs are new and close the gap
    batch = [telemetry(1, boot="b1", boot_no=1), telemetry(7, boot="b1", boot_no=1),
             event(32, boot="b1", boot_no=1)]  # fmt: skip
    result = store.write_batch(batch)
    assert (result.points, result.events, result.duplicates) == (2, 1, 2)
    assert store.boots(SITE, ROOM)[1].missing == []
    assert [e.seq for e in store.recent_events(SITE, ROOM)] == [32, 4, 31]


def test_the_previous_release_usage_rollups_are_reported_after_the_upgrade(
    engine: Engine, database_url: str
) -> None:
    """Its room's 8 samples every 10 minutes (06:40 to 07:50 local, two UTC hours) by hour
    (``usage_hourly``) and its school's day (the site and room daily tables) say the same."""
    load_previous_release(database_url)
    upgrade(engine)
    reports = Reports(engine, Ratings(), ZoneInfo("Asia/Ho_Chi_Minh"))
    day = date(2025, 3, 3)
    now = datetime(2025, 3, 4, tzinfo=UTC)
    hours = reports.usage(ReportQuery("room", day, day, "hour", SITE, USAGE_ROOM), now=now)
    school = reports.usage(ReportQuery("school", day, day, "day", SITE), now=now)
    assert [p.period for p in hours.periods if p.covered_h] == [
        "2025-03-03T06:00:00+07:00", "2025-03-03T07:00:00+07:00"
    ]  # fmt: skip
    for total in (hours.total, school.total):
        # projector on for 5 samples, the front zone for 8 and the back for 3; occupied for
        # 5, lessons 4 (29.5 °C), CO2 above 1000 for 5 and above 1500 for 3; empty for the
        # last 3 and closed for the last 2: 250 W * 50 min + 100 W * 110 min
        assert (total.rooms, total.covered_h, total.projector_on_h, total.lighting_on_h) == (
            1, 1.333, 0.833, 1.833
        )  # fmt: skip
        assert (total.occupied_h, total.co2_over_1000_min, total.co2_over_1500_min) == (
            0.833, 50.0, 30.0
        )  # fmt: skip
        assert (total.lesson_temperature_c, total.lesson_temperature_samples) == (29.5, 4)
        assert (total.energy_kwh, total.waste.energy_kwh) == (0.392, 0.142)
        assert total.waste.model_dump() == {
            "projector_h": 0.167, "lighting_h": 1.0, "empty_room_h": 1.167,
            "outside_timetable_h": 0.667, "energy_kwh": 0.142,
        }  # fmt: skip


def test_a_database_of_an_older_hub_gets_the_baseline_columns(engine: Engine) -> None:
    old = MetaData()
    readings = Table(
        "latest_readings", old,
        Column("agent", String(127), primary_key=True),
        Column("device", String(63), primary_key=True),
        Column("metric", String(63), primary_key=True),
        Column("value", Float, nullable=False),
        Column("ts", DateTime(timezone=True), nullable=False),
    )  # fmt: skip
    when = datetime(2025, 1, 1, tzinfo=UTC)
    with engine.begin() as conn:
        old.create_all(conn)
        conn.execute(readings.insert(), {"agent": AGENT, "device": "env", "metric": "co2_ppm",
                                          "value": 1.0, "ts": when})  # fmt: skip
    assert upgrade(engine) == Revisions(None, HEAD, legacy=True)
    with engine.connect() as conn:
        row = conn.execute(text("SELECT value, era, boot_no, seq FROM latest_readings")).one()
    assert tuple(row) == (1.0, 0, 0, 0)
    assert differences(engine) == []


def test_a_revision_this_hub_does_not_know_is_refused(engine: Engine) -> None:
    upgrade(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'f00dfeedf00d'"))
    assert revisions(engine) == Revisions("f00dfeedf00d", HEAD, known=False)
    with pytest.raises(MigrationError, match="f00dfeedf00d, which this hub does not know"):
        upgrade(engine)


def test_a_failed_migration_leaves_the_database_as_it_was(engine: Engine, tmp_path: Path) -> None:
    upgrade(engine)
    body = (
        "    op.create_table('scratch', sa.Column('id', sa.Integer, primary_key=True))\n"
        "    with op.batch_alter_table('rooms') as batch:\n"
        "        batch.add_column(sa.Column('floor', sa.Integer))\n"
        "    op.execute(\"UPDATE sites SET name = 'changed'\")\n"
        "    raise RuntimeError('a migration that fails half-way')"
    )
    config = alembic_config(extra_versions=[extra_revision(tmp_path / "versions", body)])
    before = snapshot(engine)
    with pytest.raises(RuntimeError, match="half-way"):
        upgrade(engine, config)
    assert revisions(engine).current == HEAD
    tables = inspect(engine)
    assert "scratch" not in tables.get_table_names()
    assert "floor" not in {c["name"] for c in tables.get_columns("rooms")}
    assert snapshot(engine) == before


def test_a_migration_that_copies_every_table_keeps_every_row(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    """SQLite alters a table by copying it: with foreign keys on, dropping the old ``sites``
    would delete every room with it (ON DELETE CASCADE)."""
    load_previous_release(database_url)
    upgrade(engine)
    before = snapshot(engine)
    body = "    copy = 'always' if op.get_bind().dialect.name == 'sqlite' else 'auto'\n" + "".join(
        f"    with op.batch_alter_table({name!r}, recreate=copy) as batch:\n"
        f"        batch.add_column(sa.Column('note', sa.Text))\n"
        for name in before
    )
    config = alembic_config(extra_versions=[extra_revision(tmp_path / "versions", body)])
    assert upgrade(engine, config) == Revisions(HEAD, "e0e0e0e0e0e0")
    after = snapshot(engine)
    assert {t: [{**r, "note": None} for r in rows] for t, rows in before.items()} == after
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1


def test_upgrades_started_together_in_one_process_run_one_after_the_other(
    database_url: str,
) -> None:
    """Alembic's context is global: in one process they queue (across processes, the
    database's lock does: tests/integration/test_hub_migrations.py)."""
    engines = [make_engine(database_url) for _ in range(3)]
    start = threading.Barrier(len(engines))
    results: list[Revisions | BaseException] = []

    def start_hub(engine: Engine) -> None:
        start.wait()
        try:
            results.append(upgrade(engine))
        except BaseException as exc:  # the test reports it
            results.append(exc)

    threads = [threading.Thread(target=start_hub, args=(e,)) for e in engines]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    for e in engines:
        e.dispose()
    assert sorted(map(repr, results)) == sorted(
        [repr(Revisions(None, HEAD))] + [repr(Revisions(HEAD, HEAD))] * 2
    )


@pytest.mark.postgresql
def test_a_hub_waits_while_another_migrates(postgres_url: str) -> None:
    holder, waiter = make_engine(postgres_url), make_engine(postgres_url)
    done: list[Revisions] = []
    try:
        with holder.begin() as conn:
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": MIGRATION_LOCK})
            thread = threading.Thread(target=lambda: done.append(upgrade(waiter)))
            thread.start()
            deadline = time.monotonic() + 10
            while not _waiting_for_the_lock(conn):
                assert time.monotonic() < deadline, "the second hub never waited for the lock"
                time.sleep(0.01)
            assert thread.is_alive()
            assert not done
            assert "alembic_version" not in inspect(conn).get_table_names()
        thread.join(30)  # the first hub's transaction ended: the lock is free
        assert done == [Revisions(None, HEAD)]
    finally:
        holder.dispose()
        waiter.dispose()


def _waiting_for_the_lock(conn: Connection) -> bool:
    query = text(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND objid = :k"
    )
    return bool(conn.execute(query, {"k": MIGRATION_LOCK}).scalar_one())


def test_the_baseline_is_the_first_revision() -> None:
    script = ScriptDirectory.from_config(alembic_config())
    assert script.get_base() == BASELINE
    assert script.get_revision(BASELINE).down_revision is None


def test_two_heads_are_refused_until_merged(engine: Engine, tmp_path: Path) -> None:
    """Two branches that each added a revision after the same one."""
    extra_revision(tmp_path / "a", "    pass", rev="aaaaaaaaaaaa")
    extra_revision(tmp_path / "b", "    pass", rev="bbbbbbbbbbbb")
    config = alembic_config(extra_versions=[str(tmp_path / "a"), str(tmp_path / "b")])
    with pytest.raises(MigrationError, match=r"2 heads \(.*\): merge them"):
        upgrade(engine, config)
    assert revisions(engine).current is None  # nothing done
