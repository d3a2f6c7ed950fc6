"""``smartclass hub backup`` and ``smartclass hub restore``: the hub's database into one file
and back."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

BACKUP_EPILOG = """\
The database is the hub's own (SMARTCLASS_HUB_DATABASE_URL, or --database-url). The hub may
go on running: on SQLite the backup is the online backup API's snapshot (the hub's writes go
on meanwhile), on PostgreSQL pg_dump's (--format=custom, the hub's schema). The file appears
under its name only once whole and on disk. Exit status: 0 written, 1 failed, 2 a bad setting.

examples:
  smartclass hub backup --out /var/backups/smartclass/hub-$(date +%F).backup
  smartclass hub backup --out hub.backup --database-url sqlite:///var/hub/hub.sqlite
  smartclass hub backup --out hub.dump --database-url postgresql://hub@db.school/hub
"""

RESTORE_EPILOG = """\
The backup goes into the hub's database (SMARTCLASS_HUB_DATABASE_URL, or --database-url),
which must be empty unless --force; stop the hub first. The restored database is then
migrated to this release's schema, so a backup of an older hub can be restored. Exit status:
0 restored, 1 failed, 2 refused (not a hub backup, a database that is not empty, a backup of
the other kind of database) or a bad setting.

examples:
  smartclass hub restore /var/backups/smartclass/hub-2026-12-01.backup
  smartclass hub restore hub.backup --database-url sqlite:///var/hub/hub.sqlite
  smartclass hub restore hub.dump --database-url postgresql://hub@db.school/hub --force
"""


def add_parsers(hub_commands: Any) -> None:
    """Add ``backup`` and ``restore`` under the ``hub`` command."""
    backup = hub_commands.add_parser(
        "backup",
        help="back up the hub's database into one file",
        description="Write a backup of the hub's database to FILE, atomically.",
        epilog=BACKUP_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    backup.add_argument("--out", type=Path, required=True, metavar="FILE", help="backup file")
    restore = hub_commands.add_parser(
        "restore",
        help="restore the hub's database from a backup",
        description="Restore a backup made by 'smartclass hub backup' into the hub's database "
        "and migrate it to this release's schema.",
        epilog=RESTORE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    restore.add_argument("file", type=Path, metavar="FILE", help="a backup file")
    restore.add_argument(
        "--force", action="store_true", help="replace what the database holds (all of it)"
    )
    for parser in (backup, restore):
        parser.add_argument(
            "--database-url", help="the hub's database (default: SMARTCLASS_HUB_DATABASE_URL)"
        )
        parser.add_argument(
            "--pg-bin",
            type=Path,
            metavar="DIR",
            help="folder of pg_dump and pg_restore (default: the newest under "
            "/usr/lib/postgresql, else PATH)",
        )


def run(args: argparse.Namespace) -> int:
    from pydantic import ValidationError
    from sqlalchemy import make_url
    from sqlalchemy.exc import ArgumentError, SQLAlchemyError

    from hub.backup import BackupError, BackupRefusedError, backup, restore
    from hub.migrate import MigrationError
    from hub.settings import HubSettings

    command = f"smartclass hub {args.hub_command}"
    try:
        url = args.database_url or HubSettings().database_url
        shown = make_url(url).render_as_string(hide_password=True)
    except ValidationError as exc:
        print(f"{command}: {exc}", file=sys.stderr)
        return 2
    except ArgumentError as exc:
        key = "--database-url" if args.database_url else "SMARTCLASS_HUB_DATABASE_URL"
        print(f"{command}: {key}: {exc}", file=sys.stderr)
        return 2
    print(f"database: {shown}", flush=True)

    def say(line: str) -> None:
        print(line, flush=True)

    try:
        if args.hub_command == "backup":
            backup(url, args.out, say=say, pg_bin=args.pg_bin)
        else:
            restore(args.file, url, force=args.force, say=say, pg_bin=args.pg_bin)
    except BackupRefusedError as exc:
        print(f"{command}: {exc}", file=sys.stderr)
        return 2
    except ModuleNotFoundError as exc:
        print(f"{command}: {exc}", file=sys.stderr)
        return 2
    except (BackupError, MigrationError, SQLAlchemyError, OSError) as exc:
        print(f"{command}: {exc}", file=sys.stderr)
        return 1
    return 0


__all__ = ["add_parsers", "run"]
