"""Split a post file into YAML frontmatter and body, and parse the YAML (TOML and JSON
frontmatter: ``tomljson.py``).

Plain ``key: value`` frontmatter is read by ``plainyaml``; anything else by PyYAML
(``fullyaml``), imported only then.
"""

from __future__ import annotations

from publisher.errors import PostError, Problem
from publisher.posts import plainyaml
from publisher.posts.limits import DEFAULT_LIMITS, Limits, check_frontmatter_length
from publisher.posts.tomljson import parse_json as parse_json
from publisher.posts.tomljson import parse_toml as parse_toml

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (issue 12)

if TYPE_CHECKING:
    from typing import Any


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


def parse(
    text: str, file: str, first_line: int = 2, limits: Limits = DEFAULT_LIMITS
) -> tuple[dict[str, Any], list[Problem]]:
    """Parse frontmatter YAML; return the mapping and warnings (duplicate keys)."""
    check_frontmatter_length(text, file, first_line, limits)
    plain = plainyaml.read(text, limits.frontmatter_values, limits.frontmatter_expanded_chars)
    if plain is not None:
        return plain[0], _repeated(plain[1], file, first_line)
    from publisher.posts import fullyaml  # only for what plainyaml does not read

    data, repeated = fullyaml.load(text, file, first_line, limits)
    return data, _repeated(repeated, file, first_line)


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
