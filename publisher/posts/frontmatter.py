"""Split a post file into YAML frontmatter and body, and parse the YAML (TOML and JSON
frontmatter: ``tomljson.py``).

Timestamps are not resolved by the YAML loader: every date arrives as text so that quoted
and unquoted dates go through the same parser (``fields.parse_date``). The C loader is
used when PyYAML has it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import yaml

from publisher.errors import PostError, Problem
from publisher.posts import plainyaml
from publisher.posts.limits import DEFAULT_LIMITS, Limits, check_frontmatter_length
from publisher.posts.text import preview
from publisher.posts.tomljson import parse_json as parse_json
from publisher.posts.tomljson import parse_toml as parse_toml

_Base: type[yaml.SafeLoader]
try:
    _Base = yaml.CSafeLoader  # type: ignore[assignment]
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _Base = yaml.SafeLoader


DEFAULT_MAPPING_TAG = yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG


class _Loader(_Base):  # type: ignore[valid-type,misc]
    """SafeLoader that keeps timestamps as text and reports duplicate keys."""

    duplicates: list[tuple[str, int]]

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.duplicates = []


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    result: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str | int | float | bool) and key is not None:
            key = str(key)
        if key in result:
            loader.duplicates.append((preview(str(key)), key_node.start_mark.line))
        result[key] = loader.construct_object(value_node, deep=True)
    return result


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)

_STR = yaml.resolver.BaseResolver.DEFAULT_SCALAR_TAG
_SEQ = yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG


#: Deeper than this, a document is left to PyYAML: it then fails (or not) for depth exactly
#: as before, since how deep Python's stack may go depends on the frames per level.
_MAX_DEPTH = 24
#: What :func:`_construct` returns for a document PyYAML should build.
PYYAML = object()


class _Fallback(Exception):
    """A shape left to PyYAML: a list or mapping reached twice (a YAML alias, which
    PyYAML makes one shared object), or nesting deeper than ``_MAX_DEPTH``."""


def _construct(loader: _Loader, root: yaml.Node) -> Any:
    """What ``loader.construct_document(root)`` builds, by a direct walk for the usual
    shapes (plain strings, lists and mappings; anything else through the loader's
    constructors) without PyYAML's per-node bookkeeping: a fifth of the reader's time
    (issue 12). :data:`PYYAML` for the shapes ``_Fallback`` names, which the caller then
    builds with ``construct_document``; tests/test_posts_yaml.py holds the two alike."""
    try:
        return _walk(loader, root, set(), 0)
    except _Fallback:
        loader.duplicates.clear()  # PyYAML's pass finds them again
        return PYYAML


def _walk(loader: _Loader, node: yaml.Node, seen: set[int], depth: int) -> Any:
    if isinstance(node, yaml.ScalarNode):
        if node.tag == _STR:
            return node.value
        return loader.construct_object(node, deep=True)
    if id(node) in seen or depth > _MAX_DEPTH:
        raise _Fallback
    seen.add(id(node))
    depth += 1
    if isinstance(node, yaml.SequenceNode) and node.tag == _SEQ:
        return [_walk(loader, child, seen, depth) for child in node.value]
    if isinstance(node, yaml.MappingNode) and node.tag == DEFAULT_MAPPING_TAG:
        loader.flatten_mapping(node)
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _walk(loader, key_node, seen, depth)
            if not isinstance(key, str | int | float | bool) and key is not None:
                key = str(key)
            if key in result:
                loader.duplicates.append((preview(str(key)), key_node.start_mark.line))
            result[key] = _walk(loader, value_node, seen, depth)
        return result
    return loader.construct_object(node, deep=True)


_Constructor = Callable[[Any, yaml.Node], Any]


def _checked(tag: str, construct: _Constructor) -> _Constructor:
    """A constructor whose failures are YAML errors with a line, not stray exceptions.

    PyYAML's own scalar constructors trust the resolver: behind an explicit tag
    (``!!int 1 C``, ``!!float n``, ``!!timestamp 2``) or past Python's 4,300-digit limit
    on int() they raise ValueError or AttributeError from deep inside the loader.
    """
    kind = tag.rsplit(":", 1)[-1]

    def checked(loader: Any, node: yaml.Node) -> Any:
        try:
            return construct(loader, node)
        except (ValueError, TypeError, AttributeError, OverflowError, LookupError) as exc:
            value = str(node.value)
            shown = (
                value
                if len(value) <= 40
                else f"{value[:20]}...{value[-10:]} ({len(value):,} characters)"
            )
            # Only a ValueError's text speaks about the value; the others are PyYAML's insides.
            reason = (
                str(exc).split(";")[0][:120] if isinstance(exc, ValueError) else "not a valid value"
            )
            raise yaml.constructor.ConstructorError(
                None, None, f"'{shown}' cannot be read as !!{kind}: {reason}", node.start_mark
            ) from None

    return checked


# 0x20: CO_GENERATOR (inspect.isgeneratorfunction, without importing inspect and ast).
_Loader.yaml_constructors = {
    tag: (
        construct
        if tag is None or construct.__code__.co_flags & 0x20 or tag == DEFAULT_MAPPING_TAG
        else _checked(tag, construct)
    )
    for tag, construct in _Loader.yaml_constructors.items()
}


#: The resolver and constructors of plain ``key: value`` frontmatter (``plainyaml``).
_RESOLVER = _Loader("")


def split(text: str, file: str) -> tuple[str, str, int, int]:
    """Return (frontmatter text, body, line numbers where each starts).

    Blank lines before the opening '---' are tolerated, so the frontmatter does not
    always start on line 2; diagnostics use the line returned here.
    """
    opening = _first_line(text)
    if opening is None or text[opening[1] : opening[2]].rstrip() != "---":
        raise PostError(
            Problem(
                file=file,
                field="frontmatter",
                message="is missing: the file must start with a '---' line",
                fix="add YAML frontmatter between two '---' lines at the top",
                line=opening[0] + 1 if opening is not None else 1,
            )
        )
    found = _closed(text, opening, ("---", "..."))
    if found is not None:
        return found
    first = opening[0]
    raise PostError(
        Problem(
            file=file,
            field="frontmatter",
            message="is not closed",
            fix=f"add a '---' line after the last frontmatter key (opened on line {first + 1})",
            line=first + 1,
        )
    )


def _first_line(text: str) -> tuple[int, int, int] | None:
    """(number from 0, start, end) of the first line that is not blank; None if none is.
    With :func:`_closed`, the lines of ``text.split("\n")`` up to the closing one: the
    whole split (and the body joined back) copied the body twice (issue 12)."""
    number, start, size = 0, 0, len(text)
    while True:
        end = text.find("\n", start)
        if end == -1:
            end = size
        if text[start:end].strip():
            return number, start, end
        if end == size:
            return None
        number, start = number + 1, end + 1


def _closed(
    text: str, opening: tuple[int, int, int], closers: tuple[str, ...]
) -> tuple[str, str, int, int] | None:
    """(frontmatter, body, their first lines) when a line after ``opening`` (from
    :func:`_first_line`) is one of ``closers`` (trailing space aside); else None."""
    first, _, opened_end = opening
    size = len(text)
    number, start = first + 1, opened_end + 1
    while start <= size and opened_end < size:
        end = text.find("\n", start)
        if end == -1:
            end = size
        if text[start:end].rstrip() in closers:
            # The lines between the two; "" when the closing line follows at once.
            meta = text[opened_end + 1 : start - 1] if start > opened_end + 1 else ""
            return meta, text[end + 1 :], first + 2, number + 2
        number, start = number + 1, end + 1
    return None


def _measure(root: yaml.Node, limits: Limits) -> str | None:
    """Why the composed document is too big once aliases are expanded, or None.

    Counted on the node graph before anything is constructed: an alias is the same node
    object reached twice, so walking the graph sees the expansion a "billion laughs"
    would build, in keys as well as values, and stops as soon as a budget runs out.
    """
    values = 0
    chars = 0
    stack: list[yaml.Node] = [root]
    while stack:
        node = stack.pop()
        values += 1
        if values > limits.frontmatter_values:
            return f"holds more than {limits.frontmatter_values:,} values once YAML aliases are expanded"
        if isinstance(node, yaml.ScalarNode):
            chars += len(node.value)
            if chars > limits.frontmatter_expanded_chars:
                return (
                    f"holds more than {limits.frontmatter_expanded_chars:,} characters "
                    "once YAML aliases are expanded"
                )
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
        elif isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                stack.append(key)
                stack.append(value)
    return None


def _yaml_error(exc: yaml.YAMLError, file: str, first_line: int) -> PostError:
    mark = getattr(exc, "problem_mark", None)
    line = first_line + mark.line if mark is not None else None
    reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    return PostError(
        Problem(
            file=file,
            field="frontmatter",
            message=f"is not valid YAML ({reason})",
            fix=(
                "remove the '!' tag: frontmatter takes plain values"
                if "constructor for the tag" in reason
                else "quote the value, and remove any '!!' tag in front of it"
                if "cannot be read as !!" in reason
                else "quote values that contain ': ' or start with a special character"
            ),
            line=line,
        )
    )


def parse(
    text: str, file: str, first_line: int = 2, limits: Limits = DEFAULT_LIMITS
) -> tuple[dict[str, Any], list[Problem]]:
    """Parse frontmatter YAML; return the mapping and warnings (duplicate keys)."""
    check_frontmatter_length(text, file, first_line, limits)
    plain = plainyaml.read(
        text, _RESOLVER, limits.frontmatter_values, limits.frontmatter_expanded_chars
    )
    if plain is not None:
        return plain[0], _repeated(plain[1], file, first_line)
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is not None:
            too_big = _measure(node, limits)
            if too_big is not None:
                raise PostError(
                    Problem(
                        file=file,
                        field="frontmatter",
                        message=too_big,
                        fix="remove the anchors (&) and aliases (*): frontmatter is a few keys",
                        line=first_line,
                    )
                )
        data = _construct(loader, node) if node is not None else None
        if data is PYYAML:
            data = loader.construct_document(node)
    except yaml.YAMLError as exc:
        raise _yaml_error(exc, file, first_line) from None
    except (ValueError, TypeError, AttributeError, OverflowError, LookupError) as exc:
        # The generator constructors (sets, ordered maps, pairs) fail after _checked has
        # returned; their errors carry no line.
        raise PostError(
            Problem(
                file=file,
                field="frontmatter",
                message=f"is not valid YAML ({type(exc).__name__}: {str(exc)[:120]})",
                fix="remove the '!!' tags: frontmatter takes plain values",
                line=first_line,
            )
        ) from None
    except RecursionError:
        raise PostError(
            Problem(
                file=file,
                field="frontmatter",
                message="is nested too deeply",
                fix="write it as 'key: value' lines, with lists at most a few levels deep",
                line=first_line,
            )
        ) from None
    finally:
        loader.dispose()
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise PostError(
            Problem(
                file=file,
                field="frontmatter",
                message=f"must be a mapping of keys to values, not {type(data).__name__}",
                fix="write it as 'key: value' lines",
                line=first_line,
            )
        )
    return {str(k): v for k, v in data.items()}, _repeated(loader.duplicates, file, first_line)


def _repeated(keys: list[tuple[str, int]], file: str, first_line: int) -> list[Problem]:
    """The warnings for keys set twice: (key, its line in the YAML from 0)."""
    return [
        Problem(
            file=file,
            field=key,
            message="is set twice; the last value wins",
            fix="remove one of them",
            severity="warning",
            line=first_line + line,
        )
        for key, line in keys
    ]


#: Frontmatter formats by the line (or character) that opens them, as Hugo and Zola read them.
FORMATS = {"---": "yaml", "+++": "toml"}


def split_any(text: str, file: str) -> tuple[str, str, str, int, int]:
    """(format, frontmatter text, body, line numbers): YAML ``---``, TOML ``+++`` or JSON ``{``.

    Hugo reads all three; Zola reads TOML; the others YAML. The JSON object ends where the
    decoder stops, so the body may follow on the same line as the closing brace.
    """
    opening = _first_line(text)
    opener = text[opening[1] : opening[2]].rstrip() if opening is not None else ""
    if opening is not None and opener == "+++":
        found = _closed(text, opening, ("+++",))
        if found is not None:
            return "toml", *found
        first = opening[0]
        raise PostError(
            Problem(
                file=file,
                field="frontmatter",
                message="is not closed",
                fix=f"add a '+++' line after the last TOML key (opened on line {first + 1})",
                line=first + 1,
            )
        )
    if opening is not None and opener.startswith("{"):
        first, start, _ = opening
        return "json", text[start:], "", first + 1, first + 1
    meta, body, meta_line, body_line = split(text, file)
    return "yaml", meta, body, meta_line, body_line
