"""The ``smartclass broker`` commands: a deployment's broker credentials and ACLs."""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from smartclass.credential_store import CredentialStore
from smartclass.credentials import (
    DISCOVERY_PREFIX,
    CredentialError,
    Deployment,
    RoomSpec,
    identities_of,
)

BROKER_DIR = Path("/etc/mosquitto/smartclass")

EPILOG = """\
what it writes (files 0600, folders 0700):
  DIR/broker/passwd           Mosquitto password file ($7$ PBKDF2-SHA512 hashes)
  DIR/broker/acl              one 'user' block per identity: its own room's topics only
  DIR/broker/mosquitto.conf   no anonymous clients, the files above, client id = username
  DIR/env/edge-ROOT-SITE-ROOM.env   SMARTCLASS_EDGE_MQTT_USERNAME/_PASSWORD of one agent
  DIR/env/hub-ROOT-HUB.env          SMARTCLASS_HUB_MQTT_USERNAME/_PASSWORD (and hub id, root)

Run it again after adding rooms or hubs: existing passwords are kept, so only the new
identities' lines change. --rotate gives one identity a new password; once the broker
has reloaded, the old one is refused and a client still connected with it is closed.

examples:
  smartclass broker credentials --sites sites.yaml --root sc --hub hub-1 --out /srv/sc-secrets
  smartclass broker credentials --sites sites.yaml --hub hub-1 --out /srv/sc-secrets \\
      --rotate edge-sc-thcs-nguyen-chi-thanh-6a1
"""


def add_parsers(sub: Any) -> None:
    """Add ``broker`` and its subcommands to the command line."""
    broker = sub.add_parser(
        "broker",
        help="broker credentials and ACLs for a deployment",
        description="Generate what the Mosquitto broker of a deployment needs.",
    )
    kinds = broker.add_subparsers(dest="broker", required=True, metavar="WHAT")
    creds = kinds.add_parser(
        "credentials",
        help="one credential per agent and hub, the password file and the per-room ACLs",
        description="Generate a random credential for every room's agent and every hub, "
        "the Mosquitto password and ACL files and a broker config that refuses anonymous "
        "clients. Secrets are written outside git only (see --force).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    creds.add_argument(
        "--sites", type=Path, required=True, metavar="SITES.yaml", help="the sites file"
    )
    creds.add_argument("--root", default="sc", help="topic root (default: %(default)s)")
    creds.add_argument(
        "--hub",
        action="append",
        required=True,
        metavar="HUB_ID",
        help="a hub's id (its SMARTCLASS_HUB_HUB_ID); repeat for several hubs",
    )
    creds.add_argument(
        "--out", type=Path, required=True, metavar="DIR", help="where to write (and keep) them"
    )
    creds.add_argument(
        "--rotate",
        action="append",
        default=[],
        metavar="USERNAME",
        help="give this identity a new password (e.g. edge-sc-SITE-ROOM); repeatable",
    )
    creds.add_argument(
        "--homeassistant",
        action="append",
        default=[],
        metavar="SITE/ROOM",
        help="a room whose agent publishes Home Assistant discovery (SITE/* for every room "
        "of a site); repeatable",
    )
    creds.add_argument(
        "--homeassistant-user",
        action="store_true",
        help="also a user for Home Assistant (reads ROOT/# and the discovery prefix, "
        "writes the rooms' ha/ command topics)",
    )
    creds.add_argument(
        "--discovery-prefix",
        default=DISCOVERY_PREFIX,
        metavar="PREFIX",
        help="Home Assistant's discovery prefix (default: %(default)s)",
    )
    creds.add_argument(
        "--broker-dir",
        type=Path,
        default=BROKER_DIR,
        metavar="PATH",
        help="where passwd and acl will be on the broker (default: %(default)s)",
    )
    creds.add_argument("--force", action="store_true", help="write even inside a git work tree")


def git_work_tree(path: Path) -> Path | None:
    """The git work tree ``path`` is (or would be) in, or None."""
    path = path.resolve()
    for folder in (path, *path.parents):
        if (folder / ".git").exists():
            return folder
    return None


def _homeassistant_rooms(specs: list[str], rooms: set[tuple[str, str]]) -> set[tuple[str, str]]:
    chosen: set[tuple[str, str]] = set()
    for spec in specs:
        site, _, room = spec.partition("/")
        match = {(s, r) for s, r in rooms if s == site and room in ("*", r)}
        if not match:
            msg = f"--homeassistant {spec}: no such room in the sites file"
            raise CredentialError(msg)
        chosen |= match
    return chosen


def _count(n: int, what: str) -> str:
    return f"{n} {what}" if n == 1 else f"{n} {what}s"


def run(args: argparse.Namespace) -> int:
    """Run ``broker credentials``; 0 on success, 2 when it refuses."""
    from hub.registry import RegistryError, load_sites

    name = "smartclass broker credentials"
    tree = git_work_tree(args.out)
    if tree is not None and not args.force:
        print(
            f"{name}: {args.out} is inside the git work tree {tree}; secrets never go into "
            "git: choose a folder outside it (or --force, e.g. for a git-ignored folder)",
            file=sys.stderr,
        )
        return 2
    try:
        registry = load_sites(args.sites)
        pairs = [(s.id, r.id) for s in registry.sites for r in s.room_entries()]
        ha = _homeassistant_rooms(args.homeassistant, set(pairs))
        deployment = Deployment(
            args.root,
            rooms=tuple(RoomSpec(s, r, homeassistant=(s, r) in ha) for s, r in pairs),
            hubs=tuple(dict.fromkeys(args.hub)),
            homeassistant_user=args.homeassistant_user,
            discovery_prefix=args.discovery_prefix,
        )
        identities = identities_of([deployment])
        print(
            f"{name}: {_count(len(registry.sites), 'site')}, {_count(len(pairs), 'room')} "
            f"({len(ha)} with Home Assistant), {_count(len(deployment.hubs), 'hub')}, "
            f"topic root {args.root!r} -> {args.out}"
        )
        store = CredentialStore(args.out)
        report = store.write(identities, rotate=set(args.rotate), broker_dir=args.broker_dir)
    except (RegistryError, CredentialError) as exc:
        print(f"{name}: {exc}", file=sys.stderr)
        return 2
    kinds = {i.username: i.kind for i in identities}
    for label, users in (("new", report.created), ("kept", report.kept)):
        counts = Counter(kinds[u] for u in users)
        if counts:
            print(f"  {label}: " + ", ".join(_count(n, k) for k, n in sorted(counts.items())))
    for user in report.rotated:
        print(f"  rotated: {user} (new password in {store.env_file(user)})")
    for user in report.dropped:
        print(f"  dropped: {user} is no longer in the deployment (its env file is kept)")
    print(f"wrote {store.password_file} ({len(identities)} users)")
    print(f"wrote {store.acl_file}")
    print(f"wrote {store.config_file}")
    print(
        f"next: copy {store.broker_dir}/* to {args.broker_dir}/ on the broker (readable by the "
        "mosquitto user only), include mosquitto.conf from /etc/mosquitto/conf.d/, add a "
        "listener, then reload it (systemctl reload mosquitto); give each "
        f"{store.env_dir}/*.env to its agent or hub only."
    )
    return 0


__all__ = ["BROKER_DIR", "add_parsers", "git_work_tree", "run"]
