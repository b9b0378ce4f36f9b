"""What an og image really is: its MIME type sniffed from its bytes, and its byte length.

File extensions lie (a ``.png`` that is AVIF, a ``.jpg`` that is WebP), and feed readers
trust the ``type`` of an enclosure, so the type comes from the file's first bytes.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

from publisher.dataclass import dataclass

#: Enough bytes to recognise every format below, including an ISO-BMFF ``ftyp`` box.
HEAD_BYTES = 64

_AVIF_BRANDS = {b"avif", b"avis"}
_HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"mif1", b"msf1"}


@dataclass(frozen=True, kw_only=True)
class ImageFacts:
    mime: str
    length: int


def sniff_image(head: bytes) -> str | None:
    """The MIME type of an image from its first bytes, or None if it is not one we know."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[4:8] == b"ftyp":
        size = int.from_bytes(head[:4], "big")
        box = head[8 : max(16, min(size, len(head)))]
        brands = {box[:4]} | {box[i : i + 4] for i in range(8, len(box) - 3, 4)}
        if brands & _AVIF_BRANDS:
            return "image/avif"
        if brands & _HEIF_BRANDS:
            return "image/heif"
        return None
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith(b"<svg") or (text.startswith(b"<?xml") and b"<svg" in head.lower()):
        return "image/svg+xml"
    return None


def image_facts(path: Path) -> ImageFacts | None:
    """Type and length of the image file at ``path``; None if missing or not an image."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return _facts(str(path), stat.st_mtime_ns, stat.st_size, stat.st_ino, stat.st_ctime_ns)


@functools.lru_cache(maxsize=4096)
def _facts(path: str, mtime_ns: int, size: int, inode: int, ctime_ns: int) -> ImageFacts | None:
    # Keyed on the stat so a replaced image is sniffed again within one process (one
    # renamed over it may keep its size and mtime).
    try:
        head = _head(path)
    except OSError:
        return None
    mime = sniff_image(head)
    if mime is None:
        return None
    return ImageFacts(mime=mime, length=size)


def _head(path: str) -> bytes:
    """The first :data:`HEAD_BYTES` of the file (fewer if it is shorter), unbuffered: one
    image per post, so Python's buffered file object costs more than the read."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    try:
        head = os.read(fd, HEAD_BYTES)
        while head and len(head) < HEAD_BYTES:  # a short read is not the end of the file
            more = os.read(fd, HEAD_BYTES - len(head))
            if not more:
                break
            head += more
        return head
    finally:
        os.close(fd)
