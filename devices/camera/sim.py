"""A simulated classroom camera: frames composed from portraits of the people present, with
uneven light, blur, partial faces and strangers, so the real pipeline sees real images."""

from __future__ import annotations

import random
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from devices.base import DeviceUnavailable
from devices.camera.sources import IMAGE_SUFFIXES, Frame


@dataclass(frozen=True)
class Placement:
    """Where one person was put in a composed frame (the label of a benchmark frame)."""

    who: str
    x: int
    y: int
    size: int
    partial: bool = False


def load_portraits(folder: Path) -> dict[str, Frame]:
    """``{name}.jpg`` (or .png) head-and-shoulder portraits of a folder, by name."""
    portraits: dict[str, Frame] = {}
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() in IMAGE_SUFFIXES:
            image = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if image is not None:
                portraits[path.stem] = np.asarray(image, dtype=np.uint8)
    return portraits


def _background(width: int, height: int, rng: random.Random) -> Frame:
    """A classroom wall with a board and desks: plain shapes, some texture."""
    wall = np.array([rng.randint(150, 200), rng.randint(160, 210), rng.randint(170, 220)])
    frame = np.empty((height, width, 3), dtype=np.float32)
    frame[:] = wall
    board_h = height // 5
    frame[height // 20 : height // 20 + board_h, width // 6 : width - width // 6] = (60, 80, 50)
    noise = np.random.default_rng(rng.randint(0, 2**31)).normal(0, 6, frame.shape)
    return np.asarray(np.clip(frame + noise, 0, 255), dtype=np.uint8)


def _light(frame: Frame, rng: random.Random) -> Frame:
    """Uneven light: a window on one side, a darker corner on the other."""
    h, w = frame.shape[:2]
    left, right = rng.uniform(0.55, 0.9), rng.uniform(1.0, 1.25)
    if rng.random() < 0.5:
        left, right = right, left
    ramp = np.linspace(left, right, w, dtype=np.float32)[None, :, None]
    vertical = np.linspace(1.05, 0.9, h, dtype=np.float32)[:, None, None]
    return np.asarray(np.clip(frame.astype(np.float32) * ramp * vertical, 0, 255), dtype=np.uint8)


class Classroom:
    """Composes frames of a class: each person present in a seat, nearer rows larger."""

    def __init__(
        self, portraits: Mapping[str, Frame], *, width: int = 640, height: int = 480, seed: int = 0
    ) -> None:
        self.portraits = dict(portraits)
        self.width, self.height = width, height
        self.rng = random.Random(seed)
        names = list(self.portraits)
        self.rng.shuffle(names)
        self.plan = self.seats(len(names))
        """One seat per portrait, kept from frame to frame: a class sits still."""
        self.seat_of = {name: i for i, name in enumerate(names)}

    def seats(self, count: int) -> list[tuple[int, int, int]]:
        """``count`` seats (x, y, face size) in rows, back rows smaller, none overlapping."""
        if count <= 0:
            return []
        rows = max(1, round((count * self.height / self.width / 1.3) ** 0.5))
        per_row = -(-count // rows)
        seats: list[tuple[int, int, int]] = []
        top = self.height // 4
        for row in range(rows):
            depth = (row + 1) / rows
            cell_w = self.width // per_row
            cell_h = (self.height - top) // rows
            size = int(min(cell_w, cell_h) * (0.72 + 0.2 * depth))
            y = top + row * cell_h + (cell_h - size) // 2
            for col in range(per_row):
                if len(seats) == count:
                    break
                x = col * cell_w + (cell_w - size) // 2 + self.rng.randint(-4, 4)
                seats.append((max(0, x), max(0, y + self.rng.randint(-4, 4)), size))
        return seats

    def compose(
        self,
        present: Sequence[str],
        *,
        blur: float = 0.0,
        light: bool = True,
        partial: Sequence[str] = (),
    ) -> tuple[Frame, list[Placement]]:
        """A frame with everyone in ``present`` (names of portraits), each in their own seat;
        ``partial`` ones half hidden behind the one in front; ``blur`` a Gaussian sigma, px."""
        frame = _background(self.width, self.height, self.rng)
        placements: list[Placement] = []
        for who in dict.fromkeys(present):
            x, y, size = self.plan[self.seat_of[who]]
            x += self.rng.randint(-2, 2)  # nobody sits quite still
            y += self.rng.randint(-2, 2)
            x, y = max(0, x), max(0, y)
            portrait = self.portraits[who]
            head = cv2.resize(portrait, (size, size), interpolation=cv2.INTER_AREA)
            h = min(size, self.height - y)
            w = min(size, self.width - x)
            cut = who in partial
            if cut:  # the lower part hidden (a classmate's head, a raised book)
                h = int(h * 0.6)
            frame[y : y + h, x : x + w] = head[:h, :w]
            placements.append(Placement(who, x, y, size, cut))
        if light:
            frame = _light(frame, self.rng)
        if blur > 0:
            frame = np.asarray(cv2.GaussianBlur(frame, (0, 0), blur), dtype=np.uint8)
        return frame, placements


class SimSource:
    """The simulated camera's frames: whoever ``present`` names, composed anew each read.

    ``present`` and ``plugged`` may be changed from any thread (tests, the demo)."""

    def __init__(
        self, portraits: Mapping[str, Frame], *, width: int, height: int, seed: int = 0
    ) -> None:
        self.classroom = Classroom(portraits, width=width, height=height, seed=seed)
        self._lock = threading.Lock()
        self._present: tuple[str, ...] = ()
        self.plugged = threading.Event()
        self.plugged.set()
        self.reads = 0

    @property
    def present(self) -> tuple[str, ...]:
        with self._lock:
            return self._present

    @present.setter
    def present(self, names: Sequence[str]) -> None:
        unknown = [n for n in names if n not in self.classroom.portraits]
        if unknown:
            msg = f"no portrait of {', '.join(unknown)}"
            raise ValueError(msg)
        with self._lock:
            self._present = tuple(names)

    def open(self) -> None:
        if not self.plugged.is_set():
            raise DeviceUnavailable("simulated camera unplugged")

    def read(self) -> Frame:
        self.open()
        self.reads += 1
        frame, _ = self.classroom.compose(self.present)
        return frame

    def close(self) -> None:
        pass


__all__ = ["Classroom", "Placement", "SimSource", "load_portraits"]
