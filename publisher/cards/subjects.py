"""What a cover crop must keep, and keep out from under the title: faces and text.

Text in a picture (a slide, a block of code, a sign, a caption burnt into a screenshot)
shows as stacked bands of dense sharp edges with quiet rows between them, the structure
:func:`publisher.cards.choose.text_coverage` measures for the whole image. Here it is
located: each of :data:`_STRIPS` vertical strips of the picture's grey thumbnail
(:func:`publisher.cards.thumbnail.grey`, 640 px on the long side, more for a wide strip)
is scanned for text-line-sized busy runs; three or more lines of
about one height at about one spacing form a block, and blocks of neighbouring strips
that share rows are merged.

:func:`subject_crop` then slides the cover crop (it can only move along one axis) to the
position that cuts the fewest subjects and puts the least of them under what the card
draws over the picture (the title's box; the logo, chip and author pills when on), and
among equally good positions keeps the one the old rule (faces, else the busiest strip)
would have picked. Without text in the picture the crop is exactly the old one.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from PIL import Image, ImageFilter

from publisher.cards import faces, thumbnail
from publisher.cards.crop import (
    QUIET,
    Focus,
    busiest_focus,
    cover_scale,
    crop_box,
    text_line_runs,
)

#: (left, top, right, bottom) as fractions of an image or of the card.
Frac = tuple[float, float, float, float]

_STRIPS = 16
#: Candidate crop positions tried along the free axis.
_STEPS = 64
#: A cut subject costs this much more than one under the title: a title over a logo is
#: ugly, half a logo is broken.
_CUT_WEIGHT = 3.0
#: Pull towards the position the old rule picked, so equally good crops do not jump.
_DEFAULT_PULL = 0.1


@dataclass(frozen=True)
class _Run:
    top: int
    bottom: int
    left: int
    right: int


def text_blocks(image: Image.Image) -> list[Frac]:
    """Blocks of glyph-like detail (two or more lines of text), as image fractions."""
    probe = thumbnail.grey(image)
    if probe.width < 32 or probe.height < 32:
        return []
    edges = probe.filter(ImageFilter.FIND_EDGES).point(lambda v: 255 if v > 64 else 0)
    edges = edges.crop((1, 1, edges.width - 1, edges.height - 1))
    width, height = edges.size
    runs: list[_Run] = []
    for index in range(_STRIPS):
        left, right = index * width // _STRIPS, (index + 1) * width // _STRIPS
        strip = edges.crop((left, 0, right, height))
        profile = list(strip.resize((1, height), Image.Resampling.BOX).tobytes())
        runs.extend(_Run(top, bottom, left, right) for top, bottom in _blocks(profile, height))
    merged = [_widen(r, edges, width // _STRIPS) for r in _merge(runs, width)]
    return [(r.left / width, r.top / height, r.right / width, r.bottom / height) for r in merged]


def _widen(run: _Run, edges: Image.Image, step: int) -> _Run:
    """A block grown by a strip on each side where that strip has detail in the block's
    rows: strips are coarse, and a block's first or last words may fill only part of one."""
    left, right = run.left, run.right
    if left >= step and _busy(edges.crop((left - step, run.top, left, run.bottom))):
        left -= step
    if right + step <= edges.width and _busy(
        edges.crop((right, run.top, right + step, run.bottom))
    ):
        right += step
    return _Run(run.top, run.bottom, left, right)


def _busy(region: Image.Image) -> bool:
    return (
        region.width > 0
        and region.height > 0
        and max(region.resize((1, 1), Image.Resampling.BOX).tobytes()) > QUIET
    )


def _blocks(profile: list[int], height: int) -> list[tuple[int, int]]:
    """Lines no further apart than about two line heights, grouped into blocks of text."""
    blocks: list[tuple[int, int]] = []
    group: list[tuple[int, int]] = []
    for line in [*text_line_runs(profile, height), (height * 4, height * 4 + 1)]:
        if group and line[0] - group[-1][1] > 2 * max(3, group[-1][1] - group[-1][0]):
            block = _regular(group)
            if block is not None:
                blocks.append(block)
            group = []
        group.append(line)
    return blocks


