"""The labelled face set of the attendance benchmark and tests, made from face images that ship
inside packages (``scripts/fetch-faces`` puts them in build/faces): who is who, which photos
enrol whom, and the head crops that classroom frames are composed from."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from devices.camera.sources import Frame, fit
from faces.models import Box, FaceEngine

FACES_DIR = Path(__file__).resolve().parent.parent / "build" / "faces"

GROUP = "t1.jpg"
GROUP_PEOPLE = ("t1-a", "t1-b", "t1-c", "t1-d", "t1-e", "t1-f")
"""The six people of insightface's group photo, left to right."""

ENROL_PHOTOS: dict[str, tuple[str, ...]] = {
    "obama": ("obama.jpg", "obama2.jpg"),
    "biden": ("biden.jpg",),
    "hanks": ("Tom_Hanks_54745.png",),
    "hopper": ("grace_hopper_512x512.jpg",),
    "collins": ("astronaut.png",),
}
"""Each named person's enrolment photos (the group's people enrol from their crop)."""

PROBE_PHOTOS: dict[str, str] = {"obama": "obama3.jpg"}
"""A photo other than the enrolment ones, where there is one: the frames use it."""
PARTIAL_PHOTOS = ("obama_partial_face.jpg", "obama_partial_face2.jpg")

CLASS_A = ("obama", "biden", "hanks", "hopper", "t1-a", "t1-b", "t1-c")
"""The class whose attendance is taken (enrolled)."""
CLASS_B = ("collins", "t1-d")
"""Another class: enrolled on the same Pi, never to be named in class A's attendance."""
STRANGERS = ("t1-e", "t1-f")
"""Never enrolled: visitors, a parent."""


def ensure_faces(folder: Path = FACES_DIR) -> Path:
    """The face images, fetched from the package registries if they are not there yet."""
    if not (folder / GROUP).is_file():
        script = Path(__file__).resolve().parent.parent / "scripts" / "fetch-faces"
        subprocess.run([str(script), str(folder)], check=True, capture_output=True)
    return folder


def read(path: Path, longest: int = 800) -> Frame:
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        msg = f"{path} cannot be read as an image"
        raise FileNotFoundError(msg)
    return fit(np.asarray(image, np.uint8), longest, longest)


def head(image: Frame, box: Box, grow: float = 1.5) -> Frame:
    """A square head-and-shoulders crop around a face box."""
    h, w = image.shape[:2]
    side = int(max(box.w, box.h) * grow)
    cx, cy = box.x + box.w // 2, box.y + box.h // 2 + box.h // 10
    x0, y0 = max(0, cx - side // 2), max(0, cy - side // 2)
    x1, y1 = min(w, x0 + side), min(h, y0 + side)
    crop = image[y0:y1, x0:x1]
    side = max(crop.shape[:2])
    square = np.full((side, side, 3), 128, np.uint8)
    square[: crop.shape[0], : crop.shape[1]] = crop
    return square


@dataclass
class FaceSet:
    """Enrolment photos (as images) and head crops for composing, by person."""

    enrol: dict[str, list[Frame]]
    heads: dict[str, Frame]
    partial_heads: list[Frame]


def _largest(engine: FaceEngine, image: Frame) -> Box:
    boxes = engine.detector.detect(image)
    if not boxes:
        msg = "no face in an image of the face set"
        raise ValueError(msg)
    return max(boxes, key=lambda b: b.w * b.h)


def build_faceset(engine: FaceEngine, folder: Path | None = None) -> FaceSet:
    """The set from the fetched images (needs only the engine's detector)."""
    folder = ensure_faces(folder or FACES_DIR)
    enrol: dict[str, list[Frame]] = {}
    heads: dict[str, Frame] = {}
    for person, photos in ENROL_PHOTOS.items():
        images = [read(folder / p) for p in photos]
        enrol[person] = images
        probe = read(folder / PROBE_PHOTOS[person]) if person in PROBE_PHOTOS else images[0]
        heads[person] = head(probe, _largest(engine, probe))
    group = read(folder / GROUP, 1280)
    boxes = sorted(engine.detector.detect(group), key=lambda b: b.x)
    for person, box in zip(GROUP_PEOPLE, boxes, strict=True):
        crop = head(group, box, 2.6)
        enrol[person] = [crop]
        heads[person] = head(group, box)
    partial = []
    for name in PARTIAL_PHOTOS:
        image = read(folder / name)
        boxes = engine.detector.detect(image)
        if boxes:
            partial.append(head(image, max(boxes, key=lambda b: b.w * b.h)))
    return FaceSet(enrol, heads, partial)


__all__ = [
    "CLASS_A",
    "CLASS_B",
    "FACES_DIR",
    "STRANGERS",
    "FaceSet",
    "build_faceset",
    "ensure_faces",
    "head",
]
