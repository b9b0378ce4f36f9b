"""Faces in a card's image, so a cover crop keeps them: the only module that imports OpenCV.

OpenCV is an optional extra (``pip install 'publisher-feeds-cards[faces]'``, which installs
``opencv-python-headless`` 4.x: its wheels ship the Haar face cascades, which OpenCV 5
dropped, and nothing is downloaded at run time). Without it :func:`face_focus` returns None
and the crop falls back to the most detailed strip (:func:`publisher.cards.crop.busiest_focus`).
Whether a detector is present is part of the render cache key, since it changes pixels.
"""

from __future__ import annotations

import functools
import importlib
from typing import Any

from PIL import Image

from publisher.cards.crop import Focus

#: Faces are looked for on a thumbnail this wide: enough for a face a tenth of the picture
#: across, and the cost does not grow with the image.
_PROBE = 640


@functools.lru_cache(maxsize=1)
def _modules() -> tuple[Any, Any] | None:
    try:
        cv2 = importlib.import_module("cv2")
        numpy = importlib.import_module("numpy")
    except ImportError:
        return None
    if not hasattr(cv2, "CascadeClassifier"):
        return None  # OpenCV 5 has no cascades: behave as if the extra were not installed
    return cv2, numpy


@functools.lru_cache(maxsize=1)
def _cascade() -> Any:
    modules = _modules()
    assert modules is not None
    cv2 = modules[0]
    return cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")


def detector() -> str:
    """``opencv <version>`` when faces can be found, else ``none`` (for the cache key)."""
    modules = _modules()
    return f"opencv {modules[0].__version__}" if modules is not None else "none"


def find_faces(image: Image.Image) -> list[tuple[float, float, float, float]]:
    """Faces as ``(left, top, right, bottom)`` fractions of the image, largest first."""
    modules = _modules()
    if modules is None:
        return []
    _, numpy = modules
    probe = image.convert("L")
    probe.thumbnail((_PROBE, _PROBE), Image.Resampling.BILINEAR)
    smallest = max(20, min(probe.size) // 12)
    found = _cascade().detectMultiScale(
        numpy.asarray(probe), scaleFactor=1.1, minNeighbors=8, minSize=(smallest, smallest)
    )
    width, height = probe.size
    faces = [
        (x / width, y / height, (x + w) / width, (y + h) / height)
        for x, y, w, h in (tuple(int(v) for v in face) for face in found)
    ]
    return sorted(faces, key=lambda f: (-(f[2] - f[0]) * (f[3] - f[1]), f))


def face_focus(image: Image.Image) -> Focus | None:
    """A focal point that keeps the faces in a cover crop: the middle of the box around
    the faces at least half as large as the largest (a crowd in the background does not
    pull the crop away from the person the picture is of); None when there is no face."""
    faces = find_faces(image)
    if not faces:
        return None
    largest = (faces[0][2] - faces[0][0]) * (faces[0][3] - faces[0][1])
    kept = [f for f in faces if (f[2] - f[0]) * (f[3] - f[1]) >= largest / 2]
    left, top = min(f[0] for f in kept), min(f[1] for f in kept)
    right, bottom = max(f[2] for f in kept), max(f[3] for f in kept)
    return ((left + right) / 2, (top + bottom) / 2)
