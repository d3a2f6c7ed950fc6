"""Bounds on free-form JSON from the network: nesting depth, size, and text every store accepts."""

from __future__ import annotations

import json
import math
from typing import Any

__all__ = ["check_json", "check_text", "safe_text"]


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

    For messages we build from what we received (an error naming a bad input), so that
    building the answer can never fail because of the input it describes.
    """
    text = str(value).replace("\x00", "\ufffd")
    text = text.encode("utf-8", errors="replace").decode("utf-8")
    return text if len(text) <= max_chars else text[: max_chars - 1] + "…"


def check_json(value: Any, *, max_depth: int = 8, max_bytes: int = 4096, where: str = "") -> Any:
    """Refuse JSON deeper than ``max_depth`` or longer than ``max_bytes`` once serialised,
    text with NUL or lone surrogates (keys too), and non-finite numbers; return ``value``."""
    _walk(value, max_depth, where or "(value)", 0)
    size = len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode())
    if size > max_bytes:
        msg = f"{where or '(value)'}: {size} bytes of JSON, more than the limit of {max_bytes}"
        raise ValueError(msg)
    return value


def _walk(value: Any, max_depth: int, path: str, depth: int) -> None:
    if isinstance(value, dict | list):
        if depth >= max_depth:
            msg = f"{path}: nested more than {max_depth} levels deep"
            raise ValueError(msg)
        if isinstance(value, dict):
            for key, item in value.items():
                if not isinstance(key, str):
                    msg = f"{path}: object keys must be text"
                    raise ValueError(msg)
                check_text(key, f"{path}: key {key[:40]!r}")
                _walk(item, max_depth, f"{path}.{key[:40]}", depth + 1)
        else:
            for i, item in enumerate(value):
                _walk(item, max_depth, f"{path}[{i}]", depth + 1)
    elif isinstance(value, str):
        check_text(value, path)
    elif isinstance(value, float) and not math.isfinite(value):
        msg = f"{path}: {value} is not a JSON number"
        raise ValueError(msg)
    elif value is not None and not isinstance(value, bool | int | float):
        msg = f"{path}: {type(value).__name__} is not a JSON value"
        raise ValueError(msg)
