"""TOML (``+++``) and JSON (``{``) frontmatter, as Hugo and Zola write it, parsed under
the same limits as YAML (:mod:`publisher.posts.limits`). Dates arrive as ISO text, as the
YAML loader leaves them."""

from __future__ import annotations

import re

from publisher.errors import PostError, Problem
from publisher.posts.limits import DEFAULT_LIMITS, Limits, check_frontmatter_length
from publisher.posts.text import preview

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (issue 12)

if TYPE_CHECKING:
    from typing import Any


def _count_values(value: Any, budget: int) -> int:
    """Values in a parsed TOML/JSON document, counting no further than ``budget`` + 1."""
    count = 0
    stack = [value]
    while stack and count <= budget:
        item = stack.pop()
        count += 1
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return count


def parse_toml(
    text: str, file: str, first_line: int = 2, limits: Limits = DEFAULT_LIMITS
) -> dict[str, Any]:
    """Parse TOML frontmatter (``+++``) into a mapping, or raise a PostError with the line."""
    import tomllib

    check_frontmatter_length(text, file, first_line, limits)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        reason = str(exc).split(" (at line")[0]
        line = getattr(exc, "lineno", None)
        raise PostError(
            Problem(
                file=file,
                field="frontmatter",
                message=f"is not valid TOML ({preview(reason)})",
                fix="quote text values with \"...\" and write one 'key = value' per line",
                line=first_line + line - 1 if isinstance(line, int) else first_line,
            )
        ) from None
    except RecursionError:
        raise _too_deep(file, first_line) from None
    except ValueError as exc:  # an integer of more than 4,300 digits
        raise _unreadable_number(exc, file, first_line) from None
    _check_values(data, file, first_line, limits)
    plain: dict[str, Any] = _plain(data)
    return plain


def _plain(value: Any) -> Any:
    """TOML dates and times as ISO text, as YAML dates arrive (see the module docstring)."""
    import datetime as dt

    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return value


def parse_json(
    text: str, file: str, first_line: int = 1, limits: Limits = DEFAULT_LIMITS
) -> tuple[dict[str, Any], str]:
    """Parse a JSON object at the start of ``text``; return it and the body after it."""
    import json

    head = text[: limits.frontmatter_chars + 1]
    try:
        data, end = json.JSONDecoder().raw_decode(head)
    except json.JSONDecodeError as exc:
        if len(text) > limits.frontmatter_chars:
            check_frontmatter_length(text, file, first_line, limits)
        raise PostError(
            Problem(
                file=file,
                field="frontmatter",
                message=f"is not valid JSON ({exc.msg})",
                fix='write it as one JSON object: {"title": "...", "date": "2024-05-01"}',
                line=first_line + exc.lineno - 1,
            )
        ) from None
    except RecursionError:
        raise _too_deep(file, first_line) from None
    except ValueError as exc:  # an integer of more than 4,300 digits
        raise _unreadable_number(exc, file, first_line) from None
    if not isinstance(data, dict):
        raise PostError(
            Problem(
                file=file,
                field="frontmatter",
                message=f"must be a JSON object, not {type(data).__name__}",
                fix='write it as {"title": "...", "date": "2024-05-01"}',
                line=first_line,
            )
        )
    if re.search(r"[\ud800-\udfff]", json.dumps(data, ensure_ascii=False)):
        # JSON allows "\ud800" escapes that are half a character; YAML and TOML refuse them.
        raise PostError(
            Problem(
                file=file,
                field="frontmatter",
                message="has a \\uD800-\\uDFFF escape that is half a character (a lone surrogate)",
                fix="write the character itself, or both halves of the pair: \\ud83d\\ude00",
                line=first_line,
            )
        )
    _check_values(data, file, first_line, limits)
    return data, text[end:].lstrip("\n")


def _check_values(data: Any, file: str, first_line: int, limits: Limits) -> None:
    if _count_values(data, limits.frontmatter_values) > limits.frontmatter_values:
        raise PostError(
            Problem(
                file=file,
                field="frontmatter",
                message=f"holds more than {limits.frontmatter_values:,} values",
                fix="keep the frontmatter to a few keys",
                line=first_line,
            )
        )


def _unreadable_number(exc: ValueError, file: str, first_line: int) -> PostError:
    digits = re.search(r"has (\d+) digits", str(exc))
    return PostError(
        Problem(
            file=file,
            field="frontmatter",
            message="holds a number too long to read"
            + (f" ({digits.group(1)} digits; at most 4,300 are read)" if digits else ""),
            fix="quote long numbers and codes as text",
            line=first_line,
        )
    )


def _too_deep(file: str, first_line: int) -> PostError:
    return PostError(
        Problem(
            file=file,
            field="frontmatter",
            message="is nested too deeply",
            fix="write it as 'key = value' lines, with lists at most a few levels deep",
            line=first_line,
        )
    )
