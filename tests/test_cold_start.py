"""The start of a cold read's pool (``posts/collect.py``): each worker has its first chunk
before the main process lays out the feed cache and starts its writeback thread (the
second worker used to wait 7 to 10 ms behind them, issue 12); and the post cache's last
commit is waited for once the feed files are handed to the workers, not before."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import publisher.posts.collect as collect
from conftest import Site
from publisher.config import load_config
from publisher.posts import read_posts

NOW = datetime(2030, 1, 1, tzinfo=UTC)

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


def test_the_post_caches_last_commit_is_waited_for_after_the_feed_files_are_handed_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from build_process import bench_naive

    from publisher import inputs
    from publisher.build import build_site
    from publisher.feeds import splice
    from publisher.posts.cache import PostCache

    root = tmp_path / "site"
    root.mkdir()
    bench_naive.write_site(root, 40)
    monkeypatch.setattr(collect, "PARALLEL_THRESHOLD", 4)
    events: list[str] = []
    finish, submit, record = PostCache.finish, splice.submit, inputs.record

    def finished(self: PostCache, *args: Any, **kwargs: Any) -> Any:
        wait = finish(self, *args, **kwargs)

        def waited() -> None:
            wait()
            events.append("commit")

        return waited

    def submitted(*args: Any) -> Any:
        events.append("feed file")
        return submit(*args)

    def recorded(*args: Any, **kwargs: Any) -> None:
        events.append("record")
        record(*args, **kwargs)

    monkeypatch.setattr(PostCache, "finish", finished)
    monkeypatch.setattr(splice, "submit", submitted)  # as splice.py calls it
    monkeypatch.setattr(inputs, "record", recorded)
    monkeypatch.chdir(root)
    config = load_config(root / "config.yaml")
    build_site(config, now=NOW, jobs=2, snapshot=inputs.take_snapshot(config))
    assert events == ["feed file", "feed file", "commit", "record"]
    assert (root / "public" / "rss.xml").exists()
