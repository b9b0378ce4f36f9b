"""The start of a cold read's pool (``posts/collect.py``): each worker has its first chunk
before the main process lays out the feed cache and starts its writeback thread (the
second worker used to wait 7 to 10 ms behind them, issue 12)."""

from __future__ import annotations

import sys
from typing import Any

import pytest

import publisher.posts.collect as collect
from conftest import Site
from publisher.config import load_config
from publisher.posts import read_posts

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the read forks on Linux only")


def test_every_worker_has_its_first_chunk_before_the_feed_cache_is_laid_out(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(40):
        site.post(f"p{n:02d}", f"title: P{n}\ndate: 2024-01-{n % 28 + 1:02d}", "Body.")
    expected = read_posts(load_config(site.config_path), jobs=1)
    # The pool starts with the first block (8 files), as a cold read of 200 or more.
    monkeypatch.setattr(collect, "PARALLEL_THRESHOLD", 20)
    forked = collect._Parser._forked
    sent: list[int] = []

    def counted(self: Any) -> None:
        sent.append(len(self.sent))
        forked(self)

    monkeypatch.setattr(collect._Parser, "_forked", counted)
    result = read_posts(load_config(site.config_path), jobs=2)
    assert sent == [2]
    assert result.posts == expected.posts and result.problems == expected.problems
