"""Frontmatter made only of ``key: value`` lines, read without libyaml's parser.

Most posts' frontmatter is a handful of top-level keys, each with a plain word, a quoted
string or a one-line list of words. libyaml's composer makes a node and two marks per
value in Python objects, which cost more than the rest of reading the frontmatter (issue
12: a tenth of a cold build's CPU per post). This reads exactly that shape with one
regular expression per line, resolves each plain value with the loader's own resolver
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
# left is one YAML takes in a value; the patterns below only place the special ones.
#: A character a plain value may hold: not a space, '#' (a comment after a space) or
#: ':' (a mapping after it).
_CHAR = "[^ #:"
#: The first character of a plain value: none of YAML's indicators.
_FIRST = _CHAR + "\\-?,\\[\\]{}&*!|>'\"%@`]"
#: A plain value: words separated by spaces (trailing spaces are not part of it).
_PLAIN = f"{_FIRST}(?: *{_CHAR}])*"
#: In a one-line list, a word holds no flow indicator.
_ITEM = f"{_FIRST}(?: *{_CHAR},\\[\\]{{}}])*"
_LINE = re.compile(
    r"(?P<key>[A-Za-z_][A-Za-z0-9_\-]*): +(?:"
    f"(?P<plain>{_PLAIN})"
    r"|'(?P<single>[^']*)'"
    r'|"(?P<double>[^"\\]*)"'
    f"|(?P<list>\\[ *(?P<items>{_ITEM}(?: *, *{_ITEM})*)? *\\])"
    r") *"
).fullmatch
_ITEM_SPLIT = re.compile(" *, *").split

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
        found = _LINE(line) if line.isprintable() else None
        if found is None:
            if line.strip(" "):
                return None
            continue
        key, plain, listed, items = found.group("key", "plain", "list", "items")
        if not _string_key(key, loader):
            return None  # a key such as "yes", "null" or "12": not a string
        value: Any
        if plain is not None:
            value = _plain(plain, loader)
            chars += len(plain)
        elif listed is not None:
            words = _ITEM_SPLIT(items) if items is not None else []
            value = [_plain(word, loader) for word in words]
            values, chars = values + len(words), chars + sum(map(len, words))
        else:
            value = found.group("single")
            if value is None:
                value = found.group("double")
            chars += len(value)
        values, chars = values + 2, chars + len(key)
        if key in result:
            repeated.append((preview(key), number))
        result[key] = value
    if not result or values > max_values or chars > max_chars:
        return None
    return result, repeated


def _string_key(key: str, loader: Resolving) -> bool:
    """Whether the loader reads ``key`` as a string; remembered (the same few keys
    recur on every post)."""
    known = _STRING_KEYS.get((type(loader), key))
    if known is None:
        known = _tag(key, loader) == _STR
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
