"""The demo's tablet panels: each room's own port, and a way in for the visitor's browser.

Every simulated room serves its panel on a free port of the demo's address. A browser sees a
room only once paired, as a tablet is by IT: the demo makes a one-time code per room (what
``smartclass edge pair`` does) before the agents start and prints the link that uses it.
A browser keeps one pairing per address (the cookie is the address's, whatever the port),
so pairing a second room in the same browser leaves the first one; use a private window
per room, or ``smartclass edge pair`` again for a new code.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any

from edge.config import load_room_config
from smartclass.broker import free_port
from smartclass.panel_cli import make_code

DEMO_CODE_EXPIRY_S = 8 * 3600
"""A demo's code waits a working day for its visitor (a school's code: 10 minutes)."""


def panel_section(host: str) -> dict[str, Any]:
    """The ``panel:`` section of a demo room: on the demo's address, on a free port."""
    return {"enabled": True, "bind": host, "port": free_port(host)}


def panel_lines(room_files: list[Path], edge_data_dir: Path, host: str) -> list[str]:
    """One line per room: its name and the link that pairs a browser with its panel (a new
    one-time code each run)."""
    shown = "127.0.0.1" if ipaddress.ip_address(host).is_unspecified else host
    lines = []
    for path in room_files:
        room = load_room_config(path)
        code = make_code(edge_data_dir, room, DEMO_CODE_EXPIRY_S)
        url = f"http://{shown}:{room.panel.port}/pair?code={code}"
        lines.append(f"  {room.site + '/' + room.room:<32} {url}")
    folder = room_files[0].parent if room_files else Path("ROOMS")
    lines.append(f"  a new code: smartclass edge pair --data-dir {edge_data_dir} "
                 f"--config {folder}/SITE--ROOM.yaml")  # fmt: skip
    return lines


__all__ = ["DEMO_CODE_EXPIRY_S", "panel_lines", "panel_section"]
