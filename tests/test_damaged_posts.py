"""A post cache (``cache.sqlite``) with a damaged page: the read that meets the damage
goes on, each body it cannot read back made again from its post file, and the file is
deleted so the next build makes it anew (``posts/bodies.py``, ``posts/cache.py``).

The damage is made as a bad block or a power loss leaves it: one page of a real file
zeroed, chosen by what SQLite can no longer read through it ("database disk image is
malformed": ``tests/damaged_pages.py``). Builds run as a user runs them:
``tests/test_damaged_builds.py``.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from damaged_pages import a_body, damage, entries, posts_keys, stamps

from conftest import Site
from publisher.config import load_config
from publisher.errors import StateError
from publisher.posts import ReadResult, read_posts
from publisher.posts.cache import PostCache


def _posts(site: Site, count: int = 12) -> None:
    """Posts whose bodies (several KB each) overflow their rows onto pages of their own."""
    for index in range(count):
        text = "\n\n".join(f"Paragraph {k} of post {index}: " + "word " * 120 for k in range(8))
        site.post(f"p{index:03d}", f"title: P{index}\ndate: 2024-01-{index + 1:02d}", text)


def _read(site: Site, cache: PostCache | None) -> ReadResult:
    try:
        return read_posts(load_config(site.config_path), cache=cache, jobs=1)
    finally:
        if cache is not None:
            cache.close()


def _texts(result: ReadResult) -> dict[str, tuple[str, str]]:
    return {post.id: post.body.text() for post in result.posts}


@pytest.fixture
def cached(site: Site) -> tuple[Site, Path, dict[str, tuple[str, str]]]:
    """A site read once through its post cache; the bodies a read without a cache gives."""
    _posts(site)
    path = site.root / "state" / "cache.sqlite"
    _read(site, PostCache(path))
    return site, path, _texts(_read(site, None))


def test_a_body_on_a_damaged_page_is_made_again_and_the_file_deleted(
    cached: tuple[Site, Path, dict[str, tuple[str, str]]],
) -> None:
    site, path, uncached = cached
    damage(path, a_body)
    result = _read(site, PostCache(path))
    assert result.cache_hits == len(uncached)  # every entry could be read
    assert _texts(result) == uncached  # the damaged ones made again from their files
    assert not path.exists()  # deleted once met: the next read makes it anew
    again = _read(site, PostCache(path))
    assert again.cache_hits == 0 and _texts(again) == uncached
    assert _texts(_read(site, PostCache(path))) == uncached  # and uses it
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA quick_check").fetchone() == ("ok",)
    db.close()


def test_a_dry_run_meeting_a_damaged_body_changes_no_file(
    cached: tuple[Site, Path, dict[str, tuple[str, str]]],
) -> None:
    site, path, uncached = cached
    damage(path, a_body)
    damaged = path.read_bytes()
    assert _texts(_read(site, PostCache(path, readonly=True))) == uncached
    assert path.read_bytes() == damaged


def test_a_body_made_again_must_give_the_html_the_row_names(
    cached: tuple[Site, Path, dict[str, tuple[str, str]]],
) -> None:
    site, path, _ = cached
    damage(path, a_body)
    cache = PostCache(path)
    result = read_posts(load_config(site.config_path), cache=cache, jobs=1)
    store = cache.store()
    assert store is not None and store.reread is not None
    made = store.reread
    store.reread = lambda key, digest: (made(key, digest)[0], "<p>other</p>")
    texts = []
    with pytest.raises(StateError, match="gave other HTML"):
        for post in result.posts:
            texts.append(post.body.text())
    cache.close()
    assert texts  # the bodies before the damaged one were read


def test_a_damaged_body_outside_a_read_stops_with_one_line(
    cached: tuple[Site, Path, dict[str, tuple[str, str]]],
) -> None:
    _, path, _ = cached
    damage(path, a_body)
    cache = PostCache(path)  # no read hands it a way to make a body again
    with sqlite3.connect(path) as db:
        keys = posts_keys(db)
    db.close()
    found = cache.get_many(keys)
    with pytest.raises(StateError, match=r"cache\.sqlite: a post body stored there could not"):
        for record, _problems in found.values():
            assert record is not None
            record["body"].text()
    cache.close()
    assert not path.exists()


def test_a_body_no_longer_utf8_is_made_again_and_its_row_dropped(
    cached: tuple[Site, Path, dict[str, tuple[str, str]]],
) -> None:
    site, path, uncached = cached
    with sqlite3.connect(path) as db:
        key = posts_keys(db)[3]
        # Bytes a bad block changed: the text is no longer UTF-8 (SQLite cannot hand it
        # to Python), the file itself is sound.
        db.execute(
            "UPDATE posts SET html = CAST(x'3c703eff3c2f703e' AS TEXT) WHERE key = ?", (key,)
        )
    db.close()
    assert _texts(_read(site, PostCache(path))) == uncached
    with sqlite3.connect(path) as db:
        assert key not in posts_keys(db)  # dropped: the next read parses the post
        assert len(posts_keys(db)) == len(uncached) - 1
    db.close()


def test_a_row_gone_with_a_file_deleted_as_damaged_is_made_again(
    cached: tuple[Site, Path, dict[str, tuple[str, str]]],
) -> None:
    """A build reads through two caches of one file (``incremental/quick.py``): the
    second meets the damage and deletes the file, a third makes it anew; a body of the
    first, whose connection was not open yet, then finds no row in the new file."""
    site, path, uncached = cached
    first = _read(site, PostCache(path))  # no body read yet: no connection to the file
    damage(path, a_body)
    assert _texts(_read(site, PostCache(path))) == uncached  # meets the damage
    assert not path.exists()
    PostCache(path).close()  # made anew, empty
    assert path.exists()
    assert _texts(first) == uncached


def test_an_entry_on_a_damaged_page_is_a_miss_and_the_file_deleted(
    cached: tuple[Site, Path, dict[str, tuple[str, str]]],
) -> None:
    site, path, uncached = cached
    damage(path, entries)
    damaged = path.read_bytes()
    with sqlite3.connect(path) as db:
        keys = posts_keys(db)
    db.close()
    probe = PostCache(path)
    assert probe.get_many(keys) == {}  # parsed again, and the file deleted at once
    assert probe.store() is None and not path.exists()
    probe.close()
    path.write_bytes(damaged)
    result = _read(site, PostCache(path))
    assert _texts(result) == uncached
    assert not path.exists()
    assert _texts(_read(site, PostCache(path))) == uncached
    assert _read(site, PostCache(path)).cache_hits == len(uncached)


def test_stamps_on_a_damaged_page_delete_the_file(
    cached: tuple[Site, Path, dict[str, tuple[str, str]]],
) -> None:
    site, path, uncached = cached
    damage(path, stamps)
    cache = PostCache(path)
    assert cache.store() is None and not path.exists()  # this read goes on without it
    assert _texts(_read(site, cache)) == uncached
    assert _read(site, PostCache(path)).cache_hits == 0
    assert _read(site, PostCache(path)).cache_hits == len(uncached)


def test_a_commit_that_meets_a_damaged_page_deletes_the_file(
    cached: tuple[Site, Path, dict[str, tuple[str, str]]],
) -> None:
    _, path, _ = cached
    damage(path, a_body)
    with sqlite3.connect(path) as db:
        keys = posts_keys(db)
    db.close()
    cache = PostCache(path)
    # Every row dropped (no post is live): deleting a damaged body walks its pages.
    assert not cache.commit([])
    assert cache.store() is None
    cache.close()
    assert not path.exists() and keys


def test_a_body_made_again_with_its_file_gone_is_checked_against_the_entrys_digest(
    cached: tuple[Site, Path, dict[str, tuple[str, str]]],
) -> None:
    site, path, _ = cached
    cache = PostCache(path)
    result = read_posts(load_config(site.config_path), cache=cache, jobs=1)
    store = cache.store()
    cache.close()
    assert store is not None and store.reread is not None
    made = store.reread
    store.reread = lambda key, digest: (made(key, digest)[0], "<p>other</p>")
    path.unlink()  # before any body was read: no row left to read a digest from
    with pytest.raises(StateError, match="gave other HTML"):
        result.posts[0].body.text()
    store.reread = made
    assert "Paragraph 7 of post" in result.posts[1].body.html
