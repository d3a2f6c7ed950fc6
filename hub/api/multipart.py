"""A ``multipart/form-data`` body read in memory: the parts of a bounded body, never spooled
to a temporary file (Starlette's form parser writes a file part over 1 MB to disk, and an
enrolment photo must never touch the hub's disk)."""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_PARTS = 16
"""Most parts one body may have."""
MAX_HEADER_BYTES = 2048
"""Longest headers of one part."""
_BOUNDARY = re.compile(r'boundary=(?:"([^"]{1,70})"|([^\s;,"]{1,70}))', re.IGNORECASE)
_PARAM = re.compile(r';\s*([A-Za-z*]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]*))')


class FormError(ValueError):
    """A body that is not a readable ``multipart/form-data`` form."""


@dataclass(frozen=True)
class Part:
    """One field of the form: its name, the file name a browser sent (None for a plain
    field), the declared type, and the bytes."""

    name: str
    filename: str | None
    content_type: str
    data: bytes

    def text(self) -> str:
        """A plain field's value (UTF-8)."""
        try:
            return self.data.decode("utf-8")
        except UnicodeDecodeError as exc:
            msg = f"{self.name}: not UTF-8 text"
            raise FormError(msg) from exc


def _headers(block: bytes) -> dict[str, str]:
    if len(block) > MAX_HEADER_BYTES:
        msg = f"a part's headers are longer than {MAX_HEADER_BYTES} bytes"
        raise FormError(msg)
    out: dict[str, str] = {}
    for line in block.decode("utf-8", "replace").split("\r\n"):
        name, sep, value = line.partition(":")
        if not sep:
            msg = "a part's header line has no ':'"
            raise FormError(msg)
        out[name.strip().lower()] = value.strip()
    return out


def _disposition(value: str) -> tuple[str, str | None]:
    kind, _, rest = value.partition(";")
    if kind.strip().lower() != "form-data":
        msg = "a part is not form-data"
        raise FormError(msg)
    params = {
        m.group(1).lower(): m.group(2) if m.group(2) is not None else m.group(3)
        for m in _PARAM.finditer(";" + rest)
    }
    name = params.get("name")
    if not name:
        msg = "a part has no name"
        raise FormError(msg)
    return name, params.get("filename")


def parse_form(content_type: str, body: bytes) -> list[Part]:
    """The parts of a ``multipart/form-data`` body (FormError naming what is wrong)."""
    if not content_type.lower().startswith("multipart/form-data"):
        msg = "the body must be multipart/form-data"
        raise FormError(msg)
    found = _BOUNDARY.search(content_type)
    if found is None:
        msg = "the multipart/form-data body has no boundary"
        raise FormError(msg)
    delimiter = b"--" + (found.group(1) or found.group(2)).encode("latin-1")
    chunks = body.split(delimiter)
    if len(chunks) < 3 or not chunks[-1].startswith(b"--"):
        msg = "the multipart body is cut short (no closing boundary)"
        raise FormError(msg)
    if len(chunks) - 2 > MAX_PARTS:
        msg = f"more than {MAX_PARTS} parts"
        raise FormError(msg)
    parts = []
    for chunk in chunks[1:-1]:
        if not chunk.startswith(b"\r\n") or not chunk.endswith(b"\r\n"):
            msg = "a part is not framed by CRLF"
            raise FormError(msg)
        head, sep, data = chunk[2:-2].partition(b"\r\n\r\n")
        if not sep:
            msg = "a part has no blank line after its headers"
            raise FormError(msg)
        headers = _headers(head)
        name, filename = _disposition(headers.get("content-disposition", ""))
        parts.append(Part(name, filename, headers.get("content-type", "text/plain"), data))
    return parts


__all__ = ["MAX_PARTS", "FormError", "Part", "parse_form"]
