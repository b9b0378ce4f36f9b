"""Card text: clean-up, grapheme clusters, line breaking and auto-fit. No fonts, no pixels.

Everything here works on a ``measure(text) -> width`` callable so it can be tested without
a font, and so the same code wraps Latin (break at spaces), CJK (break between
ideographs, never before closing punctuation) and Thai or long URLs (break anywhere at a
grapheme boundary when a word is wider than the line).
"""

from __future__ import annotations

import bisect
import html
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass

Measure = Callable[[str], float]

ELLIPSIS = "…"

_MD_CODE = re.compile(r"(?<!`)`++([^`]+)`+")
_MD_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+")
_HTML_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>")
_CONTROL = dict.fromkeys(
    [c for c in range(32) if c not in (9, 10, 13)] + list(range(0x7F, 0xA0)), None
)

# Titles and summaries come from untrusted posts, so every pass below is linear in the
# length of the text. Python's regular expressions retry a failed match from every later
# position: a pattern like ``\[([^\]]+)\]\(`` or ``\*\*(.+?)\*\*`` costs O(n^2) on
# ``[[[[...`` or ``**a **a ...`` (a 48 KB title took a minute). The only regex kept above
# are ones whose failed attempts scan disjoint stretches of text (a tag attempt stops at
# the next ``<``; ``(?<!`)`++`` starts once per run of backticks). Links, images and
# emphasis are matched by the small scanners below, which give the same results as the
# regexes they replace (see the table test) and never look at a character twice per pass.


def clean_text(text: str | None) -> str:
    """Plain text for a card: markdown, HTML tags and entities removed, spaces collapsed.

    Entities are decoded once after tags are stripped, so ``&lt;b&gt;`` stays visible as
    ``<b>`` (the author wrote it as text) while ``<b>`` itself disappears.
    """
    if not text:
        return ""
    text = _strip_tags(text)
    text = _MD_HEADING.sub("", text)
    text = _strip_brackets(text, image=True)
    text = _strip_brackets(text, image=False)
    text = _strip_ref_links(text)
    text = _MD_CODE.sub(r"\1", text)
    text = _strip_pairs(text, ("**", "__"), flanked=False)
    text = _strip_pairs(text, ("~~",), flanked=False)
    text = _strip_pairs(text, ("*",), flanked=True)
    text = _strip_pairs(text, ("_",), flanked=True)
    text = html.unescape(text).translate(_CONTROL)
    text = text.replace("\u00ad", "").replace("\u200b", "").replace("\ufeff", "")
    return " ".join(text.split())


class _Next:
    """``text.find(char, pos)`` in O(log n) for a few characters, from one index of their
    positions, so scanners can ask it from any position without rescanning the text."""

    def __init__(self, text: str, chars: str) -> None:
        self._positions = {c: [m.start() for m in re.finditer(re.escape(c), text)] for c in chars}

    def __call__(self, char: str, pos: int) -> int:
        positions = self._positions[char]
        index = bisect.bisect_left(positions, pos)
        return positions[index] if index < len(positions) else -1


def _strip_tags(text: str) -> str:
    r"""Remove HTML tags and ``<!-- comments -->`` in one left-to-right pass, as
    ``</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>|<!--.*?-->`` did. A tag attempt stops at the
    next ``<`` or ``>``; once a comment is found unclosed, no later one is tried."""
    out: list[str] = []
    copied = 0
    pos = 0
    comments = True
    while True:
        start = text.find("<", pos)
        if start < 0:
            break
        end = -1
        if comments and text.startswith("<!--", start):
            close = text.find("-->", start + 4)
            if close < 0:
                comments = False
            else:
                end = close + 3
        else:
            match = _HTML_TAG.match(text, start)
            if match is not None:
                end = match.end()
        if end < 0:
            pos = start + 1
            continue
        out.append(text[copied:start])
        copied = pos = end
    out.append(text[copied:])
    return "".join(out)


def _strip_brackets(text: str, *, image: bool) -> str:
    r"""``![alt](url)`` -> ``alt`` (image) or ``[text](url (title))`` -> ``text`` (link).

    Same matches as ``!\[([^\]]*)\]\([^)]*\)`` and
    ``\[([^\]]+)\]\((?:[^()]|\([^)]*\))*\)``: a failed attempt starting at ``[`` fails the
    same way for every ``[`` before the first ``]``, so the scan resumes after that ``]``;
    a link's parentheses are walked once, with every walked position remembered.
    """
    nxt = _Next(text, "[]()")
    opener = "![" if image else "["
    skip = 2 if image else 1
    walked: dict[int, int] = {}  # position inside a link's (...) -> index of its ")" or -1
    out: list[str] = []
    copied = 0
    pos = 0
    while True:
        start = text.find(opener, pos)
        if start < 0:
            break
        close = nxt("]", start + skip)
        if close < 0:
            break  # no "]" left: nothing later can match
        if (not image and close == start + 1) or not text.startswith("(", close + 1):
            pos = close + 1
            continue
        end = nxt(")", close + 2) if image else _walk(nxt, close + 2, walked)
        if end < 0:
            pos = close + 1
            continue
        out.append(text[copied:start])
        out.append(text[start + skip : close])
        copied = pos = end + 1
    out.append(text[copied:])
    return "".join(out)


