"""``config.yaml`` as it is usually written, read without PyYAML (issue 12).

A config is a few dozen lines of the plainest YAML: mappings nested by indentation, lists of
``- item`` lines (an announce target is a ``- kind: x`` mapping), one-line ``[a, b]`` and
``{a: b}`` collections, plain words, quoted text and comments. Importing PyYAML costs more
than the rest of loading such a file (its ``yaml.reader`` compiles a large expression at
import), and every cold build, every build after the config changed and every build of a
config naming a ``${VAR}`` loads it.

:func:`read` reads that shape line by line and returns exactly what ``yaml.safe_load``
returns for it: the same values of the same types, keys in the same order. Plain values
are resolved by :mod:`publisher.posts.plainyaml`'s copy of PyYAML's YAML 1.1 resolver and
constructors (``yes``, ``0x1F``, ``1:30``, ``~``, ``.inf``). It answers None for anything
else, and the loader asks PyYAML, whose values, errors and messages are then the ones the
user gets: anchors, aliases, tags, ``|`` and ``>`` blocks, a value spanning lines, ``---``
and ``...``, tabs, a backslash in double quotes, keys that are not plain names (quoted,
complex, ``yes``, ``12``), a repeated key, a top level that is not a mapping, and a value
safe_load would make a date of (frontmatter keeps those as text; a config does not, so
they are PyYAML's). ``tests/test_config_plain.py`` holds the two to the same result on
seeded random configs.
"""

from __future__ import annotations

from typing import Any

# Frontmatter's reader's own resolver, key check and indicators, shared: a config's plain
# values resolve as frontmatter's do, but for dates (see _scalar).
from publisher.posts.plainyaml import NOT_FIRST, NotPlain, plain_value, string_key

#: What ends a plain value in a one-line ``[...]`` or ``{...}``; PyYAML also ends one at
#: ``?``, ``[`` and ``{`` (then read as something else: left to it).
_FLOW_ENDS = ",[]{}?"
#: After ``:``, what makes it the ``key: value`` indicator in a flow collection.
_FLOW_VALUE = ("", " ", ",", "[", "]", "{", "}")
#: PyYAML takes no simple key longer than this.
_KEY_LIMIT = 1024


def read(text: str) -> dict[str, Any] | None:
    """The mapping ``yaml.safe_load(text)`` returns, for a config of the plain shape this
    module reads; None for any other text (PyYAML's to read, or to refuse)."""
    text = text.removeprefix("\ufeff").replace("\r\n", "\n")
    lines = []
    for line in text.split("\n"):
        if not line.isprintable():  # a tab, a control, a line break YAML sees, a BOM
            return None
        content = line.lstrip(" ")
        if content and not content.startswith("#"):
            lines.append((len(line) - len(content), content))
    if not lines:
        return None
    block = _Block(lines)
    try:
        found = block.node(lines[0][0])
    except NotPlain:
        return None
    if block.at < len(lines) or not isinstance(found, dict):
        return None
    return found


