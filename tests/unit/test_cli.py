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
    [[], ["demo"], ["hub"], ["edge"], ["validate"], ["bench"], ["bench", "ingest"]],
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