def _walk(nxt: _Next, pos: int, walked: dict[int, int]) -> int:
    """Index of the ``)`` ending a link's ``(...)`` whose content starts at ``pos``, where
    nested ``(...)`` are skipped whole; -1 when there is none."""
    trail: list[int] = []
    result = -1
    while True:
        if pos in walked:
            result = walked[pos]
            break
        trail.append(pos)
        closing = nxt(")", pos)
        if closing < 0:
            break
        opening = nxt("(", pos)
        if opening < 0 or closing < opening:
            result = closing
            break
        inner = nxt(")", opening + 1)
        if inner < 0:
            break
        pos = inner + 1
    for seen in trail:
        walked[seen] = result
    return result


def _strip_ref_links(text: str) -> str:
    r"""``[text][ref]`` -> ``text``, as ``\[([^\]]+)\]\[[^\]]*\]`` did, in one pass."""
    nxt = _Next(text, "]")
    out: list[str] = []
    copied = 0
    pos = 0
    while True:
        start = text.find("[", pos)
        if start < 0:
            break
        close = nxt("]", start + 1)
        if close < 0:
            break
        if close == start + 1 or not text.startswith("[", close + 1):
            pos = close + 1
            continue
        end = nxt("]", close + 2)
        if end < 0:
            break
        out.append(text[copied:start])
        out.append(text[start + 1 : close])
        copied = pos = end + 1
    out.append(text[copied:])
    return "".join(out)


