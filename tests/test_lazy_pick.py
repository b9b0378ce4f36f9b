"""A build that read only the changed post makes the other posts it needs together.

With the feed cache lost, every feed item must be rendered again from its post; a build
that read only the edited post knows the others by their rows (``incremental/lazy.py``).
Each post asked for alone was a read of the post cache with its own commit: 10,000 of
them at 10,000 posts (40 s, 1.2 GB, against a cold build's 4 s and 200 MB). The count of
reads of posts must not grow with the site (``publisher/picking.py``), and the outputs
must be a cold build's bytes.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from cli_run import publish

from conftest import FEEDS_CONFIG, Site, tree_bytes

NOW = "--now=2025-06-01T00:00:00Z"
#: An hour back: the config and posts are judged by their stat (the quick read's rule).
OLD = 3600 * 10**9


def _build(root: Path, *flags: str) -> None:
    done = publish("build", NOW, *flags, cwd=root)
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == 0, done.stderr


def _site(site: Site, count: int) -> None:
    site.config(FEEDS_CONFIG)
    for i in range(count):
        day = 1 + i % 28
        site.post(
            f"p{i:05d}",
            f"title: Post {i}\ndate: 2024-{1 + i % 12:02d}-{day:02d}T{i % 24:02d}:00:00Z\n"
            f"tags: [t{i % 7}]",
            f"Body of post {i}, *some* words.\n",
        )
    for path in [site.config_path, *site.posts.rglob("*")]:
        before = path.stat().st_mtime_ns - OLD
        os.utime(path, ns=(before, before))


def _reads_after_feed_cache_lost(
    site: Site, count: int, monkeypatch: pytest.MonkeyPatch
) -> tuple[int, bool]:
    """(the reads of posts a one-edit build makes once the feed cache is gone, whether
    that build read only the changed post)."""
    from publisher.incremental import quick
    from publisher.posts import collect

    _site(site, count)
    _build(site.root)
    (site.root / "state" / "feeds.sqlite").unlink()
    edited = site.posts / "p00003" / "index.md"
    edited.write_text(edited.read_text(encoding="utf-8") + "\nOne more line.\n", "utf-8")

    reads: list[int] = []
    quick_reads: list[bool] = []
    read_posts, read_changed = collect.read_posts, quick.read_changed

    def counted(*args: Any, **kwargs: Any) -> Any:
        reads.append(len(kwargs.get("files") or ()))
        return read_posts(*args, **kwargs)

    def spied(*args: Any, **kwargs: Any) -> Any:
        found = read_changed(*args, **kwargs)
        quick_reads.append(found is not None)
        return found

    monkeypatch.setattr(collect, "read_posts", counted)
    monkeypatch.setattr(quick, "read_changed", spied)
    _build(site.root)
    monkeypatch.undo()
    return len(reads), quick_reads == [True]


@pytest.mark.parametrize("count", [500, 2000])
def test_posts_a_lost_feed_cache_needs_are_made_in_one_read(
    site: Site, monkeypatch: pytest.MonkeyPatch, count: int
) -> None:
    reads, quick_read = _reads_after_feed_cache_lost(site, count, monkeypatch)
    assert quick_read, "the build read every post: nothing lazy was made"
    # The edited post, then every other one the feeds need: one read each, whatever the
    # size (one read per post was the cliff).
    assert reads <= 3, f"{reads} reads of posts for {count} posts"


def test_a_lost_feed_cache_gives_a_cold_builds_bytes(
    site: Site, monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    _reads_after_feed_cache_lost(site, 200, monkeypatch)
    cold = tmp_path_factory.mktemp("cold") / "site"
    shutil.copytree(site.root, cold, ignore=shutil.ignore_patterns("public", "state"))
    _build(cold, "--jobs", "1")
    assert tree_bytes(site.root / "public") == tree_bytes(cold / "public")
