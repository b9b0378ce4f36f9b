"""Fonts with per-character fallback: the one module that knows about font files.

Pillow draws a whole string in one font and shows an empty box for a character the font
lacks. Here a string is split into runs, each drawn in the first font of the chain whose
character map covers it (read with fontTools, so no glyph is rendered to find out), and a
character no font covers is reported rather than drawn. Colour emoji fonts that only hold
bitmaps at one size (Noto Color Emoji: 109 px) are drawn at that size and scaled.
"""

from __future__ import annotations

import functools
import hashlib
import os
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont, features

from publisher.cards.fallbacks import DEFAULT_FALLBACKS as DEFAULT_FALLBACKS
from publisher.unicode import Direction, graphemes, visual_runs

#: Shaping (Arabic joining, Indic reordering, right-to-left runs) needs libraqm.
RAQM = bool(features.check_feature("raqm"))
_LAYOUT = ImageFont.Layout.RAQM if RAQM else ImageFont.Layout.BASIC

#: Code points that never need a glyph of their own (joiners, variation selectors).
_IGNORABLE = frozenset({0x200C, 0x200D, 0xFE0E, 0xFE0F, 0x20E3})


@functools.lru_cache(maxsize=64)
def coverage(path: str) -> frozenset[int]:
    """The code points a font file maps to glyphs; empty when it cannot be read."""
    # fontTools is imported here, where a font is first read: a build with no card to
    # draw reads none (issue 12).
    from fontTools.ttLib import TTFont, TTLibError

    try:
        with TTFont(path, fontNumber=0, lazy=True) as font:
            cmap = font.getBestCmap() or {}
    except (OSError, TTLibError, AssertionError, KeyError):
        return frozenset()
    return frozenset(cmap)


def existing(paths: Sequence[str]) -> tuple[str, ...]:
    return tuple(p for p in paths if os.path.isfile(p))


def weight_sibling(path: str, weight: str) -> str:
    """The same family's file in ``weight`` (``bold`` or ``regular``) when it is installed.

    Font packages name weights the same way (``NotoSansCJK-Regular.ttc`` and
    ``-Bold.ttc``, ``NotoSansArabic-Regular.ttf``, ``DejaVuSans.ttf`` and
    ``DejaVuSans-Bold.ttf``), so one fallback list serves both weights: a bold title's
    Japanese is drawn in the bold CJK face, not the regular one beside bold Latin.
    """
    folder, name = os.path.split(path)
    stem, dot, ext = name.rpartition(".")
    if not dot:
        return path
    if weight == "bold":
        if stem.endswith("-Bold"):
            return path
        base = stem.removesuffix("-Regular")
        candidate = os.path.join(folder, f"{base}-Bold.{ext}")
    else:
        if not stem.endswith("-Bold"):
            return path
        base = stem.removesuffix("-Bold")
        candidate = os.path.join(folder, f"{base}-Regular.{ext}")
        if not os.path.isfile(candidate):
            candidate = os.path.join(folder, f"{base}.{ext}")
    return candidate if os.path.isfile(candidate) else path


def chain_for(
    primary: str,
    fallbacks: Sequence[str],
    weight: str,
    bold_fallbacks: Sequence[str] | None = None,
) -> tuple[str, ...]:
    """The primary font, then each installed fallback in ``weight`` where it has one.

    ``bold_fallbacks`` (``cards.fonts.fallbacks_bold``), when given, is the bold list as is.
    """
    if weight == "bold" and bold_fallbacks is not None:
        return (primary, *(p for p in existing(bold_fallbacks) if p != primary))
    chosen: list[str] = [primary]
    for path in existing(fallbacks):
        sibling = weight_sibling(path, weight)
        if sibling not in chosen:
            chosen.append(sibling)
    return tuple(chosen)


