"""Frontmatter made only of ``key: value`` lines, read without libyaml's parser.

Most posts' frontmatter is a handful of top-level keys, each with a plain word, a quoted
string or a one-line list of words. libyaml's composer makes a node and two marks per
value in Python objects, which cost more than the rest of reading the frontmatter (issue
12: a tenth of a cold build's CPU per post). This reads exactly that shape with string
methods, line by line, resolves each plain value as PyYAML's resolver and constructors do
(so ``yes``, ``0x1F``, ``1:30``, ``~`` become what PyYAML makes of them), and answers None for anything else (a comment, an indented line, an anchor, a tag, a
backslash escape, a character YAML treats specially): PyYAML reads those, as before.
``tests/test_frontmatter_plain.py`` holds the two to the same result on random documents.

Each plain value is resolved here, as PyYAML's YAML 1.1 resolver and constructors make it
for frontmatter (timestamps left as text): ``yes``, ``0x1F``, ``1:30``, ``~``, ``.inf``,
``1_000`` become the bool, int, float or None PyYAML makes; a value its constructors would
refuse (``0b``, ``<<``, ``=``) is left to PyYAML to refuse. So a build whose posts are all
plain never imports PyYAML (about 11 ms, issue 12); the tests hold this resolver to
PyYAML's on seeded random words.
"""

from __future__ import annotations

import re

from publisher.lazy import lazy_pattern
from publisher.posts.text import preview

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (issue 12)

if TYPE_CHECKING:
    from typing import Any, TypeVar

# Each line is first checked to be printable (str.isprintable: no tab, no line break
# such as U+0085 or U+2028, no BOM, no control, no space but ' '), so every character
# left is one YAML takes in a value; string methods then place the special ones (a
# regular expression per line cost more than the rest of the reading).
#: A key: a plain word YAML cannot read as anything else but text (see string_key).
_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]*").fullmatch
#: What may not start a plain value: YAML's indicators, a space.
NOT_FIRST = frozenset("-?:,[]{}&*!|>'\"%@` #")
#: What a word of a one-line list may not hold besides what no plain value holds (':'
#: and '#' are PyYAML's to read there: the flow context reads them otherwise).
_FLOW = ",[]{}:#"


def read(
    text: str, max_values: int, max_chars: int
) -> tuple[dict[str, Any], list[tuple[str, int]]] | None:
    """(the mapping, each repeated key with its line from 0) of ``text``, YAML of
    ``key: value`` lines and blank lines only; None for any other text, or one over
    ``max_values`` values or ``max_chars`` characters, or a value PyYAML would refuse
    (PyYAML then says why)."""
    try:
        return _read(text, max_values, max_chars)
    except NotPlain:
        return None


class NotPlain(Exception):
    """Text left to PyYAML: a value its constructors refuse, or of a type none makes
    (``=``, ``<<``), PyYAML's to refuse with its message; in ``config/plainconfig.py``
    also a shape that reader does not take."""


def _read(
    text: str, max_values: int, max_chars: int
) -> tuple[dict[str, Any], list[tuple[str, int]]] | None:
    result: dict[str, Any] = {}
    repeated: list[tuple[str, int]] = []
    values, chars = 1, 0
    lines = text.split("\n")
    at = 0
    while at < len(lines):
        number, line = at, lines[at]
        at += 1
        if not line.strip(" "):
            continue
        if not line.isprintable():
            return None
        key, _, rest = line.partition(": ")
        rest = rest.strip(" ")
        if not rest:  # "key:": a list of lines below, or nothing (null)
            key = line.rstrip(" ")
            if not key.endswith(":"):
                return None
            key = key[:-1]
            found, at = _block(lines, at)
        else:
            found = _value(rest)
        if found is None or not string_key(key):
            return None  # also a key such as "yes", "null" or "12": not a string
        value, more_values, more_chars = found
        values, chars = values + 2 + more_values, chars + len(key) + more_chars
        if key in result:
            repeated.append((preview(key), number))
        result[key] = value
    if not result or values > max_values or chars > max_chars:
        return None
    return result, repeated


def _block(lines: list[str], at: int) -> tuple[tuple[Any, int, int] | None, int]:
    """The value below a ``key:`` line, whose next line is ``at``: ``- item`` lines, all
    at one indentation, each a plain word or quoted text; None (YAML's null) when the
    next line is no such item. With the index of the first line after it."""
    items: list[Any] = []
    chars, margin = 0, -1
    while at < len(lines):
        line = lines[at]
        if line.strip(" "):
            item = line.lstrip(" ")
            if not item.startswith("- "):
                break
            if margin not in (-1, len(line) - len(item)) or not line.isprintable():
                return None, at
            margin = len(line) - len(item)
            found = _value(item[2:].strip(" "))
            if found is None or isinstance(found[0], list):
                return None, at
            items.append(found[0])
            chars += found[2]
        at += 1
    if margin == -1:
        return (None, 0, 0), at
    return (items, len(items), chars), at


def _value(text: str) -> tuple[Any, int, int] | None:
    """(the value written as ``text``, the values and characters it adds to the
    document's size); None when it is not a plain word, quoted text or a list of words:
    ``'text'`` (no quote inside), ``"text"`` (no quote or backslash inside), ``[a, b]``."""
    if not text:
        return None
    first, last, inner = text[0], text[-1], text[1:-1]
    if first in "'\"":
        if len(text) < 2 or last != first or first in inner or (first == '"' and "\\" in inner):
            return None
        return inner, 0, len(inner)
    if first == "[":
        if last != "]":
            return None
        words = [word.strip(" ") for word in inner.split(",")] if inner.strip(" ") else []
        if not all(_plain_word(word) and not any(c in word for c in _FLOW) for word in words):
            return None
        return [plain_value(word) for word in words], len(words), sum(map(len, words))
    if not _plain_word(text):
        return None
    return plain_value(text), 0, len(text)


