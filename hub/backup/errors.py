"""What a backup or a restore may fail with, and the checks both kinds of database share."""

from __future__ import annotations

from collections.abc import Callable

Say = Callable[[str], None]
"""Where progress lines go (standard output, from the command)."""


class BackupError(RuntimeError):
    """A backup or a restore failed (exit status 1)."""


class BackupRefusedError(BackupError, ValueError):
    """A restore or backup refused before anything changed (exit status 2): not a backup,
    a database that is not empty, a backup of the other kind of database."""


def is_hub(tables: set[str]) -> bool:
    """Whether a database of these tables is a hub's (of any release, even before migrations)."""
    return "alembic_version" in tables or {"rooms", "sites"} <= tables


def refuse_unless_empty(tables: set[str], where: str, *, force: bool) -> None:
    if tables and not force:
        msg = (
            f"{where} is not empty ({len(tables)} tables): a backup is restored only into an"
            " empty database; give --force to replace what it holds"
        )
        raise BackupRefusedError(msg)


__all__ = ["BackupError", "BackupRefusedError", "Say", "is_hub", "refuse_unless_empty"]
