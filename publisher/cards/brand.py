"""Branding layers: the site's logo, placed in the layout's logo box.

Images arrive decoded and already scaled to fit their box (see ``render._logo``, which
decodes once per worker process); this module only decides where they go.
"""

from __future__ import annotations

from PIL import Image


def aligned_left(align: str, box: tuple[int, int, int, int], width: int) -> int:
    """The left edge of something ``width`` wide aligned in ``box`` (x, y, w, h)."""
    x, _, w, _ = box
    if align in ("start", "left"):
        return x
    if align == "right":
        return x + w - width
    return x + (w - width) // 2


def paste_logo(
    image: Image.Image, logo: Image.Image, box: tuple[int, int, int, int], align: str
) -> None:
    """Paste ``logo`` in ``box``, aligned horizontally and centred on the box's height."""
    left = aligned_left(align, box, logo.width)
    top = box[1] + (box[3] - logo.height) // 2
    image.paste(logo, (left, top), logo if logo.mode == "RGBA" else None)
