"""The demo's panels: a port of each room's own, and a printed link whose code the room's
agent takes (written as ``smartclass edge pair`` writes it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge.config import load_room_config
from edge.panel.pairing import Paired, Pairing
from smartclass.cli import main
from smartclass.demo import write_demo_files
from smartclass.demo_panel import panel_lines
from smartclass.panel_cli import room_folder


def test_each_demo_room_serves_its_panel_on_a_port_of_its_own(tmp_path: Path) -> None:
    _, room_files = write_demo_files(tmp_path, 4, interval=2, panel_host="127.0.0.1")
    rooms = [load_room_config(path) for path in room_files]
    assert all(r.panel.enabled and r.panel.bind == "127.0.0.1" for r in rooms)
    assert len({r.panel.port for r in rooms}) == 4
    assert all(r.panel.port > 0 for r in rooms)


def test_the_printed_link_pairs_a_browser_with_its_room_once(tmp_path: Path) -> None:
    _, room_files = write_demo_files(tmp_path, 2, interval=2)
    lines = panel_lines(room_files, tmp_path / "edge", "0.0.0.0")
    assert len(lines) == 3
    assert "smartclass edge pair --data-dir" in lines[-1]
    for path, line in zip(room_files, lines, strict=False):
        room = load_room_config(path)
        assert f"http://127.0.0.1:{room.panel.port}/pair?code=" in line
        code = line.rsplit("?code=", 1)[1]
        pairing = Pairing(room_folder(tmp_path / "edge", room))
        assert isinstance(pairing.redeem(code), Paired)
        assert not isinstance(pairing.redeem(code), Paired)


def test_edge_without_a_room_file_says_what_it_needs(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["edge"])
    assert "--config ROOM.yaml is required" in capsys.readouterr().err
