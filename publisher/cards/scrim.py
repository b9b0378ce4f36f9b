"""The shade under the text: only as dark as the contrast target needs.

:func:`shade_text` picks the text colour (the layout's, or light or dark for ``auto``),
measures the picture under the text and draws the least opaque scrim that reaches
``cards.min_contrast`` (never below the layout's floors), faded out on one side.
"""

from __future__ import annotations

import functools

from PIL import Image

from publisher.cards.canvas import Canvas
from publisher.cards.contrast import RGB, busyness, choose, ratio
from publisher.cards.layout import Layout

#: Share of edge pixels above which the area under the text counts as busy.
BUSY = 0.06


def shade_text(
    image: Image.Image,
    layout: Layout,
    canvas: Canvas,
    text_box: tuple[int, int, int, int] | None,
    target: float,
) -> RGB:
    """Pick the text colour, draw the scrim it needs; return the colour."""
    light, dark = canvas.color("$light"), canvas.color("$dark")
    if text_box is None:
        return light
    scrim = layout.scrim
    pad = canvas.px(scrim.padding) if scrim else canvas.px(8)
    left = max(0, text_box[0] - pad)
    top = max(0, text_box[1] - pad)
    right = min(image.width, text_box[2] + pad)
    bottom = min(image.height, text_box[3] + pad)
    region = image.crop((left, top, right, bottom))
    texts = [canvas.color(layout.text.color)] if layout.text.color != "auto" else [light, dark]
    candidates: list[tuple[RGB, RGB]] = []
    for text in texts:
        if scrim is None or scrim.color == "auto":
            shade: RGB = (
                (0, 0, 0)
                if ratio(text, (0, 0, 0)) > ratio(text, (255, 255, 255))
                else (255, 255, 255)
            )
        else:
            shade = canvas.color(scrim.color)
        candidates.append((text, shade))
    floor = 0.0
    if scrim is not None:
        floor = scrim.min_opacity
        if scrim.busy_opacity > floor and busyness(region) > BUSY:
            floor = scrim.busy_opacity
        floor = min(floor, scrim.max_opacity)
    choice = choose(
        region,
        candidates,
        target=target,
        max_opacity=scrim.max_opacity if scrim else 0.0,
        min_opacity=floor,
    )
    if scrim is not None and choice.opacity > 0:
        _draw_scrim(
            image,
            scrim.side,
            scrim.extent,
            canvas.px(scrim.fade),
            (left, top, right, bottom),
            choice.scrim,
            choice.opacity,
        )
    return choice.text


def _draw_scrim(
    image: Image.Image,
    side: str,
    extent: str,
    fade: int,
    box: tuple[int, int, int, int],
    color: RGB,
    opacity: float,
) -> None:
    """A solid scrim over the text with a linear fade of ``fade`` px on ``side``."""
    width, height = image.size
    left, top, right, bottom = box
    if extent == "band":
        if side in ("top", "bottom"):
            left, right = 0, width
            top, bottom = (top, height) if side == "top" else (0, bottom)
        else:
            top, bottom = 0, height
            left, right = (left, width) if side == "left" else (0, right)
    alpha = min(255, int(opacity * 255 + 0.999))
    if right > left and bottom > top:
        # The solid part through a look-up table: the same bytes as pasting the colour
        # through a mask of ``alpha``, at a fraction of the cost of blending pixel by pixel.
        solid = (left, top, right, bottom)
        image.paste(image.crop(solid).point(_blend_table(color, alpha)), solid)
    faded = _fade(side, fade, alpha, (left, top, right, bottom), (width, height))
    if faded is not None:
        ramp, (x, y) = faded
        image.paste(color, (x, y, x + ramp.width, y + ramp.height), ramp)


def _fade(
    side: str,
    fade: int,
    alpha: int,
    box: tuple[int, int, int, int],
    size: tuple[int, int],
) -> tuple[Image.Image, tuple[int, int]] | None:
    """The fade's mask (``alpha`` falling to 0 over ``fade`` px outward from ``side`` of
    ``box``) and where it goes; None when there is no room or no fade."""
    if fade <= 0:
        return None
    width, height = size
    left, top, right, bottom = box
    ramp = Image.linear_gradient("L").point(lambda v: v * alpha // 255)
    if side == "top" and top > 0:
        start = max(0, top - fade)
        return _stretch(ramp, (right - left, top - start), vertical=True), (left, start)
    if side == "bottom" and bottom < height:
        end = min(height, bottom + fade)
        piece = ramp.transpose(Image.Transpose.FLIP_TOP_BOTTOM)
        return _stretch(piece, (right - left, end - bottom), vertical=True), (left, bottom)
    if side == "left" and left > 0:
        start = max(0, left - fade)
        piece = ramp.transpose(Image.Transpose.ROTATE_90).transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        return _stretch(piece, (left - start, bottom - top), vertical=False), (start, top)
    if side == "right" and right < width:
        end = min(width, right + fade)
        piece = ramp.transpose(Image.Transpose.ROTATE_90)
        return _stretch(piece, (end - right, bottom - top), vertical=False), (right, top)
    return None


def _stretch(ramp: Image.Image, size: tuple[int, int], *, vertical: bool) -> Image.Image:
    """``ramp.resize(size)`` for a ramp that changes only along one axis (``vertical``:
    from top to bottom): resized along that axis alone, then repeated across. The filter
    turns a constant into itself, so the bytes are the same, for a sixth of the cost."""
    line = ramp.resize((1, size[1]) if vertical else (size[0], 1))
    return line.resize(size, Image.Resampling.NEAREST)


@functools.lru_cache(maxsize=64)
def _blend_table(color: RGB, alpha: int) -> list[int]:
    """What pasting ``color`` through a mask of ``alpha`` does to each channel value, as
    an RGB ``point`` table. Measured by making Pillow do that paste on every value, so it
    matches Pillow's own rounding exactly."""
    values = Image.frombytes("RGB", (256, 1), bytes(v for v in range(256) for _ in range(3)))
    values.paste(color, (0, 0, 256, 1), Image.new("L", (256, 1), alpha))
    raw = values.tobytes()
    return [*raw[0::3], *raw[1::3], *raw[2::3]]
