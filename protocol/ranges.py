"""Sets of sequence numbers as sorted, disjoint, inclusive ranges: merge, subtract, bound."""

from __future__ import annotations

from collections.abc import Iterable

Range = tuple[int, int]
"""An inclusive range ``(first, last)`` with ``first <= last``."""

__all__ = ["Range", "covers", "merge", "runs", "subtract", "total"]


def merge(ranges: Iterable[Range]) -> list[Range]:
    """The union of ``ranges`` as sorted, disjoint ranges (touching ranges are joined)."""
    out: list[Range] = []
    for lo, hi in sorted(r for r in ranges if r[0] <= r[1]):
        if out and lo <= out[-1][1] + 1:
            if hi > out[-1][1]:
                out[-1] = (out[-1][0], hi)
        else:
            out.append((lo, hi))
    return out


def runs(values: Iterable[int]) -> list[Range]:
    """Integers as ranges of consecutive values: ``[1, 2, 3, 7]`` → ``[(1, 3), (7, 7)]``."""
    return merge((v, v) for v in values)


def subtract(ranges: Iterable[Range], minus: Iterable[Range]) -> list[Range]:
    """``ranges`` without ``minus``; both need not be merged."""
    out: list[Range] = []
    cut = merge(minus)
    for lo, hi in merge(ranges):
        for clo, chi in cut:
            if chi < lo or clo > hi:
                continue
            if clo > lo:
                out.append((lo, clo - 1))
            lo = chi + 1
            if lo > hi:
                break
        if lo <= hi:
            out.append((lo, hi))
    return out


def covers(ranges: list[Range], value: int) -> bool:
    """Whether the merged ``ranges`` contain ``value`` (binary search)."""
    lo, hi = 0, len(ranges)
    while lo < hi:
        mid = (lo + hi) // 2
        if ranges[mid][1] < value:
            lo = mid + 1
        else:
            hi = mid
    return lo < len(ranges) and ranges[lo][0] <= value


def total(ranges: Iterable[Range]) -> int:
    """How many integers the merged ``ranges`` hold."""
    return sum(hi - lo + 1 for lo, hi in ranges)
