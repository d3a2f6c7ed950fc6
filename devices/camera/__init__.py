"""The camera family: OpenCV (USB, RTSP/HTTP, video file), a folder of frames, a simulated
classroom, and the Raspberry Pi camera module; all read on a thread of their own."""

from __future__ import annotations

from devices.base import Device
from devices.camera.camera import Camera
from devices.camera.config import (
    CameraSettings,
    FolderCameraConfig,
    OpenCvCameraConfig,
    PicameraConfig,
    SimCameraConfig,
)
from devices.camera.sim import SimSource, load_portraits
from devices.camera.sources import FolderSource, FrameSource, OpenCvSource, PicameraSource
from devices.family import DeviceContext, Family


def _camera(
    device_id: str, config: CameraSettings, source: FrameSource, context: DeviceContext
) -> Device:
    def on_availability(available: bool, reason: str) -> None:
        kind, severity = (
            ("device_available", "info") if available else ("device_unavailable", "warning")
        )
        context.alert(
            device_id, kind, severity, reason or "camera available", {"available": available}
        )
        context.changed(device_id)

    return Camera(device_id, config, source, on_availability=on_availability, clock=context.clock)


def _opencv(device_id: str, config: OpenCvCameraConfig, context: DeviceContext) -> Device:
    source = OpenCvSource(
        config.source, width=config.width, height=config.height,
        password_env=config.password_env, loop=config.loop,
    )  # fmt: skip
    return _camera(device_id, config, source, context)


def _folder(device_id: str, config: FolderCameraConfig, context: DeviceContext) -> Device:
    source = FolderSource(config.path, width=config.width, height=config.height)
    return _camera(device_id, config, source, context)


def _sim(device_id: str, config: SimCameraConfig, context: DeviceContext) -> Device:
    portraits = load_portraits(config.photos) if config.photos is not None else {}
    source = SimSource(portraits, width=config.width, height=config.height, seed=config.seed)
    return _camera(device_id, config, source, context)


def _picamera(device_id: str, config: PicameraConfig, context: DeviceContext) -> Device:
    source = PicameraSource(config.camera_num, width=config.width, height=config.height)
    return _camera(device_id, config, source, context)


FAMILY = Family(
    "camera",
    {
        OpenCvCameraConfig: _opencv,
        FolderCameraConfig: _folder,
        SimCameraConfig: _sim,
        PicameraConfig: _picamera,
    },
)
"""``opencv``, ``folder``, ``sim`` and ``picamera2``: one Camera device over each source."""

__all__ = ["FAMILY", "Camera"]
