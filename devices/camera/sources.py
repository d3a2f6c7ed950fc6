"""Frame sources: blocking readers of one camera, run only on the camera's own worker thread."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any, Protocol

import cv2
import numpy as np
import numpy.typing as npt

from devices.base import DeviceUnavailable

Frame = npt.NDArray[np.uint8]
"""A BGR image, height x width x 3."""

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp"})


class FrameSource(Protocol):
    """One camera, read on one thread: ``open``, ``read`` again and again, ``close``.

    ``open`` and ``read`` raise DeviceUnavailable when the camera is not there."""

    def open(self) -> None: ...

    def read(self) -> Frame: ...

    def close(self) -> None: ...


def fit(frame: Frame, width: int, height: int) -> Frame:
    """The frame scaled down (never up) to fit ``width`` x ``height``."""
    h, w = frame.shape[:2]
    scale = min(width / w, height / h, 1.0)
    if scale >= 1.0:
        return frame
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return np.asarray(cv2.resize(frame, size, interpolation=cv2.INTER_AREA), dtype=np.uint8)


class OpenCvSource:
    """``cv2.VideoCapture`` on an index, a stream URL or a video file."""

    def __init__(
        self,
        source: int | str,
        *,
        width: int,
        height: int,
        password_env: str | None = None,
        loop: bool = False,
    ) -> None:
        self.source, self.width, self.height, self.loop = source, width, height, loop
        self.password_env = password_env
        self._capture: Any = None

    def _target(self) -> int | str:
        if isinstance(self.source, str) and self.password_env is not None:
            return self.source.replace("{password}", os.environ.get(self.password_env, ""))
        return self.source

    def open(self) -> None:
        self.close()
        capture = cv2.VideoCapture(self._target())
        if not capture.isOpened():
            capture.release()
            msg = f"camera {self.source if self.password_env is None else '(stream)'} not found"
            raise DeviceUnavailable(msg)
        if isinstance(self.source, int):
            capture.set(cv2.CAP_PROP_FRAME_WIDTH, self.width)
            capture.set(cv2.CAP_PROP_FRAME_HEIGHT, self.height)
        self._capture = capture

    def read(self) -> Frame:
        if self._capture is None:
            self.open()
        ok, frame = self._capture.read()
        if not ok and self.loop:
            self._capture.set(cv2.CAP_PROP_POS_FRAMES, 0)
            ok, frame = self._capture.read()
        if not ok or frame is None:
            self.close()
            msg = "the camera gave no frame"
            raise DeviceUnavailable(msg)
        return fit(np.asarray(frame, dtype=np.uint8), self.width, self.height)

    def close(self) -> None:
        if self._capture is not None:
            self._capture.release()
            self._capture = None


class FolderSource:
    """Image files of a folder, in name order, round and round; a folder that disappears (or
    holds no image) is a camera unplugged."""

    def __init__(self, path: Path, *, width: int, height: int) -> None:
        self.path, self.width, self.height = path, width, height
        self._next = 0

    def _files(self) -> list[Path]:
        try:
            files = sorted(p for p in self.path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        except OSError as exc:
            msg = f"frame folder {self.path} cannot be read: {exc.strerror or exc}"
            raise DeviceUnavailable(msg) from exc
        if not files:
            msg = f"frame folder {self.path} holds no image"
            raise DeviceUnavailable(msg)
        return files

    def open(self) -> None:
        self._files()

    def read(self) -> Frame:
        files = self._files()
        path = files[self._next % len(files)]
        self._next += 1
        frame = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if frame is None:
            msg = f"frame {path.name} cannot be read as an image"
            raise DeviceUnavailable(msg)
        return fit(np.asarray(frame, dtype=np.uint8), self.width, self.height)

    def close(self) -> None:
        pass


class PicameraSource:
    """The Raspberry Pi camera module through Picamera2 (imported here: it is a Debian package
    of Raspberry Pi OS, absent elsewhere)."""

    def __init__(self, camera_num: int, *, width: int, height: int) -> None:
        self.camera_num, self.width, self.height = camera_num, width, height
        self._camera: Any = None

    def open(self) -> None:
        try:
            from picamera2 import Picamera2  # type: ignore[import-not-found]
        except ImportError as exc:
            msg = "picamera2 is not installed (apt install python3-picamera2)"
            raise DeviceUnavailable(msg) from exc
        try:
            camera = Picamera2(self.camera_num)
            config = camera.create_still_configuration(
                main={"size": (self.width, self.height), "format": "BGR888"}
            )
            camera.configure(config)
            camera.start()
        except Exception as exc:  # libcamera raises plain RuntimeErrors and IndexErrors
            msg = f"camera module {self.camera_num} cannot start: {exc}"
            raise DeviceUnavailable(msg) from exc
        self._camera = camera

    def read(self) -> Frame:
        if self._camera is None:
            self.open()
        try:
            frame = self._camera.capture_array("main")
        except Exception as exc:
            self.close()
            msg = f"camera module {self.camera_num} gave no frame: {exc}"
            raise DeviceUnavailable(msg) from exc
        return np.ascontiguousarray(frame[:, :, :3], dtype=np.uint8)

    def close(self) -> None:
        if self._camera is not None:
            try:
                self._camera.close()
            finally:
                self._camera = None


class SwitchableSource:
    """Wraps a source that tests (and the demo) can unplug and plug in again."""

    def __init__(self, inner: FrameSource) -> None:
        self.inner = inner
        self.plugged = threading.Event()
        self.plugged.set()

    def open(self) -> None:
        if not self.plugged.is_set():
            raise DeviceUnavailable("camera unplugged")
        self.inner.open()

    def read(self) -> Frame:
        if not self.plugged.is_set():
            raise DeviceUnavailable("camera unplugged")
        return self.inner.read()

    def close(self) -> None:
        self.inner.close()


__all__ = [
    "IMAGE_SUFFIXES",
    "FolderSource",
    "Frame",
    "FrameSource",
    "OpenCvSource",
    "PicameraSource",
    "SwitchableSource",
    "fit",
]
