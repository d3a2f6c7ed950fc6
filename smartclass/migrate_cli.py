"""``smartclass hub migrate``: bring the hub's database to this release's schema, or say
where it stands."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hub.migrate import Revisions

EPILOG = """\
The database is the hub's own (SMARTCLASS_HUB_DATABASE_URL, or --database-url). The hub
upgrades it at start too; this command does it beforehand, e.g. before several hubs of a new
release start on one PostgreSQL database (they would wait for each other's upgrade). A
database made by a hub from before migrations is recognised and adopted. Exit status: 0
done (with --check: nothing to do), 1 an upgrade pending (--check) or failed, 2 a bad
setting.

examples:
  smartclass hub migrate            upgrade, printing the revision before and the target
  smartclass hub migrate --check    only say where the database stands
  smartclass hub migrate --database-url postgresql+psycopg://hub@db.school/hub
"""


def add_parser(hub_commands: Any) -> None:
    """Add ``migrate`` under the ``hub`` command."""
    migrate = hub_commands.add_parser(
        "migrate",
        help="upgrade the hub's database to this release's schema",
        description="Upgrade the hub's database to the newest revision of its migrations "
        "(Alembic) and print its revision before and the target revision.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    migrate.add_argument(
        "--database-url", help="the hub's database (default: SMARTCLASS_HUB_DATABASE_URL)"
    )
    migrate.add_argument(
        "--check",
        action="store_true",
        help="change nothing: print the revisions, exit 1 if an upgrade is pending",
    )


def run(args: argparse.Namespace) -> int:
    from pydantic import ValidationError
    from sqlalchemy import make_url
    from sqlalchemy.exc import ArgumentError, SQLAlchemyError

    from hub.db import make_engine
    from hub.migrate import MigrationError, revisions, upgrade
    from hub.settings import HubSettings

    try:
        url = args.database_url or HubSettings().database_url
        engine = make_engine(url)
    except ValidationError as exc:
        print(f"smartclass hub migrate: {exc}", file=sys.stderr)
        return 2
    except (ArgumentError, ModuleNotFoundError) as exc:
        key = "--database-url" if args.database_url else "SMARTCLASS_HUB_DATABASE_URL"
        print(f"smartclass hub migrate: {key}: {exc}", file=sys.stderr)
        return 2
    print(f"database: {make_url(url).render_as_string(hide_password=True)}")
    try:
        before = revisions(engine)
        print(f"current revision: {_describe(before)}")
        print(f"target revision: {before.head} (head)")
        if args.check:
            print("up to date" if not before.pending else "an upgrade is pending")
            return 1 if before.pending else 0
        done = upgrade(engine)  # under the lock: another hub may have done it meanwhile
        print(f"upgraded to {done.head}" if done.pending else "up to date: nothing to do")
        return 0
    except (MigrationError, SQLAlchemyError) as exc:
        print(f"smartclass hub migrate: {exc}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()


def _describe(where: Revisions) -> str:
    if where.current is None:
        return "none (made by a hub from before migrations)" if where.legacy else "none (empty)"
    return str(where.current) if where.known else f"{where.current} (unknown to this hub)"


__all__ = ["add_parser", "run"]
