"""The picture at analysis size: small copies made once per picture, shared by every look.

Which layout a card gets (text-heavy, diagram, headline image) and where its cover crop
falls (the busiest strip, faces, blocks of text) are each decided on a small copy of the
picture. The decoded picture (up to twice the card, 2400 px) is box-reduced once to a few
hundred pixels (:func:`colour`, for the one test that needs colour), and that is turned
grey and shrunk to the largest size any of the others needs (:func:`grey`: a line of
body text still a few pixels tall); each test shrinks that copy further to its own size.
Each test used to convert and shrink the whole decoded picture itself.
"""

from __future__ import annotations

import math
import weakref
from dataclasses import dataclass

from PIL import Image

#: The grey copy is this long on its long side, or long enough for its short side to be
#: ``_SHORT`` (a wide strip's lines are short), but never longer than ``_LONGEST``.
_PROBE = 640
_SHORT = 360
_LONGEST = 1280


@dataclass(frozen=True)
class _Copies:
    """A picture's small copies: ``colour``, box-reduced by a whole factor (the picture
    itself when it is small already), and ``grey``, shrunk from it."""

    colour: Image.Image
    grey: Image.Image


#: The picture asked about last and its copies. One card asks about one picture many
#: times (layout rules, then the crop); held weakly, so no picture is kept alive by it, and
#: rendering never changes a picture once it has been asked about.
_last: list[tuple[weakref.ReferenceType[Image.Image], _Copies]] = []


def grey(image: Image.Image) -> Image.Image:
    """The picture in grey, 640 px on the long side, more for a wide strip (its short side
    at least 360 px), at most 1280; never enlarged. Callers must not change it."""
    return _copies(image).grey


def colour(image: Image.Image) -> Image.Image:
    """The picture in its own colours and mode, reduced by a whole factor to no less than
    :func:`grey`'s size (the box filter of ``Image.reduce``): for tests that need colour
    on a few dozen pixels. Callers must not change it: it may be ``image`` itself."""
    return _copies(image).colour


def _copies(image: Image.Image) -> _Copies:
    if _last and _last[0][0]() is image:
        return _last[0][1]
    made = _made(image)
    _last[:] = [(weakref.ref(image), made)]
    return made


def _made(image: Image.Image) -> _Copies:
    width, height = image.size
    long, short = max(width, height), min(width, height)
    scale = min(1.0, max(_PROBE / long, _SHORT / short), _LONGEST / long)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    # A cheap box reduction first, so the cost hardly grows with the picture.
    factor = max(1, int(1 / scale))
    small = image.reduce(factor) if factor > 1 else image
    return _Copies(colour=small, grey=small.convert("L").resize(size, Image.Resampling.BILINEAR))


def fit_size(size: tuple[int, int], box: tuple[int, int]) -> tuple[int, int] | None:
    """The size Pillow's ``thumbnail(box)`` gives an image of ``size`` (its aspect kept,
    rounded the way Pillow rounds it), or None when it already fits."""
    x, y = box
    width, height = size
    if x >= width and y >= height:
        return None
    aspect = width / height

    if x / y >= aspect:
        x = max(
            min(math.floor(y * aspect), math.ceil(y * aspect), key=lambda n: abs(aspect - n / y)),
            1,
        )
    else:
        y = max(
            min(
                math.floor(x / aspect),
                math.ceil(x / aspect),
                key=lambda n: 0 if n == 0 else abs(aspect - x / n),
            ),
            1,
        )
    return x, y


def shrink(image: Image.Image, box: tuple[int, int], resample: Image.Resampling) -> Image.Image:
    """``image`` shrunk to fit ``box`` as ``thumbnail`` would, without first copying it
    (the same pixels: ``thumbnail`` is this resize, done in place). Callers must not
    change the result: it may be ``image`` itself."""
    size = fit_size(image.size, box)
    if size is None or size == image.size:
        return image
    return image.resize(size, resample, reducing_gap=2.0)