class _Block:
    """The lines of a document, as (indentation, the rest), and where the reading is."""

    def __init__(self, lines: list[tuple[int, str]]) -> None:
        self.lines = lines
        self.at = 0

    def node(self, indent: int) -> Any:
        """The mapping or list that starts on the next line, at ``indent``."""
        content = self.lines[self.at][1]
        if _is_item(content):
            return self.sequence(indent)
        if _key_of(content) is not None:
            return self.mapping(indent)
        raise NotPlain(content)  # a value on a line of its own, a complex key, ...

    def mapping(self, indent: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        while self.at < len(self.lines):
            margin, content = self.lines[self.at]
            if margin < indent:
                break
            key = _key_of(content) if margin == indent else None
            if key is None or key in result:
                raise NotPlain(content)  # deeper (a value going on), not a key, repeated
            self.at += 1
            rest = content[len(key) + 1 :].lstrip(" ")
            if rest and not rest.startswith("#"):
                result[key] = self.inline(rest, indent)
            else:  # "key:": what the lines below hold, or null; a list may sit at indent
                result[key] = self.below(indent, indentless=True)
        return result

    def sequence(self, indent: int) -> list[Any]:
        items: list[Any] = []
        while self.at < len(self.lines):
            margin, content = self.lines[self.at]
            if margin < indent or (margin == indent and not _is_item(content)):
                break  # the caller's: a key after a list written at its mapping's indent
            if margin > indent:
                raise NotPlain(content)
            rest = content[1:].lstrip(" ")
            if not rest or rest.startswith("#"):
                self.at += 1
                items.append(self.below(indent, indentless=False))
            elif _is_item(rest) or _key_of(rest) is not None:
                # "- key: value" and "- - item": a mapping or list whose column is the
                # column of what follows the dash, as PyYAML measures it.
                column = indent + len(content) - len(rest)
                self.lines[self.at] = (column, rest)
                items.append(self.node(column))
            else:
                self.at += 1
                items.append(self.inline(rest, indent))
        return items

    def below(self, indent: int, *, indentless: bool) -> Any:
        """The value of an empty ``key:`` or ``-`` at ``indent``: the block on the lines
        below, deeper (or a list at the same indent, after a key), else null."""
        if self.at == len(self.lines):
            return None
        margin, content = self.lines[self.at]
        if margin > indent:
            return self.node(margin)
        if margin == indent and indentless and _is_item(content):
            return self.sequence(margin)
        return None

    def inline(self, text: str, indent: int) -> Any:
        """The value written on the rest of a line after ``key:`` or ``-``; the next line
        must not be deeper (a plain or quoted value going on over lines)."""
        if self.at < len(self.lines) and self.lines[self.at][0] > indent:
            raise NotPlain(text)
        value: Any
        if text[0] in "[{":
            value, end = _flow(text, 0)
        elif text[0] in "'\"":
            value, end = _quoted(text, 0)
        else:
            end = text.find(" #")
            word = (text if end == -1 else text[:end]).rstrip(" ")
            if not _plain(word) or ": " in word or word.endswith(":"):
                raise NotPlain(text)
            return _scalar(word)
        rest = text[end:]
        if rest.strip(" ") and not (rest.startswith(" ") and rest.lstrip(" ").startswith("#")):
            raise NotPlain(text)  # something after the value, or a comment not after a space
        return value


def _is_item(content: str) -> bool:
    return content == "-" or content.startswith("- ")


def _key_of(content: str) -> str | None:
    """The key of a ``key: value`` or ``key:`` line: a plain name PyYAML reads as text."""
    key, colon, rest = content.partition(":")
    if colon and rest[:1] in ("", " ") and len(key) <= _KEY_LIMIT and string_key(key):
        return key
    return None


def _plain(word: str) -> bool:
    """Whether ``word`` may be a plain value (a ``-`` may start one when no space follows)."""
    if not word:
        return False
    return word[0] not in NOT_FIRST or (word[0] == "-" and word[1:2] not in ("", " "))


def _scalar(word: str) -> Any:
    """A plain value as safe_load makes it. One that starts as a date does (``2024-``) is
    left to PyYAML: safe_load's timestamp resolver makes a date or datetime of it, which
    frontmatter's loader does not, so plainyaml's resolver leaves it text."""
    if word[4:5] == "-" and all(digit in "0123456789" for digit in word[:4]):
        raise NotPlain(word)
    return plain_value(word)


def _flow(text: str, at: int) -> tuple[list[Any] | dict[str, Any], int]:
    """The ``[...]`` or ``{...}`` at ``text[at]``, all on this line, and where it ends.
    A mapping's keys are plain names followed by ``: ``; a ``[a: b]`` pair, an empty value
    and a comment are left to PyYAML."""
    close = "]" if text[at] == "[" else "}"
    found: list[Any] | dict[str, Any] = [] if close == "]" else {}
    at = _skip(text, at + 1)
    while text[at : at + 1] != close:
        if isinstance(found, dict):
            colon = text.find(":", at)
            key = text[at:colon]
            if colon == -1 or text[colon + 1 : colon + 2] != " " or key in found:
                raise NotPlain(text)
            if len(key) > _KEY_LIMIT or not string_key(key):
                raise NotPlain(text)
            found[key], at = _flow_value(text, _skip(text, colon + 1))
        else:
            value, at = _flow_value(text, at)
            found.append(value)
        at = _skip(text, at)
        if text[at : at + 1] == ",":
            at = _skip(text, at + 1)
        elif text[at : at + 1] != close:
            raise NotPlain(text)
    return found, at + 1


def _flow_value(text: str, at: int) -> tuple[Any, int]:
    if text[at : at + 1] in ("[", "{"):
        return _flow(text, at)
    if text[at : at + 1] in ("'", '"'):
        return _quoted(text, at)
    end = at
    while end < len(text) and text[end] not in _FLOW_ENDS:
        if text[end] == ":" and text[end + 1 : end + 2] in _FLOW_VALUE:
            break
        if text[end] == "#" and text[end - 1] == " ":
            break
        end += 1
    word = text[at:end].rstrip(" ")
    if text[end : end + 1] not in (",", "]", "}") or not _plain(word):
        raise NotPlain(text)  # a pair, a comment, a nested "[" after a word, unclosed
    return _scalar(word), end


def _quoted(text: str, at: int) -> tuple[str, int]:
    """The quoted text at ``text[at]`` (closed on this line) and where it ends: ``''`` is
    a quote in single quotes; double quotes holding a backslash are PyYAML's."""
    quote = text[at]
    parts = []
    start = at + 1
    while True:
        end = text.find(quote, start)
        if end == -1:
            raise NotPlain(text)  # goes on over lines
        parts.append(text[start:end])
        if quote == "'" and text[end + 1 : end + 2] == "'":
            parts.append("'")
            start = end + 2
            continue
        break
    value = "".join(parts)
    if quote == '"' and "\\" in value:
        raise NotPlain(text)
    return value, end + 1


def _skip(text: str, at: int) -> int:
    while text[at : at + 1] == " ":
        at += 1
    return at
