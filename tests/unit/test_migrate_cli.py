"""``smartclass hub migrate``: upgrades the hub's database and says where it stood."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, text

from hub.db import make_engine
from hub.migrate import head
from smartclass.cli import _parser, main
from tests.previous_release import load_previous_release

HEAD = head()


def test_migrate_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["hub", "migrate", "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert "usage: smartclass hub migrate" in out
    for words in ("--check", "--database-url", "SMARTCLASS_HUB_DATABASE_URL", "Exit status"):
        assert words in out


def test_hub_without_a_subcommand_still_runs_the_hub() -> None:
    args = _parser().parse_args(["hub", "--port", "8001"])
    assert (args.command, args.hub_command, args.port) == ("hub", None, 8001)


def test_migrate_adopts_the_previous_release_and_prints_both_revisions(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    load_previous_release(database_url)
    assert main(["hub", "migrate", "--database-url", database_url]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1:] == [
        "current revision: none (made by a hub from before migrations)",
        f"target revision: {HEAD} (head)",
        f"upgraded to {HEAD}",
    ]
    assert main(["hub", "migrate", "--database-url", database_url, "--check"]) == 0
    assert capsys.readouterr().out.splitlines()[1:] == [
        f"current revision: {HEAD}",
        f"target revision: {HEAD} (head)",
        "up to date",
    ]


def test_check_changes_nothing_and_says_an_upgrade_is_pending(
    database_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMARTCLASS_HUB_DATABASE_URL", database_url)
    assert main(["hub", "migrate", "--check"]) == 1
    out = capsys.readouterr().out
    assert "current revision: none (empty)" in out
    assert "an upgrade is pending" in out
    engine = make_engine(database_url)
    assert inspect(engine).get_table_names() == []
    engine.dispose()


def test_a_password_in_the_url_is_not_printed(
    postgres_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    url = postgres_url.replace("postgres@", "postgres:s3cret@")  # trust: any password works
    assert main(["hub", "migrate", "--database-url", url]) == 0
    out = capsys.readouterr().out
    assert "s3cret" not in out
    assert "postgres:***@" in out


@pytest.mark.parametrize(
    ("flag", "key"), [(True, "--database-url"), (False, "SMARTCLASS_HUB_DATABASE_URL")]
)
def test_a_bad_url_is_named_and_exits_2(
    flag: bool, key: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMARTCLASS_HUB_DATABASE_URL", "nosuchdb://x")
    argv = ["hub", "migrate", *(["--database-url", "nosuchdb://x"] if flag else [])]
    assert main(argv) == 2
    assert f"smartclass hub migrate: {key}: " in capsys.readouterr().err


def test_a_database_of_a_newer_hub_is_refused_and_exits_1(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["hub", "migrate", "--database-url", database_url]) == 0
    engine = make_engine(database_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'f00dfeedf00d'"))
    engine.dispose()
    capsys.readouterr()
    assert main(["hub", "migrate", "--database-url", database_url]) == 1
    captured = capsys.readouterr()
    assert "current revision: f00dfeedf00d (unknown to this hub)" in captured.out
    assert "which this hub does not know" in captured.err
