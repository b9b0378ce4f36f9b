"""Feeds one file at a time (``iter_feeds``): the same files as ``build_feeds``, in path
order, each made only when asked for, and a path clash found before anything is made."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from conftest import Site
from publisher.config import load_config
from publisher.errors import FeedError
from publisher.feeds import build_feeds
from publisher.feeds.generate import iter_feeds
from publisher.posts import read_posts


@pytest.fixture
def posts(site: Site) -> Path:
    site.config(
        """\
        site: {title: T, url: 'https://blog.example.org', timezone: UTC}
        posts: {folder: posts}
        output: {folder: public}
        state: {folder: state}
        feeds: {tags: true}
        """
    )
    for i in range(4):
        site.post(f"p{i}", f"title: P{i}\ndate: 2024-01-0{i + 1}\ntags: [a, t{i % 2}]", f"B{i}\n")
    return site.config_path


def test_files_come_one_at_a_time_in_path_order(posts: Path, tmp_path: Path) -> None:
    config = load_config(posts)
    published = read_posts(config).posts
    expected = build_feeds(config.site, published, config.feeds.options)
    stream = iter_feeds(config.site, published, config.feeds.options, cache_dir=tmp_path / "state")
    first_path, first_data = next(stream)
    assert first_path == min(expected)
    assert first_data == expected[first_path]
    rest = dict(stream)
    assert {first_path: first_data, **rest} == expected
    assert list(rest) == sorted(rest)
    assert len(expected) > 6  # main and tag feeds in three formats, and the stylesheet


def test_a_path_clash_is_found_before_anything_is_made(posts: Path) -> None:
    config = load_config(posts)
    published = read_posts(config).posts
    options = replace(config.feeds.options, stylesheet=True, stylesheet_path="rss.xml")
    stream = iter_feeds(config.site, published, options)
    with pytest.raises(FeedError, match=r"two feeds would be written to rss\.xml"):
        next(stream)
