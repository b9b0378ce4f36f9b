"""Small copies of the cards for the preview page.

A full card is about 100 KB and the page shows it up to ten times per post; a blog of 468
posts made a 51 MB preview folder. The page shows a 600-pixel-wide WebP copy instead
(about 14 KB), and states the served card's own size, bytes and format beside it: the
mock-ups and the warnings are computed from the real card, only the pixels on screen are
the small copy's.
"""

from __future__ import annotations

import io
from pathlib import Path, PurePosixPath

from PIL import Image

#: Wide enough for the largest place the page draws a card (the left column on a desktop).
WIDTH = 600
QUALITY = 70
FOLDER = "thumbs"
MIME = "image/webp"


def thumbnail_path(card_path: str) -> str:
    """Where the small copy of ``og/<name>.<hash>.jpg`` goes, relative to the page.

    The card's file name carries a hash of its bytes, so the same name means the same
    thumbnail; the width is in the name so a change of :data:`WIDTH` is a new file.
    """
    stem = PurePosixPath(card_path).stem
    return f"{FOLDER}/{stem}.w{WIDTH}.webp"


def thumbnail(data: bytes) -> bytes:
    """A WebP of the card scaled to :data:`WIDTH` pixels wide (never enlarged).

    The card is our own render, so it is decoded without the caps source images get.
    Deterministic: same card bytes in, same bytes out.
    """
    with Image.open(io.BytesIO(data)) as image:
        image.draft("RGB", (WIDTH, WIDTH))  # JPEG: decode at a reduced scale, much faster
        picture = image.convert("RGBA" if _has_alpha(image) else "RGB")
    if picture.width > WIDTH:
        height = max(1, round(picture.height * WIDTH / picture.width))
        picture = picture.resize((WIDTH, height), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    picture.save(out, "WEBP", quality=QUALITY, method=4)
    return out.getvalue()


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info


def existing(folder: Path, relative: str) -> bytes | None:
    """The thumbnail an earlier run left in ``folder``, to skip decoding the card again."""
    path = folder / relative
    try:
        return path.read_bytes() if path.is_file() and not path.is_symlink() else None
    except OSError:
        return None
