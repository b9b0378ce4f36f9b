"""Card text: clean-up, grapheme clusters, line breaking and auto-fit. No fonts, no pixels.

Everything here works on a ``measure(text) -> width`` callable so it can be tested without
a font, and so the same code wraps Latin (break at spaces), CJK (break between
ideographs, never before closing punctuation) and Thai or long URLs (break anywhere at a
grapheme boundary when a word is wider than the line).
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass

Measure = Callable[[str], float]

ELLIPSIS = "…"

_MD_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_MD_LINK = re.compile(r"\[([^\]]+)\]\((?:[^()]|\([^)]*\))*\)")
_MD_REF_LINK = re.compile(r"\[([^\]]+)\]\[[^\]]*\]")
_MD_CODE = re.compile(r"`+([^`]+)`+")
_MD_STRONG = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_MD_EM_STAR = re.compile(r"(?<![\w*])\*(?=\S)(.+?)(?<=\S)\*(?![\w*])")
_MD_EM_UNDERSCORE = re.compile(r"(?<![\w_])_(?=\S)(.+?)(?<=\S)_(?![\w_])")
_MD_STRIKE = re.compile(r"~~(?=\S)(.+?)(?<=\S)~~")
_MD_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+")
_HTML_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>|<!--.*?-->", re.S)
_CONTROL = dict.fromkeys(
    [c for c in range(32) if c not in (9, 10, 13)] + list(range(0x7F, 0xA0)), None
)


def clean_text(text: str | None) -> str:
    """Plain text for a card: markdown, HTML tags and entities removed, spaces collapsed.

    Entities are decoded once after tags are stripped, so ``&lt;b&gt;`` stays visible as
    ``<b>`` (the author wrote it as text) while ``<b>`` itself disappears.
    """
    if not text:
        return ""
    text = _HTML_TAG.sub("", text)
    text = _MD_HEADING.sub("", text)
    text = _MD_IMAGE.sub(r"\1", text)
    text = _MD_LINK.sub(r"\1", text)
    text = _MD_REF_LINK.sub(r"\1", text)
    text = _MD_CODE.sub(r"\1", text)
    text = _MD_STRONG.sub(r"\2", text)
    text = _MD_STRIKE.sub(r"\1", text)
    text = _MD_EM_STAR.sub(r"\1", text)
    text = _MD_EM_UNDERSCORE.sub(r"\1", text)
    text = html.unescape(text).translate(_CONTROL)
    text = text.replace("\u00ad", "").replace("\u200b", "").replace("\ufeff", "")
    return " ".join(text.split())


# --- grapheme clusters (the subset of UAX #29 that matters for titles) ---------------------

_ZWJ = "\u200d"


def _extends(ch: str) -> bool:
    """A code point that belongs to the cluster before it."""
    code = ord(ch)
    if ch == _ZWJ or 0xFE00 <= code <= 0xFE0F or 0xE0020 <= code <= 0xE007F:
        return True
    if 0x1F3FB <= code <= 0x1F3FF:  # emoji skin-tone modifiers
        return True
    return unicodedata.category(ch) in ("Mn", "Me", "Mc")


def _regional(ch: str) -> bool:
    return 0x1F1E6 <= ord(ch) <= 0x1F1FF


def graphemes(text: str) -> list[str]:
    """Split into user-perceived characters: base + marks, ZWJ emoji, flags, CRLF."""
    clusters: list[str] = []
    for ch in text:
        if clusters:
            last = clusters[-1]
            if (
                _extends(ch)
                or last.endswith(_ZWJ)
                or (_regional(ch) and _regional(last[-1]) and _count_regional(last) % 2 == 1)
                or (ch == "\n" and last == "\r")
                or _hangul_joins(last[-1], ch)
            ):
                clusters[-1] = last + ch
                continue
        clusters.append(ch)
    return clusters


def _count_regional(cluster: str) -> int:
    return sum(1 for c in cluster if _regional(c))


def _hangul_joins(prev: str, ch: str) -> bool:
    """Conjoining jamo (L V T) form one syllable."""
    p, c = ord(prev), ord(ch)
    lead = 0x1100 <= p <= 0x115F
    vowel = 0x1160 <= p <= 0x11A7
    return (lead and (0x1100 <= c <= 0x11A7)) or (vowel and 0x1160 <= c <= 0x11FF)


# --- line breaking ---------------------------------------------------------------------------

#: Never start a line with these (closing brackets, CJK full stops, small kana).
_NO_START = set(
    "!%),.:;?]}¢°·’”‰′″›℃∶、。〃〆〕〗〞﹚﹜！＂％＇），．：；？］｝～"
    "々〻ゝゞ・ヽヾーァィゥェォッャュョヮヵヶぁぃぅぇぉっゃゅょゎゕゖㇰㇱㇲㇳㇴㇵㇶㇷㇸㇹㇺㇻㇼㇽㇾㇿ〉》」』】〙〟｠»"
)
#: Never end a line with these (opening brackets).
_NO_END = set("([{£¥‘“‹〈《「『【〔〖〘〝﹙﹛（［｛｢«")


def is_wide(ch: str) -> bool:
    """Scripts written without spaces between words, where a line may break anywhere."""
    code = ord(ch[0])
    return (
        0x2E80 <= code <= 0x9FFF  # CJK radicals, kana, CJK symbols, ideographs
        or 0xAC00 <= code <= 0xD7AF  # Hangul syllables
        or 0xF900 <= code <= 0xFAFF
        or 0xFF00 <= code <= 0xFFEF  # full-width forms
        or 0x20000 <= code <= 0x3FFFF
    )


def break_units(text: str) -> list[str]:
    """Split text into the smallest pieces a line may end after, keeping trailing spaces.

    ``"Hello 世界。ok"`` -> ``["Hello ", "世", "界。", "ok"]``.
    """
    units: list[str] = []
    current = ""
    clusters = graphemes(text)
    for index, cluster in enumerate(clusters):
        current += cluster
        nxt = clusters[index + 1] if index + 1 < len(clusters) else None
        if nxt is None:
            break
        if cluster.isspace():
            # A dash between spaces stays with the word before it, never starts a line.
            if not nxt.isspace() and nxt not in "—–":
                units.append(current)
                current = ""
            continue
        if nxt.isspace() or nxt in _NO_START or cluster in _NO_END:
            continue
        if is_wide(cluster) or is_wide(nxt) or (cluster in "-/–—" and len(current) > 2):
            units.append(current)
            current = ""
    if current:
        units.append(current)
    return units


def wrap(text: str, width: float, measure: Measure) -> list[str]:
    """Greedy line breaking at :func:`break_units`; a unit wider than the line is split
    between grapheme clusters."""
    lines: list[str] = []
    line = ""
    for unit in break_units(text):
        candidate = line + unit
        if measure(candidate.rstrip()) <= width:
            line = candidate
            continue
        if line.strip():
            lines.append(line.rstrip())
        line = ""
        unit = unit.lstrip()
        if measure(unit.rstrip()) <= width:
            line = unit
            continue
        for cluster in graphemes(unit):
            if line and measure((line + cluster).rstrip()) > width:
                lines.append(line.rstrip())
                line = cluster.lstrip()
            else:
                line += cluster
    if line.strip():
        lines.append(line.rstrip())
    return lines


def ellipsize(line: str, width: float, measure: Measure) -> str:
    """Shorten ``line`` at a grapheme boundary until it and an ellipsis fit ``width``."""
    clusters = graphemes(line.rstrip())
    while clusters:
        head = "".join(clusters).rstrip(" ,;:-–—·")
        if measure(head + ELLIPSIS) <= width:
            return head + ELLIPSIS
        clusters.pop()
    return ELLIPSIS


@dataclass(frozen=True, kw_only=True)
class Fitted:
    """Text broken into lines at one font size; ``truncated`` when an ellipsis was added."""

    size: int
    lines: tuple[str, ...]
    truncated: bool


def fit(
    text: str,
    *,
    width: float,
    height: float,
    sizes: Sequence[int],
    max_lines: int,
    line_height: float,
    measure_at: Callable[[int], Measure],
) -> Fitted:
    """The largest size in ``sizes`` at which ``text`` fits the box without truncation;
    failing that, the smallest size, clamped to the lines that fit, ending in an ellipsis."""
    ordered = sorted(set(sizes), reverse=True)

    def attempt(size: int) -> list[str] | None:
        lines = wrap(text, width, measure_at(size))
        allowed = min(max_lines, _lines_in(height, size, line_height))
        return lines if lines and len(lines) <= allowed else None

    # Fitting is monotonic in the size, so a binary search finds the largest fitting size
    # with a handful of wraps instead of one per candidate.
    low, high = 0, len(ordered) - 1
    best: tuple[int, list[str]] | None = None
    while low <= high:
        middle = (low + high) // 2
        lines = attempt(ordered[middle])
        if lines is not None:
            best = (ordered[middle], lines)
            high = middle - 1
        else:
            low = middle + 1
    if best is not None:
        return Fitted(size=best[0], lines=tuple(best[1]), truncated=False)
    size = ordered[-1]
    measure = measure_at(size)
    lines = wrap(text, width, measure)
    allowed = max(1, min(max_lines, _lines_in(height, size, line_height)))
    if len(lines) <= allowed:
        return Fitted(size=size, lines=tuple(lines), truncated=False)
    kept = lines[:allowed]
    kept[-1] = ellipsize(kept[-1] + " " + lines[allowed], width, measure)
    return Fitted(size=size, lines=tuple(kept), truncated=True)


def _lines_in(height: float, size: int, line_height: float) -> int:
    """How many lines of ``size`` fit ``height``: the last line needs only its own size."""
    if height < size:
        return 0
    return 1 + int((height - size) // (size * line_height))


def size_steps(low: int, high: int) -> list[int]:
    """Candidate sizes from ``high`` down to ``low``: every 2 px, so fitting stays cheap."""
    steps = list(range(high, low - 1, -2))
    if steps[-1] != low:
        steps.append(low)
    return steps


def base_direction(text: str) -> str:
    """``rtl`` when the first strongly directional character is Hebrew or Arabic."""
    for ch in text:
        kind = unicodedata.bidirectional(ch)
        if kind in ("R", "AL"):
            return "rtl"
        if kind == "L":
            return "ltr"
    return "ltr"
