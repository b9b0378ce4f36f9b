"""A feed cache (``feeds.sqlite``) with a damaged page (``feeds/cache.py``): the build that
meets the damage renders again each item it cannot read and writes what a cold build
writes; the file is deleted, and the next build makes it anew. One page of a real file
zeroed (``tests/damaged_pages.py``), as a bad block or a power loss leaves it."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from cli_run import publish
from damaged_pages import damage, heads, items, sound

from conftest import FEEDS_CONFIG, Site, tree_bytes
from publisher.feeds.cache import KINDS, FeedCache

pytestmark = pytest.mark.usefixtures("judged_by_stat")
NOW = "--now=2025-06-01T00:00:00Z"


def _build(root: Path) -> None:
    ran = publish("build", NOW, cwd=root)
    assert ran.returncode == 0 and "Traceback" not in ran.stderr, ran.stderr


def _built(site: Site) -> Path:
    """A site of posts whose items (a few KB each) overflow onto pages of their own, built."""
    site.config(FEEDS_CONFIG)
    for n in range(10):
        text = "\n\n".join(f"Paragraph {k} of post {n}: " + "word " * 100 for k in range(5))
        site.post(f"p{n}", f"title: P{n}\ndate: 2024-01-{n + 1:02d}\ntags: [t{n % 3}]", text)
    _build(site.root)
    return site.root / "state" / "feeds.sqlite"


def _cold(site: Site, where: Path) -> dict[str, bytes]:
    shutil.rmtree(where, ignore_errors=True)
    shutil.copytree(site.root, where, ignore=shutil.ignore_patterns("public", "state"))
    _build(where)
    return tree_bytes(where / "public")


def _stored(path: Path) -> dict[str, str]:
    """Post id -> key of the items stored (read from the index)."""
    with sqlite3.connect(path) as db:
        found = dict(db.execute("SELECT id, key FROM items"))
    db.close()
    return found


@pytest.mark.parametrize("broken", [items, heads])
def test_a_build_meeting_a_damaged_page_writes_a_cold_builds_feeds(
    site: Site, tmp_path: Path, broken: object
) -> None:
    path = _built(site)
    damage(path, broken)  # type: ignore[arg-type]
    cold = _cold(site, tmp_path / "cold")
    shutil.rmtree(site.root / "public")  # nothing to splice from: every item is read
    _build(site.root)
    assert tree_bytes(site.root / "public") == cold
    assert not path.exists() or sound(path)
    # The next build that needs every item, with a post edited, is a cold build's too.
    site.post("p4", "title: P4 edited\ndate: 2024-01-05\ntags: [t1]", "Edited.\n")
    shutil.rmtree(site.root / "public")
    _build(site.root)
    assert tree_bytes(site.root / "public") == _cold(site, tmp_path / "cold")
    assert path.exists() and sound(path)


def test_items_on_a_damaged_page_are_missing_from_a_read_and_the_file_deleted(
    site: Site,
) -> None:
    path = _built(site)
    damage(path, items)
    keys = _stored(path)
    cache = FeedCache(path)
    cache.load(keys, KINDS, contents=False)
    assert cache.hits == set(keys)  # the index holds
    found = {kind: cache.items(kind, keys) for kind in KINDS}
    assert any(len(got) < len(keys) for got in found.values())  # for the caller to render
    assert not path.exists()
    assert set(cache.items(KINDS[0], keys)) == set(found[KINDS[0]])  # its connection reads on
    cache.commit()  # into the deleted file: nothing raised
    cache.close()
    assert not path.exists()


def test_a_dry_run_meeting_a_damaged_page_changes_no_file(site: Site) -> None:
    path = _built(site)
    damage(path, items)
    damaged = path.read_bytes()
    keys = _stored(path)
    cache = FeedCache(path, readonly=True)
    cache.load(keys, KINDS, contents=False)
    assert any(len(cache.items(kind, keys)) < len(keys) for kind in KINDS)
    cache.commit()
    cache.close()
    assert path.read_bytes() == damaged


def _unreadable(path: Path) -> str:
    """The id of an item SQLite cannot read."""
    with sqlite3.connect(path) as db:
        for post_id in [i for (i,) in db.execute("SELECT id FROM items")]:
            try:
                db.execute("SELECT * FROM items WHERE id = ?", (post_id,)).fetchall()
            except sqlite3.DatabaseError:
                return post_id
    raise AssertionError("every item can be read")


def test_items_written_over_a_damaged_page_delete_the_file(site: Site) -> None:
    path = _built(site)
    damage(path, items)
    keys = _stored(path)
    post_id = _unreadable(path)
    cache = FeedCache(path)
    cache.load(keys, KINDS, contents=False)
    fresh = {kind: {post_id: f"<{kind}/>".encode()} for kind in KINDS}
    cache.add_items({post_id: keys[post_id]}, fresh)  # over the damaged row: held instead
    assert not path.exists()
    assert cache.items(KINDS[0], {post_id: keys[post_id]}) == {post_id: fresh[KINDS[0]][post_id]}
    cache.close()


def test_a_commit_dropping_an_item_on_a_damaged_page_deletes_the_file(site: Site) -> None:
    path = _built(site)
    damage(path, items)
    keys = _stored(path)
    post_id = _unreadable(path)
    cache = FeedCache(path)
    cache.load({i: k for i, k in keys.items() if i != post_id}, KINDS, contents=False)
    assert path.exists()
    cache.commit()  # drops the damaged item: deleting it walks its pages
    cache.close()
    assert not path.exists()


def test_items_a_read_worker_stores_over_a_damaged_page_delete_the_file(site: Site) -> None:
    path = _built(site)
    damage(path, items)
    keys = _stored(path)
    post_id = _unreadable(path)
    cache = FeedCache(path).unsynced()  # as feeds/early.py's workers open it
    rows = [(post_id, keys[post_id], {kind: f"<{kind}/>".encode() for kind in KINDS})]
    assert not cache.add_rows(rows)  # the feed stage renders it
    assert not cache.store()
    cache.close()
    assert not path.exists()