@functools.lru_cache(maxsize=32)
def file_digest(path: str) -> str:
    """sha256 of a bundled font's bytes (the render cache keys on them)."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def font_stamp(path: str) -> str:
    """A cheap identity for a (possibly huge) system font: path, size and mtime."""
    stat = os.stat(path)
    return f"{path}:{stat.st_size}:{stat.st_mtime_ns}"


def _covers(cmap: frozenset[int], cluster: str) -> bool:
    return all(ord(c) in cmap for c in cluster if ord(c) not in _IGNORABLE)


def pick(cluster: str, chain: Sequence[str]) -> int | None:
    """Index of the first font in ``chain`` that has every character of ``cluster``."""
    if cluster.isspace() or all(ord(c) in _IGNORABLE for c in cluster):
        return 0
    for index, path in enumerate(chain):
        if _covers(coverage(path), cluster):
            return index
    base = ord(cluster[0])
    for index, path in enumerate(chain):
        if base in coverage(path):
            return index
    return None


def describe(cluster: str) -> str:
    """``'✓' (U+2713 CHECK MARK)`` for messages."""
    points = " ".join(f"U+{ord(c):04X}" for c in cluster)
    name = unicodedata.name(cluster[0], "unnamed character")
    return f"'{cluster}' ({points} {name})"


_SUGGESTIONS = (
    (("CJK", "HIRAGANA", "KATAKANA", "HANGUL", "IDEOGRAPHIC"), "Noto Sans CJK (fonts-noto-cjk)"),
    (("THAI",), "Noto Sans Thai (fonts-noto-core)"),
    (("ARABIC",), "Noto Sans Arabic (fonts-noto-core)"),
    (("HEBREW",), "Noto Sans Hebrew (fonts-noto-core)"),
    (("DEVANAGARI", "BENGALI", "TAMIL"), "Noto Sans Devanagari (fonts-noto-core)"),
)


def suggest(clusters: Sequence[str]) -> str:
    """A font that would cover the first missing cluster, named for the fix message."""
    first = clusters[0]
    code = ord(first[0])
    if code >= 0x1F000 or 0x2600 <= code <= 0x27BF:
        return "Noto Color Emoji (fonts-noto-color-emoji)"
    script = unicodedata.name(first[0], "").split(" ")[0]
    for names, font in _SUGGESTIONS:
        if script in names:
            return font
    return "a font that has them (e.g. Noto Sans from fonts-noto-core)"


def drop_missing(text: str, chain: Sequence[str]) -> tuple[str, list[str]]:
    """Remove characters no font in ``chain`` can draw; return the text and what was removed."""
    if chain and not (set(map(ord, text)) - coverage(chain[0]) - _IGNORABLE):
        # The primary font draws every cluster (as in :func:`_runs`): nothing to remove,
        # and no cluster-by-cluster walk.
        return " ".join(text.split()), []
    kept: list[str] = []
    missing: list[str] = []
    for cluster in graphemes(text):
        if pick(cluster, chain) is None:
            if cluster not in missing:
                missing.append(cluster)
            continue
        kept.append(cluster)
    return " ".join("".join(kept).split()), missing


@dataclass(frozen=True)
class Face:
    """A loaded font at one size; ``scale`` is below 1 for fixed-size bitmap fonts."""

    font: ImageFont.FreeTypeFont
    scale: float


@functools.lru_cache(maxsize=256)
def face(path: str, size: int) -> Face:
    try:
        return Face(ImageFont.truetype(path, size, layout_engine=_LAYOUT), 1.0)
    except OSError:
        # Bitmap-only colour fonts hold one strike; draw at it and scale.
        font = ImageFont.truetype(path, 109, layout_engine=_LAYOUT)
        return Face(font, size / 109)


def runs(text: str, chain: Sequence[str]) -> list[tuple[int, str]]:
    """Consecutive clusters drawn by the same font, as ``(font index, text)``."""
    return list(_runs(text, tuple(chain)))


@functools.lru_cache(maxsize=8192)
def _runs(text: str, chain: tuple[str, ...]) -> tuple[tuple[int, str], ...]:
    # Fitting a title measures the same words and prefixes thousands of times per card;
    # splitting them into clusters and picking a font for each was a third of a render.
    if chain and text and not (set(map(ord, text)) - coverage(chain[0]) - _IGNORABLE):
        # Every cluster is spaces, ignorables or drawn by the primary font: one run, the
        # same answer as the walk below gives.
        return ((0, text),)
    out: list[tuple[int, list[str]]] = []
    for cluster in graphemes(text):
        index = pick(cluster, chain)
        if index is None:
            continue
        if cluster.isspace() and out and not _pictographic(out[-1][1][-1]):
            # Spaces stay in the run they follow (raqm shapes an Arabic phrase as one run),
            # except after an emoji: the emoji font's space is emoji-wide.
            index = out[-1][0]
        if out and out[-1][0] == index:
            out[-1][1].append(cluster)  # a list: joining strings here was quadratic
        else:
            out.append((index, [cluster]))
    return tuple((index, "".join(clusters)) for index, clusters in out)


def _pictographic(cluster: str) -> bool:
    """An emoji or other pictograph cluster (U+2600-27BF, U+1F000 up, or emoji style)."""
    first = ord(cluster[0])
    return first >= 0x1F000 or (0x2600 <= first <= 0x27BF) or cluster[-1] == "\ufe0f"


@functools.lru_cache(maxsize=4096)
def _length(path: str, size: int, text: str) -> float:
    f = face(path, size)
    return float(f.font.getlength(text)) * f.scale


def measure(text: str, size: int, chain: Sequence[str]) -> float:
    """Advance width of ``text`` at ``size`` px, each run in its own font."""
    return sum(_length(chain[i], size, run) for i, run in _runs(text, tuple(chain)))


#: Character advances for :func:`estimator` are measured once, at this size, and scaled.
_REFERENCE = 100


@functools.lru_cache(maxsize=64)
def _advances(path: str) -> dict[str, float]:
    """Each character's advance at :data:`_REFERENCE` px, filled in as characters come."""
    return {}


