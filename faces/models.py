"""Face detection and recognition behind two small interfaces, chosen by config: dlib's HOG
detector and 128-d embedding (models of the face-recognition-models package) by default,
OpenCV's Haar cascade as a fallback detector, YuNet/SFace ONNX files a school provides."""

from __future__ import annotations

import hashlib
import importlib.resources
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import cv2
import numpy as np
import numpy.typing as npt

Frame = npt.NDArray[np.uint8]
"""A BGR image (the same type as ``devices.camera.sources.Frame``)."""
Embedding = npt.NDArray[np.float32]


class ModelMissing(FileNotFoundError):  # noqa: N818 - like the built-in it extends
    """A model file the config names is not on the Pi (nothing is ever downloaded)."""


@dataclass(frozen=True)
class Box:
    """A face's box in frame pixels."""

    x: int
    y: int
    w: int
    h: int


class Detector(Protocol):
    """Finds faces in a BGR frame."""

    name: str

    def detect(self, frame: Frame) -> list[Box]: ...


class Recogniser(Protocol):
    """Turns a face into an embedding; faces match when their distance is small."""

    name: str
    version: str
    """The model file's name and the start of its SHA-256: templates of another model (another
    name or version) cannot be compared with this one's."""
    threshold: float
    """Largest distance at which two embeddings may be the same person."""

    def embed(self, frame: Frame, box: Box) -> Embedding: ...

    def distance(self, a: Embedding, b: Embedding) -> float: ...


def _models_dir() -> Path:
    """The folder of face-recognition-models' files (found without pkg_resources, which that
    package's own code needs)."""
    root = importlib.resources.files("face_recognition_models") / "models"
    return Path(str(root))


def model_version(path: Path) -> str:
    """A model file's name and the first 12 hex digits of its SHA-256."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return f"{path.stem}:{digest.hexdigest()[:12]}"


def _rgb(frame: Frame) -> npt.NDArray[np.uint8]:
    return np.ascontiguousarray(frame[:, :, ::-1])


class DlibHogDetector:
    """dlib's HOG + linear SVM frontal face detector (in dlib itself: no model file)."""

    name = "dlib-hog"

    def __init__(self, upsample: int = 0) -> None:
        import dlib

        self._detector: Any = dlib.get_frontal_face_detector()
        self.upsample = upsample

    def detect(self, frame: Frame) -> list[Box]:
        rects = self._detector(_rgb(frame), self.upsample)
        h, w = frame.shape[:2]
        boxes = []
        for r in rects:
            x0, y0 = max(0, r.left()), max(0, r.top())
            x1, y1 = min(w, r.right()), min(h, r.bottom())
            if x1 > x0 and y1 > y0:
                boxes.append(Box(x0, y0, x1 - x0, y1 - y0))
        return boxes


class HaarDetector:
    """OpenCV's frontal face Haar cascade (shipped in the OpenCV 4 wheels, not in 5.0)."""

    name = "haar"

    def __init__(self, min_size: int = 40) -> None:
        path = Path(cv2.data.haarcascades) / "haarcascade_frontalface_default.xml"  # type: ignore[attr-defined]
        if not path.is_file():
            msg = f"no Haar cascade at {path} (OpenCV 5 ships none: keep opencv below 5)"
            raise ModelMissing(msg)
        self._cascade = cv2.CascadeClassifier(str(path))
        self.min_size = min_size

    def detect(self, frame: Frame) -> list[Box]:
        gray = cv2.equalizeHist(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY))
        found = self._cascade.detectMultiScale(
            gray, scaleFactor=1.1, minNeighbors=6, minSize=(self.min_size, self.min_size)
        )
        return [Box(int(x), int(y), int(w), int(h)) for x, y, w, h in found]


class YuNetDetector:
    """OpenCV's YuNet (``cv2.FaceDetectorYN``) from an ONNX file the school provides."""

    name = "yunet"

    def __init__(self, model: Path, score: float = 0.8) -> None:
        if not model.is_file():
            raise ModelMissing(f"YuNet model {model} not found")
        self._detector: Any = cv2.FaceDetectorYN.create(str(model), "", (320, 320), score)
        self.last: Any = None

    def detect(self, frame: Frame) -> list[Box]:
        h, w = frame.shape[:2]
        self._detector.setInputSize((w, h))
        _, faces = self._detector.detect(frame)
        self.last = faces
        if faces is None:
            return []
        return [Box(int(f[0]), int(f[1]), int(f[2]), int(f[3])) for f in faces]