def _plain_word(text: str) -> bool:
    """Whether ``text`` (no space at either end) is one plain YAML value on one line:
    not started by an indicator, no comment (' #') and no mapping (': ', or ':' at the
    end) in it; a URL's or a time's ':' is text."""
    return (
        bool(text)
        and text[0] not in NOT_FIRST
        and " #" not in text
        and ": " not in text
        and text[-1] != ":"
    )


def string_key(key: str) -> bool:
    """Whether ``key`` is a plain word PyYAML reads as a string; remembered (the same few
    keys recur on every post)."""
    known = _STRING_KEYS.get(key)
    if known is None:
        known = bool(_KEY(key)) and _resolver(key) is None
        if len(_STRING_KEYS) < 4096:
            _STRING_KEYS[key] = known
    return known


_STRING_KEYS: dict[str, bool] = {}


def _resolver(word: str) -> Any:
    """The constructor of the implicit type PyYAML gives a plain ``word`` (None: a string):
    its resolvers for the first character, in PyYAML's order, the first that matches."""
    for pattern, construct in _RESOLVERS.get(word[0], ()):
        if pattern.match(word):
            return construct
    return None


def plain_value(word: str) -> Any:
    """A plain value as PyYAML constructs it in frontmatter (int, float, bool, None, or
    the text); NotPlain for one PyYAML refuses or makes no value of."""
    construct = _resolver(word)
    if construct is None:
        return word
    try:
        return construct(word)
    except (ValueError, TypeError, AttributeError, OverflowError, LookupError):
        raise NotPlain(word) from None


def _refused(word: str) -> Any:
    raise NotPlain(word)  # '<<' and '=': tags with no constructor in a safe loader


def _sign(word: str) -> tuple[int, str]:
    value = word.replace("_", "")
    sign = -1 if value[0] == "-" else +1
    return sign, value[1:] if value[0] in "+-" else value


def _int(word: str) -> int:
    """PyYAML's construct_yaml_int."""
    sign, value = _sign(word)
    if value == "0":
        return 0
    if value.startswith("0b"):
        return sign * int(value[2:], 2)
    if value.startswith("0x"):
        return sign * int(value[2:], 16)
    if value[0] == "0":
        return sign * int(value, 8)
    if ":" in value:
        return sign * _base60([int(part) for part in value.split(":")], 0)
    return sign * int(value)


if TYPE_CHECKING:
    _N = TypeVar("_N", int, float)

_INF = 1e300 * 1e300 * 1e300 * 1e300  # PyYAML's inf_value and nan_value
_NAN = -_INF / _INF


def _float(word: str) -> float:
    """PyYAML's construct_yaml_float."""
    sign, value = _sign(word.lower())
    if value == ".inf":
        return sign * _INF
    if value == ".nan":
        return _NAN
    if ":" in value:
        return sign * _base60([float(part) for part in value.split(":")], 0.0)
    return sign * float(value)


def _base60(digits: list[_N], total: _N) -> _N:
    """``1:30:00`` as PyYAML adds it up: from the last part, in the type of ``total``."""
    base = 1
    for digit in reversed(digits):
        total, base = total + digit * base, base * 60
    return total


_BOOLS = {"yes": True, "no": False, "true": True, "false": False, "on": True, "off": False}

# PyYAML's implicit resolvers (resolver.py, YAML 1.1), as written there, with their first
# characters; the timestamp one is left out, as frontmatter's loader leaves it out.
_BOOL = lazy_pattern(
    r"""^(?:yes|Yes|YES|no|No|NO
    |true|True|TRUE|false|False|FALSE
    |on|On|ON|off|Off|OFF)$""",
    re.X,
)
_FLOAT = lazy_pattern(
    r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?
    |\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?
    |[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*
    |[-+]?\.(?:inf|Inf|INF)
    |\.(?:nan|NaN|NAN))$""",
    re.X,
)
_INT = lazy_pattern(
    r"""^(?:[-+]?0b[0-1_]+
    |[-+]?0[0-7_]+
    |[-+]?(?:0|[1-9][0-9_]*)
    |[-+]?0x[0-9a-fA-F_]+
    |[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$""",
    re.X,
)
_NULL = lazy_pattern(r"^(?: ~ |null|Null|NULL | )$", re.X)
_RESOLVERS: dict[str, list[tuple[Any, Any]]] = {}
for _first, _pattern, _construct in (
    ("yYnNtTfFoO", _BOOL, lambda word: _BOOLS[word.lower()]),
    ("-+0123456789.", _FLOAT, _float),
    ("-+0123456789", _INT, _int),
    ("<", lazy_pattern(r"^(?:<<)$"), _refused),
    ("~nN", _NULL, lambda word: None),
    ("=", lazy_pattern(r"^(?:=)$"), _refused),
    ("!&*", lazy_pattern(r"^(?:!|&|\*)$"), _refused),
):
    for _char in _first:
        _RESOLVERS.setdefault(_char, []).append((_pattern, _construct))
