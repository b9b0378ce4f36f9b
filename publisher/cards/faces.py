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


def face_box(image: Image.Image) -> tuple[float, float, float, float] | None:
    """The box around the faces at least half as large as the largest (a crowd in the
    background does not pull the crop away from the person the picture is of), as
    fractions of the image; None when there is no face."""
    faces = find_faces(image)
    if not faces:
        return None
    largest = (faces[0][2] - faces[0][0]) * (faces[0][3] - faces[0][1])
    kept = [f for f in faces if (f[2] - f[0]) * (f[3] - f[1]) >= largest / 2]
    return (
        min(f[0] for f in kept),
        min(f[1] for f in kept),
        max(f[2] for f in kept),
        max(f[3] for f in kept),
    )


def face_focus(
    image: Image.Image, box: tuple[int, int] | None = None, *, text_below: bool = False
) -> Focus | None:
    """A focal point that keeps the faces in a cover crop of ``box``; None without faces.

    With ``text_below`` (a layout whose text sits at the bottom), the faces are placed as
    high in the crop as they fit, leaving the lower part, where the title goes, to the
    rest of the picture.
    """
    found = face_box(image)
    if found is None:
        return None
    left, top, right, bottom = found
    middle = ((left + right) / 2, (top + bottom) / 2)
    if not text_below or box is None:
        return middle
    width, height = image.size
    scale = max(box[0] / width, box[1] / height)
    window = min(1.0, box[1] / scale / height)  # the crop's height, as a fraction
    if bottom - top > window * 0.9:
        return middle
    # The face's top a little below the crop's top edge (hair and forehead stay in).
    return (middle[0], top - window * 0.06 + window / 2)
