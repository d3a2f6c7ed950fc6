"""Matching faces against one class's roster only, with a margin over the second-best."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from faces.models import Embedding, Recogniser


@dataclass(frozen=True)
class Match:
    student: str
    distance: float
    second: float
    """Distance to the nearest other student of the class (inf: no other)."""


class RosterMatcher:
    """Names a face only if it is near one student of the class and clearly nearer than the
    next: a student of another class has no template here, so is never named."""

    def __init__(
        self,
        templates: Mapping[str, list[Embedding]],
        recogniser: Recogniser,
        *,
        threshold: float | None = None,
        margin: float = 0.1,
    ) -> None:
        self.templates = {s: t for s, t in templates.items() if t}
        self.recogniser = recogniser
        self.threshold = threshold if threshold is not None else recogniser.threshold
        self.margin = margin

    def nearest(self, embedding: Embedding) -> list[tuple[float, str]]:
        """Every student of the roster by distance to its nearest template, nearest first."""
        distance = self.recogniser.distance
        return sorted(
            (min(distance(embedding, t) for t in templates), student)
            for student, templates in self.templates.items()
        )

    def match(self, embedding: Embedding) -> Match | None:
        ranked = self.nearest(embedding)
        if not ranked:
            return None
        best, student = ranked[0]
        second = ranked[1][0] if len(ranked) > 1 else float("inf")
        if best > self.threshold or second - best < self.margin:
            return None
        return Match(student, best, second)


__all__ = ["Match", "RosterMatcher"]
