"""Sets of sequence numbers as sorted lists of inclusive ranges: merge, subtract, count, bound."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

Range = tuple[int, int]
"""An inclusive range ``(first, last)`` with ``1 <= first <= last``."""
Ranges = list[Range]
"""Sorted, disjoint and not adjacent: ``[(1, 5), (7, 9)]``, never ``[(1, 5), (6, 9)]``."""


def normalise(ranges: Iterable[Sequence[int]]) -> Ranges:
    """Any ranges (unsorted, overlapping, adjacent, from JSON lists) as one compact list.

    Ranges that are not ranges (``first > last``, fewer or more than two numbers, below 1)
    are left out: the input may come from the network.
    """
    valid = sorted(
        (int(r[0]), int(r[1]))
        for r in ranges
        if len(r) == 2 and isinstance(r[0], int) and isinstance(r[1], int) and 1 <= r[0] <= r[1]
    )
    out: Ranges = []
    for first, last in valid:
        if out and first <= out[-1][1] + 1:
            if last > out[-1][1]:
                out[-1] = (out[-1][0], last)
        else:
            out.append((first, last))
    return out


def from_numbers(numbers: Iterable[int]) -> Ranges:
    """The compact ranges covering exactly ``numbers`` (any order, repeats allowed)."""
    out: Ranges = []
    for n in sorted(set(numbers)):
        if n < 1:
            continue
        if out and n == out[-1][1] + 1:
            out[-1] = (out[-1][0], n)
        else:
            out.append((n, n))
    return out


def merge(a: Ranges, b: Ranges) -> Ranges:
    """The union of two compact lists (linear in their lengths)."""
    if not a:
        return list(b)
    if not b:
        return list(a)
    out: Ranges = []
    i = j = 0
    while i < len(a) or j < len(b):
        if j >= len(b) or (i < len(a) and a[i][0] <= b[j][0]):
            first, last = a[i]
            i += 1
        else:
            first, last = b[j]
            j += 1
        if out and first <= out[-1][1] + 1:
            if last > out[-1][1]:
                out[-1] = (out[-1][0], last)
        else:
            out.append((first, last))
    return out


def subtract(a: Ranges, b: Ranges) -> Ranges:
    """What of ``a`` is not in ``b`` (both compact; linear in their lengths)."""
    out: Ranges = []
    j = 0
    for first, last in a:
        while j < len(b) and b[j][1] < first:
            j += 1
        k = j
        start = first
        while k < len(b) and b[k][0] <= last:
            if b[k][0] > start:
                out.append((start, b[k][0] - 1))
            start = max(start, b[k][1] + 1)
            k += 1
        if start <= last:
            out.append((start, last))
    return out


def count(ranges: Ranges) -> int:
    """How many numbers the ranges cover."""
    return sum(last - first + 1 for first, last in ranges)


def highest(ranges: Ranges) -> int:
    """The largest number covered (0 when empty)."""
    return ranges[-1][1] if ranges else 0


def covers(ranges: Ranges, n: int) -> bool:
    """Whether ``n`` is in the ranges (binary search)."""
    lo, hi = 0, len(ranges)
    while lo < hi:
        mid = (lo + hi) // 2
        first, last = ranges[mid]
        if n < first:
            hi = mid
        elif n > last:
            lo = mid + 1
        else:
            return True
    return False


def keep_highest(ranges: Ranges, most: int) -> tuple[Ranges, int]:
    """At most ``most`` ranges, the highest ones; and the last number of what was left out
    (0 if nothing was). Cutting never claims more than the ranges held."""
    if len(ranges) <= most:
        return list(ranges), 0
    cut = len(ranges) - most
    return list(ranges[cut:]), ranges[cut - 1][1]


def above(ranges: Ranges, floor: int) -> Ranges:
    """The part of the ranges above ``floor``."""
    out: Ranges = []
    for first, last in ranges:
        if last <= floor:
            continue
        out.append((max(first, floor + 1), last))
    return out


__all__ = [
    "Range",
    "Ranges",
    "above",
    "count",
    "covers",
    "from_numbers",
    "highest",
    "keep_highest",
    "merge",
    "normalise",
    "subtract",
]
