"""The card's canvas: design coordinates scaled to the card, and the picture placed on it.

A layout is drawn in design units (its ``size``, 1200x630 unless it says otherwise);
:class:`Canvas` scales boxes, lengths and colour names to the configured card.
:func:`place_image` puts the post's picture in the layout's image box: a cover crop
around the chosen focal point, or the whole picture contained on the panel when it is too
small to cover the box (with a blurred fill instead of a postage stamp, and a thin frame
when white artwork would vanish into a light panel).
"""

from __future__ import annotations

from PIL import Image, ImageDraw, ImageFilter, ImageStat

from publisher.cards.choose import too_small
from publisher.cards.contrast import RGB, hex_rgb, ratio
from publisher.cards.crop import contain_scale, crop_box
from publisher.cards.layout import Layout
from publisher.cards.layout_values import Box
from publisher.cards.options import CardOptions

#: A contained opaque picture held back by ``max_upscale`` and covering less than this
#: share of its box would sit on the panel like a postage stamp: the box is filled with a
#: blurred copy of it first. (A picture merely of another shape keeps the plain panel.)
STAMP = 0.45


class Canvas:
    """Scales a layout's design coordinates to the card size."""

    def __init__(self, layout: Layout, options: CardOptions) -> None:
        self.options = options
        self.width, self.height = options.width, options.height
        self.sx = options.width / layout.size[0]
        self.sy = options.height / layout.size[1]
        self.s = min(self.sx, self.sy)
        self.colors = options.colors()

    def box(self, box: Box) -> tuple[int, int, int, int]:
        x, y, w, h = box
        return (
            round(x * self.sx),
            round(y * self.sy),
            max(1, round(w * self.sx)),
            max(1, round(h * self.sy)),
        )

    def px(self, value: float) -> int:
        return max(0, round(value * self.s))

    def color(self, value: str) -> RGB:
        if value.startswith("$"):
            value = self.colors[value[1:]]
        return hex_rgb(value)


def place_image(
    image: Image.Image,
    picture: Image.Image,
    box: tuple[int, int, int, int],
    *,
    where: tuple[float, float, float, float] | None,
    upscale: float,
    padding: int,
    matte: RGB,
) -> None:
    """Draw ``picture`` in ``box`` (x, y, w, h on the card).

    ``where``: the source rectangle of a cover crop, or None to contain the picture. A
    picture that would need more than ``upscale`` to cover (see :func:`too_small`) is
    contained whatever ``where`` says.
    """
    x, y, w, h = box
    image.paste(matte, (x, y, x + w, y + h))
    if where is not None and not too_small(picture.size, (w, h), upscale):
        resized = picture.resize((w, h), Image.Resampling.LANCZOS, box=where)
        left, top = x, y
    else:
        inner = (max(1, w - 2 * padding), max(1, h - 2 * padding))
        scale = min(contain_scale(picture.size, inner), upscale)
        size = (max(1, round(picture.width * scale)), max(1, round(picture.height * scale)))
        resized = picture.resize(size, Image.Resampling.LANCZOS)
        left, top = x + (w - size[0]) // 2, y + (h - size[1]) // 2
        stamp = contain_scale(picture.size, inner) > scale and size[0] * size[1] < STAMP * w * h
        if picture.mode != "RGBA" and stamp:
            _blurred_fill(image, picture, box)
        elif picture.mode != "RGBA":
            _outline_if_lost(image, resized, (left, top), matte)
    if resized.mode == "RGBA":
        image.paste(resized, (left, top), resized)
    else:
        image.paste(resized, (left, top))


def _blurred_fill(image: Image.Image, picture: Image.Image, box: tuple[int, int, int, int]) -> None:
    """Fill ``box`` with the picture blown up to cover it and blurred beyond recognition:
    its own colours around it, the way video players frame a portrait clip."""
    x, y, w, h = box
    crop = crop_box(picture.size, (w, h), (0.5, 0.5))
    tiny = picture.resize((max(1, w // 16), max(1, h // 16)), Image.Resampling.BOX, box=crop)
    fill = tiny.filter(ImageFilter.GaussianBlur(2)).resize((w, h), Image.Resampling.BICUBIC)
    # Dimmed a little so the sharp picture on top stands out from its own blur.
    fill = Image.blend(fill, Image.new("RGB", fill.size, (0, 0, 0)), 0.25)
    image.paste(fill, (x, y))


def _outline_if_lost(
    image: Image.Image, picture: Image.Image, where: tuple[int, int], matte: RGB
) -> None:
    """White artwork on a light panel has no visible edge: frame it with a thin line."""
    width, height = picture.size
    if width < 8 or height < 8:
        return
    edge = Image.new("L", picture.size, 255)
    ImageDraw.Draw(edge).rectangle((3, 3, width - 4, height - 4), fill=0)
    mean = ImageStat.Stat(picture.convert("RGB"), mask=edge).mean
    rim: RGB = (round(mean[0]), round(mean[1]), round(mean[2]))
    if ratio(rim, matte) >= 1.15:
        return
    line: RGB = tuple(round(c * 0.78) for c in matte)  # type: ignore[assignment]
    left, top = where
    ImageDraw.Draw(image).rectangle(
        (left - 2, top - 2, left + width + 1, top + height + 1), outline=line, width=2
    )
