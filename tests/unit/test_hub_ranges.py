"""Range arithmetic (merge, subtract, bound) and the order of boots and messages."""

from __future__ import annotations

import random

import pytest

from hub import ranges
from hub.ordering import BootOrder, clock_skew, era_of_new_boot, newer, status_key
from protocol import Status
from tests.unit.hub_helpers import at


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ([], []),
        ([[5, 7], [1, 2]], [(1, 2), (5, 7)]),
        ([[1, 3], [4, 6]], [(1, 6)]),  # adjacent ranges join
        ([[1, 10], [3, 4], [9, 12]], [(1, 12)]),
        ([[3, 1], [0, 2], [1], [2, 2, 2], [4, 4]], [(4, 4)]),  # not ranges: left out
    ],
)
def test_normalise(given: list[list[int]], expected: list[tuple[int, int]]) -> None:
    assert ranges.normalise(given) == expected


def test_from_numbers() -> None:
    assert ranges.from_numbers([5, 1, 2, 3, 3, 9, 0, -4]) == [(1, 3), (5, 5), (9, 9)]


@pytest.mark.parametrize(
    ("a", "b", "union"),
    [
        ([], [(1, 2)], [(1, 2)]),
        ([(1, 5)], [(6, 9)], [(1, 9)]),
        ([(1, 2), (10, 12)], [(4, 5), (11, 20)], [(1, 2), (4, 5), (10, 20)]),
        ([(1, 100)], [(3, 4), (50, 60)], [(1, 100)]),
    ],
)
def test_merge(
    a: list[tuple[int, int]], b: list[tuple[int, int]], union: list[tuple[int, int]]
) -> None:
    assert ranges.merge(a, b) == union
    assert ranges.merge(b, a) == union


@pytest.mark.parametrize(
    ("a", "b", "rest"),
    [
        ([(1, 10)], [], [(1, 10)]),
        ([(1, 10)], [(1, 10)], []),
        ([(1, 10)], [(3, 4), (7, 7)], [(1, 2), (5, 6), (8, 10)]),
        ([(1, 5), (8, 12)], [(4, 9)], [(1, 3), (10, 12)]),
        ([(5, 6)], [(1, 2), (10, 11)], [(5, 6)]),
        ([(1, 3), (5, 9)], [(0, 100)], []),
    ],
)
def test_subtract(
    a: list[tuple[int, int]], b: list[tuple[int, int]], rest: list[tuple[int, int]]
) -> None:
    assert ranges.subtract(a, b) == rest


def test_operations_agree_with_sets() -> None:
    rng = random.Random(7)
    for _ in range(200):
        x = {rng.randint(1, 80) for _ in range(rng.randint(0, 60))}
        y = {rng.randint(1, 80) for _ in range(rng.randint(0, 60))}
        a, b = ranges.from_numbers(x), ranges.from_numbers(y)
        assert ranges.merge(a, b) == ranges.from_numbers(x | y)
        assert ranges.subtract(a, b) == ranges.from_numbers(x - y)
        assert ranges.count(a) == len(x)
        assert all(ranges.covers(a, n) == (n in x) for n in range(82))


def test_keep_highest_bounds_without_claiming_more() -> None:
    many = [(i * 10, i * 10 + 1) for i in range(1, 11)]
    kept, cut = ranges.keep_highest(many, 3)
    assert kept == [(80, 81), (90, 91), (100, 101)]
    assert cut == 71  # the last number left out
    assert ranges.keep_highest(many, 20) == (many, 0)
    assert ranges.above([(1, 5), (8, 9)], 4) == [(5, 5), (8, 9)]


def test_a_boot_above_the_highest_number_stays_in_its_era() -> None:
    known = [BootOrder(0, 1), BootOrder(0, 2)]
    assert era_of_new_boot([], 1) == 0
    assert era_of_new_boot(known, 3) == 0
    assert era_of_new_boot(known, 7) == 0  # boots the hub missed leave a hole, no more


@pytest.mark.parametrize("boot_no", [0, 1, 2])
def test_a_boot_not_above_the_highest_number_starts_a_new_era(boot_no: int) -> None:
    """A wiped disk counts from 1 again; a v1 agent always says 0."""
    assert era_of_new_boot([BootOrder(0, 1), BootOrder(0, 2)], boot_no) == 1
    assert era_of_new_boot([BootOrder(0, 5), BootOrder(1, 2)], boot_no) == 2
    assert era_of_new_boot([BootOrder(0, 5), BootOrder(1, 2)], 3) == 1


def test_status_order_puts_a_connections_will_after_its_online() -> None:
    def key(state: str, boot_no: int, conn: int) -> tuple[int, int, int, int]:
        msg = Status(sender="edge/a/b", state=state, boot="x", boot_no=boot_no, conn=conn)  # type: ignore[arg-type]
        return status_key(BootOrder(0, boot_no), msg)

    assert key("offline", 3, 1) > key("online", 3, 1)
    assert key("online", 3, 2) > key("offline", 3, 1)
    assert key("online", 4, 1) > key("offline", 3, 9)
    assert not newer(key("online", 3, 1), key("offline", 3, 1), arrival=False)
    assert newer(key("online", 3, 1), key("offline", 3, 1), arrival=True)
    assert newer(key("online", 3, 1), None, arrival=False)


def test_clock_skew_counts_the_future_only_for_replayable_data() -> None:
    now = at(0)
    assert clock_skew(at(100), now, 300, future_only=False) is None
    assert clock_skew(at(400), now, 300, future_only=True) == 400
    assert clock_skew(at(-4000), now, 300, future_only=True) is None  # an outbox replay
    assert clock_skew(at(-4000), now, 300, future_only=False) == -4000
