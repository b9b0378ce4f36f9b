"""Card text clean-up: markdown, HTML tags and entities out of a title or summary.

Plain text in, plain text out; line breaking and fitting are in :mod:`publisher.cards.text`.
"""

from __future__ import annotations

import bisect
import html
import re

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
    if _MARKUP.search(text) is None:
        return " ".join(text.split())  # nothing any pass below would remove or decode
    return _cleaned(text)


#: The characters some pass of :func:`_cleaned` acts on (a tag, a heading, a link or an
#: image, code, emphasis, an entity, a control or invisible character): most titles and
#: summaries have none, and only their spaces are collapsed.
_MARKUP = re.compile(r"[<#\[`*_~&\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u00ad\u200b\ufeff]")


def _cleaned(text: str) -> str:
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
