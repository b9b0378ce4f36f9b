"""Encode a card as JPEG or PNG under a byte budget.

JPEG starts at the configured quality with full-resolution colour (text edges stay
clean), then steps the quality down and switches to 4:2:0 chroma. PNG is tried lossless,
then quantized to fewer colours. Encoders are given fixed settings so equal pixels give
equal bytes on every run and in every worker process.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image

from publisher.errors import CardError


@dataclass(frozen=True)
class Encoded:
    data: bytes
    format: str
    note: str | None


def _jpeg(image: Image.Image, quality: int, subsampling: int) -> bytes:
    out = io.BytesIO()
    try:
        image.save(out, "JPEG", quality=quality, subsampling=subsampling, optimize=True)
    except OSError:
        # Pillow sizes the optimizing encoder's buffer at one byte per pixel; a card
        # that compresses worse than that (pure noise) needs the plain encoder.
        out = io.BytesIO()
        image.save(out, "JPEG", quality=quality, subsampling=subsampling)
    return out.getvalue()


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=6)
    return out.getvalue()


def encode(image: Image.Image, *, format: str, max_bytes: int, quality: int) -> Encoded:
    """The best-looking encoding that fits ``max_bytes``; CardError when none does."""
    if image.mode != "RGB":
        image = image.convert("RGB")  # convert() copies even an RGB image: not needed here
    if format == "jpeg":
        steps = [(quality, 0)] + [(q, 2) for q in range(min(quality, 85), 29, -8)]
        for q, subsampling in steps:
            data = _jpeg(image, q, subsampling)
            if len(data) <= max_bytes:
                note = None if (q, subsampling) == steps[0] else f"JPEG quality lowered to {q}"
                return Encoded(data, "jpeg", note)
        raise CardError(
            f"cannot fit a JPEG card in {max_bytes:,} bytes even at quality 30; raise cards.max_bytes"
        )
    data = _png(image)
    if len(data) <= max_bytes:
        return Encoded(data, "png", None)
    for colors in (256, 128, 64, 32):
        quantized = image.quantize(
            colors=colors,
            method=Image.Quantize.MEDIANCUT,
            dither=Image.Dither.FLOYDSTEINBERG,
        )
        data = _png(quantized)
        if len(data) <= max_bytes:
            return Encoded(data, "png", f"PNG reduced to {colors} colours to fit the byte budget")
    raise CardError(
        f"cannot fit a PNG card in {max_bytes:,} bytes even with 32 colours; use format: jpeg or raise cards.max_bytes"
    )
