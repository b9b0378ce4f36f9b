"""Faces in a card's image, so a cover crop keeps them: the only module that imports OpenCV.

OpenCV is an optional extra (``pip install 'publisher-feeds-cards[faces]'``, which installs
``opencv-python-headless`` 4.x: its wheels ship the Haar face cascades, which OpenCV 5
dropped, and nothing is downloaded at run time). Without it :func:`face_focus` returns None
and the crop falls back to the most detailed strip (:func:`publisher.cards.crop.busiest_focus`).
Whether a detector is present (and how small a face it looks for) is part of the render
cache key, since it changes pixels.

Faces are looked for down to :data:`MIN_FACE` of the image's shorter side, on a grey
thumbnail just large enough for such a face to fill the cascade's own 24 px window: the
search costs about the square of (shorter side / smallest face), so a finer search would
cost far more and find only faces too small to matter to a crop (a crowd in the distance,
which the busiest-strip fallback keeps anyway).
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import os
import weakref
from typing import Any

from PIL import Image

from publisher.cards import thumbnail
from publisher.cards.crop import Focus, cover_scale
from publisher.stamps import stamp_of

#: A face's (left, top, right, bottom) as fractions of the image.
Box = tuple[float, float, float, float]

#: The smallest face looked for, as a share of the image's shorter side. Looking for faces
#: down to 1/12 (on a 640 px thumbnail) took a fifth of the cards benchmark's CPU and about
#: 100 ms per real photo, more than the rest of its card; no photo in the sample corpora
#: has a face under a quarter of its shorter side.
MIN_FACE = 0.1
#: The side of the window OpenCV's frontal-face cascade was trained on: the smallest face
#: it can find in any image.
_WINDOW = 24


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
    """``opencv <version>`` and the smallest face looked for when faces can be found,
    else ``none`` (for the render cache key)."""
    modules = _modules()
    if modules is None:
        return "none"
    return f"opencv {modules[0].__version__}, faces from {MIN_FACE:g} of the shorter side"


def installed() -> str:
    """Which OpenCV and numpy :func:`detector` would find, told by their files' stamps
    without importing them (importing OpenCV took a third of a card stage with nothing to
    draw): the render cache remembers the detector by this (``RenderCache.remembered``).
    An upgrade or removal writes or deletes the files, and so changes it."""
    found = [f"faces from {MIN_FACE:g}"]
    for name in ("cv2", "numpy"):
        try:
            spec = importlib.util.find_spec(name)
            origin = spec.origin if spec is not None else None
            info = os.stat(origin) if origin else None
        except (ImportError, ValueError, OSError):
            info = origin = None
        if info is None:
            found.append(f"{name}: none")
        else:
            stamp = stamp_of(info)
            found.append(f"{name}: {origin} {stamp}")
    return "; ".join(found)


def probe(image: Image.Image) -> Image.Image:
    """The grey thumbnail faces are looked for on: its shorter side is just long enough
    for a face of :data:`MIN_FACE` to fill the cascade's window (never enlarged).

    Shrunk from the picture's shared grey thumbnail (:func:`thumbnail.grey`), which is
    larger but for a strip over five times as wide as it is tall: that is shrunk from
    the picture itself, so no face is looked for on fewer pixels than it needs.
    """
    scale = _WINDOW / MIN_FACE / min(image.size)
    shared = thumbnail.grey(image)
    if scale >= 1:  # the whole picture, in grey
        return shared if shared.size == image.size else image.convert("L")
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    source = shared if min(shared.size) >= min(size) else image.convert("L")
    return source.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0)


#: The picture searched last and its faces. A cover crop asks twice about the same picture
#: (for its default focal point, then for the faces among the subjects to keep out from
#: under the title): the second answer is this one. Held weakly, so a picture is never
#: kept alive by it; rendering never changes a picture it has asked about.
_last: list[tuple[weakref.ReferenceType[Image.Image], tuple[Box, ...]]] = []


def find_faces(image: Image.Image) -> list[Box]:
    """Faces as ``(left, top, right, bottom)`` fractions of the image, largest first."""
    modules = _modules()
    if modules is None:
        return []
    if _last and _last[0][0]() is image:
        return list(_last[0][1])
    _, numpy = modules
    small = probe(image)
    found = _cascade().detectMultiScale(
        numpy.asarray(small), scaleFactor=1.1, minNeighbors=8, minSize=(_WINDOW, _WINDOW)
    )
    width, height = small.size
    faces = [
        (x / width, y / height, (x + w) / width, (y + h) / height)
        for x, y, w, h in (tuple(int(v) for v in face) for face in found)
    ]
    faces.sort(key=lambda f: (-(f[2] - f[0]) * (f[3] - f[1]), f))
    _last[:] = [(weakref.ref(image), tuple(faces))]
    return faces


def face_box(image: Image.Image) -> Box | None:
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


def _whole(size: tuple[int, int], box: tuple[int, int]) -> bool:
    """A cover crop of ``box`` keeps all of an image of ``size`` (the same shape): as
    :func:`publisher.cards.crop.crop_box` computes it, no focal point can move it."""
    scale = cover_scale(size, box)
    return min(size[0], box[0] / scale) >= size[0] and min(size[1], box[1] / scale) >= size[1]


def face_focus(
    image: Image.Image, box: tuple[int, int] | None = None, *, text_below: bool = False
) -> Focus | None:
    """A focal point that keeps the faces in a cover crop of ``box``; None without faces.

    With ``text_below`` (a layout whose text sits at the bottom), the faces are placed as
    high in the crop as they fit, leaving the lower part, where the title goes, to the
    rest of the picture.
    """
    if box is not None and _whole(image.size, box):
        return None  # the crop is the whole image wherever the faces are: skip the search
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
