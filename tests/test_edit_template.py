"""A feed file's literals laid out from three marks (``splicing.template(repeats=True)``):
for every feed format, the bytes rendering every mark gives, for any count and head; a
renderer whose separators are not all the same is rendered mark by mark."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import pytest

from conftest import BASE_CONFIG
from publisher.config import load_config
from publisher.feeds import formats as registry
from publisher.feeds.generate import feed_head
from publisher.feeds.splice import MARK
from publisher.splicing import template

_TITLES = ["Blog", 'A "quoted" t\u00eftle \u2603 \\ / <&> ]]>']
_COUNTS = (0, 1, 2, 3, 4, 5, 17, 200)


@pytest.mark.parametrize("title", _TITLES)
@pytest.mark.parametrize("kind", [f.name for f in registry.FORMATS])
def test_three_marks_give_the_literals_of_every_mark(tmp_path: Path, kind: str, title: str) -> None:
    (tmp_path / "config.yaml").write_text(BASE_CONFIG, encoding="utf-8")
    (tmp_path / "posts").mkdir()
    config = load_config(tmp_path / "config.yaml")
    site = replace(config.site, title=title)
    head = feed_head(site, config.feeds.options)
    renderer = registry.get(kind).module()
    assert getattr(renderer, "CONCATENATES", False) is True
    for updated in (None, datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)):
        shell = renderer.render_shell(kind, head, updated)
        render = partial(renderer.render_feed, kind, shell)
        for count in _COUNTS:
            whole = template(render, MARK, count)
            assert whole is not None
            assert template(render, MARK, count, repeats=True) == whole


def _numbered(marks: list[bytes]) -> bytes:
    """A document whose separators count the pieces before them: not the same bytes
    between every two pieces."""
    out = [b"<head>"]
    for n, mark in enumerate(marks):
        if n:
            out.append(b"<%d>" % n)
        out.append(mark)
    out.append(b"<tail>")
    return b"".join(out)


def _doubled(marks: list[bytes]) -> bytes:
    """A renderer that writes each piece twice: its marks do not come out as they went in."""
    return b"<" + b"|".join(m + m for m in marks) + b">"


@pytest.mark.parametrize("count", [0, 1, 3, 4, 9])
def test_a_renderer_with_other_separators_is_rendered_mark_by_mark(count: int) -> None:
    expected = template(_numbered, MARK, count)
    assert expected is not None and len(expected) == count + 1
    assert template(_numbered, MARK, count, repeats=True) == expected
    if count:
        assert template(_doubled, MARK, count, repeats=True) is None
        assert template(_doubled, MARK, count) is None
