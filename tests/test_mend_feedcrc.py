"""The feed cache's checksums (feeds/cache.py): a stored item or head whose bytes changed on
disk (a bad block: SQLite checks none of a row's bytes) is a miss, rendered again, never
written into a feed. Real SQLite files, damaged by SQL as a flipped byte would be."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from cli_run import publish

from conftest import FEEDS_CONFIG, Site, tree_bytes
from publisher.feeds.cache import KINDS, FeedCache

pytestmark = pytest.mark.usefixtures("judged_by_stat")
NOW = "--now=2025-06-01T00:00:00Z"
CONFIG = FEEDS_CONFIG


def _build(root: Path) -> None:
    ran = publish("build", NOW, cwd=root)
    assert ran.returncode == 0, ran.stderr


def _post(site: Site, n: int, tag: str, title: str = "") -> None:
    site.post(
        f"p{n}", f"title: {title or f'p{n}'}\ndate: 2024-01-{n + 1:02d}\ntags: [{tag}]", "B.\n"
    )


def _damage(path: Path, table: str, column: str) -> int:
    """One byte changed in ``column`` of every row of ``table`` ('itle' -> 'itl6', in each
    item's title): how many rows changed."""
    db = sqlite3.connect(path)
    with db:
        changed = db.execute(
            f"UPDATE {table} SET {column} = "
            f"CAST(replace(CAST({column} AS TEXT), 'itle', 'itl6') AS BLOB) "
            f"WHERE instr(CAST({column} AS TEXT), 'itle') > 0"
        ).rowcount
    db.close()
    return changed


@pytest.mark.parametrize("kind", KINDS)
def test_an_item_damaged_on_disk_is_rendered_again(site: Site, tmp_path: Path, kind: str) -> None:
    site.config(CONFIG)
    for n, tag in enumerate(["x", "y", "x", "x"]):
        _post(site, n, tag)
    _build(site.root)
    cache = site.root / "state" / "feeds.sqlite"
    assert _damage(cache, "items", kind) == 4
    shutil.copytree(site.root, tmp_path / "cold", ignore=shutil.ignore_patterns("public", "state"))
    _build(tmp_path / "cold")
    # No output to splice into: every feed is made from the cache's items.
    shutil.rmtree(site.root / "public")
    _build(site.root)
    assert tree_bytes(site.root / "public") == tree_bytes(tmp_path / "cold" / "public")
    # The damaged rows read were dropped or stored again: none is left.
    db = sqlite3.connect(cache)
    damaged = db.execute(f"SELECT id FROM items WHERE instr(CAST({kind} AS TEXT), 'itl6') > 0")
    assert damaged.fetchall() == []
    db.close()
    # And a build after an edit (a few feeds written again) matches a cold one too.
    _damage(cache, "items", kind)
    _post(site, 2, "x", title="p2 edited")
    _build(site.root)
    cold = tmp_path / "cold-edited"
    shutil.copytree(site.root, cold, ignore=shutil.ignore_patterns("public", "state"))
    _build(cold)
    assert tree_bytes(site.root / "public") == tree_bytes(cold / "public")


def _stored(path: Path) -> None:
    cache = FeedCache(path)
    cache.load({"a": "ka", "b": "kb"}, KINDS)
    cache.add_items(
        {"a": "ka", "b": "kb"}, {k: {"a": b"<title>A", "b": b"<title>B"} for k in KINDS}
    )
    assert cache.head("h") is None
    cache.add_head("h", b"<title>Head")
    cache.commit()
    cache.close()


@pytest.mark.parametrize("contents", [True, False])
def test_the_cache_answers_only_intact_rows(tmp_path: Path, contents: bool) -> None:
    path = tmp_path / "feeds.sqlite"
    _stored(path)
    db = sqlite3.connect(path)
    with db:
        db.execute(f"UPDATE items SET {KINDS[0]} = CAST('<titlE>A' AS BLOB) WHERE id = 'a'")
        db.execute("UPDATE heads SET shell = CAST('<titlE>Head' AS BLOB)")
    db.close()
    keys = {"a": "ka", "b": "kb"}
    cache = FeedCache(path)
    found = cache.load(keys, KINDS, contents=contents)
    assert cache.head("h") is None  # damaged: the caller renders it again
    if contents:  # read now: the damaged post is a miss
        assert "b" in cache.hits and "a" not in cache.hits
        assert found[KINDS[0]] == {"b": b"<title>B"}
    # Read later (or again): only the intact item comes back, the caller renders the other.
    assert cache.items(KINDS[0], keys) == {"b": b"<title>B"}
    assert cache.items(KINDS[-1], keys) == {"a": b"<title>A", "b": b"<title>B"}
    cache.commit()  # the damaged rows are dropped (or were never hits): not read again
    cache.close()
    again = FeedCache(path)
    again.load(keys, KINDS)
    assert again.hits == {"b"}
    assert again.head("h") is None
    again.close()


def test_a_file_of_the_layout_before_checksums_is_emptied(tmp_path: Path) -> None:
    path = tmp_path / "feeds.sqlite"
    db = sqlite3.connect(path)
    with db:
        db.execute("CREATE TABLE items (id TEXT PRIMARY KEY, key TEXT NOT NULL, rss BLOB)")
        db.execute("INSERT INTO items VALUES ('a', 'ka', CAST('<title>A' AS BLOB))")
        db.execute("PRAGMA user_version = 1")
    db.close()
    cache = FeedCache(path)
    assert cache.load({"a": "ka"}, KINDS) == {kind: {} for kind in KINDS}
    assert cache.hits == set()
    cache.close()


def test_which_items_hold_is_read_from_the_index_alone(tmp_path: Path) -> None:
    """A build that takes every item from the file the last build wrote asks only which
    items still hold: that is answered from the index of (id, key), not a scan of the
    rows (140 MB at 10,000 posts); an item of another key is a miss, a stale one dropped."""
    path = tmp_path / "feeds.sqlite"
    _stored(path)
    cache = FeedCache(path)
    assert cache._db is not None
    asked: list[str] = []
    cache._db.set_trace_callback(asked.append)
    cache.load({"a": "ka", "b": "other"}, KINDS, contents=False)
    cache._db.set_trace_callback(None)
    assert cache.hits == {"a"}
    on_items = [sql for sql in asked if "FROM items" in sql]
    assert on_items
    for sql in on_items:
        plan = " ".join(str(row[-1]) for row in cache._db.execute(f"EXPLAIN QUERY PLAN {sql}"))
        assert "COVERING INDEX" in plan, (sql, plan)
    cache.commit()  # "b" under another key: no longer asked for once rendered anew
    cache.close()
