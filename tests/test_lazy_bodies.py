"""Post bodies are read back from the post cache when used, not kept resident (issue 12).

Memory itself is measured by bench/bench_naive.py; these tests check the behaviour that
makes it small (no body held after a read through the cache) and that nothing else
changes: the same text, the same equality, pickling to a worker, a missing cache row.
"""

from __future__ import annotations

import pickle
import sqlite3
import tracemalloc
from pathlib import Path

import pytest

from conftest import Site
from publisher.config import load_config
from publisher.errors import StateError
from publisher.posts import Post, ReadResult, read_posts
from publisher.posts.cache import PostCache
from publisher.posts.model import Body


def read(site: Site, cache_path: Path | None, jobs: int = 1) -> ReadResult:
    cache = PostCache(cache_path) if cache_path is not None else None
    try:
        return read_posts(load_config(site.config_path), cache=cache, jobs=jobs)
    finally:
        if cache is not None:
            cache.close()


def write_posts(site: Site, count: int, words: int = 40) -> None:
    for index in range(count):
        text = " ".join(f"w{index}x{k}\u2019" for k in range(words))
        site.post(f"p{index:03d}", f"title: P{index}\ndate: 2024-01-{index % 28 + 1:02d}", text)


def bodies(result: ReadResult) -> list[tuple[str, str, str]]:
    return [(p.id, p.body_markdown, p.body_html) for p in result.posts]


def test_bodies_are_not_resident_after_a_cached_read(site: Site) -> None:
    write_posts(site, 6)
    uncached = read(site, None)
    assert all(p.body.resident for p in uncached.posts)  # no cache: nowhere to read back from
    path = site.root / "state" / "cache.sqlite"
    cold = read(site, path)  # parsed now, stored, then read back on use
    warm = read(site, path)  # from the cache
    for result in (cold, warm):
        assert not any(p.body.resident for p in result.posts)
        assert bodies(result) == bodies(uncached)
        assert result.posts == uncached.posts
        assert [p.body.digest for p in result.posts] == [p.body.digest for p in uncached.posts]
    assert "w3x7\u2019" in next(p for p in warm.posts if p.id == "p003").body_html


def test_a_post_read_through_the_cache_pickles_with_its_text(site: Site) -> None:
    write_posts(site, 2)
    path = site.root / "state" / "cache.sqlite"
    read(site, path)
    post = read(site, path).posts[0]
    copy: Post = pickle.loads(pickle.dumps(post))
    assert copy == post and copy.body.resident and copy.body_html == post.body_html


def test_a_row_gone_mid_build_is_a_clear_state_error(site: Site) -> None:
    write_posts(site, 1)
    path = site.root / "state" / "cache.sqlite"
    post = read(site, path).posts[0]
    with sqlite3.connect(path) as db:
        db.execute("DELETE FROM posts")
    db.close()
    with pytest.raises(StateError, match=r"cache\.sqlite: a post body .* run the build again"):
        _ = post.body_html


def test_a_cache_file_replaced_mid_build_is_never_read_for_the_old_one(site: Site) -> None:
    write_posts(site, 1)
    path = site.root / "state" / "cache.sqlite"
    post = read(site, path).posts[0]
    assert "w0x1" in post.body_html  # a connection to this file is open now
    path.unlink()
    site.post("p000", "title: P0\ndate: 2024-01-01", "a different body")
    again = read(site, path).posts[0]  # a new file, perhaps with the same inode number
    assert "a different body" in again.body_html
    assert "w0x1" in post.body_html  # the first post still reads the file it came from


def test_post_takes_a_body_or_its_two_texts_not_both() -> None:
    body = Body("# T", "<h1>T</h1>")
    assert body == Body("# T", "<h1>T</h1>") and hash(body) == hash(Body("# T", "<h1>T</h1>"))
    assert body != Body("# T", "<h1>U</h1>")
    with pytest.raises(TypeError, match="not both"):
        Post(  # type: ignore[call-arg]
            id="x",
            source=Path("x/index.md"),
            url="u",
            page_url="u",
            path=None,
            external_url=None,
            title="t",
            summary=None,
            date=None,
            updated=None,
            og_image=None,
            og_image_url=None,
            categories=(),
            tags=(),
            authors=(),
            is_featured=False,
            is_popular=False,
            draft=False,
            body=body,
            body_html="<p>x</p>",
        )


def test_holding_the_posts_does_not_hold_their_bodies(site: Site) -> None:
    # Generous bound: 40 posts of ~14,000 characters of markdown and HTML each, two bytes
    # a character as str (a curly quote); held, they would be over 1 MB, four times this.
    write_posts(site, 40, words=800)
    path = site.root / "state" / "cache.sqlite"
    read(site, path)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        result = read(site, path)
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    text = sum(len(p.body_markdown) + len(p.body_html) for p in result.posts)
    assert text > 500_000
    assert held < text / 2, (held, text)
