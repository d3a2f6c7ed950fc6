"""Builds the face engine a config names, and enrols a student from photos with it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path

import cv2
import numpy as np

from edge.attendance.config import FaceModels
from edge.attendance.faces import (
    Detector,
    DlibHogDetector,
    DlibRecogniser,
    Embedding,
    FaceEngine,
    HaarDetector,
    ModelMissing,
    Recogniser,
    SFaceRecogniser,
    YuNetDetector,
)
from edge.attendance.vault import ConsentRefused, Vault
from protocol.attendance import Enrolled


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


def enrol(
    engine: FaceEngine, vault: Vault, student: str, photos: list[Path], today: dt.date
) -> Enrolled:
    """Store templates from photos; the photos themselves are never stored. Refused (before
    any photo is read) without consent."""
    if not vault.consented(student):
        raise ConsentRefused(f"{student}: no consent recorded; enrolment refused")
    return vault.enrol(student, photo_embeddings(engine, photos), today)


__all__ = ["build_engine", "enrol", "photo_embeddings"]
