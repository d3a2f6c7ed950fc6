"""The camera family: frames on the camera's own thread; a camera that disappears is reported
unavailable with an alert, retried, and recovered when it comes back."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from devices.camera import Camera
from devices.camera.sources import Frame
from devices.family import DeviceHooks
from devices.registry import create_device
from protocol.aio import wait_within


class Alerts:
    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []
        self.changed = asyncio.Event()
        self.loop = asyncio.get_running_loop()

    def __call__(self, device: str, kind: str, severity: str, text: str, data: Any) -> None:
        self.seen.append((kind, severity))
        self.changed.set()

    async def until(self, kind: str, count: int = 1) -> None:
        async def wait() -> None:
            while sum(k == kind for k, _ in self.seen) < count:
                self.changed.clear()
                await self.changed.wait()

        await wait_within(wait(), 10)


def _frames(folder: Path, n: int = 2) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        image = np.full((240, 320, 3), 40 * (i + 1), np.uint8)
        cv2.imwrite(str(folder / f"{i:03}.png"), image)


def _camera(backend: str, alerts: Alerts, **config: Any) -> Camera:
    from pydantic import TypeAdapter

    from devices.registry import DeviceConfig

    cfg = TypeAdapter(DeviceConfig).validate_python(
        {"family": "camera", "backend": backend, "retry_s": 0.05, "fps": 20, **config}
    )
    camera = create_device("cam", cfg, hooks=DeviceHooks(alert=alerts))
    assert isinstance(camera, Camera)
    return camera


async def test_a_camera_that_disappears_is_reported_retried_and_recovered(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "frames"
    _frames(folder)
    alerts = Alerts()
    camera = _camera("folder", alerts, path=str(folder))
    loop_thread = threading.get_ident()
    reader: list[int] = []
    read = camera.source.read

    def traced() -> Frame:
        reader.append(threading.get_ident())
        return read()

    camera.source.read = traced  # type: ignore[method-assign]
    camera.want(True)
    task = asyncio.create_task(camera.run())
    try:
        frame = await camera.frame(timeout=5)
        assert frame is not None
        assert frame.shape == (240, 320, 3)
        assert reader
        assert loop_thread not in reader, "read on the event loop's thread"
        folder.rename(tmp_path / "unplugged")  # the USB camera pulled out
        await alerts.until("device_unavailable")
        state = await camera.state()
        assert state["available"] is False
        assert "cannot be read" in state["reason"]
        (tmp_path / "unplugged").rename(folder)
        await alerts.until("device_available")
        assert await camera.frame(timeout=5) is not None
        assert (await camera.state())["available"] is True
        assert alerts.seen == [("device_available", "info"), ("device_unavailable", "warning"),
                               ("device_available", "info")]  # fmt: skip
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        camera.close()
        camera.close()  # safe twice


async def test_a_camera_that_is_not_there_at_start_is_reported_and_found_later(
    tmp_path: Path,
) -> None:
    alerts = Alerts()
    camera = _camera("opencv", alerts, source=str(tmp_path / "missing.avi"))
    task = asyncio.create_task(camera.run())
    try:
        await alerts.until("device_unavailable")
        assert (await camera.state())["available"] is False
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        camera.close()


async def test_a_video_file_is_read_through_opencv(tmp_path: Path) -> None:
    path = tmp_path / "class.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), 5, (320, 240))
    for i in range(3):
        writer.write(np.full((240, 320, 3), 60 * i, np.uint8))
    writer.release()
    alerts = Alerts()
    camera = _camera("opencv", alerts, source=str(path), loop=True)
    frames: list[Frame] = []
    for _ in range(5):  # past the end: it starts again
        frame = await camera.grab()
        assert frame is not None
        frames.append(frame)
    assert camera.available
    camera.close()


def test_picamera2_absent_is_a_clear_unavailable() -> None:
    from devices.base import DeviceUnavailable
    from devices.camera.sources import PicameraSource

    with pytest.raises(DeviceUnavailable, match="picamera2"):
        PicameraSource(0, width=640, height=480).open()


def test_sim_camera_composes_the_students_present(tmp_path: Path) -> None:
    from devices.camera.sim import SimSource

    portraits = {"a": np.full((100, 100, 3), 200, np.uint8)}
    source = SimSource(portraits, width=320, height=240)
    source.present = ["a"]
    assert source.read().shape == (240, 320, 3)
    with pytest.raises(ValueError, match="no portrait"):
        source.present = ["b"]
