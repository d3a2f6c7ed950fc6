"""``smartclass edge pair``: a pairing code for a room's tablet panel, made on the Pi itself.

For IT on a Pi without a hub (or before the hub knows the room), and for the demo: it
writes the code's SHA-256 into the room's data folder, where the running agent's panel reads
it on the next pairing attempt, and prints the code once. Whoever may write the agent's
data folder (the agent's own user, or root) may pair a tablet; the hub's dashboard is the
usual way (docs/panel.md).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from edge.config import ConfigError, RoomFile, load_room_config
from edge.panel.pairing import EXPIRY_MAX_S, PendingCodes, code_sha256, new_code

DEFAULT_EXPIRY_S = 600


def add_parser(edge_commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    pair = edge_commands.add_parser(
        "pair",
        help="make a one-time code that pairs a tablet with a room's panel",
        description="Make a one-time pairing code for the room's tablet panel and print it: "
        "type it on the tablet's /pair page (or open /pair?code=…). The agent may be running.",
    )
    pair.add_argument("--config", type=Path, required=True, metavar="ROOM.yaml",
                      help="the room file of the agent")  # fmt: skip
    pair.add_argument(
        "--expires-in", type=int, default=DEFAULT_EXPIRY_S, metavar="SECONDS",
        help=f"how long the code works (default: {DEFAULT_EXPIRY_S}; at most {EXPIRY_MAX_S})",
    )  # fmt: skip
    pair.add_argument(
        "--data-dir", type=Path, metavar="DIR",
        help="the agent's data folder (default: SMARTCLASS_EDGE_DATA_DIR, else var/edge)",
    )  # fmt: skip


def room_folder(data_dir: Path, room: RoomFile) -> Path:
    """The room's own folder in the agent's data folder (as ``edge.agent.Agent`` makes it)."""
    return data_dir / f"{room.site}--{room.room}"


def make_code(data_dir: Path, room: RoomFile, expires_in_s: int = DEFAULT_EXPIRY_S) -> str:
    """A new code for the room, its hash waiting in the room's folder; the code itself."""
    if not 0 < expires_in_s <= EXPIRY_MAX_S:
        raise ValueError(f"--expires-in: between 1 and {EXPIRY_MAX_S} seconds")
    code = new_code()
    PendingCodes(room_folder(data_dir, room)).add(code_sha256(code), expires_in_s)
    return code


def run_pair(args: argparse.Namespace) -> int:
    from edge.settings import EdgeSettings

    try:
        room = load_room_config(args.config)
    except ConfigError as exc:
        print(f"smartclass edge pair: {exc}", file=sys.stderr)
        return 2
    if not room.panel.enabled:
        print(f"smartclass edge pair: {args.config}: panel.enabled is false: the room serves "
              "no panel", file=sys.stderr)  # fmt: skip
        return 2
    data_dir = args.data_dir or EdgeSettings().data_dir
    try:
        code = make_code(data_dir, room, args.expires_in)
    except (ValueError, OSError) as exc:
        print(f"smartclass edge pair: {exc}", file=sys.stderr)
        return 2
    minutes = args.expires_in / 60
    print(f"pairing code for {room.site}/{room.room}: {code[:4]} {code[4:]} "
          f"(works once, for {minutes:g} minutes)")  # fmt: skip
    print(f"on the tablet open http://<this machine>:{room.panel.port}/pair?code={code}")
    return 0


__all__ = ["DEFAULT_EXPIRY_S", "add_parser", "make_code", "room_folder", "run_pair"]
