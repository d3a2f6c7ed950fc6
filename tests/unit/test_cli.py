"""The ``smartclass`` command line: help, validation and the demo's generated files."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge.config import load_room_config
from hub.registry import load_sites
from smartclass.cli import main
from smartclass.demo import pick_rooms, room_name, write_demo_files

REPO = Path(__file__).resolve().parents[2]
ROOMS = sorted((REPO / "firmware_configs" / "rooms").glob("*.yaml"))


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["demo"],
        ["hub"],
        ["edge"],
        ["validate"],
        ["broker"],
        ["broker", "credentials"],
        ["bench"],
        ["bench", "ingest"],
    ],
    ids=lambda a: " ".join(a) or "top",
)
def test_every_command_has_help(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main([*argv, "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert "usage: smartclass" in out
    assert len(out.splitlines()) > 4


def test_validate_accepts_the_shipped_room_files(capsys: pytest.CaptureFixture[str]) -> None:
    assert ROOMS
    assert main(["validate", *map(str, ROOMS)]) == 0
    assert capsys.readouterr().out.count(": ok") == len(ROOMS)


def test_validate_names_file_line_and_key_and_exits_non_zero(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (REPO / "firmware_configs" / "rooms" / "sim-room.yaml").read_text()
    bad = tmp_path / "6a1.yaml"
    bad.write_text(text.replace("keepalive_s: 30", "keepalive_s: soon"))
    line = next(i for i, ln in enumerate(bad.read_text().splitlines(), 1) if "soon" in ln)
    assert main(["validate", str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:{line}: mqtt.keepalive_s" in err


def test_edge_refuses_a_bad_config_before_connecting(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "room.yaml"
    bad.write_text("site: x\nroom: y\nlamps: 3\n")
    assert main(["edge", "--config", str(bad)]) == 2
    err = capsys.readouterr().err
    assert str(bad) in err
    assert "lamps" in err


def test_demo_files_are_valid_and_spread_over_the_schools(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sites_file, room_files = write_demo_files(tmp_path, 8, interval=2)
    registry = load_sites(sites_file)
    assert sum(len(s.rooms) for s in registry.sites) == 8
    assert len(registry.sites) == 4  # round-robin: every school of the sample district shows
    rooms = [load_room_config(p) for p in room_files]
    assert {r.telemetry_interval_s for r in rooms} == {2}
    assert len({(r.site, r.room) for r in rooms}) == 8
    assert main(["validate", str(sites_file), *map(str, room_files)]) == 0
    assert "sites file: 4 sites, 8 rooms" in capsys.readouterr().out


def test_demo_room_names_are_vietnamese() -> None:
    assert room_name("6a1") == "Lớp 6A1"
    assert room_name("library") == "Thư viện"
    with pytest.raises(ValueError, match="has 18 rooms"):
        pick_rooms(19)


def sites_file(tmp_path: Path, rooms: str = "[6a1, 6a2]") -> Path:
    path = tmp_path / "sites.yaml"
    path.write_text(f"sites:\n  - id: s1\n    name: S1\n    rooms: {rooms}\n")
    return path


def credentials(sites: Path, out: Path, *extra: str) -> int:
    argv = ["broker", "credentials", "--sites", str(sites), "--hub", "hub-1", "--out", str(out)]
    return main([*argv, *extra])


def test_broker_credentials_writes_the_files_and_names_no_secret(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "secrets"
    assert credentials(sites_file(tmp_path), out, "--homeassistant", "s1/6a2") == 0
    printed = capsys.readouterr().out
    assert "1 site, 2 rooms (1 with Home Assistant), 1 hub" in printed
    assert "new: 2 edges, 1 hub" in printed
    names = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert names == [
        "broker/acl",
        "broker/mosquitto.conf",
        "broker/passwd",
        "env/edge-sc-s1-6a1.env",
        "env/edge-sc-s1-6a2.env",
        "env/hub-sc-hub-1.env",
    ]
    for env in out.glob("env/*.env"):
        password = env.read_text().splitlines()[1].partition("=")[2]
        assert password not in printed
    assert (
        "password_file /etc/mosquitto/smartclass/passwd"
        in (out / "broker" / "mosquitto.conf").read_text()
    )
    assert "topic write homeassistant/+/sc_s1_6a2/+/config" in (out / "broker/acl").read_text()


def test_broker_credentials_rotates_one_identity(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sites, out = sites_file(tmp_path), tmp_path / "secrets"
    assert credentials(sites, out) == 0
    before = {p: p.read_text() for p in out.rglob("*") if p.is_file()}
    assert credentials(sites, out, "--rotate", "edge-sc-s1-6a1") == 0
    assert "rotated: edge-sc-s1-6a1" in capsys.readouterr().out
    after = {p: p.read_text() for p in out.rglob("*") if p.is_file()}
    assert {p.name for p in after if after[p] != before[p]} == {"passwd", "edge-sc-s1-6a1.env"}
    assert credentials(sites, out, "--rotate", "edge-sc-s1-nope") == 2
    assert "not in the deployment" in capsys.readouterr().err


def test_broker_credentials_refuses_a_git_work_tree_unless_forced(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "repo" / ".git").mkdir(parents=True)
    out = tmp_path / "repo" / "deploy" / "secrets"
    assert credentials(sites_file(tmp_path), out) == 2
    assert "inside the git work tree" in capsys.readouterr().err
    assert not out.exists()
    assert credentials(sites_file(tmp_path), out, "--force") == 0


def test_broker_credentials_for_the_sample_district(tmp_path: Path) -> None:
    import yaml

    from smartclass.demo import district

    sample = district()
    sites = tmp_path / "district12.yaml"
    keep = ("id", "name", "rooms")
    sites.write_text(yaml.safe_dump({"sites": [{k: s[k] for k in keep} for s in sample["sites"]]}))
    out = tmp_path / "secrets"
    assert credentials(sites, out, "--hub", "hub-2", "--homeassistant-user") == 0
    rooms = sum(len(s["rooms"]) for s in sample["sites"])
    assert len((out / "broker" / "passwd").read_text().splitlines()) == rooms + 3
    assert credentials(sites, out, "--homeassistant", "nowhere/1") == 2
