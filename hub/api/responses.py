"""Error responses of the API: a validation error handler that can answer any input."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

MAX_ERRORS = 50
"""Most problems listed in one 422."""
INPUT_DEPTH = 10
"""Levels of a refused input sent back; deeper ones are cut to ``"..."``."""


async def validation_error(request: Request, exc: Exception) -> JSONResponse:
    """422 with FastAPI's shape, sent back whatever the input (NaN, lone surrogates, bytes, depth).

    FastAPI's own handler fails with a 500 on exactly the inputs worth refusing: it cannot
    encode NaN or a lone surrogate in JSON, nor decode bytes that are not UTF-8.
    """
    if not isinstance(exc, RequestValidationError):  # registered for that class only
        raise exc
    detail = [_problem(error) for error in exc.errors()[:MAX_ERRORS]]
    return JSONResponse({"detail": detail}, status_code=422)


def _problem(error: Mapping[str, Any]) -> dict[str, Any]:
    problem: dict[str, Any] = {
        "type": _text(str(error.get("type", "value_error"))),
        "loc": [
            p if isinstance(p, int) and not isinstance(p, bool) else _text(str(p))
            for p in error.get("loc", ())
        ],
        "msg": _text(str(error.get("msg", ""))),
    }
    if "input" in error:
        problem["input"] = _safe(error["input"], INPUT_DEPTH)
    ctx = error.get("ctx")
    if isinstance(ctx, Mapping):
        problem["ctx"] = {_text(str(k)): _safe(v, 1) for k, v in ctx.items()}
    return problem


def _safe(value: Any, depth: int) -> Any:
    """A copy of ``value`` that JSON can carry, cut below ``depth`` levels of containers."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value if value.bit_length() <= 64 else "(a very large integer)"
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", errors="replace")
    if isinstance(value, Mapping | list | tuple):
        if depth <= 0:
            return "..."
        if isinstance(value, Mapping):
            return {_text(str(k)): _safe(v, depth - 1) for k, v in value.items()}
        return [_safe(v, depth - 1) for v in value]
    return _text(str(value))


def _text(text: str) -> str:
    """The text with lone surrogates (which UTF-8 cannot carry) replaced by U+FFFD."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text


__all__ = ["MAX_ERRORS", "validation_error"]
