"""The simulated school day of the demo: its school clock (fast, if asked) and its teachers.

An agent reads it from ``SMARTCLASS_EDGE_SIMULATED_DAY`` (JSON); ``smartclass demo`` sets
it for its agents. The school clock drives the timetable, the rules and the simulated
devices; the wall clock stays the time of every message (see ``edge.clock.ScaledClock``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from edge.clock import ScaledClock

SPEED_MAX = 3600.0
"""Fastest school clock: an hour of the school day in a second."""
HELP_PER_DAY_MAX = 20.0
"""More help requests a day than periods are not asked anyway (one a period at most)."""


class SimulatedDay(BaseModel):
    """A school day on a clock of its own, and simulated teachers who now and then ask IT
    for help (``edge.teacher``). For simulated rooms: a real room keeps real time."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    start: AwareDatetime | None = Field(
        default=None,
        description="The school time at `started_at` (e.g. 2025-12-04T06:45:00+07:00); "
        "omitted: the school day is the real one.",
    )
    started_at: AwareDatetime = Field(
        default_factory=lambda: datetime.now(UTC),
        description="The wall time at which the school clock read `start` (default: when the "
        "agent starts). Give it to every process of one demo, so that they and their "
        "restarts keep one school time.",
    )
    speed: float = Field(
        default=1.0,
        gt=0,
        le=SPEED_MAX,
        description="School seconds per real second (60: a school day of 9 hours in 9 "
        "minutes); needs `start`.",
    )
    seed: int = Field(
        default=0, description="Seed of the simulated teachers: the same seed, the same requests."
    )
    help_per_day: float = Field(
        default=0.0,
        ge=0,
        le=HELP_PER_DAY_MAX,
        description="Help requests per room and school day, on average (at most one per "
        "period); 0: no simulated teacher.",
    )

    @model_validator(mode="after")
    def _speed_needs_start(self) -> Self:
        if self.start is None and self.speed != 1.0:
            msg = "speed needs start: the school time the fast day begins at"
            raise ValueError(msg)
        return self

    def clock(self) -> ScaledClock | None:
        """The school clock (None: the real one), continuing from ``started_at``."""
        if self.start is None:
            return None
        return ScaledClock.resumed(self.start, self.speed, self.started_at)


__all__ = ["HELP_PER_DAY_MAX", "SPEED_MAX", "SimulatedDay"]
