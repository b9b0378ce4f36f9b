"""Unicode text segmentation and direction: the one module that knows the Unicode rules.

* :func:`graphemes`: user-perceived characters (extended grapheme clusters, UAX #29).
* :func:`line_segments`: where a line may end (UAX #14), with dictionaries for the scripts
  written without spaces (Thai, Lao, Khmer, Burmese), tailored for Korean.
* :func:`paragraph_direction` and :func:`visual_runs`: the bidirectional algorithm (UAX #9)
  for a right-to-left title with Latin words, numbers and brackets in it, the title's
  direction set by most of its words (rule HL1).

Segmentation is ICU's (through ``icu4py``, which bundles ICU, so no system library is
needed); the bidirectional levels are ``python-bidi``'s. Both are checked against Unicode's
own test files in ``tests/test_unicode.py``. Nothing else in publisher splits text by hand.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Iterable
from typing import Literal

from bidi import VERSION as _BIDI_VERSION
from bidi import algorithm as _bidi
from bidi import get_base_level, get_display
from icu4py import icu_version
from icu4py.breakers import CharacterBreaker, LineBreaker

Direction = Literal["ltr", "rtl"]

#: What decides where text breaks and which way it runs: a new ICU can move a line break
#: (its rules, its Thai dictionary), so a cache of drawn text keys on this.
ENGINE = f"icu {icu_version}; python-bidi {_BIDI_VERSION}"

#: ICU's root rules: the Unicode defaults, with no language's tailoring.
_ROOT = "und"


def _pieces(breaker: Callable[[str, str], Iterable[str]], text: str) -> tuple[str, ...]:
    """The text cut where ICU's ``breaker`` says, as pieces of ``text`` itself.

    ICU works on UTF-16 and refuses a lone surrogate (possible in a YAML ``"\\ud800"``
    escape); it is broken as U+FFFD would be, which is one code point too, so the pieces
    still cut ``text`` at the same places.
    """
    try:
        return tuple(breaker(text, _ROOT))
    except UnicodeEncodeError:
        safe = "".join("\ufffd" if 0xD800 <= ord(c) <= 0xDFFF else c for c in text)
        out: list[str] = []
        start = 0
        for piece in breaker(safe, _ROOT):
            out.append(text[start : start + len(piece)])
            start += len(piece)
        return tuple(out)


#: Texts up to this long are cached: a card measures the same words and prefixes many
#: times while it fits a title. Longer ones (whole messages) would only fill the cache.
_CACHED = 256


@functools.lru_cache(maxsize=4096)
def _short_graphemes(text: str) -> tuple[str, ...]:
    return _pieces(CharacterBreaker, text)


def graphemes(text: str) -> list[str]:
    """Split ``text`` into extended grapheme clusters (UAX #29): an emoji with its skin
    tone or ZWJ sequence, a flag, a letter with its accents, a Hangul syllable written as
    jamo, CR LF, an Indic conjunct are each one item."""
    if text.isascii() and "\r\n" not in text:
        return list(text)  # every ASCII character but CR LF is a cluster of its own
    if len(text) <= _CACHED:
        return list(_short_graphemes(text))
    return list(_pieces(CharacterBreaker, text))


def is_hangul(ch: str) -> bool:
    """A Hangul syllable or jamo (the scripts Korean is written in)."""
    code = ord(ch)
    return (
        0xAC00 <= code <= 0xD7FF  # syllables and jamo extended-B
        or 0x1100 <= code <= 0x11FF  # jamo
        or 0x3130 <= code <= 0x318F  # compatibility jamo
        or 0xA960 <= code <= 0xA97F  # jamo extended-A
        or 0xFFA0 <= code <= 0xFFDC  # half-width jamo
    )


def _wordish(ch: str, *, before: bool) -> bool:
    """A letter, digit or, on its side of a word, a bracket or quote that belongs to it."""
    kind = unicodedata.category(ch)
    if kind[0] in "LNM":
        return True
    return kind in (("Pe", "Pf") if before else ("Ps", "Pi"))


def _keeps_korean(before: str, after: str) -> bool:
    """Korean puts spaces between words and breaks lines only there (CSS ``word-break:
    keep-all``), while UAX #14 allows a break between any two Hangul syllables, which
    cuts a word in half. ICU has no keep-all rules, so the breaks it finds inside a
    Korean word (Hangul next to Hangul, a letter, a digit or a bracket) are dropped."""
    last, first = before[-1], after[0]
    if last.isspace():
        return False
    if is_hangul(last):
        return is_hangul(first) or _wordish(first, before=False)
    return is_hangul(first) and _wordish(last, before=True)


#: Dashes set between spaces ("word — word"): the dash stays at the end of a line.
_SPACED_DASHES = "—–"


# Fitting wraps the same title a dozen times (sizes, balancing): a few entries suffice.
@functools.lru_cache(maxsize=64)
def _line_segments(text: str) -> tuple[str, ...]:
    out: list[str] = []
    for piece in _pieces(LineBreaker, text):
        if out and (
            _keeps_korean(out[-1], piece) or (piece[0] in _SPACED_DASHES and out[-1][-1].isspace())
        ):
            out[-1] += piece
        else:
            out.append(piece)
    return tuple(out)


def line_segments(text: str) -> list[str]:
    """Split ``text`` after each place a line may end (UAX #14), keeping trailing spaces.

    ``"Hello 世界。ok"`` -> ``["Hello ", "世", "界。", "ok"]``; Thai words are found with
    ICU's dictionary (``"ภาษาไทยเป็น"`` -> ``["ภาษา", "ไทย", "เป็น"]``); a Korean word is
    never split (``"쿠버네티스 보안"`` -> ``["쿠버네티스 ", "보안"]``). Tailored so that a
    dash set between spaces ends a line rather than starting the next one.
    """
    return list(_line_segments(text))


_STRONG = frozenset({"L", "R", "AL"})


def paragraph_direction(text: str) -> Direction:
    """The direction of a title or summary: that of most of its words.

    UAX #9 alone (rules P2, P3) takes the first strong letter, so an Arabic title that
    starts with a product name (``"Cilium هو مشروع مفتوح المصدر"``) would be laid out left
    to right. Rule HL1 lets a higher-level protocol set the direction instead: here the
    direction of most words (by each word's first strong letter), and on a tie the first
    strong letter (skipping isolates, as P2 does). Left to right when there are no letters.
    """
    rtl = ltr = 0
    for word in text.split():
        kind = next((k for k in map(unicodedata.bidirectional, word) if k in _STRONG), None)
        rtl += kind in ("R", "AL")
        ltr += kind == "L"
    if rtl != ltr:
        return "rtl" if rtl > ltr else "ltr"
    return "rtl" if text and get_base_level(text) == 1 else "ltr"


def bidi_levels(text: str, direction: Direction) -> list[int]:
    """The embedding level of each code point of ``text`` in a paragraph of ``direction``
    (UAX #9 rules X1-I2, brackets paired by N0): even levels run left to right, odd ones
    right to left."""
    levels = _rust_levels(text, direction)
    return levels if levels is not None else _python_levels(text, direction)


_LEVELS = re.compile(r"levels: \[(.*?)\]", re.S)
_LEVEL = re.compile(r"Level\(\s*(\d+),?\s*\)")


def _rust_levels(text: str, direction: Direction) -> list[int] | None:
    """Levels from python-bidi's Rust ``unicode-bidi``, the complete UAX #9 (isolates,
    bracket pairs). Its only way out for them is ``debug=True``, which returns the Rust
    ``BidiInfo`` printed, with one level per UTF-8 byte; None when that cannot be read
    (a lone surrogate, another print format), and the caller uses the Python algorithm."""
    try:
        report = get_display(text, base_dir="R" if direction == "rtl" else "L", debug=True)
    except (UnicodeError, ValueError, TypeError):
        return None
    found = _LEVELS.search(str(report))
    by_byte = [int(level) for level in _LEVEL.findall(found.group(1))] if found else []
    if len(by_byte) != len(text.encode("utf-8")):
        return None
    levels: list[int] = []
    offset = 0
    for ch in text:
        levels.append(by_byte[offset])
        offset += len(ch.encode("utf-8"))
    return levels


def _python_levels(text: str, direction: Direction) -> list[int]:
    """Levels from python-bidi's Python algorithm (UAX #9 without isolates and bracket
    pairs), for text the Rust one cannot take."""
    storage = _bidi.get_empty_storage()
    storage["base_level"] = 1 if direction == "rtl" else 0
    storage["base_dir"] = "R" if direction == "rtl" else "L"
    _bidi.get_embedding_levels(text, storage)
    _bidi.explicit_embed_and_overrides(storage)
    _bidi.resolve_weak_types(storage)
    _bidi.resolve_neutral_types(storage, False)
    _bidi.resolve_implicit_levels(storage, False)
    resolved = iter(storage["chars"])
    # Joiners and embedding controls are removed by rule X9; each takes the level of
    # the character before it, so a ZWJ emoji sequence stays in one run.
    levels: list[int] = []
    pending = next(resolved, None)
    for ch in text:
        if pending is not None and pending["ch"] == ch:
            levels.append(int(pending["level"]))
            pending = next(resolved, None)
        else:
            levels.append(levels[-1] if levels else storage["base_level"])
    return levels


#: Bidirectional classes that can make part of a left-to-right line run right to left.
_RIGHT_TO_LEFT = frozenset({"R", "AL", "AN", "RLE", "RLO", "RLI"})


def visual_runs(line: str, direction: Direction) -> list[tuple[str, Direction]]:
    """``line`` as runs of one direction, in the order they appear from left to right
    (UAX #9 rule L2); each run's text stays in logical order, for the shaper.

    In a right-to-left paragraph, ``"مرحبا Cilium 🚀 eBPF"`` gives
    ``[("Cilium 🚀 eBPF", "ltr"), ("مرحبا ", "rtl")]``: the Latin phrase reads left to
    right as a whole, to the left of the Arabic.
    """
    if not line:
        return []
    if direction == "ltr" and not any(unicodedata.bidirectional(c) in _RIGHT_TO_LEFT for c in line):
        return [(line, "ltr")]  # nothing to reorder: most titles
    levels = bidi_levels(line, direction)
    # A run ends only between grapheme clusters: a cluster takes its first character's
    # level, so a mark or a joiner is never shaped apart from its base.
    runs: list[tuple[int, str]] = []
    position = 0
    for cluster in graphemes(line):
        level = levels[position]
        if runs and runs[-1][0] == level:
            runs[-1] = (level, runs[-1][1] + cluster)
        else:
            runs.append((level, cluster))
        position += len(cluster)
    # Rule L2: from the highest level down to the lowest odd one, reverse every stretch
    # of runs at that level or higher.
    lowest_odd = min(level for level, _ in runs) | 1
    for level in range(max(level for level, _ in runs), lowest_odd - 1, -1):
        index = 0
        while index < len(runs):
            if runs[index][0] < level:
                index += 1
                continue
            end = index
            while end < len(runs) and runs[end][0] >= level:
                end += 1
            runs[index:end] = runs[index:end][::-1]
            index = end
    return [(text, "rtl" if level % 2 else "ltr") for level, text in runs]
