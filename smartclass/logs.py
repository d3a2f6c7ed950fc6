"""Logging for every ``smartclass`` command: readable lines, or one JSON object per line.

``--log-format json`` suits a log shipper (journald to Loki, Elasticsearch, a school's SIEM):
each record is one line with ``time`` (ISO 8601, UTC), ``level``, ``logger`` and ``message``,
plus ``exc_info`` when there is a traceback. The web server's own loggers (uvicorn's) go
through the same handler, so a hub's log is all in one format.
"""

from __future__ import annotations

import logging
import sys
import time
from typing import Literal

from pythonjsonlogger.json import JsonFormatter

LogFormat = Literal["text", "json"]
TEXT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


class _UtcJson(JsonFormatter):
    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        return f"{stamp}.{int(record.msecs):03d}Z"


def json_formatter() -> logging.Formatter:
    return _UtcJson(
        "%(asctime)s %(levelname)s %(name)s %(message)s",
        rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        json_ensure_ascii=False,
    )


def configure(level: str, fmt: LogFormat = "text") -> None:
    """Send every log record to standard error, in ``fmt``, from ``level`` up."""
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(json_formatter())
    else:
        handler.setFormatter(logging.Formatter(TEXT, datefmt="%H:%M:%S"))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)


__all__ = ["LogFormat", "configure", "json_formatter"]
