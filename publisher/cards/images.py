"""Open a source image by its content, cheaply, and hand back plain RGB or RGBA pixels.

The file name's extension is ignored (many ``.png`` files are WebP or AVIF). JPEG is
decoded in draft mode at the smallest DCT scale that still covers the card, and other
formats are shrunk with ``reduce`` before any resampling, so a 6000 px photo costs little
more than a 1200 px one. EXIF orientation is applied, the first frame of an animation or
multi-picture JPEG is used.

Images come from untrusted posts, so only the decoders :func:`formats` names are ever used
(Pillow would otherwise try some forty formats, EPS among them, which runs Ghostscript),
a local file is checked with ``stat`` before it is read (regular file, byte cap), and the
pixel count from the header is checked against ``cards.max_pixels`` before any pixel is
decoded. :func:`probe` does those checks from the header alone, for ``publish check``.
"""

from __future__ import annotations

import functools
import io
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from PIL import Image, ImageOps, UnidentifiedImageError

from publisher.errors import CardError

_ROTATED = (5, 6, 7, 8)  # EXIF orientations that swap width and height


@functools.cache
def formats() -> tuple[str, ...]:
    """The only decoders a source image is opened with (AVIF when this Pillow build has
    it). Found on first use: registering Pillow's decoders imports all forty of its
    format plugins, which a build with no card to draw does not need (issue 12)."""
    Image.init()
    return tuple(f for f in ("JPEG", "PNG", "WEBP", "GIF", "AVIF") if f in Image.OPEN)


def __getattr__(name: str) -> tuple[str, ...]:
    """``FORMATS``: :func:`formats`, as the module's constant (PEP 562)."""
    if name == "FORMATS":
        return formats()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_UNSUPPORTED_FIX = "save it as PNG or JPEG (WebP, GIF and AVIF work too)"


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


@dataclass(frozen=True)
class Header:
    """What an image file says about itself, without decoding a pixel."""

    format: str
    size: tuple[int, int]


def _refuse_svg(head: bytes) -> None:
    if sniff_svg(head[:1024]):
        raise SourceImageError(
            "is an SVG drawing, which is not supported as a card image",
            "export it as a PNG or JPEG (e.g. with Inkscape or a browser) and point ogImage at that",
        )


@contextmanager
def _opened(fp: IO[bytes], max_pixels: int) -> Iterator[Image.Image]:
    """``Image.open`` with the allowed decoders only and the pixel cap checked on the
    header, before the caller decodes a pixel.

    Pillow's own guard (the process-wide ``Image.MAX_IMAGE_PIXELS``) is off while the
    header is read, so the check here is the one that applies, with the configured cap
    and a message that gives the image's width and height.
    """
    saved = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = None
    try:
        image = Image.open(fp, formats=formats())
    except UnidentifiedImageError:
        names = ", ".join("WebP" if f == "WEBP" else f for f in formats())
        raise SourceImageError(
            f"is not in a supported format (only {names} are read)", _UNSUPPORTED_FIX
        ) from None
    finally:
        Image.MAX_IMAGE_PIXELS = saved
    width, height = image.size
    if width * height > max_pixels:
        raise _too_large(f"{width}x{height}", max_pixels)
    yield image


def _too_large(size: str, max_pixels: int) -> SourceImageError:
    return SourceImageError(
        f"is too large to decode safely ({size}; the limit is {max_pixels:,} pixels)",
        "resize it to at most 2400 px wide, or raise cards.max_pixels",
        severity="error",
    )


def probe(path: Path, *, max_bytes: int, max_pixels: int) -> Header:
    """Check a local image from its header alone (no pixel is decoded): a regular file
    within ``max_bytes``, not SVG, in an allowed format, within ``max_pixels``."""
    size = check_file(path, max_bytes)
    if size == 0:
        raise SourceImageError("is an empty file", "replace it with a PNG or JPEG image")
    try:
        with path.open("rb") as handle:
            _refuse_svg(handle.read(1024))
            handle.seek(0)
            with _opened(handle, max_pixels) as image:
                return Header(format=image.format or "unknown", size=image.size)
    except SourceImageError:
        raise
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise SourceImageError(
            f"is damaged or truncated ({exc})", "re-export the image and save it again"
        ) from None


def open_source(data: bytes, *, need: tuple[int, int], max_pixels: int) -> Source:
    """Decode ``data`` at no less than ``need`` (width, height) where the file allows.

    ``need`` is the size the image will be drawn at if scaled to cover its box; the
    decoder may return a bigger image, never a smaller one unless the file is smaller.
    """
    if not data:
        raise SourceImageError("is an empty file", "replace it with a PNG or JPEG image")
    _refuse_svg(data)
    try:
        with _opened(io.BytesIO(data), max_pixels) as opened:
            image: Image.Image = opened
            original = image.size
            fmt = image.format or "unknown"
            orientation = image.getexif().get(0x0112, 1)
            if fmt in ("JPEG", "MPO"):
                want = need if orientation not in _ROTATED else (need[1], need[0])
                # draft() only ever picks a scale whose result still covers ``want``.
                image.draft("RGB" if image.mode != "CMYK" else "CMYK", want)
            image.seek(0)
            image.load()
            if orientation != 1:
                image = ImageOps.exif_transpose(image)
            image = _plain(image)
    except SourceImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _too_large(_pixels(exc), max_pixels) from None
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise SourceImageError(
            f"is damaged or truncated ({exc})", "re-export the image and save it again"
        ) from None
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


def check_file(path: Path, max_bytes: int) -> int:
    """The file's size, after checking it is a regular file no bigger than ``max_bytes``
    (a FIFO or a device such as /dev/zero would otherwise hang or fill memory)."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise SourceImageError(
            "does not exist", "add the file next to index.md or correct ogImage"
        ) from None
    except OSError as exc:
        raise SourceImageError(
            f"cannot be read ({exc.strerror})", "check the file's permissions"
        ) from None
    if not stat.S_ISREG(info.st_mode):
        raise SourceImageError(
            "is not a regular file", "point ogImage at an image file", severity="error"
        )
    if info.st_size > max_bytes:
        raise SourceImageError(
            f"is {info.st_size:,} bytes, over the {max_bytes:,}-byte limit for image files",
            "resize or re-compress it (a card needs about 2400x1260 px), or raise cards.max_image_bytes",
            severity="error",
        )
    return info.st_size


def read_bytes(path: Path, *, max_bytes: int) -> bytes:
    """The file's bytes, never more than ``max_bytes`` even if it grows while being read."""
    check_file(path, max_bytes)
    try:
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        raise SourceImageError(
            f"cannot be read ({exc.strerror})", "check the file's permissions"
        ) from None
    if len(data) > max_bytes:
        raise SourceImageError(
            f"grew over the {max_bytes:,}-byte limit for image files while being read",
            "resize or re-compress it, or raise cards.max_image_bytes",
            severity="error",
        )
    return data
