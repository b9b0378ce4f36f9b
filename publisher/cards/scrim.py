"""The shade under the text: only as dark as the contrast target needs.

:func:`shade_text` picks the text colour (the layout's, or light or dark for ``auto``),
measures the picture under the text and draws the least opaque scrim that reaches
``cards.min_contrast`` (never below the layout's floors), faded out on one side.
"""

from __future__ import annotations

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
    mask = Image.new("L", (width, height), 0)
    mask.paste(alpha, (left, top, right, bottom))
    if fade > 0:
        ramp = Image.linear_gradient("L").point(lambda v: v * alpha // 255)
        if side == "top" and top > 0:
            start = max(0, top - fade)
            mask.paste(ramp.resize((right - left, top - start)), (left, start))
        elif side == "bottom" and bottom < height:
            end = min(height, bottom + fade)
            piece = ramp.transpose(Image.Transpose.FLIP_TOP_BOTTOM).resize(
                (right - left, end - bottom)
            )
            mask.paste(piece, (left, bottom))
        elif side == "left" and left > 0:
            start = max(0, left - fade)
            piece = ramp.transpose(Image.Transpose.ROTATE_90).transpose(
                Image.Transpose.FLIP_LEFT_RIGHT
            )
            mask.paste(piece.resize((left - start, bottom - top)), (start, top))
        elif side == "right" and right < width:
            end = min(width, right + fade)
            piece = ramp.transpose(Image.Transpose.ROTATE_90)
            mask.paste(piece.resize((end - right, bottom - top)), (right, top))
    image.paste(color, (0, 0, width, height), mask)