class DlibRecogniser:
    """dlib's ResNet face embedding (128-d, Euclidean distance; face-recognition-models)."""

    name = "dlib-resnet"

    def __init__(self, threshold: float = 0.5, models: Path | None = None) -> None:
        import dlib

        folder = models or _models_dir()
        landmarks = folder / "shape_predictor_5_face_landmarks.dat"
        net = folder / "dlib_face_recognition_resnet_model_v1.dat"
        for path in (landmarks, net):
            if not path.is_file():
                raise ModelMissing(f"{path} not found (pip install face-recognition-models)")
        self._dlib: Any = dlib
        self._shape: Any = dlib.shape_predictor(str(landmarks))
        self._net: Any = dlib.face_recognition_model_v1(str(net))
        self.version = model_version(net)
        self.threshold = threshold

    def embed(self, frame: Frame, box: Box) -> Embedding:
        rgb = _rgb(frame)
        rect = self._dlib.rectangle(box.x, box.y, box.x + box.w, box.y + box.h)
        shape = self._shape(rgb, rect)
        return np.asarray(self._net.compute_face_descriptor(rgb, shape), dtype=np.float32)

    def distance(self, a: Embedding, b: Embedding) -> float:
        return float(np.linalg.norm(a - b))


class SFaceRecogniser:
    """OpenCV's SFace (``cv2.FaceRecognizerSF``) from an ONNX file the school provides;
    distance is 1 - cosine similarity. Needs YuNet's landmarks to align, so it pairs with
    the YuNet detector."""

    name = "sface"

    def __init__(self, model: Path, detector: YuNetDetector, threshold: float = 0.6) -> None:
        if not model.is_file():
            raise ModelMissing(f"SFace model {model} not found")
        self._net: Any = cv2.FaceRecognizerSF.create(str(model), "")
        self.version = model_version(model)
        self._detector = detector
        self.threshold = threshold

    def embed(self, frame: Frame, box: Box) -> Embedding:
        faces = self._detector.last
        row = None
        if faces is not None:
            for f in faces:
                if (int(f[0]), int(f[1])) == (box.x, box.y):
                    row = f
        if row is None:
            row = np.array([box.x, box.y, box.w, box.h] + [0.0] * 11, dtype=np.float32)
        aligned = self._net.alignCrop(frame, row)
        feature = np.asarray(self._net.feature(aligned), dtype=np.float32).ravel()
        return np.asarray(feature / (np.linalg.norm(feature) or 1.0), dtype=np.float32)

    def distance(self, a: Embedding, b: Embedding) -> float:
        return float(1.0 - np.dot(a, b))


def overlap(a: Box, b: Box) -> float:
    """Intersection over union of two boxes."""
    w = min(a.x + a.w, b.x + b.w) - max(a.x, b.x)
    h = min(a.y + a.h, b.y + b.h) - max(a.y, b.y)
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    return inter / (a.w * a.h + b.w * b.h - inter)


@dataclass(frozen=True)
class Face:
    """A face found in a frame, with its embedding (None when only counting, too small, or
    ``known``: where a student already named in this window sits)."""

    box: Box
    embedding: Embedding | None = None
    known: str | None = None


@dataclass
class FaceEngine:
    """A detector and a recogniser: ``faces`` runs both (CPU-bound: call it off the loop)."""

    detector: Detector
    recogniser: Recogniser | None
    min_face: int = 40
    """Faces smaller than this (px) are counted but not recognised: too few pixels to tell."""

    def faces(
        self, frame: Frame, *, embed: bool = True, known: Mapping[str, Box] | None = None
    ) -> list[Face]:
        """The faces of a frame, each embedded unless ``embed`` is off, it is too small, or
        it sits where ``known`` (student to box) has a student already named: a class sits
        still, so only new faces cost an embedding."""
        found = self.detector.detect(frame)
        if not embed or self.recogniser is None:
            return [Face(box) for box in found]
        out = []
        for b in found:
            seat = next((s for s, k in (known or {}).items() if overlap(b, k) >= 0.5), None)
            if seat is not None:
                out.append(Face(b, known=seat))
            elif min(b.w, b.h) >= self.min_face:
                out.append(Face(b, self.recogniser.embed(frame, b)))
            else:
                out.append(Face(b))
        return out


__all__ = [
    "Box",
    "Detector",
    "DlibHogDetector",
    "DlibRecogniser",
    "Embedding",
    "Face",
    "FaceEngine",
    "Frame",
    "HaarDetector",
    "ModelMissing",
    "model_version",
    "overlap",
    "Recogniser",
    "SFaceRecogniser",
    "YuNetDetector",
]
