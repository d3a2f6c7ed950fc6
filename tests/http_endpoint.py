"""A real HTTP endpoint on loopback for webhook tests: answers as its script says, and records
every request it gets (the standard library's threading HTTP server, on a free port)."""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

HANG = -1
"""A scripted answer: never answer (until the endpoint closes)."""


@dataclass(frozen=True, slots=True)
class Request:
    path: str
    content_type: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Endpoint:
    """Answers each POST with the next status of ``script`` (``HANG``: no answer), then 200."""

    def __init__(self, script: Iterable[int] = ()) -> None:
        self.script: deque[int] = deque(script)
        self.requests: list[Request] = []
        self.answered: list[int] = []
        self._lock = threading.Lock()
        self._release = threading.Event()
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                body = self.rfile.read(length)
                with endpoint._lock:
                    endpoint.requests.append(
                        Request(
                            self.path,
                            self.headers.get("content-type", ""),
                            {k.lower(): v for k, v in self.headers.items()},
                            body,
                        )
                    )
                    status = endpoint.script.popleft() if endpoint.script else 200
                if status == HANG:
                    endpoint._release.wait(30)
                    return
                with endpoint._lock:  # before the answer: the client may look at once
                    endpoint.answered.append(status)
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass  # quiet: the test reads ``requests``

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/alerts"
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def bodies(self) -> list[Any]:
        with self._lock:
            return [r.json() for r in self.requests]

    def __enter__(self) -> Endpoint:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._release.set()
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(10)


__all__ = ["HANG", "Endpoint", "Request"]
