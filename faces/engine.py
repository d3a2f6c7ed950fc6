"""Builds the face engine a config names, and turns enrolment photos into templates with it."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import cv2
import numpy as np

from faces.config import FaceModels
from faces.models import (
    Detector,
    DlibHogDetector,
    DlibRecogniser,
    Embedding,
    FaceEngine,
    Frame,
    HaarDetector,
    ModelMissing,
    Recogniser,
    SFaceRecogniser,
    YuNetDetector,
)


def build_engine(models: FaceModels, *, recognise: bool = True) -> FaceEngine:
    """The detector and recogniser of ``models`` (ModelMissing if a file is not there)."""
    detector: Detector
    if models.detector == "yunet":
        if models.yunet_model is None:
            raise ModelMissing("attendance.models.yunet_model: no file named for detector yunet")
        detector = YuNetDetector(models.yunet_model)
    elif models.detector == "haar":
        detector = HaarDetector(min_size=models.min_face_px)
    else:
        detector = DlibHogDetector(upsample=models.upsample)
    recogniser: Recogniser | None = None
    if recognise:
        if models.recogniser == "sface":
            if models.sface_model is None or not isinstance(detector, YuNetDetector):
                raise ModelMissing(
                    "attendance.models: recogniser sface needs sface_model and detector yunet"
                )
            recogniser = SFaceRecogniser(models.sface_model, detector, models.threshold or 0.6)
        else:
            recogniser = DlibRecogniser(models.threshold or 0.5)
    return FaceEngine(detector, recogniser, min_face=models.min_face_px)


def photo_embeddings(engine: FaceEngine, photos: Iterable[Path]) -> list[Embedding]:
    """The largest face of each photo (photos without a face are skipped)."""
    out: list[Embedding] = []
    for path in photos:
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            continue
        faces = [f for f in engine.faces(np.asarray(image, np.uint8)) if f.embedding is not None]
        if faces:
            largest = max(faces, key=lambda f: f.box.w * f.box.h)
            assert largest.embedding is not None
            out.append(largest.embedding)
    return out


class PhotoRefused(ValueError):  # noqa: N818 - like the built-in it extends
    """A photo that cannot enrol anyone: no face in it, or more than one."""

    def __init__(self, reason: str, faces: int) -> None:
        super().__init__(reason)
        self.reason = reason
        """``no_face`` or ``several_faces``."""
        self.faces = faces


def photo_template(engine: FaceEngine, image: Frame) -> Embedding:
    """The template of the one face of an enrolment photo (decoded, BGR); PhotoRefused when
    it shows no face large enough to recognise, or several (whose would it be?)."""
    faces = engine.faces(np.asarray(image, np.uint8))
    embedded = [f for f in faces if f.embedding is not None]
    if len(faces) > 1:
        raise PhotoRefused("several_faces", len(faces))
    if not embedded or embedded[0].embedding is None:
        raise PhotoRefused("no_face", len(faces))
    return embedded[0].embedding


__all__ = ["PhotoRefused", "build_engine", "photo_embeddings", "photo_template"]
