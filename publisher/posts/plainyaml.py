"""Frontmatter made only of ``key: value`` lines, read without libyaml's parser.

Most posts' frontmatter is a handful of top-level keys, each with a plain word, a quoted
string or a one-line list of words. libyaml's composer makes a node and two marks per
value in Python objects, which cost more than the rest of reading the frontmatter (issue
12: a tenth of a cold build's CPU per post). This reads exactly that shape with string
methods, line by line, resolves each plain value with the loader's own resolver
and constructors (so ``yes``, ``0x1F``, ``1:30``, ``~`` become what PyYAML makes of them),
and answers None for anything else (a comment, an indented line, an anchor, a tag, a
backslash escape, a character YAML treats specially): PyYAML reads those, as before.
``tests/test_frontmatter_plain.py`` holds the two to the same result on random documents.
"""

from __future__ import annotations

import re
from typing import Any, Protocol

import yaml

from publisher.posts.text import preview


class Resolving(Protocol):
    """What of a PyYAML loader this needs: its resolver and its constructors."""

    yaml_constructors: dict[Any, Any]
    yaml_implicit_resolvers: dict[Any, Any]
    yaml_path_resolvers: dict[Any, Any]

    def resolve(self, kind: type[yaml.Node], value: str, implicit: tuple[bool, bool]) -> str: ...


# Each line is first checked to be printable (str.isprintable: no tab, no line break
# such as U+0085 or U+2028, no BOM, no control, no space but ' '), so every character
# left is one YAML takes in a value; string methods then place the special ones (a
# regular expression per line cost more than the rest of the reading).
#: A key: a plain word YAML cannot read as anything else but text (see _string_key).
_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]*").fullmatch
#: What may not start a plain value: YAML's indicators, a space.
_NOT_FIRST = frozenset("-?:,[]{}&*!|>'\"%@` #")
#: What a word of a one-line list may not hold besides what no plain value holds.
_FLOW = ",[]{}"

_STR = yaml.resolver.BaseResolver.DEFAULT_SCALAR_TAG


def read(
    text: str, loader: Resolving, max_values: int, max_chars: int
) -> tuple[dict[str, Any], list[tuple[str, int]]] | None:
    """(the mapping, each repeated key with its line from 0) of ``text``, YAML of
    ``key: value`` lines and blank lines only; None for any other text, or one over
    ``max_values`` values or ``max_chars`` characters, or a value PyYAML would refuse
    (PyYAML then says why)."""
    try:
        return _read(text, loader, max_values, max_chars)
    except (_NotPlain, yaml.YAMLError):
        return None


class _NotPlain(Exception):
    """A value of a type no constructor makes (``=``, ``<<``): PyYAML's to refuse."""


def _read(
    text: str, loader: Resolving, max_values: int, max_chars: int
) -> tuple[dict[str, Any], list[tuple[str, int]]] | None:
    result: dict[str, Any] = {}
    repeated: list[tuple[str, int]] = []
    values, chars = 1, 0
    for number, line in enumerate(text.split("\n")):
        if not line.strip(" "):
            continue
        key, colon, rest = line.partition(": ")
        if not colon or not line.isprintable() or not _string_key(key, loader):
            return None  # also a key such as "yes", "null" or "12": not a string
        found = _value(rest.strip(" "), loader)
        if found is None:
            return None
        value, more_values, more_chars = found
        values, chars = values + 2 + more_values, chars + len(key) + more_chars
        if key in result:
            repeated.append((preview(key), number))
        result[key] = value
    if not result or values > max_values or chars > max_chars:
        return None
    return result, repeated


def _value(text: str, loader: Resolving) -> tuple[Any, int, int] | None:
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
        return [_plain(word, loader) for word in words], len(words), sum(map(len, words))
    if not _plain_word(text):
        return None
    return _plain(text, loader), 0, len(text)


def _plain_word(text: str) -> bool:
    """Whether ``text`` (no space at either end) is one plain YAML value on one line:
    not started by an indicator, and no '#' (a comment after a space) or ':' in it."""
    return bool(text) and text[0] not in _NOT_FIRST and "#" not in text and ":" not in text


def _string_key(key: str, loader: Resolving) -> bool:
    """Whether ``key`` is a plain word the loader reads as a string; remembered (the
    same few keys recur on every post)."""
    known = _STRING_KEYS.get((type(loader), key))
    if known is None:
        known = bool(_KEY(key)) and _tag(key, loader) == _STR
        if len(_STRING_KEYS) < 4096:
            _STRING_KEYS[type(loader), key] = known
    return known


_STRING_KEYS: dict[tuple[type, str], bool] = {}


def _tag(word: str, loader: Resolving) -> str:
    """The loader's implicit tag of a plain ``word``; at once, without its resolver, for a
    word whose first character starts no implicit type (the resolver looks no further)."""
    table = loader.yaml_implicit_resolvers
    if word[0] not in table and None not in table and not loader.yaml_path_resolvers:
        return _STR
    return loader.resolve(yaml.ScalarNode, word, (True, False))


def _plain(word: str, loader: Resolving) -> Any:
    """A plain value as PyYAML constructs it (its implicit type: int, float, bool, null)."""
    tag = _tag(word, loader)
    if tag == _STR:
        return word
    construct = loader.yaml_constructors.get(tag)
    if construct is None:
        raise _NotPlain(tag)
    return construct(loader, yaml.ScalarNode(tag, word))
