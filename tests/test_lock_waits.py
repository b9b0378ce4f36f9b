"""A cache another build holds locked is waited for once per build, not once per process.

Each connection to a held cache waits for its lock (10 s; a fraction here) before the
build goes on without it. A parallel cold read used to meet a held ``feeds.sqlite`` in
the main process (laying it out for the workers), in every read worker (storing their
feed items), in the main process again (storing what they handed back) and in the feed
stage: about 40 s at 1,000 posts. The read now asks once, before its workers start
(``posts/workers.py``, ``held``), and leaves a held cache alone. Counted here across the
processes (each wait for a lock that never came, noted in a file), on a real pool.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from conftest import BASE_CONFIG, numbered_site, tree_bytes
from publisher import snapshot, statecache
from publisher.build import build_site
from publisher.config.loader import load_config
from publisher.feeds import cache as feed_cache
from publisher.posts import collect

CONFIG = BASE_CONFIG + "cards:\n  enabled: false\nfeeds:\n  formats: [rss, atom]\n  limit: null\n"
POSTS = 40


@pytest.fixture(autouse=True)
def _pooled(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(collect, "PARALLEL_THRESHOLD", 4)
    monkeypatch.setattr(snapshot, "RECENT_NS", 0)
    monkeypatch.setattr(collect, "RECENT_NS", 0)
    # (open_cache took its default when defined: its keyword default is what counts.)
    monkeypatch.setattr(statecache.open_cache, "__kwdefaults__", {"timeout": 0.3})
    monkeypatch.setattr(feed_cache, "LOCK_TIMEOUT", 0.3)


def _site(root: Path) -> Path:
    return numbered_site(root, CONFIG, POSTS)


def _build(root: Path) -> None:
    from datetime import UTC, datetime

    from publisher import inputs

    config = load_config(root / "config.yaml")
    now = datetime(2025, 6, 1, tzinfo=UTC)
    build_site(config, now=now, jobs=2, snapshot=inputs.take_snapshot(config))


def _count_waits(monkeypatch: pytest.MonkeyPatch, log: Path) -> None:
    """Each connection that waited for a held cache's lock and gave up, in any process
    (the pool's workers are forked from this one, the patch included)."""
    connect = statecache._connect

    def counted(path: Path, *args: Any) -> Any:
        try:
            return connect(path, *args)
        except sqlite3.OperationalError as error:
            if getattr(error, "sqlite_errorname", "").startswith("SQLITE_BUSY"):
                with log.open("a", encoding="utf-8") as lines:
                    lines.write(f"{os.getpid()} {Path(path).name}\n")
            raise

    monkeypatch.setattr(statecache, "_connect", counted)


@pytest.mark.parametrize("held", ["feeds.sqlite", "cache.sqlite"])
def test_a_held_cache_is_waited_for_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, held: str
) -> None:
    root = _site(tmp_path / "site")
    _build(root)
    expected = tree_bytes(root / "public")
    for name in ("cache.sqlite", "layouts.sqlite", "site.sqlite", "inputs.json"):
        if name != held:
            (root / "state" / name).unlink()  # every post read again, by the pool
    shutil.rmtree(root / "public")
    log = tmp_path / "waits.txt"
    log.touch()
    _count_waits(monkeypatch, log)
    holder = sqlite3.connect(root / "state" / held, isolation_level=None, timeout=0)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        _build(root)
    finally:
        holder.rollback()
        holder.close()
    waits = log.read_text(encoding="utf-8").splitlines()
    assert [line.split()[1] for line in waits] == [held]  # one wait, by one process
    assert tree_bytes(root / "public") == expected
