"""Frontmatter YAML of any shape, through PyYAML (``frontmatter.parse`` comes here for
what ``plainyaml`` does not read: comments, nesting, anchors, tags, escapes...).

Timestamps are not resolved by the YAML loader: every date arrives as text so that quoted
and unquoted dates go through the same parser (``fields.parse_date``). The C loader is
used when PyYAML has it. A module of its own so that a build whose changed posts are all
plain ``key: value`` lines never imports PyYAML (issue 12: 11 ms of a one-post build).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import yaml

from publisher.errors import PostError, Problem
from publisher.posts.limits import Limits
from publisher.posts.text import preview

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


#: The resolver and constructors of plain ``key: value`` frontmatter (tests: ``plainyaml``'s resolver against it).
_RESOLVER = _Loader("")


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


def load(
    text: str, file: str, first_line: int, limits: Limits
) -> tuple[dict[str, Any], list[tuple[str, int]]]:
    """The mapping of frontmatter YAML ``text``, and each key set twice with its line in
    the YAML (from 0); PostError for what is not a mapping or not valid YAML."""
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
    return {str(k): v for k, v in data.items()}, loader.duplicates
