"""``scripts/new_migration.py``: one command writes the migration of a model change, which then
brings a database at the old head to the models, on SQLite and on PostgreSQL."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, ForeignKeyConstraint, Integer, String, Table

from hub.db import Base, load_models, make_engine
from hub.migrate import alembic_config, head, revisions, upgrade

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "new_migration.py"


def script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("new_migration", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def new_model() -> Iterator[Table]:
    """A table added to the models, as a new feature would (taken out again afterwards)."""
    load_models()
    table = Table(
        "alert_rules", Base.metadata,
        Column("id", Integer, primary_key=True),
        Column("site_id", String(63), nullable=False, index=True),
        Column("metric", String(63), nullable=False),
        ForeignKeyConstraint(["site_id"], ["sites.id"], ondelete="CASCADE"),
    )  # fmt: skip
    yield table
    Base.metadata.remove(table)


def test_a_model_change_gets_its_migration_in_one_command(
    new_model: Table, database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = head()
    engine = make_engine(database_url)
    upgrade(engine)  # a database of the current release

    assert script().main(["alert rules", "--versions", str(tmp_path)]) == 0
    [written] = tmp_path.glob("*_alert_rules.py")
    assert f"{written}: review it" in capsys.readouterr().out
    text = written.read_text(encoding="utf-8")
    assert f'down_revision: str | None = "{before}"' in text
    assert 'op.create_table(\n        "alert_rules"' in text
    assert "batch_op.create_index" in text  # batch operations, so SQLite can run them too

    config = alembic_config(extra_versions=[str(tmp_path)])
    assert upgrade(engine, config).current == before
    assert not revisions(engine, config).pending
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
    engine.dispose()
