"""Red team for issue 12's cold build: read workers that store what they parse in the post
and feed caches themselves (``posts/workers.py``, ``feeds/early.py``) must leave a site
that builds as a build from nothing builds it, whatever happens to them on the way.

Each test forces the read pool on a small site (two workers, chunks of eight posts), gets
in the workers' way (a worker that dies after storing its rows, caches another build
holds locked, tag spellings that differ from one chunk to another), and compares the
output folder, byte for byte, and the exit code with a cold build of a copy of the site.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from cli_run import publish

from conftest import FEEDS_CONFIG, Site, tree_bytes
from publisher import snapshot, statecache
from publisher.feeds import cache as feed_cache
from publisher.posts import collect

NOW = "--now=2025-06-01T00:00:00Z"
CONFIG = FEEDS_CONFIG
#: Posts in a site: three chunks of eight for two workers.
POSTS = 24


@pytest.fixture(autouse=True)
def _pooled(monkeypatch: pytest.MonkeyPatch) -> None:
    # The pool starts at 200 posts; at 4 these few posts are read by two workers. Files
    # written a moment ago are judged by their stat, as a real site's older files are.
    monkeypatch.setattr(collect, "PARALLEL_THRESHOLD", 4)
    monkeypatch.setattr(snapshot, "RECENT_NS", 0)
    monkeypatch.setattr(collect, "RECENT_NS", 0)


def _build(root: Path, *args: str) -> str:
    ran = publish("build", NOW, "--jobs", "2", *args, cwd=root)
    assert "Traceback" not in ran.stderr, ran.stderr
    assert ran.returncode == 0, ran.stderr
    return ran.stderr


def _cold(site: Site, where: Path) -> dict[str, bytes]:
    shutil.copytree(site.root, where, ignore=shutil.ignore_patterns("public", "state"))
    _build(where, "--jobs", "1")
    return tree_bytes(where / "public")


def _write(site: Site, n: int, tag: str, words: str = "Body") -> None:
    site.post(
        f"p{n:02d}",
        f"title: Post {n}\ndate: 2024-01-{n + 1:02d}\ntags: [{tag}]",
        f"{words} of post {n}.\n",
    )


def _site(site: Site) -> None:
    """The first chunk spells the tag "Alpha", the site "alpha": a worker that sees its
    chunk alone renders items with the spelling the whole site does not use."""
    site.config(CONFIG)
    for n in range(POSTS):
        _write(site, n, "Alpha" if n < 8 else "alpha")


def test_items_a_worker_rendered_with_its_chunks_spelling_are_not_used(
    site: Site, tmp_path: Path
) -> None:
    _site(site)
    _build(site.root)
    expected = _cold(site, tmp_path / "cold")
    assert b">alpha</category>" in expected["rss.xml"]
    assert b">Alpha</category>" not in expected["rss.xml"]
    assert tree_bytes(site.root / "public") == expected
    # Every "alpha" post respelled but one: the majority flips, each worker's chunk too.
    for n in range(9, POSTS):
        _write(site, n, "Alpha", words="Edited")
    _build(site.root)
    assert tree_bytes(site.root / "public") == _cold(site, tmp_path / "cold2")


#: The chunk whose worker dies, once it stored its rows (set by a test).
_DIES: dict[str, Any] = {}


def _parse_then_die(tasks: list[Any]) -> Any:
    """In a worker: parse and store the chunk as ``collect._parse_many`` does, then die
    before sending it back (killed for memory) when it holds the chosen post."""
    done = _DIES["inner"](tasks)
    if any(task[1] == _DIES["post"] for task in tasks):
        os._exit(9)
    return done


def test_a_worker_dying_after_storing_its_chunk_leaves_no_stale_cache(
    site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The dead worker's chunk is in the post cache and the feed cache, but never came
    # back: the main process reads those posts one process each. Then the posts are
    # edited back and forth, and each build must still be the cold one.
    _site(site)
    _DIES.update(inner=collect._parse_many, post="p09")
    monkeypatch.setattr(collect, "_parse_many", _parse_then_die)
    alone: list[str] = []
    isolated = collect._parse_isolated

    def parse_isolated(job: Any) -> Any:
        alone.append(job[1])
        return isolated(job)

    monkeypatch.setattr(collect, "_parse_isolated", parse_isolated)
    stderr = _build(site.root)
    assert "p09" in alone  # the worker did die: its posts read one by one
    assert f"{POSTS} published" in stderr
    assert tree_bytes(site.root / "public") == _cold(site, tmp_path / "cold1")
    for n in range(8, 16):
        _write(site, n, "Alpha", words="Edited")
    _DIES["post"] = "p12"
    alone.clear()
    _build(site.root)
    assert "p12" in alone
    assert tree_bytes(site.root / "public") == _cold(site, tmp_path / "cold2")
    monkeypatch.setattr(collect, "_parse_many", _DIES["inner"])
    for n in range(8, 16):
        _write(site, n, "alpha", words="Body")
    _build(site.root)
    assert tree_bytes(site.root / "public") == _cold(site, tmp_path / "cold3")


@pytest.mark.parametrize(
    "held", [("cache.sqlite",), ("feeds.sqlite",), ("cache.sqlite", "feeds.sqlite")]
)
def test_caches_another_build_holds_locked_are_left_alone(
    site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, held: tuple[str, ...]
) -> None:
    # Another process holds each cache's write lock for the whole build: the workers
    # cannot store what they parse and rendered, the main process neither. The build
    # still writes the cold build's bytes, and so does the next one, the lock gone.
    # (open_cache took its default when defined: its keyword default is what counts.)
    monkeypatch.setattr(statecache.open_cache, "__kwdefaults__", {"timeout": 0.2})
    monkeypatch.setattr(feed_cache, "LOCK_TIMEOUT", 0.2)
    _site(site)
    _build(site.root)
    for n in range(0, POSTS, 2):
        _write(site, n, "alpha", words="Edited")
    holders = []
    for name in held:
        db = sqlite3.connect(site.root / "state" / name, isolation_level=None, timeout=0)
        db.execute("BEGIN EXCLUSIVE")
        holders.append(db)
    try:
        _build(site.root)
    finally:
        for db in holders:
            db.rollback()
            db.close()
    expected = _cold(site, tmp_path / "cold")
    assert tree_bytes(site.root / "public") == expected
    _build(site.root)
    assert tree_bytes(site.root / "public") == expected
    _write(site, 3, "Alpha", words="Again")
    _build(site.root)
    assert tree_bytes(site.root / "public") == _cold(site, tmp_path / "cold2")
