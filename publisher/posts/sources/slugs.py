"""Each generator's slug function and URL pattern tokens, written from its documentation.

The slug functions differ in small ways that decide whether a URL exists: Hugo keeps '.'
and '+', MkDocs Material drops them, Jekyll collapses every run of other characters into
one '-'. Each is a loop or a linear regular expression over the (already size-capped) title.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Mapping
from datetime import datetime

from publisher.lazy import lazy_pattern

# Compiled on first use (_compiled): the Unicode classes take 15 ms to compile, and loading
# config.yaml imports this module for its URL tokens alone.
_TAGS = r"<[^<>]*>"
_NOT_WORD = r"[^\w\- ]"
_JEKYLL_DEFAULT = r"[^a-zA-Z0-9\u00c0-\uffff]+"
_JEKYLL_PRETTY = r"[^a-zA-Z0-9\u00c0-\uffff._~!$&'()+,;=@]+"
_ASCII_RUNS = r"[^a-z0-9]+"


@functools.cache
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def hugo(text: str, lowercase: bool = True) -> str:
    """Hugo's ``urlize`` (``UnicodeSanitize``): letters, digits, marks and ``._-#+~@/``
    stay, a run of spaces becomes one '-', anything else is dropped."""
    out: list[str] = []
    hyphen_next = False
    was_hyphen = False
    for char in text:
        allowed = char in "./\\_#+~-@" or unicodedata.category(char)[0] in "LNM"
        if allowed:
            was_hyphen = char == "-"
            if hyphen_next and not was_hyphen:
                out.append("-")
            hyphen_next = False
            out.append(char)
        elif out and not was_hyphen and char.isspace():
            hyphen_next = True
    slug = "".join(out)
    return slug.lower() if lowercase else slug


def pymdownx(text: str, separator: str = "-") -> str:
    """``pymdownx.slugs.slugify(case="lower")``, MkDocs Material's default post slug."""
    text = _compiled(_TAGS).sub("", text)
    text = unicodedata.normalize("NFC", text).strip().lower()
    return _compiled(_NOT_WORD).sub("", text).replace(" ", separator)


def github(text: str) -> str:
    """github-slugger's ``slug()`` (Astro ids): lower case, punctuation dropped, ' ' -> '-'."""
    return _compiled(_NOT_WORD).sub("", text.lower()).replace(" ", "-")


def jekyll(text: str, mode: str = "default", cased: bool = False) -> str:
    """Jekyll's ``Utils.slugify`` in its default and ``pretty`` modes."""
    pattern = _compiled(_JEKYLL_PRETTY if mode == "pretty" else _JEKYLL_DEFAULT)
    slug = pattern.sub("-", text).strip("-")
    return slug if cased else slug.lower()


def zola(text: str) -> str:
    """Zola's ``slugify.paths = "on"``: ASCII transliteration, lower case, '-' between words."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return _compiled(_ASCII_RUNS).sub("-", ascii_text.lower()).strip("-")


SLUGIFIERS: Mapping[str, Callable[[str], str]] = {
    "hugo": hugo,
    "mkdocs": pymdownx,
    "astro": github,
    "jekyll": jekyll,
    "zola": zola,
}


def date_tokens(date: datetime) -> dict[str, str]:
    """The date tokens the generators share, in the date's own offset (as Hugo does)."""
    return {
        "year": f"{date.year:04d}",
        "month": f"{date.month:02d}",
        "day": f"{date.day:02d}",
        "i_month": str(date.month),
        "i_day": str(date.day),
        "short_year": f"{date.year % 100:02d}",
        "y_day": f"{date.timetuple().tm_yday:03d}",
        "yearday": str(date.timetuple().tm_yday),
        "hour": f"{date.hour:02d}",
        "minute": f"{date.minute:02d}",
        "second": f"{date.second:02d}",
        "monthname": date.strftime("%B").lower(),
        "weekday": str(date.isoweekday() % 7),
    }


#: Tokens ``posts.url`` may use (the reader fills the ones each generator knows).
URL_TOKENS = ("year", "month", "day", "slug", "id", "section", "title", "filename", "categories")

_COLON_TOKEN = lazy_pattern(r":([a-z_]+)")
_BRACE_TOKEN = lazy_pattern(r"\{([a-z_]*)\}")


def unknown_tokens(pattern: str, known: tuple[str, ...], style: str = "colon") -> list[str]:
    """Tokens in ``pattern`` that the generator does not define."""
    regex = _COLON_TOKEN if style == "colon" else _BRACE_TOKEN
    return sorted({m.group(1) for m in regex.finditer(pattern) if m.group(1) not in known})


def expand(pattern: str, tokens: Mapping[str, str], style: str = "colon") -> str:
    """``pattern`` with each ``:token`` (Hugo, Jekyll) or ``{token}`` (MkDocs, posts.url)
    replaced; the longest token name wins (``:slugorfilename`` before ``:slug``)."""
    if style == "brace":
        return _BRACE_TOKEN.sub(lambda m: tokens.get(m.group(1), m.group(0)), pattern)
    names = sorted(tokens, key=len, reverse=True)

    def one(match: re.Match[str]) -> str:
        word = match.group(1)
        for name in names:
            if word.startswith(name):
                return tokens[name] + word[len(name) :]
        return match.group(0)

    return _COLON_TOKEN.sub(one, pattern)


def tidy_path(path: str, trailing_slash: bool = True) -> str:
    """One leading '/', no '//' runs, and the trailing '/' the generator writes (or not)."""
    parts = [p for p in path.split("/") if p]
    text = "/" + "/".join(parts)
    if trailing_slash and text != "/":
        text += "/"
    return text
