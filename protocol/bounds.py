"""Bounds on free-form JSON values (command params, event data, device state) at a boundary."""

from __future__ import annotations

import json
import math
import re
from typing import Any, TypeVar

T = TypeVar("T")

_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_KEY_SHOWN = 40
"""Longest key written out in full in a path."""


def check_json(value: T, *, max_depth: int, max_bytes: int) -> T:
    """Return ``value`` unchanged if it is plain JSON within the bounds; raise ValueError if not.

    Plain JSON: dicts with string keys, lists, strings, integers, finite floats, booleans and
    None. ``max_depth`` counts nested containers: a scalar is 0 deep, ``{}`` 1, ``{"a": [1]}`` 2.
    ``max_bytes`` bounds the compact UTF-8 JSON encoding (no spaces). No key or string may hold
    a NUL or a lone surrogate: neither can be stored in PostgreSQL, and a lone surrogate cannot
    even be encoded as UTF-8. The message names the limit and the path (``$.a[2].b``) of the
    first value past it.
    """
    size = 0
    stack: list[tuple[Any, str, int]] = [(value, "$", 0)]
    while stack:
        item, path, depth = stack.pop()
        if isinstance(item, dict | list):
            depth += 1
            if depth > max_depth:
                msg = f"nested more than {max_depth} levels deep at {path}"
                raise ValueError(msg)
            size += 2 + max(len(item) - 1, 0) + (len(item) if isinstance(item, dict) else 0)
            _check_size(size, max_bytes, path)  # brackets, commas, colons: before the members
            members: list[tuple[Any, str, int]] = []
            if isinstance(item, dict):
                for key, member in item.items():
                    if not isinstance(key, str):
                        msg = f"key {key!r} at {path} is not a string"
                        raise ValueError(msg)
                    at = _member_path(path, key)
                    size += _text_size(key, "key", at)
                    _check_size(size, max_bytes, at)
                    members.append((member, at, depth))
            else:
                members = [(member, f"{path}[{i}]", depth) for i, member in enumerate(item)]
            stack.extend(reversed(members))  # popped in document order
        else:
            size += _scalar_size(item, path)
        _check_size(size, max_bytes, path)
    return value


def _check_size(size: int, max_bytes: int, path: str) -> None:
    if size > max_bytes:
        msg = f"larger than {max_bytes} bytes as JSON (past the limit at {path})"
        raise ValueError(msg)


def _scalar_size(value: Any, path: str) -> int:
    """Length of one scalar's JSON encoding; ValueError if it has none."""
    if value is None or value is True:
        return 4
    if value is False:
        return 5
    if isinstance(value, str):
        return _text_size(value, "string", path)
    if isinstance(value, int):
        try:
            return len(int.__repr__(value))
        except ValueError:  # more digits than Python converts
            msg = f"integer with too many digits at {path}"
            raise ValueError(msg) from None
    if isinstance(value, float):
        if not math.isfinite(value):
            msg = f"{value} is not a JSON number (at {path})"
            raise ValueError(msg)
        return len(float.__repr__(value))
    msg = f"a {type(value).__name__} is not a JSON value (at {path})"
    raise ValueError(msg)


def _text_size(text: str, what: str, path: str) -> int:
    """Length of a key or string as JSON (with its quotes and escapes); ValueError if unstorable."""
    if "\x00" in text:
        msg = f"NUL character in {what} at {path}"
        raise ValueError(msg)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        msg = f"lone surrogate U+{ord(text[exc.start]):04X} in {what} at {path}"
        raise ValueError(msg) from None
    return len(json.dumps(text, ensure_ascii=False).encode("utf-8"))


def _member_path(path: str, key: str) -> str:
    if _PLAIN_KEY.fullmatch(key):
        return f"{path}.{key}"
    shown = key if len(key) <= _KEY_SHOWN else f"{key[:_KEY_SHOWN]}..."
    return f"{path}[{json.dumps(shown)}]"  # ASCII: escapes NUL and lone surrogates


def check_text(value: str, where: str = "text") -> str:
    """Refuse NUL and lone surrogates (PostgreSQL and UTF-8 refuse them); return ``value``."""
    if "\x00" in value:
        msg = f"{where}: must not contain NUL characters"
        raise ValueError(msg)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        msg = f"{where}: contains a lone surrogate (not valid Unicode text)"
        raise ValueError(msg) from None
    return value


def safe_text(value: object, max_chars: int = 2000) -> str:
    """Any value as text that every reader and store accepts: no NUL, no lone surrogate, cut.

    For messages built from what was received (an error naming a bad input), so that
    building the answer can never fail because of the input it describes.
    """
    text = str(value).replace("\x00", "\ufffd")
    text = text.encode("utf-8", errors="replace").decode("utf-8")
    return text if len(text) <= max_chars else text[: max_chars - 1] + "…"


__all__ = ["check_json", "check_text", "safe_text"]