def _regular(group: list[tuple[int, int]]) -> tuple[int, int] | None:
    """The rows of three or more lines of about one height at about one spacing, if the
    group has them: text is set on a grid, while the bands of a photo (a horizon,
    branches, a railing) come in any sizes. A rule or a frame's edge beside the text is
    left out rather than spoiling the block."""
    heights = sorted(bottom - top for top, bottom in group)
    typical = heights[len(heights) // 2]
    lines = [(t, b) for t, b in group if typical / 2 <= b - t <= 2 * typical + 1]
    if len(lines) < 3:
        return None
    gaps = sorted(b[0] - a[1] for a, b in itertools.pairwise(lines))
    usual = gaps[len(gaps) // 2]
    if sum(gap > 2 * usual + 2 for gap in gaps) * 4 > len(gaps):
        return None
    return lines[0][0], lines[-1][1]


def _merge(runs: list[_Run], width: int) -> list[_Run]:
    """Blocks of touching strips whose rows overlap, joined into rectangles."""
    merged: list[_Run] = []
    for run in sorted(runs, key=lambda r: (r.left, r.top)):
        for index, other in enumerate(merged):
            touching = run.left <= other.right + 1 and other.left <= run.right + 1
            if touching and run.top <= other.bottom and other.top <= run.bottom:
                merged[index] = _Run(
                    min(run.top, other.top),
                    max(run.bottom, other.bottom),
                    min(run.left, other.left),
                    max(run.right, other.right),
                )
                break
        else:
            merged.append(run)
    # A lone strip is a fence or a ladder more often than text: keep blocks two strips wide.
    return [r for r in merged if r.right - r.left > width / _STRIPS * 1.5]


def subject_crop(
    picture: Image.Image,
    size: tuple[int, int],
    *,
    avoid: Sequence[Frac],
    text_below: bool,
) -> tuple[float, float, float, float]:
    """The cover crop of ``picture`` for a box of ``size`` that keeps faces and text.

    ``avoid``: what the card draws over the picture (the title's box, the logo, the
    author and chip pills), as fractions of the image box: subjects should not sit under
    them. Returns the source rectangle (left, top, right, bottom) in pixels.
    """
    default: Focus = faces.face_focus(picture, size, text_below=text_below) or busiest_focus(
        picture, size
    )
    start = crop_box(picture.size, size, default)
    blocks = text_blocks(picture)
    if not blocks:
        return start
    face = faces.face_box(picture)
    subjects = [*blocks, *([face] if face else [])]
    return _best_crop(picture.size, size, subjects, avoid, start)


def _best_crop(
    image_size: tuple[int, int],
    size: tuple[int, int],
    subjects: list[Frac],
    avoid: Sequence[Frac],
    start: tuple[float, float, float, float],
) -> tuple[float, float, float, float]:
    width, height = image_size
    scale = cover_scale(image_size, size)
    crop_w, crop_h = min(width, size[0] / scale), min(height, size[1] / scale)
    vertical = crop_h < height - 1
    if not vertical and crop_w >= width - 1:
        return start
    window = crop_h / height if vertical else crop_w / width
    default = start[1] / height if vertical else start[0] / width
    best, best_cost = default, float("inf")
    for step in range(_STEPS + 1):
        offset = (1 - window) * step / _STEPS
        cost = sum(_cost(s, offset, window, vertical, avoid) for s in subjects)
        cost += _DEFAULT_PULL * abs(offset - default)
        if cost < best_cost - 1e-9:
            best, best_cost = offset, cost
    if vertical:
        top = best * height
        return (start[0], top, start[2], top + crop_h)
    left = best * width
    return (left, start[1], left + crop_w, start[3])


def _cost(
    subject: Frac, offset: float, window: float, vertical: bool, avoid: Sequence[Frac]
) -> float:
    """Share of the subject cut off by the window (weighted) plus share of it under
    what the card draws over the picture."""
    low, high = (subject[1], subject[3]) if vertical else (subject[0], subject[2])
    extent = max(high - low, 1e-6)
    cut = (max(0.0, offset - low) + max(0.0, high - offset - window)) / extent
    # The subject in card fractions: only the free axis moves with the crop.
    a, b = (low - offset) / window, (high - offset) / window
    placed = (subject[0], a, subject[2], b) if vertical else (a, subject[1], b, subject[3])
    area = max((placed[2] - placed[0]) * (placed[3] - placed[1]), 1e-6)
    covered = sum(_overlap(placed, box) for box in avoid) / area
    return _CUT_WEIGHT * min(1.0, cut) + min(1.0, covered)


def _overlap(one: Frac, other: Frac) -> float:
    width = min(one[2], other[2]) - max(one[0], other[0])
    height = min(one[3], other[3]) - max(one[1], other[1])
    return width * height if width > 0 and height > 0 else 0.0
