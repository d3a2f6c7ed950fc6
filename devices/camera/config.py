"""Camera config models: an OpenCV source (USB index, RTSP/HTTP stream, video file), a folder
of frames, a simulated classroom, or the Raspberry Pi camera module through Picamera2."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import ConfigDict, Field

from devices.family import BackendConfig


class CameraSettings(BackendConfig):
    """What every camera backend shares: frame size, rate and how a lost camera is retried."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    family: Literal["camera"] = Field(default="camera", description="Device family.")
    width: int = Field(default=640, ge=64, le=4096, description="Frame width asked for, px.")
    height: int = Field(default=480, ge=48, le=4096, description="Frame height asked for, px.")
    fps: float = Field(
        default=2.0, gt=0, le=30, description="Frames taken per second while a window is open."
    )
    retry_s: float = Field(
        default=5.0, gt=0, le=600, description="Pause before a camera that failed is opened again."
    )
    read_timeout_s: float = Field(
        default=5.0, gt=0, le=60, description="A frame taking longer than this: camera failed."
    )


class OpenCvCameraConfig(CameraSettings):
    """A camera OpenCV opens: a V4L2 index (0 for /dev/video0), an ``rtsp://`` or ``http://``
    stream of an IP camera, or a video file."""

    backend: Literal["opencv"] = Field(description="OpenCV VideoCapture.")
    source: int | str = Field(
        description="Camera index, stream URL or video file path; a URL's password by "
        "environment variable only (password_env)."
    )
    password_env: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description="Variable holding the stream's password, put in place of {password}.",
    )
    loop: bool = Field(default=False, description="A video file starts again at its end.")


class FolderCameraConfig(CameraSettings):
    """Frames read from image files in a folder, in name order, again and again."""

    backend: Literal["folder"] = Field(description="A folder of frames (JPEG/PNG).")
    path: Path = Field(description="Folder of frames.")


class SimCameraConfig(CameraSettings):
    """A simulated classroom: frames composed from enrolment photos of the students present
    (set by tests and the demo), with uneven light, blur and strangers."""

    backend: Literal["sim"] = Field(description="Simulated classroom camera.")
    photos: Path | None = Field(
        default=None, description="Folder of {student}.jpg portraits to compose from."
    )
    seed: int = Field(default=0, description="Seed of the composition's randomness.")


class PicameraConfig(CameraSettings):
    """The Raspberry Pi camera module through Picamera2 (Debian's python3-picamera2)."""

    backend: Literal["picamera2"] = Field(description="Raspberry Pi camera module.")
    camera_num: int = Field(default=0, ge=0, le=7, description="Which camera module.")


__all__ = [
    "CameraSettings",
    "FolderCameraConfig",
    "OpenCvCameraConfig",
    "PicameraConfig",
    "SimCameraConfig",
]
