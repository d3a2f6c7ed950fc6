"""Which face detector and recogniser to use, by name (the room file's
``attendance.models``, and the hub's enrolment engine)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class FaceModels(BaseModel):
    """The detector and recogniser, picked by name; ONNX models only where the school put them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    detector: Literal["dlib-hog", "haar", "yunet"] = Field(
        default="dlib-hog", description="Face detector: dlib's HOG, OpenCV's Haar cascade, YuNet."
    )
    recogniser: Literal["dlib-resnet", "sface"] = Field(
        default="dlib-resnet", description="Face embedding: dlib's ResNet (128-d) or SFace."
    )
    upsample: int = Field(
        default=0, ge=0, le=2, description="dlib HOG: upsample the frame this many times "
        "(finds faces half as large, at four times the cost each).",
    )  # fmt: skip
    yunet_model: Path | None = Field(default=None, description="YuNet ONNX file (detector yunet).")
    sface_model: Path | None = Field(
        default=None, description="SFace ONNX file (recogniser sface)."
    )
    threshold: float | None = Field(
        default=None, gt=0, le=2, description="Largest distance of a match (None: the "
        "recogniser's own: 0.5 for dlib-resnet, 0.6 for sface).",
    )  # fmt: skip
    margin: float = Field(
        default=0.1, ge=0, le=1, description="The best match must be this much nearer than the "
        "second-best student of the class.",
    )  # fmt: skip
    min_face_px: int = Field(
        default=40, ge=16, le=1000, description="Smaller faces are counted, never recognised."
    )


__all__ = ["FaceModels"]
