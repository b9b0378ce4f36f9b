"""Each adapter's declarations hold together and are what the docs say: its limits appear
in docs/announce.md's limits table, counted in the unit the table names, and its link
preview (if it has one) is drawn under its own kind."""

from __future__ import annotations

import re

import pytest

from conftest import REPO
from publisher.announce.contract import MeasuredLimit, TextLimit
from publisher.announce.doubt import can_read_back
from publisher.announce.registry import announcer_class, builtin_kinds

DOC = (REPO / "docs" / "announce.md").read_text(encoding="utf-8")
#: How the table says each unit (a measured limit, X's or Threads', says its own rule).
UNIT_WORDS = {
    "graphemes": "graphemes",
    "utf16": "UTF-16",
    "chars": "code points",
    "bytes": "UTF-8 bytes",
}


def _row(header: str, kind: str) -> list[str]:
    """The cells of ``kind``'s row in the docs table that starts with ``header``."""
    start = DOC.index(header)
    table = DOC[start : DOC.index("\n\n", start)]
    for line in table.splitlines()[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        if f"`{kind}`" in re.findall(r"`[^`]+`", cells[0]):
            return cells
    raise AssertionError(f"docs/announce.md: the table {header!r} has no row for `{kind}`")


def _says(cell: str, number: int) -> bool:
    """``number`` stands in ``cell`` as a number of its own (40 is not in 4096)."""
    return re.search(rf"(?<!\d){number}(?!\d)", cell) is not None


@pytest.mark.parametrize("kind", builtin_kinds())
def test_every_declared_limit_is_in_the_docs_table(kind: str) -> None:
    cls = announcer_class(kind)
    _, fields, counted = _row("| kind | field: limit | counted as |", kind)
    fields = fields.replace(",", "")
    declared: list[TextLimit] = [cls.limit, *cls.limits.values()]
    for limit in declared:
        assert _says(fields, limit.max), f"{kind}: {limit.describe()} is not in the docs"
        if limit.max_bytes is not None:
            assert _says(fields, limit.max_bytes), f"{kind}: {limit.max_bytes} bytes"
        if not isinstance(limit, MeasuredLimit):
            assert UNIT_WORDS[limit.unit] in counted, f"{kind}: counted as {limit.unit}"


@pytest.mark.parametrize("kind", builtin_kinds())
def test_a_link_preview_is_declared_under_its_own_kind(kind: str) -> None:
    preview = announcer_class(kind).link_preview
    if preview is not None:
        assert preview.key == kind and preview.name


@pytest.mark.parametrize("kind", builtin_kinds())
def test_the_read_back_table_says_what_the_adapter_does(kind: str) -> None:
    cls = announcer_class(kind)
    cells = _row("| kind | key | key lifetime | read-back |", kind)
    if cells[3].startswith("yes"):  # (an adapter may also override it to explain a "no")
        assert can_read_back(cls(kind, {})), f"{kind}: the docs say it reads back"
