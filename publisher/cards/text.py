"""Card text: line breaking and auto-fit. No fonts, no pixels.

Everything here works on a ``measure(text) -> width`` callable so it can be tested without
a font. Lines break where Unicode allows (UAX #14, through :mod:`publisher.unicode`):
Latin at spaces and after hyphens, Chinese and Japanese between characters (never before
closing punctuation), Thai between dictionary words, Korean between words only; a word
wider than the line is split between grapheme clusters.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from publisher.cards.clean import clean_text
from publisher.unicode import Direction, graphemes, line_segments, paragraph_direction

__all__ = [
    "ELLIPSIS",
    "Fitted",
    "Measure",
    "balance",
    "base_direction",
    "break_units",
    "clean_text",
    "ellipsize",
    "fit",
    "graphemes",
    "is_wide",
    "size_steps",
    "wrap",
]

Measure = Callable[[str], float]

ELLIPSIS = "…"


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
    """Split text into the smallest pieces a line may end after, keeping trailing spaces
    (UAX #14 line break opportunities, see :func:`publisher.unicode.line_segments`).

    ``"Hello 世界。ok"`` -> ``["Hello ", "世", "界。", "ok"]``.
    """
    return line_segments(text)


def wrap(text: str, width: float, measure: Measure, estimate: Measure | None = None) -> list[str]:
    """Greedy line breaking at :func:`break_units`; a unit wider than the line is split
    between grapheme clusters.

    ``estimate``, when given, is a cheap rough width that adds up over pieces of text
    (see :func:`publisher.cards.fonts.estimator`): most decisions are then taken from it
    and only those that shape the lines are measured, with the same lines as a result.
    """
    if estimate is not None:
        estimated = _wrap_estimated(text, width, measure, estimate)
        if estimated is not None:
            return estimated
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


#: Estimated widths this close to the line's width (a share of it) are measured instead:
#: kerning and hinting keep an estimate within a few per cent of the real width.
_CLOSE = 0.05


def _wrap_estimated(
    text: str, width: float, measure: Measure, estimate: Measure
) -> list[str] | None:
    """:func:`wrap` deciding from ``estimate`` what is clearly in or out of a line, then
    measuring each decision that made a line what it is: the last piece that fitted and
    the one that did not. If any of those was wrong, None (the caller wraps by measuring
    every step). A piece added to a line never makes it narrower, so when a line's last
    piece fits, the earlier ones did too. A unit too wide for a line alone (split between
    clusters) is left to the measuring wrap as well.
    """
    close = width * _CLOSE
    lines: list[str] = []
    checks: list[tuple[str, bool]] = []  # (text, fits) decided from the estimate
    pending: str | None = None  # the line's last fit, if it was decided from the estimate
    line, line_width = "", 0.0
    for unit in break_units(text):
        candidate = (line + unit).rstrip()
        guess = line_width + estimate(unit.rstrip())
        if abs(guess - width) <= close:
            fits, settled = measure(candidate) <= width, True
        else:
            fits, settled = guess <= width, False
        if fits:
            pending = None if settled else candidate
            line, line_width = line + unit, line_width + estimate(unit)
            continue
        if not settled:
            checks.append((candidate, False))
        if pending is not None:
            checks.append((pending, True))
        if line.strip():
            lines.append(line.rstrip())
        unit = unit.lstrip()
        if estimate(unit.rstrip()) > width - close:
            return None
        line, line_width, pending = unit, estimate(unit), unit.rstrip()
    if pending is not None:
        checks.append((pending, True))
    if line.strip():
        lines.append(line.rstrip())
    if any((measure(piece) <= width) != fits for piece, fits in checks):
        return None
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


def balance(
    text: str, lines: list[str], width: float, measure: Measure, estimate: Measure | None = None
) -> list[str]:
    """No lone last word: when the last of several lines is a single word and a narrower
    measure gives the same number of lines, use the narrowest such (balanced) wrapping.

    Binary search over the width: about ten more wraps, only for titles that need it.
    """
    if len(lines) < 2 or not _one_word(lines[-1]):
        return lines
    low, high = width * 0.5, width
    best = lines
    for _ in range(10):
        middle = (low + high) / 2
        attempt = wrap(text, middle, measure, estimate)
        if len(attempt) == len(lines) and all(measure(x) <= middle for x in attempt):
            best, high = attempt, middle
        else:
            low = middle
    if _one_word(best[-1]):
        return lines  # one long word per line: nothing better exists
    return best


def _spaceless(ch: str) -> bool:
    """Thai, Lao, Burmese or Khmer: written without spaces between words."""
    code = ord(ch)
    return 0x0E00 <= code <= 0x0EFF or 0x1000 <= code <= 0x109F or 0x1780 <= code <= 0x17FF


def _one_word(line: str) -> bool:
    """A line holding a single word: no space in it, or, in the scripts written without
    spaces, one dictionary word. A line of Chinese or Japanese never counts as one."""
    line = line.strip()
    if " " in line or any(is_wide(c) for c in line):
        return False
    if any(_spaceless(c) for c in line):
        return len(break_units(line)) < 2
    return True


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
    estimate_at: Callable[[int], Measure | None] | None = None,
) -> Fitted:
    """The largest size in ``sizes`` at which ``text`` fits the box without truncation;
    failing that, the smallest size, clamped to the lines that fit, ending in an ellipsis.

    ``estimate_at``: a rough additive width at each size, for :func:`wrap`."""
    ordered = sorted(set(sizes), reverse=True)

    def estimate(size: int) -> Measure | None:
        return estimate_at(size) if estimate_at is not None else None

    def attempt(size: int) -> list[str] | None:
        lines = wrap(text, width, measure_at(size), estimate(size))
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
        balanced = balance(text, lines, width, measure_at(size), estimate(size))
        return Fitted(size=size, lines=tuple(balanced), truncated=False)
    size = ordered[-1]
    measure = measure_at(size)
    lines = wrap(text, width, measure, estimate(size))
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


def base_direction(text: str) -> Direction:
    """The direction of a whole title or summary (UAX #9 P2-P3: its first strong letter),
    so every line of it is laid out the same way."""
    return paragraph_direction(text)
