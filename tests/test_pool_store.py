"""A parallel read's workers store what they parse (``publisher/posts/workers.py``).

Each read worker writes its posts' entries to the post cache and their feed items to the
feed cache itself, so the bodies never travel back to the main process. Checked on real
files, real SQLite and a real process pool against a serial build (``--jobs 1``): the same
output bytes and the same cache rows; the main process encodes no post and holds no body;
a worker that cannot write hands its posts back and the main process stores them, with
the same result; and a one-post rebuild over the workers' rows equals a cold build.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from conftest import BASE_CONFIG
from publisher.build import BuildResult, build_site
from publisher.config.loader import load_config
from publisher.feeds.cache import FeedCache
from publisher.posts import collect
from publisher.posts.cache import PostCache

CONFIG = (
    BASE_CONFIG + "cards:\n  enabled: false\nfeeds:\n  formats: [rss, atom, json]\n  limit: null\n"
)
NOW = datetime(2025, 6, 1, tzinfo=UTC)
POSTS = 40


def _site(root: Path) -> Path:
    root.mkdir(parents=True)
    (root / "config.yaml").write_text(CONFIG, encoding="utf-8")
    for i in range(POSTS):
        folder = root / "posts" / f"post-{i:03d}"
        folder.mkdir(parents=True)
        broken = i == 5  # no title: a problem, no record; its entry is cached all the same
        (folder / "index.md").write_text(
            ("" if broken else f"---\ntitle: Post {i} ü\n")
            + f"date: 2024-01-01T00:00:{i:02d}Z\ntags: [t{i % 3}]\n"
            + f"draft: {'true' if i == 7 else 'false'}\n---\n"
            + f"Body of post {i}, *with* <b>some</b> text & a [link](/x/{i}).\n\n"
            + "| a | b |\n| - | - |\n| 1 | 2 |\n",
            encoding="utf-8",
        )
    return root


def _build(root: Path, jobs: int) -> BuildResult:
    return build_site(load_config(root / "config.yaml"), now=NOW, jobs=jobs)


def _outputs(root: Path) -> dict[str, bytes]:
    public = root / "public"
    return {p.relative_to(public).as_posix(): p.read_bytes() for p in public.rglob("*.*")}


def _rows(root: Path) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    """Every cached entry and feed item, without the keys (they hash the site's folder)."""
    with sqlite3.connect(root / "state" / "cache.sqlite") as db:
        posts = sorted(db.execute("SELECT entry, digest, markdown, html FROM posts"))
    with sqlite3.connect(root / "state" / "feeds.sqlite") as db:
        items = sorted(db.execute("SELECT id, rss, atom, json FROM items"))
    return posts, items


def _serial(tmp_path: Path) -> tuple[dict[str, bytes], tuple[list[tuple[object, ...]], ...]]:
    root = _site(tmp_path / "serial")
    assert not _build(root, 1).read.posts[0].body.resident  # stored, read back on use
    return _outputs(root), _rows(root)


@pytest.fixture
def pooled(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """A pool of two workers over the test's posts; returns the pids that encoded a post
    for the main process to store (``PostCache.put_encoded``)."""
    monkeypatch.setattr(collect, "PARALLEL_THRESHOLD", 10)
    callers: list[int] = []
    put_encoded = PostCache.put_encoded

    def counted(self: PostCache, *args: object) -> bool:
        callers.append(os.getpid())
        return put_encoded(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(PostCache, "put_encoded", counted)
    return callers


def test_workers_store_their_posts_and_the_result_is_the_serial_one(
    tmp_path: Path, pooled: list[int]
) -> None:
    serial, serial_rows = _serial(tmp_path)
    pooled.clear()
    root = _site(tmp_path / "parallel")
    result = _build(root, 2)
    assert len(result.read.problems) == 1 and len(result.read.posts) == POSTS - 1
    assert _outputs(root) == serial
    posts, items = _rows(root)
    assert items == serial_rows[1]
    # The same entries and digests; the bodies are left out by the workers, whose posts'
    # feed items are made (posts/cache.py), and read again from the files when asked for.
    assert [row[:2] for row in posts] == [row[:2] for row in serial_rows[0]]
    assert [row[2:] for row in posts] == [(None, None)] * len(posts)
    assert pooled == []  # no post went through the main process's cache writes
    assert not any(post.body.resident for post in result.read.posts)
    bodies = {post.id: post.body.html for post in result.read.posts}
    assert bodies["post-003"].startswith("<p>Body of post 3, <em>with</em>")
    serial_bodies = {row[1]: row[2:] for row in serial_rows[0] if row[1] is not None}
    assert serial_bodies and all(
        post.body.text() == serial_bodies[post.body.digest] for post in result.read.posts
    )


def test_a_worker_that_cannot_write_hands_its_posts_back(
    tmp_path: Path, pooled: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    main = os.getpid()
    add_rows = FeedCache.add_rows

    def refused(self: FeedCache, rows: object) -> bool:
        return os.getpid() == main and add_rows(self, rows)  # type: ignore[arg-type]

    # In the workers only (they are forked with these): the files are locked, say.
    monkeypatch.setattr(PostCache, "put_now", lambda self, rows, **_: os.getpid() == main)
    monkeypatch.setattr(FeedCache, "add_rows", refused)
    serial, serial_rows = _serial(tmp_path)
    pooled.clear()
    root = _site(tmp_path / "parallel")
    _build(root, 2)
    assert _outputs(root) == serial
    assert _rows(root) == serial_rows
    assert set(pooled) == {main} and len(pooled) == POSTS


def test_one_post_edited_after_a_parallel_cold_build_is_a_cold_build(
    tmp_path: Path, pooled: list[int]
) -> None:
    root = _site(tmp_path / "site")
    _build(root, 2)
    post = root / "posts" / "post-010" / "index.md"
    post.write_text(post.read_text(encoding="utf-8") + "\nEdited *now*.\n", encoding="utf-8")
    again = _build(root, 2)
    assert again.read.cache_hits == POSTS - 1  # the workers' rows, found by their keys
    rebuilt = _outputs(root)
    shutil.rmtree(root / "public")
    shutil.rmtree(root / "state")
    _build(root, 1)
    assert _outputs(root) == rebuilt
    assert b"Edited" in rebuilt["rss.xml"] and b"Edited" in rebuilt["feed.json"]


def test_without_feeds_or_in_a_dry_run_the_pool_gives_the_serial_result(
    tmp_path: Path, pooled: list[int]
) -> None:
    """No ``Ahead`` (feeds off): the workers store the posts alone. A dry run: they store
    nothing (the cache is read-only) and the main process writes nothing either."""
    roots = {}
    for name, jobs in (("serial", 1), ("parallel", 2)):
        root = _site(tmp_path / name)
        config = root / "config.yaml"
        config.write_text(config.read_text(encoding="utf-8") + "  enabled: false\n")
        dry = build_site(load_config(config), now=NOW, jobs=jobs, dry_run=True)
        assert len(dry.read.posts) == POSTS - 1 and not (root / "state").exists()
        _build(root, jobs)
        roots[name] = root
    assert _outputs(roots["parallel"]) == _outputs(roots["serial"])
    with sqlite3.connect(roots["parallel"] / "state" / "cache.sqlite") as db:
        parallel = sorted(db.execute("SELECT entry, digest, markdown, html FROM posts"))
    with sqlite3.connect(roots["serial"] / "state" / "cache.sqlite") as db:
        assert parallel == sorted(db.execute("SELECT entry, digest, markdown, html FROM posts"))
    assert not (roots["parallel"] / "state" / "feeds.sqlite").exists()
