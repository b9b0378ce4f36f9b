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


def test_a_table_made_by_a_thread_hands_back_its_answer_or_error() -> None:
    """``reading.Later``: the site table of a cold build is made by a thread while the
    feeds are written; its answer, or the exception it met, comes back to the build."""
    from publisher.incremental.reading import Later

    assert Later(lambda: None).result() is None

    def broken() -> None:
        raise KeyError("row")

    with pytest.raises(KeyError, match="row"):
        Later(broken).result()


@pytest.mark.parametrize("seed", range(5))
def test_rows_newest_first_are_in_the_order_of_the_plain_sort(seed: int) -> None:
    """Two sorts by keys made in C (rows.newest_first) give the order of the one sort
    by (newest, id) it replaced: ties of dates, ids out of order, a row with no date."""
    import random

    from publisher.incremental.rows import newest_first
    from publisher.incremental.table import Row

    rng = random.Random(seed)
    rows = [
        Row._make(
            [f"f{i}", "l", "s", None, f"id-{rng.randrange(60):02d}-{i}", None, None]
            + [float(rng.randrange(8)) if seed or i else None]
            + [None] * 13
        )
        for i in range(80)
    ]
    plain = sorted(rows, key=lambda r: (-(r.date_ts or 0.0), r.id or ""))
    assert newest_first(list(rows)) == plain
    assert [r.id for r in newest_first(list(rows))] == [r.id for r in plain]
