"""Counting text the way each platform counts it, and fitting a message into its budget.

Platforms disagree on what a "character" is: Bluesky and Mastodon count grapheme clusters
(what a reader sees as one character: an emoji with a skin tone, a flag, e + accent),
Bluesky also caps UTF-8 bytes, Telegram and Teams (.NET) count UTF-16 code units, Discord
counts code points, Slack says "characters" (counted here as UTF-16 units, never fewer
than code points), and Mastodon counts every URL as a fixed 23 characters whatever its
length. :func:`shorten` cuts to a budget in any of these units.

The grapheme segmentation is a compact version of Unicode's extended grapheme cluster
rules (UAX #29) without a dependency. Where it is simplified, it only ever *splits* a
cluster the full rules would join, so it can over-count but never under-count: a message
it says fits, fits.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal

Unit = Literal["graphemes", "bytes", "chars", "utf16"]
URL_RE = re.compile(r"https?://[^\s<>\"']+")

_REGIONAL = range(0x1F1E6, 0x1F200)
_MODIFIERS = range(0x1F3FB, 0x1F400)
_PICTOGRAPHIC = (
    range(0x1F000, 0x1FB00),
    range(0x1FC00, 0x1FFFE),
    range(0x2600, 0x27C0),
    range(0x2300, 0x2400),
    range(0x2B00, 0x2C00),
    range(0x2190, 0x2200),
    range(0x3030, 0x3031),
    range(0x303D, 0x303E),
    range(0x3297, 0x3298),
    range(0x3299, 0x329A),
)
_PICTOGRAPHIC_SINGLE = frozenset(
    {0xA9, 0xAE, 0x203C, 0x2049, 0x2122, 0x2139, 0x24C2, 0x25B6, 0x25C0}
)


def _is_pictographic(cp: int) -> bool:
    return cp in _PICTOGRAPHIC_SINGLE or any(cp in r for r in _PICTOGRAPHIC)


def _is_control(ch: str) -> bool:
    return ch in "\r\n" or (unicodedata.category(ch) in ("Cc", "Zl", "Zp") and ch != "\u200d")


def _is_extend(ch: str) -> bool:
    cp = ord(ch)
    return (
        unicodedata.category(ch) in ("Mn", "Me", "Mc")
        or ch in "\u200c\u200d"
        or cp in _MODIFIERS
        or 0xE0020 <= cp <= 0xE007F
    )


def _hangul(cp: int) -> str | None:
    if 0x1100 <= cp <= 0x115F or 0xA960 <= cp <= 0xA97F:
        return "L"
    if 0x1160 <= cp <= 0x11A7 or 0xD7B0 <= cp <= 0xD7C6:
        return "V"
    if 0x11A8 <= cp <= 0x11FF or 0xD7CB <= cp <= 0xD7FB:
        return "T"
    if 0xAC00 <= cp <= 0xD7A3:
        return "LV" if (cp - 0xAC00) % 28 == 0 else "LVT"
    return None


_HANGUL_JOINS = {
    "L": {"L", "V", "LV", "LVT"},
    "LV": {"V", "T"},
    "V": {"V", "T"},
    "LVT": {"T"},
    "T": {"T"},
}


def graphemes(text: str) -> Iterator[str]:
    """Split ``text`` into user-perceived characters (extended grapheme clusters)."""
    cluster = ""
    base = ""  # first character of the cluster
    last = ""  # last character of the cluster
    regional_run = 0
    for ch in text:
        if not cluster:
            cluster, base, last, regional_run = ch, ch, ch, int(ord(ch) in _REGIONAL)
            continue
        cp = ord(ch)
        join = False
        if last == "\r" and ch == "\n":
            join = True
        elif _is_control(last) or _is_control(ch):
            join = False
        elif (
            _is_extend(ch)
            or (last == "\u200d" and _is_pictographic(cp) and _is_pictographic(ord(base)))
            or (cp in _REGIONAL and ord(last) in _REGIONAL and regional_run % 2 == 1)
        ):
            join = True
        else:
            prev_h, this_h = _hangul(ord(last)), _hangul(cp)
            join = prev_h is not None and this_h is not None and this_h in _HANGUL_JOINS[prev_h]
        if join:
            cluster += ch
            if cp in _REGIONAL:
                regional_run += 1
        else:
            yield cluster
            cluster, base, regional_run = ch, ch, int(cp in _REGIONAL)
        last = ch
    if cluster:
        yield cluster


def count(text: str, unit: Unit, *, url_length: int | None = None) -> int:
    """Length of ``text`` as a platform counts it; with ``url_length``, each URL counts that much."""
    urls = 0
    if url_length is not None:
        text, urls = URL_RE.subn("", text)
    if unit == "graphemes":
        n = sum(1 for _ in graphemes(text))
    elif unit == "bytes":
        n = len(text.encode("utf-8"))
    elif unit == "utf16":
        n = len(text.encode("utf-16-le")) // 2
    else:
        n = len(text)
    return n + urls * (url_length or 0)


def shorten(
    text: str,
    budget: int,
    *,
    unit: Unit = "graphemes",
    max_bytes: int | None = None,
    ellipsis: str = "…",
) -> str:
    """``text`` cut to at most ``budget`` in ``unit`` (and ``max_bytes`` UTF-8 bytes), the
    ellipsis included, at a word boundary if one is near.

    The cut falls between grapheme clusters only, so an emoji sequence or an accent is never
    split, even when the budget is counted in code points, UTF-16 units or bytes: the
    result may then be a little under the budget, never over it.
    """
    if count(text, unit) <= budget and (max_bytes is None or len(text.encode()) <= max_bytes):
        return text
    if budget <= 0 or max_bytes == 0:
        return ""

    def size(piece: str) -> tuple[int, int]:
        return count(piece, unit), len(piece.encode("utf-8"))

    limit_bytes = max_bytes if max_bytes is not None else -1
    mark, mark_bytes = size(ellipsis)
    if mark > budget or (limit_bytes >= 0 and mark_bytes > limit_bytes):
        mark, mark_bytes, ellipsis = 0, 0, ""
    room, room_bytes = budget - mark, (limit_bytes - mark_bytes if limit_bytes >= 0 else -1)
    kept: list[str] = []
    used = used_bytes = 0
    for cluster in graphemes(text):
        n, b = size(cluster)
        if used + n > room or (room_bytes >= 0 and used_bytes + b > room_bytes):
            break
        kept.append(cluster)
        used, used_bytes = used + n, used_bytes + b
    cut = "".join(kept).rstrip()
    space = cut.rfind(" ")
    if space >= max(1, len(cut) - 20):
        cut = cut[:space]
    # Stripping only removes characters, so the result stays within the budget.
    return cut.rstrip(" ,;:.-–—") + ellipsis


@dataclass(frozen=True, kw_only=True)
class Fitted:
    text: str
    length: int
    summary_kept: int | None
    title_kept: int | None


def fit(
    render: Callable[[int | None, int | None], str],
    measure: Callable[[str], int],
    limit: int,
    *,
    summary_len: int,
    title_len: int,
) -> Fitted | None:
    """Render within ``limit``: shorten the summary first, then the title; never the link.

    ``render(summary_kept, title_kept)`` renders with the summary/title cut to that many
    graphemes (None: whole). Returns None when even an empty summary and a one-word title
    do not fit (the template itself, or the link, is longer than the platform allows).
    """
    text = render(None, None)
    if measure(text) <= limit:
        return Fitted(text=text, length=measure(text), summary_kept=None, title_kept=None)

    def best(length: int, make: Callable[[int], str]) -> tuple[int, str] | None:
        lo, hi, found = 0, length, None
        while lo <= hi:
            mid = (lo + hi) // 2
            candidate = make(mid)
            if measure(candidate) <= limit:
                found, lo = (mid, candidate), mid + 1
            else:
                hi = mid - 1
        return found

    summary = best(summary_len, lambda n: render(n, None))
    if summary is not None:
        return Fitted(
            text=summary[1], length=measure(summary[1]), summary_kept=summary[0], title_kept=None
        )
    title = best(title_len, lambda n: render(0, n))
    if title is not None and title[0] > 0:
        return Fitted(text=title[1], length=measure(title[1]), summary_kept=0, title_kept=title[0])
    return None
