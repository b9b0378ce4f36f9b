"""Each adapter's declarations hold together and are what the docs say: its limits appear
in docs/announce.md's limits table, counted in the unit the table names, and its link
preview (if it has one) is drawn under its own kind."""

from __future__ import annotations

import re

import pytest

from conftest import REPO
from publisher.announce.contract import MeasuredLimit, TextLimit
from publisher.announce.registry import announcer_class, builtin_kinds

DOC = (REPO / "docs" / "announce.md").read_text(encoding="utf-8")
#: How the table says each unit (a measured limit, X's or Threads', says its own rule).
UNIT_WORDS = {
    "graphemes": "graphemes",
    "utf16": "UTF-16",
    "chars": "code points",
    "bytes": "UTF-8 bytes",
}


def _limits_row(kind: str) -> tuple[str, str]:
    """The limits table's (field: limit, counted as) cells for ``kind``."""
    header = DOC.index("| kind | field: limit | counted as |")
    table = DOC[header : DOC.index("\n\n", header)]
    for line in table.splitlines()[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        if f"`{kind}`" in re.findall(r"`[^`]+`", cells[0]):
            return cells[1].replace(",", ""), cells[2]
    raise AssertionError(f"docs/announce.md: the limits table has no row for `{kind}`")


def _says(cell: str, number: int) -> bool:
    """``number`` stands in ``cell`` as a number of its own (40 is not in 4096)."""
    return re.search(rf"(?<!\d){number}(?!\d)", cell) is not None


@pytest.mark.parametrize("kind", builtin_kinds())
def test_every_declared_limit_is_in_the_docs_table(kind: str) -> None:
    cls = announcer_class(kind)
    fields, counted = _limits_row(kind)
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
