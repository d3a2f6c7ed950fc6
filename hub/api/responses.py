"""Error responses of the API: the statuses routes document, and a validation error handler."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from hub.api.models import ErrorPublic, ValidationErrorPublic

Responses = dict[int | str, dict[str, Any]]

MAX_ERRORS = 50
"""Most problems listed in one 422."""
INPUT_DEPTH = 10
"""Levels of a refused input sent back; deeper ones are cut to ``"..."``."""


def error_responses(
    statuses: Mapping[int, str], *, models: Mapping[int, Any] | None = None
) -> Responses:
    """OpenAPI ``responses`` for the error statuses of a route, each with its description.

    The body is ``{"detail": str}`` (:class:`ErrorPublic`), except 422: FastAPI's validation
    error shape. ``models`` overrides the model of a status (a route whose 422 can be either).
    """
    chosen = dict(models or {})
    return {
        code: {
            "model": chosen.get(code, ValidationErrorPublic if code == 422 else ErrorPublic),
            "description": text,
        }
        for code, text in sorted(statuses.items())
    }


BODY_TOO_LARGE = error_responses({413: "the request body is larger than the hub accepts"})
"""Every route: the body limit applies to all of them."""
AUTH_ERRORS = error_responses(
    {
        401: "not signed in, or the token or session is no longer valid",
        403: "the caller may not do this here (role, school or room), or a request made with"
        " the session cookie lacks its X-CSRF-Token",
    }
)
"""Every route but ``/healthz`` and the login."""


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


__all__ = [
    "AUTH_ERRORS",
    "BODY_TOO_LARGE",
    "MAX_ERRORS",
    "Responses",
    "error_responses",
    "validation_error",
]
