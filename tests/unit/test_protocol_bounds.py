"""Bounds on free-form JSON values: depth, encoded size, text that can be stored, JSON types."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from protocol.bounds import check_json


def compact(value: Any) -> int:
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def nested(depth: int) -> Any:
    """``depth`` containers inside one another, alternating lists and objects."""
    value: Any = 1
    for level in range(depth):
        value = [value] if level % 2 else {"k": value}
    return value


@pytest.mark.parametrize(
    "value",
    [
        {},
        [],
        None,
        "",
        0,
        -1.5e300,
        True,
        {"zone": "front", "level": 60, "on": True, "ramp": None, "gain": 0.25},
        {"names": ["Lớp 6A1", "教室", "🙂", 'quote " and \\ backslash', "tab\t newline\n"]},
        {"": [{}, [], [[]]], "a b": {"-": -0.0}},
        {"big": 2**63, "small": -(2**63)},
    ],
)
def test_plain_json_is_returned_unchanged(value: Any) -> None:
    assert check_json(value, max_depth=8, max_bytes=4096) is value


@pytest.mark.parametrize(
    "value",
    [
        {"a": 1},
        {"names": ["Lớp 6A1", "🙂", 'q"\\', "\u0001\x7f"]},
        [1.5, 1e16, 1e-7, -0.0, 12345678901234567890, None, True, False],
        {"nested": {"list": [{"x": "y"}, []], "empty": {}}},
    ],
)
def test_size_is_the_compact_utf8_encoding(value: Any) -> None:
    size = compact(value)
    assert check_json(value, max_depth=8, max_bytes=size) is value
    with pytest.raises(ValueError, match=rf"larger than {size - 1} bytes as JSON"):
        check_json(value, max_depth=8, max_bytes=size - 1)


def test_size_names_where_the_limit_is_passed() -> None:
    value = {"small": 1, "big": "x" * 100}
    with pytest.raises(ValueError, match=r"larger than 50 bytes .* at \$\.big\)"):
        check_json(value, max_depth=8, max_bytes=50)


def test_a_wide_container_is_refused_before_its_members_are_read() -> None:
    with pytest.raises(ValueError, match=r"larger than 100 bytes .* at \$\)"):
        check_json([0] * 1_000_000, max_depth=8, max_bytes=100)


def test_depth_counts_containers() -> None:
    assert check_json(nested(8), max_depth=8, max_bytes=4096) == nested(8)
    with pytest.raises(ValueError, match=r"nested more than 8 levels deep at \$"):
        check_json(nested(9), max_depth=8, max_bytes=4096)
    assert check_json("scalar", max_depth=0, max_bytes=100) == "scalar"
    with pytest.raises(ValueError, match="nested more than 0 levels"):
        check_json({}, max_depth=0, max_bytes=100)


def test_depth_names_the_path() -> None:
    value = {"a": [{"b": [[1]]}]}
    with pytest.raises(ValueError, match=r"more than 4 levels deep at \$\.a\[0\]\.b\[0\]$"):
        check_json(value, max_depth=4, max_bytes=4096)


def test_very_deep_values_stop_at_the_limit() -> None:
    deep: Any = []
    for _ in range(100_000):  # far past the recursion limit: the walk is not recursive
        deep = [deep]
    with pytest.raises(ValueError, match=r"nested more than 8 levels deep at \$(\[0\]){8}$"):
        check_json(deep, max_depth=8, max_bytes=4096)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"a": "x\x00y"}, r"NUL character in string at \$\.a$"),
        ({"a": ["ok", "\x00"]}, r"NUL character in string at \$\.a\[1\]$"),
        ({"k\x00": 1}, r'NUL character in key at \$\["k\\u0000"\]$'),
        ({"a": {"\x00": "v"}}, r'NUL character in key at \$\.a\["\\u0000"\]$'),
        ({"a": "\ud800"}, r"lone surrogate U\+D800 in string at \$\.a$"),
        ({"a": ["x\udfff"]}, r"lone surrogate U\+DFFF in string at \$\.a\[0\]$"),
        ({"\udc00": 1}, r'lone surrogate U\+DC00 in key at \$\["\\udc00"\]$'),
        ("\ud83d", r"lone surrogate U\+D83D in string at \$$"),
    ],
)
def test_text_that_cannot_be_stored_is_refused(value: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        check_json(value, max_depth=8, max_bytes=4096)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"a": math.nan}, r"nan is not a JSON number \(at \$\.a\)"),
        ({"a": [math.inf]}, r"inf is not a JSON number \(at \$\.a\[0\]\)"),
        ({"a": -math.inf}, r"-inf is not a JSON number"),
        ({"a": {1, 2}}, r"a set is not a JSON value \(at \$\.a\)"),
        ({"a": (1, 2)}, r"a tuple is not a JSON value"),
        ({"a": b"bytes"}, r"a bytes is not a JSON value"),
        ({"a": object()}, r"a object is not a JSON value"),
        ({1: "a"}, r"key 1 at \$ is not a string"),
        ({"a": 10**5000}, r"integer with too many digits at \$\.a"),
    ],
)
def test_values_json_cannot_carry_are_refused(value: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        check_json(value, max_depth=8, max_bytes=100_000)


def test_long_and_odd_keys_are_shortened_in_paths() -> None:
    key = "k" * 100 + " "
    with pytest.raises(ValueError, match=r'at \$\["k{40}\.\.\."\]$') as caught:
        check_json({key: "\x00"}, max_depth=8, max_bytes=4096)
    assert key not in str(caught.value)


def test_the_first_problem_in_document_order_is_named() -> None:
    with pytest.raises(ValueError, match=r"at \$\.first$"):
        check_json({"first": "\x00", "second": "\x00"}, max_depth=8, max_bytes=4096)
    with pytest.raises(ValueError, match=r"at \$\[0\]$"):
        check_json(["\x00", "\ud800"], max_depth=8, max_bytes=4096)
