"""Write a new migration of the hub's database from the models: Alembic's autogenerate against a
scratch SQLite database upgraded to the current head, formatted; then review it by hand.

Usage, from the repository root:

    .venv/bin/python scripts/new_migration.py "alert rules"
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("message", help="what the migration does, e.g. 'alert rules'")
    parser.add_argument(
        "--versions", type=Path, help="where to write it (default: hub/migrations/versions)"
    )
    args = parser.parse_args(argv)
    sys.path.insert(0, str(REPO))  # this checkout's hub, whatever is installed

    from alembic import command

    from hub.db import make_engine
    from hub.migrate import SCRIPTS, alembic_config, upgrade

    folder = (args.versions or SCRIPTS / "versions").resolve()
    extra = [] if folder == (SCRIPTS / "versions").resolve() else [str(folder)]
    with tempfile.TemporaryDirectory(prefix="smartclass-revision-") as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'head.sqlite'}")
        try:
            upgrade(engine, alembic_config(extra_versions=extra))
            with engine.connect() as conn:
                config = alembic_config(conn, extra_versions=extra)
                script = command.revision(
                    config, args.message, autogenerate=True, version_path=str(folder)
                )
        finally:
            engine.dispose()
    assert script is not None
    assert not isinstance(script, list)
    ruff = Path(sys.executable).with_name("ruff")
    subprocess.run([str(ruff), "check", "--fix", "--quiet", script.path], check=False)
    subprocess.run([str(ruff), "format", "--quiet", script.path], check=True)
    print(f"{script.path}: review it (types, defaults, data to move), then run the tests")
    return 0


if __name__ == "__main__":
    sys.exit(main())
