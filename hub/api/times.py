"""Times in queries: kept where the database and ``datetime`` arithmetic can handle them."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import AfterValidator

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)
"""History bounds outside [EARLIEST, LATEST] are refused: no reading is there, and near the
ends of ``datetime`` the window arithmetic would overflow."""


def plausible(name: str) -> AfterValidator:
    """A validator keeping ``name`` within [EARLIEST, LATEST]; naive times are UTC."""

    def check(value: datetime | None) -> datetime | None:
        if value is None:
            return None
        aware = value if value.utcoffset() is not None else value.replace(tzinfo=UTC)
        if not EARLIEST <= aware <= LATEST:  # compares without building a datetime: no overflow
            msg = f"{name} must be between {EARLIEST:%Y-%m-%d} and {LATEST:%Y-%m-%d} (UTC)"
            raise ValueError(msg)
        return aware.astimezone(UTC)

    return AfterValidator(check)


__all__ = ["EARLIEST", "LATEST", "plausible"]
