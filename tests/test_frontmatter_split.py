"""``frontmatter.split`` and ``split_any`` against the line-list implementation they
replaced (issue 12: the file is now read a line at a time up to the closing line, not split
whole into lines and joined back). The reference is that implementation, kept verbatim;
both must give the same parts, line numbers and errors on seeded random files made of
openers, closers, blank and whitespace-only lines (Unicode spaces included), keys and
body text, with and without a final newline.
"""

from __future__ import annotations

import random

import pytest

from publisher.errors import PostError, Problem
from publisher.posts import frontmatter


def reference_split(text: str, file: str) -> tuple[str, str, int, int]:
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


def reference_split_any(text: str, file: str) -> tuple[str, str, str, int, int]:
    lines = text.split("\n")
    first = 0
    while first < len(lines) and not lines[first].strip():
        first += 1
    opener = lines[first].rstrip() if first < len(lines) else ""
    if opener == "+++":
        for end in range(first + 1, len(lines)):
            if lines[end].rstrip() == "+++":
                meta, body = "\n".join(lines[first + 1 : end]), "\n".join(lines[end + 1 :])
                return "toml", meta, body, first + 2, end + 2
        raise PostError(
            Problem(
                file=file,
                field="frontmatter",
                message="is not closed",
                fix=f"add a '+++' line after the last TOML key (opened on line {first + 1})",
                line=first + 1,
            )
        )
    if opener.startswith("{"):
        start = sum(len(line) + 1 for line in lines[:first])
        return "json", text[start:], "", first + 1, first + 1
    meta, body, meta_line, body_line = reference_split(text, file)
    return "yaml", meta, body, meta_line, body_line


LINES = (
    *("---", "--- ", "---\t", "---\u00a0", " ---", "----", "...", "... ", "+++", "+++ ", "++"),
    *("", " ", "\t", "\u2003", "\u3000", "\x85", "\x0c", "\u2028", "\x1c"),
    *("title: A", "date: 2024-05-01", "tags: [a, b]", '{"title": "J"}', "{", "x = 1"),
    *("Body text.", "# Heading", "- item", "---x", "a --- b", "日本語"),
)


def random_text(rng: random.Random) -> str:
    lines = rng.choices(LINES, k=rng.randint(0, 12))
    return "\n".join(lines) + rng.choice(("", "\n", "\n\n"))


def outcome(function, text: str) -> object:  # type: ignore[no-untyped-def]
    try:
        return function(text, "post.md")
    except PostError as exc:
        return exc.problem


@pytest.mark.parametrize("seed", range(3))
def test_the_parts_lines_and_errors_are_those_of_the_line_list(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(3000):
        text = random_text(rng)
        assert outcome(frontmatter.split, text) == outcome(reference_split, text), repr(text)
        assert outcome(frontmatter.split_any, text) == outcome(reference_split_any, text), repr(
            text
        )


def test_edge_files() -> None:
    for text in ("", "\n", "---", "---\n", "---\n---", "---\n---\n", "\n\n---\n...\nbody", "+++"):
        assert outcome(frontmatter.split, text) == outcome(reference_split, text), repr(text)
        assert outcome(frontmatter.split_any, text) == outcome(reference_split_any, text), repr(
            text
        )
