"""Open a source image by its content, cheaply, and hand back plain RGB or RGBA pixels.

The file name's extension is ignored (many ``.png`` files are WebP or AVIF). JPEG is
decoded in draft mode at the smallest DCT scale that still covers the card, and other
formats are shrunk with ``reduce`` before any resampling, so a 6000 px photo costs little
more than a 1200 px one. EXIF orientation is applied, the first frame of an animation or
multi-picture JPEG is used, and Pillow's decompression-bomb guard stays on.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from publisher.errors import CardError

_ROTATED = (5, 6, 7, 8)  # EXIF orientations that swap width and height


class SourceImageError(CardError):
    """The post's image cannot be used; ``severity`` says whether the post still gets a
    text-only card quietly (``warning``) or the build should fail (``error``)."""

    def __init__(self, message: str, fix: str, severity: str = "warning") -> None:
        self.message = message
        self.fix = fix
        self.severity = severity
        super().__init__(f"{message}; {fix}")


@dataclass(frozen=True)
class Source:
    """Decoded pixels (RGB or RGBA) and what the file really was."""

    image: Image.Image
    format: str
    original_size: tuple[int, int]


def sniff_svg(head: bytes) -> bool:
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return text.startswith(b"<svg") or (text.startswith(b"<?xml") and b"<svg" in head.lower())


def open_source(data: bytes, *, need: tuple[int, int], max_pixels: int) -> Source:
    """Decode ``data`` at no less than ``need`` (width, height) where the file allows.

    ``need`` is the size the image will be drawn at if scaled to cover its box; the
    decoder may return a bigger image, never a smaller one unless the file is smaller.
    """
    if not data:
        raise SourceImageError("is an empty file", "replace it with a PNG or JPEG image")
    if sniff_svg(data[:1024]):
        raise SourceImageError(
            "is an SVG drawing, which cannot be placed on a card",
            "export it as a PNG or JPEG and point ogImage at that",
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image: Image.Image = Image.open(io.BytesIO(data))
            width, height = original = image.size
            if width * height > max_pixels:
                raise Image.DecompressionBombError(f"{width}x{height}")
            fmt = image.format or "unknown"
            orientation = image.getexif().get(0x0112, 1)
            if fmt in ("JPEG", "MPO"):
                want = need if orientation not in _ROTATED else (need[1], need[0])
                # draft() only ever picks a scale whose result still covers ``want``.
                image.draft("RGB" if image.mode != "CMYK" else "CMYK", want)
            image.seek(0)
            image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise SourceImageError(
            f"is too large to decode safely ({_pixels(exc)}; the limit is {max_pixels:,} pixels)",
            "resize it to at most 2400 px wide, or raise cards.max_pixels",
            severity="error",
        ) from None
    except UnidentifiedImageError:
        raise SourceImageError(
            "is not an image format that can be read",
            "save it as PNG, JPEG, WebP, AVIF or GIF",
        ) from None
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise SourceImageError(
            f"is damaged or truncated ({exc})", "re-export the image and save it again"
        ) from None
    if orientation != 1:
        image = ImageOps.exif_transpose(image)
    image = _plain(image)
    factor = min(image.width // max(1, need[0]), image.height // max(1, need[1]))
    if factor >= 2:
        image = image.reduce(factor)
    return Source(image=image, format=fmt, original_size=original)


def _pixels(exc: BaseException) -> str:
    text = str(exc)
    return text.split(" pixels")[0].split("(")[-1] if "pixels" in text else text


def _plain(image: Image.Image) -> Image.Image:
    """RGBA when the image has any transparency, else RGB; 16-bit and CMYK made 8-bit RGB."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        image = image.point(lambda v: v / 256).convert("L")
    elif image.mode == "F":
        image = image.convert("L")
    has_alpha = image.mode in ("RGBA", "LA", "PA", "La", "RGBa") or (
        image.mode in ("P", "L", "RGB") and "transparency" in image.info
    )
    if has_alpha:
        image = image.convert("RGBA")
        lowest, _ = image.getchannel("A").getextrema()
        if lowest == 255:
            return image.convert("RGB")
        return image
    return image if image.mode == "RGB" else image.convert("RGB")


def read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise SourceImageError(
            "does not exist", "add the file next to index.md or correct ogImage"
        ) from None
    except OSError as exc:
        raise SourceImageError(
            f"cannot be read ({exc.strerror})", "check the file's permissions"
        ) from None
