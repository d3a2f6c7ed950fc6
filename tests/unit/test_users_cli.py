"""``smartclass hub users``: the first user and every later one, on the hub's database."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hub.db import make_engine
from hub.users import Users
from smartclass.cli import main


@pytest.fixture
def url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("SMARTCLASS_HUB_ARGON2_TIME_COST", "1")  # quicker than the default
    monkeypatch.setenv("SMARTCLASS_HUB_ARGON2_MEMORY_KIB", "8192")
    return f"sqlite:///{tmp_path / 'hub.sqlite'}"


def run(url: str, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["hub", "users", "--database-url", url, *args])
    out, err = capsys.readouterr()
    return code, out, err


def users(url: str) -> Users:
    return Users(make_engine(url), argon2_time_cost=1, argon2_memory_kib=8192)


def printed_password(out: str, name: str) -> str:
    found = re.findall(rf"^password for {name}: (\S+)$", out, re.M)
    assert len(found) == 1, out
    return found[0]


def test_the_first_user_gets_a_generated_password_printed_once(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(url, capsys, "add", "lan", "--role", "it", "--site", "thcs-a")
    assert code == 0
    password = printed_password(out, "lan")
    assert len(password) >= 20
    found = users(url).verify("lan", password)
    assert found is not None
    assert (found.role.value, found.sites) == ("it", ("thcs-a",))
    code, out, _ = run(url, capsys, "list")
    assert code == 0
    assert password not in out
    assert re.search(r"^lan\s+it\s+active\s+\S+ \S+\s+thcs-a$", out, re.M), out


def test_a_password_from_standard_input(
    url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO("a long enough secret\n"))
    args = ("add", "thu", "--role", "teacher", "--room", "thcs-a/6a1", "--password-stdin")
    code, out, _ = run(url, capsys, *args)
    assert code == 0
    assert "password for" not in out
    assert users(url).verify("thu", "a long enough secret") is not None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--role", "teacher", "--site", "thcs-a"), "a teacher is given rooms"),
        (("--role", "it"), "needs at least one school"),
        (("--role", "admin", "--room", "thcs-a/6a1", "--site", "s"), "given schools"),
        (("--role", "district", "--site", "thcs-a"), "reaches every school"),
        (("--role", "teacher", "--room", "thcs-a"), "site/room"),
        (("--role", "it", "--site", "Bad Site"), "invalid site"),
    ],
)
def test_a_reach_that_does_not_fit_the_role_is_refused(
    url: str, capsys: pytest.CaptureFixture[str], args: tuple[str, ...], message: str
) -> None:
    code, out, err = run(url, capsys, "add", "someone", *args)
    assert code == 2
    assert message in err
    assert "password" not in out
    assert users(url).by_name("someone") is None


def test_a_duplicate_name_is_refused(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(url, capsys, "add", "so-gd", "--role", "district")[0] == 0
    code, _, err = run(url, capsys, "add", "so-gd", "--role", "district")
    assert (code, "exists already" in err) == (2, True)


def test_disable_enable_reset_and_token(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(url, capsys, "add", "lan", "--role", "it", "--site", "thcs-a")
    first = printed_password(out, "lan")
    assert run(url, capsys, "disable", "lan")[0] == 0
    assert users(url).verify("lan", first) is None
    assert run(url, capsys, "enable", "lan")[0] == 0
    assert users(url).verify("lan", first) is not None
    code, out, _ = run(url, capsys, "reset", "lan")
    second = printed_password(out, "lan")
    assert code == 0
    assert second != first
    assert users(url).verify("lan", first) is None
    assert users(url).verify("lan", second) is not None
    code, out, _ = run(url, capsys, "token", "lan", "--name", "nightly-report")
    [secret] = re.findall(r"for lan: (sct_\S+)", out)
    found = users(url).by_token(secret)
    assert found is not None
    assert found[0].username == "lan"
    code, _, err = run(url, capsys, "disable", "nobody")
    assert (code, "no user named 'nobody'" in err) == (2, True)


def test_the_hub_command_still_runs_the_hub_and_explains_users(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        main(["hub", "--help"])
    out = capsys.readouterr().out
    assert "users" in out
    with pytest.raises(SystemExit):
        main(["hub", "users", "add", "--help"])
    out = capsys.readouterr().out
    assert "--role" in out
    assert "teacher" in out