def _word(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def _strip_pairs(text: str, delimiters: tuple[str, ...], *, flanked: bool) -> str:
    r"""``**x**`` -> ``x`` for each delimiter: the content is on one line, starts and ends
    with a non-space, and is as short as possible. ``flanked`` (single ``*`` and ``_``):
    the delimiters must not touch a word character or another of the same character.

    The same matches as ``(\*\*|__)(?=\S)(.+?)(?<=\S)\1`` and
    ``(?<![\w*])\*(?=\S)(.+?)(?<=\S)\*(?![\w*])``: whether a closing delimiter is
    usable does not depend on where its opener is, so once an opener finds none on its
    line, no later opener on that line can; the line is then skipped for that delimiter.
    """
    n = len(text)
    out: list[str] = []
    copied = 0
    pos = 0
    dead: dict[str, int] = {}  # delimiter -> end of the line where it cannot close
    firsts = "".join(sorted({d[0] for d in delimiters}))

    def opens(d: str, i: int) -> bool:
        after = i + len(d)
        if after >= n or text[after].isspace():
            return False
        return not (flanked and i > 0 and (_word(text[i - 1]) or text[i - 1] == d))

    def closes(d: str, j: int) -> bool:
        if text[j - 1].isspace():
            return False
        after = j + len(d)
        return not (flanked and after < n and (_word(text[after]) or text[after] == d))

    while pos < n:
        i = min((k for k in (text.find(c, pos) for c in firsts) if k >= 0), default=-1)
        if i < 0:
            break
        matched = False
        for d in delimiters:
            if not text.startswith(d, i) or dead.get(d, -1) > i or not opens(d, i):
                continue
            line_end = text.find("\n", i)
            line_end = n if line_end < 0 else line_end
            j = text.find(d, i + len(d) + 1, line_end)
            while j >= 0 and not closes(d, j):
                j = text.find(d, j + 1, line_end)
            if j < 0 or j + len(d) > line_end:
                dead[d] = line_end
                continue
            out.append(text[copied:i])
            out.append(text[i + len(d) : j])
            copied = pos = j + len(d)
            matched = True
            break
        if not matched:
            pos = i + 1
    out.append(text[copied:])
    return "".join(out)


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
    clusters: list[list[str]] = []
    regional = 0  # regional indicators in the last cluster (flags pair them up)
    for ch in text:
        if clusters:
            last = clusters[-1]
            prev = last[-1]
            if (
                _extends(ch)
                or prev == _ZWJ
                or (_regional(ch) and _regional(prev) and regional % 2 == 1)
                or (ch == "\n" and last == ["\r"])
                or _hangul_joins(prev, ch)
            ):
                last.append(ch)
                regional += _regional(ch)
                continue
        clusters.append([ch])
        regional = int(_regional(ch))
    return ["".join(cluster) for cluster in clusters]


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
    """Scripts written without spaces between words, where a line may break anywhere.

    Not Hangul: Korean puts spaces between words and breaks lines there (CSS
    ``word-break: keep-all``), so a Korean word is kept whole like a Latin one.
    """
    code = ord(ch[0])
    return (
        0x2E80 <= code <= 0x9FFF  # CJK radicals, kana, CJK symbols, ideographs
        or 0xF900 <= code <= 0xFAFF
        or 0xFF00 <= code <= 0xFFEF  # full-width forms
        or 0x20000 <= code <= 0x3FFFF
    )


def break_units(text: str) -> list[str]:
    """Split text into the smallest pieces a line may end after, keeping trailing spaces.

    ``"Hello 世界。ok"`` -> ``["Hello ", "世", "界。", "ok"]``.
    """
    units: list[str] = []
    current: list[str] = []
    length = 0
    clusters = graphemes(text)
    for index, cluster in enumerate(clusters):
        current.append(cluster)
        length += len(cluster)
        nxt = clusters[index + 1] if index + 1 < len(clusters) else None
        if nxt is None:
            break
        if cluster.isspace():
            # A dash between spaces stays with the word before it, never starts a line.
            if not nxt.isspace() and nxt not in "—–":
                units.append("".join(current))
                current, length = [], 0
            continue
        if nxt.isspace() or nxt in _NO_START or cluster in _NO_END:
            continue
        if is_wide(cluster) or is_wide(nxt) or (cluster in "-/–—" and length > 2):
            units.append("".join(current))
            current, length = [], 0
    if current:
        units.append("".join(current))
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


_TRAILING = " ,;:-–—·"


def ellipsize(line: str, width: float, measure: Measure) -> str:
    """Shorten ``line`` until it and an ellipsis fit ``width``, dropping whole words.

    A word is a :func:`break_units` piece (a word with its space, one CJK character, a
    hyphenated part), so ``Transparent Encryption`` becomes ``Transparent…``, never
    ``Transparent Encry…``. Only a first word too wide on its own is cut, at a grapheme
    boundary (an emoji sequence or an accented letter is never split).
    """
    units = break_units(line.rstrip())
    if len(units) > 1 and units[-1].rstrip()[-1:] in ("-", "/", "–", "—"):
        units.pop()  # "kube-" is the start of "kube-proxy": "kube…" would read as a cut word
    while len(units) > 1:
        head = "".join(units).rstrip(_TRAILING)
        if head and measure(head + ELLIPSIS) <= width:
            return head + ELLIPSIS
        units.pop()
    clusters = graphemes("".join(units).rstrip())
    while clusters:
        head = "".join(clusters).rstrip(_TRAILING)
        if measure(head + ELLIPSIS) <= width:
            return head + ELLIPSIS
        clusters.pop()
    return ELLIPSIS


def balance(text: str, lines: list[str], width: float, measure: Measure) -> list[str]:
    """No lone last word: when the last of several lines is a single word and a narrower
    measure gives the same number of lines, use the narrowest such (balanced) wrapping.

    Binary search over the width: about ten more wraps, only for titles that need it.
    """
    if len(lines) < 2 or " " in lines[-1].strip() or any(is_wide(c) for c in lines[-1]):
        return lines
    low, high = width * 0.5, width
    best = lines
    for _ in range(10):
        middle = (low + high) / 2
        attempt = wrap(text, middle, measure)
        if len(attempt) == len(lines) and all(measure(x) <= middle for x in attempt):
            best, high = attempt, middle
        else:
            low = middle
    if " " not in best[-1].strip():
        return lines  # one long word per line: nothing better exists
    return best


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
        size, lines = best
        return Fitted(
            size=size, lines=tuple(balance(text, lines, width, measure_at(size))), truncated=False
        )
    size = ordered[-1]
    measure = measure_at(size)
    lines = wrap(text, width, measure)
    allowed = max(1, min(max_lines, _lines_in(height, size, line_height)))
    if len(lines) <= allowed:
        return Fitted(size=size, lines=tuple(lines), truncated=False)
    kept = lines[:allowed]
    # The kept line alone: the next line's words are what is left out (joining them with a
    # space added one after a hyphen break, "kube- p…", and let a cut fall mid-word).
    kept[-1] = ellipsize(kept[-1], width, measure)
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
