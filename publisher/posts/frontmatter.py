"""Split a post file into YAML frontmatter and body, and parse the YAML.

Timestamps are not resolved by the YAML loader: every date arrives as text so that quoted
and unquoted dates go through the same parser (``fields.parse_date``). The C loader is
used when PyYAML has it.
"""

from __future__ import annotations

from typing import Any

import yaml

from publisher.errors import PostError, Problem

_Base: type[yaml.SafeLoader]
try:
    _Base = yaml.CSafeLoader  # type: ignore[assignment]
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _Base = yaml.SafeLoader


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
            loader.duplicates.append((str(key), key_node.start_mark.line))
        result[key] = loader.construct_object(value_node, deep=True)
    return result


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def split(text: str, file: str) -> tuple[str, str, int, int]:
    """Return (frontmatter text, body, line numbers where each starts).

    Blank lines before the opening '---' are tolerated, so the frontmatter does not
    always start on line 2; diagnostics use the line returned here.
    """
    lines = text.split("\n")
    first = 0
    while first < len(lines) and not lines[first].strip():
        first += 1
    if first == len(lines) or lines[first].rstrip() != "---":
        raise PostError(
            Problem(
                file=file,
                field="frontmatter",
                message="is missing: the file must start with a '---' line",
                fix="add YAML frontmatter between two '---' lines at the top",
                line=first + 1 if first < len(lines) else 1,
            )
        )
    for end in range(first + 1, len(lines)):
        if lines[end].rstrip() in ("---", "..."):
            meta, body = "\n".join(lines[first + 1 : end]), "\n".join(lines[end + 1 :])
            return meta, body, first + 2, end + 2
    raise PostError(
        Problem(
            file=file,
            field="frontmatter",
            message="is not closed",
            fix=f"add a '---' line after the last frontmatter key (opened on line {first + 1})",
            line=first + 1,
        )
    )


#: Frontmatter larger than this is refused: YAML aliases can make a few lines expand to
#: millions of values (a "billion laughs"), which every later stage would walk.
MAX_VALUES = 10_000


def _size(data: Any, budget: int) -> int:
    """How many values ``data`` holds with aliases expanded, counting no further than budget+1."""
    count = 0
    stack = [data]
    while stack and count <= budget:
        value = stack.pop()
        count += 1
        if isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return count


def parse(text: str, file: str, first_line: int = 2) -> tuple[dict[str, Any], list[Problem]]:
    """Parse frontmatter YAML; return the mapping and warnings (duplicate keys)."""
    loader = _Loader(text)
    try:
        data = loader.get_single_data()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = first_line + mark.line if mark is not None else None
        reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise PostError(
            Problem(
                file=file,
                field="frontmatter",
                message=f"is not valid YAML ({reason})",
                fix=(
                    "remove the '!' tag: frontmatter takes plain values"
                    if "constructor for the tag" in reason
                    else "quote values that contain ': ' or start with a special character"
                ),
                line=line,
            )
        ) from None
    finally:
        loader.dispose()
    if data is None:
        data = {}
    if _size(data, MAX_VALUES) > MAX_VALUES:
        raise PostError(
            Problem(
                file=file,
                field="frontmatter",
                message=f"holds more than {MAX_VALUES:,} values once YAML aliases are expanded",
                fix="remove the anchors (&) and aliases (*): frontmatter is a few keys",
                line=first_line,
            )
        )
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
    warnings = [
        Problem(
            file=file,
            field=key,
            message="is set twice; the last value wins",
            fix="remove one of them",
            severity="warning",
            line=first_line + line,
        )
        for key, line in loader.duplicates
    ]
    return {str(k): v for k, v in data.items()}, warnings
