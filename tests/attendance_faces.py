"""The attendance tests' faces: the engine, the face set and the enrolment templates, made
once per session (an embedding costs ~80 ms of CPU)."""

from __future__ import annotations

import functools

import numpy as np

from devices.camera.sim import Classroom
from faces.config import FaceModels
from faces.engine import build_engine
from faces.models import Embedding, FaceEngine
from smartclass.faceset import FaceSet, build_faceset


@functools.cache
def engine() -> FaceEngine:
    return build_engine(FaceModels())


@functools.cache
def faceset() -> FaceSet:
    return build_faceset(engine())


@functools.cache
def templates() -> dict[str, list[Embedding]]:
    """Each person's templates from their enrolment photos."""
    out: dict[str, list[Embedding]] = {}
    for person, images in faceset().enrol.items():
        found = []
        for image in images:
            faces = [f for f in engine().faces(image) if f.embedding is not None]
            found.append(max(faces, key=lambda f: f.box.w * f.box.h).embedding)
        out[person] = [np.asarray(e) for e in found if e is not None]
    return out


def classroom(seed: int = 0) -> Classroom:
    return Classroom(faceset().heads, seed=seed)
