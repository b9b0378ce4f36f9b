"""publisher.posts.record: each field of a post's record read by its own function, with
the problems it files (errors cost the post, warnings only the value)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from publisher.posts import record
from publisher.posts.limits import DEFAULT_LIMITS
from publisher.posts.model import Author

BERLIN = ZoneInfo("Europe/Berlin")


def _findings() -> record.Findings:
    return record.Findings("posts/x/index.md", {"title": 2, "ogImage": 5}, DEFAULT_LIMITS)


def _said(found: record.Findings) -> list[str]:
    return [f"{p.severity} {p}" for p in [*found.problems, *found.errors]]


@pytest.mark.parametrize(
    ("meta", "title", "said"),
    [
        ({"title": " Hello "}, "Hello", []),
        ({"title": 2024}, "2024", []),
        (
            {},
            "",
            [
                "error posts/x/index.md:2: title is missing; add a line like title: 'What this post is about'"
            ],
        ),
        (
            {"title": ["a"]},
            "-",
            ["error posts/x/index.md:2: title must be text, not list; quote the title"],
        ),
    ],
)
def test_record_title(meta: dict[str, Any], title: str, said: list[str]) -> None:
    found = _findings()
    assert record.title(meta, found) == title
    assert _said(found) == said


def test_record_dates() -> None:
    found = _findings()
    assert record.date({"date": "2024-05-01"}, BERLIN, found) == datetime(2024, 5, 1, tzinfo=BERLIN)
    assert record.date({"date": ""}, BERLIN, found) is None
    # The first "last changed" key given wins; a bad one is a warning, not an error.
    meta = {"lastmod": "2024-06-01", "modified": "2025-01-01"}
    assert record.updated(meta, BERLIN, found) == datetime(2024, 6, 1, tzinfo=BERLIN)
    assert record.updated({"updated": "soon"}, BERLIN, found) is None
    assert [p.severity for p in found.errors] == ["error"]
    assert [(p.field, p.severity) for p in found.problems] == [("updated", "warning")]


def test_record_summary_order_and_excerpt() -> None:
    found = _findings()
    keys = ("ogSummary", "description")
    assert record.summary({"description": "d", "ogSummary": "o"}, keys, found) == "o"
    assert record.summary({"ogSummary": " ", "description": "d"}, keys, found) == "d"
    assert record.summary({"_excerpt": "first paragraph"}, keys, found) == "first paragraph"
    assert record.summary({"ogSummary": True}, keys, found) is None
    assert found.problems == [] and found.errors == []


@pytest.mark.parametrize(
    ("path", "expected", "errors"),
    [
        (None, (None, "https://x.org/blog/p/"), 0),
        ("/a/b/", ("/a/b/", "https://x.org/a/b/"), 0),
        ("https://x.org/a/", ("/a/", "https://x.org/a/"), 0),
        (
            "https://elsewhere.org/a/",
            ("https://elsewhere.org/a/", "https://x.org/https://elsewhere.org/a/"),
            1,
        ),
    ],
)
def test_record_page(path: str | None, expected: tuple[str | None, str], errors: int) -> None:
    found = _findings()
    meta = {} if path is None else {"path": path}
    assert record.page(meta, "p", "https://x.org", "/blog/{id}/", found) == expected
    assert len(found.errors) == errors


@pytest.mark.parametrize(
    ("meta", "expected", "said"),
    [
        ({"ogImage": "./cover.png"}, ("cover.png", None), 0),
        ({"ogImage": "https://cdn.example/a b.png"}, (None, "https://cdn.example/a%20b.png"), 0),
        ({"ogImage": "/img/a.png"}, (None, None), 1),
        ({"ogImageUrl": "https://cdn.example/x.png"}, (None, "https://cdn.example/x.png"), 0),
        ({"ogImageSitePath": "/img/x.png"}, (None, "https://x.org/img/x.png"), 0),
        ({"ogImageUrl": "ftp://x/y.png"}, (None, None), 1),
    ],
)
def test_record_og_image(
    meta: dict[str, Any], expected: tuple[str | None, str | None], said: int
) -> None:
    found = _findings()
    assert record.og_image(meta, "https://x.org", found) == expected
    assert len(found.problems) + len(found.errors) == said


def test_record_labels_and_authors() -> None:
    found = _findings()
    meta = record.without_mapping_labels({"tags": {"a": 1}, "category": "x, y"}, found)
    assert "tags" not in meta
    assert record.labels(meta, found) == (["x", "y"], [])
    assert [p.field for p in found.problems] == ["tags"]
    assert record.authors({"author": "Ann"}, "", "Site", None) == (Author(name="Ann"),)
    assert record.authors({}, "_Author: Bo, Org_\n\ntext", "Site", None) == (
        Author(name="Bo", org="Org"),
    )
    assert record.authors({}, "text", "Site", "s@x.org") == (Author(name="Site", email="s@x.org"),)
