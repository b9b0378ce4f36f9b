"""Counting text the way each platform counts it, and fitting a message into its budget.

Platforms disagree on what a "character" is: Bluesky and Mastodon count grapheme clusters
(what a reader sees as one character: an emoji with a skin tone, a flag, e + accent),
Bluesky also caps UTF-8 bytes, Telegram and Teams (.NET) count UTF-16 code units, Discord
counts code points, Slack says "characters" (counted here as UTF-16 units, never fewer
than code points), and Mastodon counts every URL as a fixed 23 characters whatever its
length. :func:`shorten` cuts to a budget in any of these units.

Grapheme clusters come from :mod:`publisher.unicode` (ICU's UAX #29), the same as on cards.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from publisher.unicode import graphemes

__all__ = ["URL_RE", "Fitted", "Unit", "count", "fit", "graphemes", "shorten"]

Unit = Literal["graphemes", "bytes", "chars", "utf16"]
URL_RE = re.compile(r"https?://[^\s<>\"']+")


def count(text: str, unit: Unit, *, url_length: int | None = None) -> int:
    """Length of ``text`` as a platform counts it; with ``url_length``, each URL counts that much."""
    urls = 0
    if url_length is not None:
        text, urls = URL_RE.subn("", text)
    if unit == "graphemes":
        n = len(graphemes(text))
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
