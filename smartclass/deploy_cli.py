"""The ``smartclass deploy`` commands: a deployment's secrets, made from its Ansible inventory."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from smartclass.broker_cli import git_work_tree
from smartclass.certificates import CertificateError
from smartclass.credentials import CredentialError
from smartclass.deploy_secrets import BROKER_DIR, DeployError, SecretsFolder
from smartclass.inventory import InventoryError, read_inventory

EPILOG = """\
what it writes (files 0600, folders 0700), for each school SITE of the inventory:
  DIR/ca/ca.crt, DIR/ca/ca.key       the deployment's CA (EC P-256, 10 years; made once)
  DIR/SITE/broker/ca.crt             a copy of the CA certificate
  DIR/SITE/broker/server.crt, .key   the school broker's certificate (2 years): its names are
                                     its inventory hostname, ansible_host and every
                                     smartclass_broker_names entry
  DIR/SITE/broker/passwd, acl        that school's agents and its hub only ($7$ hashes)
  DIR/SITE/broker/mosquitto.conf     no anonymous clients, those files (in --broker-dir)
  DIR/SITE/hub/hub.env               SMARTCLASS_HUB_MQTT_USERNAME/_PASSWORD, hub id, topic root
  DIR/SITE/hub/sites.yaml            the hub's sites file: the school and its rooms
  DIR/SITE/edge/ROOM.env             SMARTCLASS_EDGE_MQTT_USERNAME/_PASSWORD of the room's agent
                                     and SMARTCLASS_ATTENDANCE_KEY (the school's key)
  DIR/SITE/keys/attendance.key       the school's face-template key (32 bytes, base64)
  DIR/SITE/keys/cards.key, cards.pub.pem   the school's Ed25519 QR-card signing key pair

The inventory's groups: 'brokers', 'hubs' and 'edges' say what runs where; every host of
them has smartclass_site (from its school group), a Pi smartclass_room. The topic root is
smartclass_topic_root of group_vars/all.yml beside the inventory (default: sc).

Run it again after changing the inventory: what exists is kept and only what changed is
written (a new room: its env file and its school's passwd, acl and sites.yaml; a new broker
name: that school's server.crt; nothing new: no file at all). --rotate gives one agent or
hub a new password: only its env file and its line of its school's passwd change.

examples:
  smartclass deploy secrets --inventory ansible/inventory/district12/hosts.yml \\
      --out /srv/smartclass-secrets
  smartclass deploy secrets --inventory hosts.yml --out /srv/smartclass-secrets \\
      --rotate edge-sc-thcs-nguyen-chi-thanh-6a1
"""


def add_parsers(sub: Any) -> None:
    """Add ``deploy`` and its subcommands to the command line."""
    deploy = sub.add_parser(
        "deploy",
        help="what a deployment needs made once: secrets, certificates",
        description="Make what the machines of a deployment need, from its Ansible inventory.",
    )
    kinds = deploy.add_subparsers(dest="deploy", required=True, metavar="WHAT")
    secrets = kinds.add_parser(
        "secrets",
        help="CA, broker certificates, credentials and keys of every school in an inventory",
        description="Make the deployment's certificate authority, each school broker's TLS "
        "certificate, a credential for every room's agent and every hub with the school's "
        "password and ACL files, and each school's attendance and QR-card keys. Secrets are "
        "written outside git only (see --force).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    secrets.add_argument(
        "--inventory", type=Path, required=True, metavar="INV.yml", help="the Ansible inventory"
    )
    secrets.add_argument(
        "--out", type=Path, required=True, metavar="DIR", help="where to write (and keep) them"
    )
    secrets.add_argument(
        "--rotate",
        action="append",
        default=[],
        metavar="USER",
        help="give this agent or hub a new password (e.g. edge-sc-SITE-ROOM); repeatable",
    )
    secrets.add_argument(
        "--broker-dir",
        type=Path,
        default=BROKER_DIR,
        metavar="PATH",
        help="where passwd and acl will be on each broker (default: %(default)s)",
    )
    secrets.add_argument("--force", action="store_true", help="write even inside a git work tree")


def run(args: argparse.Namespace) -> int:
    """Run ``deploy secrets``; 0 on success, 2 when it refuses."""
    name = "smartclass deploy secrets"
    tree = git_work_tree(args.out)
    if tree is not None and not args.force:
        print(
            f"{name}: {args.out} is inside the git work tree {tree}; secrets never go into "
            "git: choose a folder outside it (or --force, e.g. for a git-ignored folder)",
            file=sys.stderr,
        )
        return 2
    try:
        inventory = read_inventory(args.inventory)
        rooms = sum(len(s.rooms) for s in inventory.schools)
        print(
            f"{name}: {len(inventory.schools)} schools, {rooms} rooms, topic root "
            f"{inventory.topic_root!r} ({args.inventory}) -> {args.out}"
        )
        report = SecretsFolder(args.out, broker_dir=args.broker_dir).write(
            inventory, rotate=args.rotate, say=print
        )
    except (InventoryError, DeployError, CertificateError, CredentialError) as exc:
        print(f"{name}: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        raise  # our own output closed (| head): not a folder's fault
    except OSError as exc:  # the output folder cannot be written (a file, no permission, full)
        where = exc.filename or args.out
        print(f"{name}: {where}: cannot write there: {exc.strerror or exc}", file=sys.stderr)
        return 2
    for user in report.dropped:
        print(f"dropped: {user} is no longer in the inventory (its env file is kept)")
    print(
        f"made {len(report.made)}, rotated {len(report.rotated)}, kept {len(report.kept)} "
        "(CA, keys, certificates and credentials)"
    )
    if report.changed:
        print(f"wrote {len(report.changed)} files in {args.out}:")
        print("".join(f"  {path}\n" for path in report.changed), end="")
    else:
        print(f"nothing new: no file changed in {args.out}")
    print(
        "next: give each machine its own files only (the Ansible roles copy them); the CA "
        f"key {args.out}/ca/ca.key and keys/cards.key never leave this machine."
    )
    return 0


__all__ = ["add_parsers", "run"]
