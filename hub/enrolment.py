"""Face templates from IT's enrolment photos, made at the hub in memory with the room's own
face engine (``faces``), on one worker thread: a photo is checked (JPEG or PNG, size, pixels)
before it is decoded, never written anywhere, and dropped once its template is made."""

from __future__ import annotations

import asyncio
import logging
import struct
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import cv2
import numpy as np

from faces.config import FaceModels
from faces.engine import PhotoRefused, build_engine, photo_template
from faces.models import FaceEngine, Frame

logger = logging.getLogger(__name__)

JPEG, PNG = "jpeg", "png"
_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
"""JPEG start-of-frame markers (the ones that carry the image's size)."""


class PhotoError(ValueError):
    """A photo the hub will not enrol from: the message says why; ``field`` names it."""

    def __init__(self, field: str, reason: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.reason = reason
        """``not_an_image``, ``too_large``, ``too_many_pixels``, ``no_face``, ``several_faces``."""


@dataclass(frozen=True)
class Recogniser:
    """Which model made the templates: the room refuses those of another."""

    name: str
    version: str


def image_kind(data: bytes) -> str | None:
    """``jpeg`` or ``png`` from the file's signature; None for anything else."""
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    return None


def image_size(data: bytes, kind: str) -> tuple[int, int] | None:
    """(width, height) from a JPEG's or PNG's header, without decoding it (None if the header
    cannot be read)."""
    if kind == PNG:
        if len(data) < 24 or data[12:16] != b"IHDR":
            return None
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    i = 2
    while i + 9 < len(data):
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            i += 2
            continue
        (length,) = struct.unpack(">H", data[i + 2 : i + 4])
        if marker in _SOF:
            height, width = struct.unpack(">HH", data[i + 5 : i + 9])
            return int(width), int(height)
        i += 2 + length
    return None


def decode_photo(field: str, data: bytes, *, max_bytes: int, max_px: int) -> Frame:
    """The photo as a BGR image, or PhotoError: only JPEG and PNG, at most ``max_bytes`` and
    ``max_px`` on each side (read from the header before anything is decoded)."""
    if len(data) > max_bytes:
        raise PhotoError(field, "too_large", f"{len(data)} bytes, more than {max_bytes}")
    kind = image_kind(data)
    if kind is None:
        raise PhotoError(field, "not_an_image", "not a JPEG or PNG image")
    size = image_size(data, kind)
    if size is None or min(size) < 1:
        raise PhotoError(field, "not_an_image", f"the {kind.upper()} header cannot be read")
    if max(size) > max_px:
        raise PhotoError(field, "too_many_pixels",
                         f"{size[0]}x{size[1]} pixels, more than {max_px} on a side")  # fmt: skip
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise PhotoError(field, "not_an_image", f"the {kind.upper()} image cannot be decoded")
    return np.asarray(image, np.uint8)


class Enroller:
    """The hub's face engine (built on first use, on its own thread) and what it makes."""

    def __init__(self, models: FaceModels | None = None, *, max_bytes: int, max_px: int) -> None:
        self.models = models or FaceModels()
        self.max_bytes = max_bytes
        self.max_px = max_px
        self._engine: FaceEngine | None = None
        self.results: Counter[str] = Counter()
        """Enrolments through the hub by result (``enrolled``, ``no_consent``, ``no_face``,
        …): the ``/metrics`` counter."""
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="enrolment")

    def _engine_now(self) -> FaceEngine:
        if self._engine is None:
            self._engine = build_engine(self.models)
        return self._engine

    def _templates(self, photos: list[tuple[str, bytes]]) -> tuple[Recogniser, list[list[float]]]:
        engine = self._engine_now()
        assert engine.recogniser is not None
        out = []
        for field, data in photos:
            image = decode_photo(field, data, max_bytes=self.max_bytes, max_px=self.max_px)
            try:
                template = photo_template(engine, image)
            except PhotoRefused as exc:
                what = "no face" if exc.reason == "no_face" else f"{exc.faces} faces"
                raise PhotoError(field, exc.reason, f"{what}: one face, large enough, is "
                                 "needed") from None  # fmt: skip
            finally:
                del image
            out.append([round(float(x), 6) for x in template])
        return Recogniser(engine.recogniser.name, engine.recogniser.version), out

    async def templates(
        self, photos: list[tuple[str, bytes]]
    ) -> tuple[Recogniser, list[list[float]]]:
        """One template per photo (field name, bytes), off the event loop; PhotoError names
        the first photo that cannot give one."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._worker, self._templates, photos)

    def close(self) -> None:
        self._worker.shutdown(wait=False, cancel_futures=True)


__all__ = ["Enroller", "PhotoError", "Recogniser", "decode_photo", "image_kind", "image_size"]
