"""A bound on request bodies: a pure ASGI middleware that answers 413 past a number of bytes."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_DIGITS = 18
"""Digits of a Content-Length read as a number; a longer one is past any limit."""


class BodyTooLarge(HTTPException):
    """A request body past the limit; raised from ``receive``, answered with 413."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(
            413, f"request body larger than {max_bytes} bytes", headers={"connection": "close"}
        )


class BodyLimit:
    """Refuses request bodies over ``max_bytes`` with 413 and ``{"detail": ...}``.

    A ``Content-Length`` over the limit is refused before the body is read. A body without one
    (chunked) is counted while the application reads it: the chunk that passes the limit is
    never handed on, so the application holds at most ``max_bytes`` of it. An application that
    reads the body sees :class:`BodyTooLarge`, an HTTP exception FastAPI answers as it is; if
    one gets out of the application before a response started, the 413 is sent from here.
    """

    def __init__(
        self, app: ASGIApp, *, max_bytes: int, larger: Mapping[str, int] | None = None
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.larger = [(re.compile(path), limit) for path, limit in (larger or {}).items()]
        """Paths (regular expressions, matched whole) that take a larger body: the
        enrolment photos."""

    def limit_of(self, path: str) -> int:
        return next((n for p, n in self.larger if p.fullmatch(path)), self.max_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_of(scope.get("path", ""))
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await self._refuse(send, limit)
            return
        received = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, watched_send)
        except BodyTooLarge:
            if started:
                raise
            await self._refuse(send, limit)

    async def _refuse(self, send: Send, limit: int) -> None:
        error = BodyTooLarge(limit)
        body = json.dumps({"detail": error.detail}).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            *((k.encode(), v.encode()) for k, v in (error.headers or {}).items()),
        ]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _content_length(scope: Scope) -> int | None:
    """The declared body length; None when absent or unreadable (the server refuses those)."""
    for name, value in scope.get("headers", ()):
        if name.lower() == b"content-length":
            if not value.isdigit():
                return None
            return int(value) if len(value) <= _DIGITS else 10**_DIGITS  # no int() of 4300 digits
    return None


__all__ = ["BodyLimit", "BodyTooLarge"]