def estimator(size: int, chain: Sequence[str], text: str) -> Callable[[str], float] | None:
    """A rough :func:`measure` at ``size`` for pieces of ``text``: each character's advance
    in the primary font, measured once per font and scaled, added up (no kerning, no
    shaping, no hinting: a few per cent off). It adds up over pieces, so a line can be
    estimated word by word. None when the primary font does not draw all of ``text``."""
    if not chain or not text or set(map(ord, text)) - coverage(chain[0]) - _IGNORABLE:
        return None
    path = chain[0]
    advances = _advances(path)
    factor = size / _REFERENCE

    def estimate(piece: str) -> float:
        total = 0.0
        for char in piece:
            advance = advances.get(char)
            if advance is None:
                advance = advances[char] = _length(path, _REFERENCE, char)
            total += advance
        return total * factor

    return estimate


def metrics(size: int, chain: Sequence[str]) -> tuple[int, int]:
    """Ascent and descent of the primary font: lines are spaced by it alone, so a fallback
    font with tall metrics does not push lines apart."""
    ascent, descent = face(chain[0], size).font.getmetrics()
    return ascent, descent


def draw_line(
    canvas: Image.Image,
    xy: tuple[float, float],
    text: str,
    size: int,
    chain: Sequence[str],
    fill: tuple[int, int, int],
    direction: str,
) -> tuple[int, int, int, int]:
    """Draw one line with its left edge at ``x`` and baseline at ``y``; return its bbox.

    ``direction`` is the whole paragraph's. The line is cut into runs of one direction
    and those are placed from the left in visual order (UAX #9), so a Latin phrase in an
    Arabic title reads left to right as a whole, and an Arabic word in an English title
    right to left. Inside a run each font's piece is shaped by raqm in the run's
    direction; right-to-left runs lay their pieces out from the right.
    """
    x, baseline = xy
    draw = ImageDraw.Draw(canvas)
    left, top, right, bottom = int(x), int(baseline), int(x), int(baseline)
    paragraph: Direction = "rtl" if direction == "rtl" else "ltr"
    placed: list[tuple[str, Face, Direction]] = []
    for run_text, run_direction in visual_runs(text, paragraph):
        pieces = runs(run_text, chain)
        if run_direction == "rtl":
            pieces.reverse()
        placed.extend((piece, face(chain[index], size), run_direction) for index, piece in pieces)
    for number, (piece, f, run_direction) in enumerate(placed, start=1):
        box = _draw_piece(canvas, draw, (x, baseline), piece, f, fill, run_direction)
        left, top = min(left, box[0]), min(top, box[1])
        right, bottom = max(right, box[2]), max(bottom, box[3])
        if number < len(placed):  # the last piece's advance moves nothing: not measured
            x += _advance(piece, f, run_direction)
    return left, top, right, bottom


def _shaped(piece: str, direction: Direction) -> tuple[str, str | None]:
    """The piece as Pillow is given it and the direction it is shaped in: raqm shapes it
    in ``direction``; without raqm a right-to-left piece is reversed by clusters."""
    if direction == "rtl" and not RAQM:
        return "".join(reversed(graphemes(piece))), None
    return piece, direction if RAQM else None


def _advance(piece: str, f: Face, direction: Direction) -> float:
    text, shaped = _shaped(piece, direction)
    return f.font.getlength(text, direction=shaped) * f.scale


def _draw_piece(
    canvas: Image.Image,
    draw: ImageDraw.ImageDraw,
    xy: tuple[float, float],
    piece: str,
    f: Face,
    fill: tuple[int, int, int],
    direction: Direction,
) -> tuple[int, int, int, int]:
    """Draw a piece of one font and one direction; return its bbox."""
    # Without raqm Pillow lays text out left to right only: the clusters are reversed.
    piece, shaped = _shaped(piece, direction)
    if f.scale != 1.0:
        return _draw_scaled(canvas, xy, piece, f, fill)
    draw.text(xy, piece, font=f.font, fill=fill, anchor="ls", direction=shaped, embedded_color=True)
    box = draw.textbbox(xy, piece, font=f.font, anchor="ls", direction=shaped)
    return int(box[0]), int(box[1]), int(box[2]), int(box[3])


def _draw_scaled(
    canvas: Image.Image,
    xy: tuple[float, float],
    run: str,
    f: Face,
    fill: tuple[int, int, int],
) -> tuple[int, int, int, int]:
    ascent, descent = f.font.getmetrics()
    width = max(1, int(f.font.getlength(run)) + 2)
    layer = Image.new("RGBA", (width, ascent + descent), (0, 0, 0, 0))
    ImageDraw.Draw(layer).text(
        (0, ascent), run, font=f.font, fill=fill, anchor="ls", embedded_color=True
    )
    size = (max(1, round(layer.width * f.scale)), max(1, round(layer.height * f.scale)))
    layer = layer.resize(size, Image.Resampling.LANCZOS)
    x, baseline = round(xy[0]), round(xy[1] - ascent * f.scale)
    canvas.paste(layer, (x, baseline), layer)
    return x, baseline, x + layer.width, baseline + layer.height
