"""The camera device: frames taken on a worker thread of its own, never on the event loop;
a camera that fails is reported unavailable, opened again after a pause, and recovered."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ClassVar

from devices.base import Action, Clock, Device, DeviceError
from devices.camera.config import CameraSettings
from devices.camera.sources import Frame, FrameSource

logger = logging.getLogger(__name__)

Availability = Callable[[bool, str], None]


class Camera(Device):
    """One camera. ``frame()`` is the latest frame, taken on the camera's own thread.

    The camera serves no image to anyone: its state has its size, rate and availability,
    and it has no action. Frames go only to the attendance pipeline in the same process.
    """

    family: ClassVar[str] = "camera"

    def __init__(
        self,
        device_id: str,
        config: CameraSettings,
        source: FrameSource,
        *,
        on_availability: Availability | None = None,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(device_id)
        self.config = config
        self.source = source
        self._on_availability = on_availability
        self._clock = clock or time.monotonic
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"camera-{device_id}")
        self.available: bool | None = None
        """None until the first attempt; then whether the last read worked."""
        self.reason = "not opened yet"
        self.frames = 0
        self.failures = 0
        self._latest: Frame | None = None
        self._new_frame = asyncio.Event()
        self._wanted = asyncio.Event()
        self._closed = False

    @property
    def actions(self) -> Mapping[str, Action]:
        return {}

    async def state(self) -> dict[str, Any]:
        return {
            "available": bool(self.available),
            "reason": "" if self.available else self.reason,
            "width": self.config.width,
            "height": self.config.height,
            "frames": self.frames,
            "failures": self.failures,
        }

    def want(self, on: bool) -> None:
        """Take frames at the config's rate while ``on`` (a window is open); else only watch
        that the camera is there, every ``retry_s``."""
        if on:
            self._wanted.set()
        else:
            self._wanted.clear()

    def _mark(self, available: bool, reason: str) -> None:
        if available == self.available:
            return
        self.available, self.reason = available, reason
        if available:
            logger.info("camera %s available", self.id)
        else:
            self.failures += 1
            logger.warning("camera %s unavailable: %s", self.id, reason)
        if self._on_availability is not None:
            self._on_availability(available, reason)

    async def grab(self) -> Frame | None:
        """Read one frame on the camera's thread; None (and the camera marked unavailable) if
        it fails or takes longer than ``read_timeout_s``."""
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self.config.read_timeout_s):
                frame = await loop.run_in_executor(self._worker, self.source.read)
        except TimeoutError:
            self._mark(False, f"no frame within {self.config.read_timeout_s:g} s")
            return None
        except DeviceError as exc:
            self._mark(False, str(exc))
            return None
        except Exception as exc:  # a driver's own error: the camera is not usable now
            logger.exception("camera %s: reading failed", self.id)
            self._mark(False, f"{type(exc).__name__}: {exc}")
            return None
        self.frames += 1
        self._latest = frame
        self._new_frame.set()
        self._mark(True, "")
        return frame

    async def frame(self, timeout: float) -> Frame | None:
        """The next frame taken after this call, or None if none comes within ``timeout``."""
        self._new_frame.clear()
        try:
            async with asyncio.timeout(timeout):
                await self._new_frame.wait()
        except TimeoutError:
            return None
        return self._latest

    async def run(self) -> None:
        """Take frames while wanted; watch the camera otherwise; retry a failed one."""
        while not self._closed:
            frame = await self.grab()
            if frame is None:
                await asyncio.sleep(self.config.retry_s)
                continue
            if self._wanted.is_set():
                await asyncio.sleep(1.0 / self.config.fps)
                continue
            try:
                async with asyncio.timeout(self.config.retry_s):
                    await self._wanted.wait()
            except TimeoutError:
                pass

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._worker.submit(self.source.close)
        self._worker.shutdown(wait=False)


__all__ = ["Camera"]
