"""The string members of a JSON object's top level, read without parsing anything nested.

A command whose params are nested deeper than the JSON parsers go (pydantic-core stops at
200 levels) must still be answered ``bad_request`` when its ``id`` can be read: the id
and the hub to answer sit at the top level, and this scan finds them at any depth of the
rest, without recursion and in one pass over the text.
"""

from __future__ import annotations

import json
import re

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)


def top_level_strings(text: str) -> dict[str, str]:
    """``{key: value}`` for each member of the top-level object whose value is a string;
    empty when the text is not an object. What is malformed is skipped, never raised."""
    if not text.lstrip().startswith("{"):
        return {}
    found: dict[str, str] = {}
    depth, i, n = 0, 0, len(text)
    key: str | None = None
    after_colon = False
    while i < n:
        c = text[i]
        if c == '"':
            match = _STRING.match(text, i)
            if match is None:
                break  # an unterminated string: nothing more can be read
            i = match.end()
            if depth == 1:
                value = _string(match.group())
                if after_colon and key is not None and value is not None:
                    found.setdefault(key, value)
                    key, after_colon = None, False
                elif not after_colon:
                    key = value
            continue
        if c in "{[":
            if depth == 1:
                key, after_colon = None, False  # a nested value: not a string
            depth += 1
        elif c in "}]":
            depth -= 1
            if depth <= 0:
                break  # the top-level object ends
        elif depth == 1 and c == ":":
            after_colon = key is not None
        elif depth == 1 and (c == "," or (after_colon and not c.isspace())):
            key, after_colon = None, False  # the next member, or a value that is not a string
        i += 1
    return found


def _string(token: str) -> str | None:
    try:
        value = json.loads(token)
    except ValueError:
        return None
    return value if isinstance(value, str) else None


__all__ = ["top_level_strings"]
