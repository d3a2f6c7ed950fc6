"""The room file's ``attendance:`` section: which camera, which class, how, when, and where
the key to the templates lives (by name only: never a secret in YAML)."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from faces.config import FaceModels
from protocol.attendance import ClassId, StudentId, StudentMethod

EnvName = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class AttendanceConfig(BaseModel):
    """Attendance by the room's camera for one class, in windows at the start of periods."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    camera: str = Field(description="Device id of the room's camera (family camera).")
    class_id: ClassId = Field(description="The class (lớp) taught in the room, e.g. 6a1.")
    method: StudentMethod = Field(
        default="face", description="How the class takes attendance: face, qr or headcount."
    )
    students: dict[StudentId, StudentMethod | None] = Field(
        default_factory=dict, max_length=80,
        description="The class roster: student id to its own method (null: the class's).",
    )  # fmt: skip
    periods: list[int] | None = Field(
        default=None, description="Periods that take attendance (null: every period)."
    )
    window_min: float = Field(
        default=10, gt=0, le=45, description="Minutes from a period's start in which students "
        "are marked present.",
    )  # fmt: skip
    late_min: float = Field(
        default=15, ge=0, le=45, description="Minutes after the window in which they are "
        "marked late; those not seen by then are absent.",
    )  # fmt: skip
    min_frames: int = Field(
        default=2, ge=1, le=50, description="Frames a student must be matched in to be marked."
    )
    sample_interval_s: float = Field(
        default=1.0, gt=0, le=60, description="Seconds between frames analysed in a window."
    )
    key_env: str | None = Field(
        default="SMARTCLASS_ATTENDANCE_KEY",
        description="Environment variable holding the templates' key (32 bytes, base64).",
    )
    key_file: Path | None = Field(
        default=None, description="File holding the key instead (outside the data folder)."
    )
    card_public_key: Path | None = Field(
        default=None, description="The school's Ed25519 public key (PEM) signing QR cards."
    )
    retention_end: str = Field(
        default="05-31", pattern=r"^(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$",
        description="Templates expire on the next such month-day after enrolment (the end "
        "of the school year).",
    )  # fmt: skip
    enrol_inbox: Path | None = Field(
        default=None, description="Folder where IT leaves photos for enrolment through the "
        "hub ({inbox}/{student}/*.jpg), deleted once read (null: the data folder's inbox).",
    )  # fmt: skip
    debug_snapshots: bool = Field(
        default=False, description="Keep the last analysed frame on the Pi for debugging "
        "(never sent anywhere). Off by default.",
    )  # fmt: skip
    models: FaceModels = Field(default_factory=FaceModels, description="Detector, recogniser.")

    @field_validator("key_env")
    @classmethod
    def _env_name(cls, value: str | None) -> str | None:
        if value is not None and not EnvName.fullmatch(value):
            msg = f"{value!r} is not an environment variable name"
            raise ValueError(msg)
        return value


__all__ = ["AttendanceConfig"]
