"""``posts.json``'s literal text (``publisher/index.py``): laid out from an index of two
posts, it is the text rendering every mark would give, for any count and site."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from conftest import BASE_CONFIG
from publisher import index
from publisher.config import load_config
from publisher.splicing import template


@pytest.mark.parametrize("title", ["Blog", 'A "quoted" t\u00eftle \u2603 \\ / \x7f', ""])
def test_the_literals_are_those_of_every_mark_rendered(tmp_path: Path, title: str) -> None:
    (tmp_path / "config.yaml").write_text(BASE_CONFIG, encoding="utf-8")
    (tmp_path / "posts").mkdir()
    config = load_config(tmp_path / "config.yaml")
    config = replace(config, site=replace(config.site, title=title))

    def render(marks: list[bytes]) -> bytes:
        return index._render(config, [index._MARK] * len(marks)).encode("utf-8")

    for count in (0, 1, 2, 3, 7, 100):
        assert index._literals(config, count) == template(render, index._MARK_TEXT, count)
