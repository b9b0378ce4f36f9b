"""The site table's columns (``publisher/incremental/rows.py``, ``table.py``): each fast
form is held to the plain one it replaced."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from publisher.incremental.rows import _folder_of, dump_moment, load_moment
from publisher.incremental.table import SEP, joined, split


@pytest.mark.parametrize(
    "source", ["/a/b/index.md", "/index.md", "a/b//x", "x", "//x", "/a/b/", "/a//b/c.md", "///"]
)
def test_a_posts_folder_is_its_dirname(source: str) -> None:
    assert _folder_of(source) == os.path.dirname(source) + "/"


@pytest.mark.parametrize(
    "values",
    [
        (),
        ("a",),
        ("a", "b"),
        ("", "b"),
        ("a", ""),
        (f"a{SEP}b",),
        ("a", f"{SEP}"),
        ("",),
        ("x",) * 5,
    ],
)
def test_a_column_is_joined_only_when_it_splits_back(values: tuple[str, ...]) -> None:
    plain = None if any(SEP in v for v in values) or "" in values else SEP.join(values)
    assert joined(iter(values)) == plain
    if plain is not None:
        assert split(plain) == values


@pytest.mark.parametrize(
    "value",
    [
        datetime(2024, 3, 1, 12, 30, tzinfo=UTC),
        datetime(2024, 3, 1, 12, 30, 0, 5, tzinfo=UTC),
        datetime(2024, 3, 1, 12, 30, tzinfo=UTC).replace(fold=1),
        datetime(2024, 3, 1, tzinfo=timezone(timedelta(hours=2))),
        datetime(2024, 3, 1, tzinfo=timezone(timedelta(hours=2), "CEST")),
        datetime(2024, 3, 1, tzinfo=timezone(timedelta(0), "UTC")),
        datetime(2024, 10, 27, 2, 30, tzinfo=ZoneInfo("Europe/Berlin"), fold=1),
        datetime(2024, 3, 1),
    ],
)
def test_a_moment_comes_back_with_its_repr_or_is_not_kept(value: datetime) -> None:
    text = dump_moment(value)
    exact = repr(datetime.fromisoformat(value.isoformat())) == repr(value)
    if isinstance(value.tzinfo, ZoneInfo):
        assert text is not None
    else:
        assert (text is not None) == exact
    if text is not None:
        assert repr(load_moment(text)) == repr(value)
