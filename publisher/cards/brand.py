"""Branding layers: the site's logo, the author (name and avatar) and the category chip.

All three are placed in boxes the layout gives (``logo``, ``author``, ``chip``); the author
and the chip are drawn only when ``cards.author.show`` and ``cards.chip`` turn them on, so
a site changes its cards from config.yaml alone. Both sit on a solid pill, so they read on
any picture, and their text colour is whichever of ``$light`` and ``$dark`` contrasts more
with the pill. Images arrive decoded and already scaled to fit their box (see
``render._logo``, which decodes once per worker process); this module decides where they go.
"""

from __future__ import annotations

from collections.abc import Sequence

from PIL import Image, ImageDraw

from publisher.cards import fonts
from publisher.cards.contrast import RGB, ratio
from publisher.cards.text import base_direction, ellipsize

Rect = tuple[int, int, int, int]


def aligned_left(align: str, box: Rect, width: int) -> int:
    """The left edge of something ``width`` wide aligned in ``box`` (x, y, w, h)."""
    x, _, w, _ = box
    if align in ("start", "left"):
        return x
    if align == "right":
        return x + w - width
    return x + (w - width) // 2


def paste_logo(image: Image.Image, logo: Image.Image, box: Rect, align: str) -> None:
    """Paste ``logo`` in ``box``, aligned horizontally and centred on the box's height."""
    left = aligned_left(align, box, logo.width)
    top = box[1] + (box[3] - logo.height) // 2
    image.paste(logo, (left, top), logo if logo.mode == "RGBA" else None)


def readable_on(fill: RGB, light: RGB, dark: RGB) -> RGB:
    """``light`` or ``dark``, whichever contrasts more with ``fill``."""
    return light if ratio(light, fill) >= ratio(dark, fill) else dark


def draw_pill(
    image: Image.Image,
    label: str,
    box: Rect,
    *,
    align: str,
    fill: RGB,
    color: RGB,
    chain: Sequence[str],
    avatar: Image.Image | None = None,
) -> Rect | None:
    """A rounded label in ``box``: an optional round avatar, then ``label`` in one line,
    shortened at a word with an ellipsis when the box is too narrow. Returns what was drawn
    (left, top, right, bottom), or None when nothing fits."""
    _, y, w, h = box
    size = max(6, round(h * 0.46))
    pad = round(h * 0.42)
    inset = max(2, round(h * 0.08))
    lead = (h - 2 * inset + round(h * 0.22)) if avatar is not None else pad
    room = w - lead - pad

    def measure(text: str) -> float:
        return fonts.measure(text, size, chain)

    text = label if measure(label) <= room else ellipsize(label, room, measure) if room > 0 else ""
    if not text.strip() and avatar is None:
        return None
    width = min(w, lead + round(fonts.measure(text, size, chain)) + pad)
    left = aligned_left(align, box, width)
    ImageDraw.Draw(image).rounded_rectangle(
        (left, y, left + width - 1, y + h - 1), radius=h // 2, fill=fill
    )
    if avatar is not None:
        _paste_round(image, avatar, (left + inset, y + inset), h - 2 * inset)
    ascent, descent = fonts.metrics(size, chain)
    baseline = y + (h - (ascent + descent)) / 2 + ascent
    fonts.draw_line(image, (left + lead, baseline), text, size, chain, color, base_direction(text))
    return left, y, left + width, y + h


def _paste_round(
    image: Image.Image, picture: Image.Image, where: tuple[int, int], side: int
) -> None:
    """``picture`` cropped to its centre square, scaled to ``side`` and cut to a circle."""
    if side < 4:
        return
    square = min(picture.size)
    left, top = (picture.width - square) // 2, (picture.height - square) // 2
    face = picture.convert("RGB").resize(
        (side, side), Image.Resampling.LANCZOS, box=(left, top, left + square, top + square)
    )
    # Drawn 4x and shrunk, so the circle's edge is smooth.
    mask = Image.new("L", (side * 4, side * 4), 0)
    ImageDraw.Draw(mask).ellipse((0, 0, side * 4 - 1, side * 4 - 1), fill=255)
    image.paste(face, where, mask.resize((side, side), Image.Resampling.LANCZOS))
