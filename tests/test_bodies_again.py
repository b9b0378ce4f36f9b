"""A read worker stores a post's markdown without its HTML (``posts/bodies.py``, issue 12).

Its feed items are made as it parses, so the HTML is needed again only when an item must
be rendered anew; it is then rendered again from the markdown with the build's read
context, and used only when it has the digest the row keeps. Checked on real SQLite and
real files: the HTML made again is the reader's own, byte for byte, on awkward posts and
on the sample corpus; a build that must render every item from such rows (the feed cache
lost) writes what a serial cold build does; a row whose markdown no longer gives the
stored HTML stops the build with one line and is dropped, and the next build is right.
"""

from __future__ import annotations

import shutil
import sqlite3
import zlib
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from conftest import BASE_CONFIG
from publisher.build import build_site
from publisher.config.loader import load_config
from publisher.errors import StateError
from publisher.posts import collect
from publisher.posts.cache import PostCache, encode_entry
from publisher.posts.folder import find_post_files, post_id_for
from publisher.posts.found import context_for
from publisher.posts.reader import ReadContext, parse_post

CONFIG = (
    BASE_CONFIG + "cards:\n  enabled: false\nfeeds:\n  formats: [rss, atom, json]\n  limit: null\n"
)
NOW = datetime(2025, 6, 1, tzinfo=UTC)

#: Bodies whose HTML depends on the page URL, the authors and the read context.
BODIES = [
    "Plain *prose* with `code`.\n",
    "A [relative link](other/page.html), an ![image](cover.png) and a [#frag](#top).\n",
    'Raw <b>HTML</b> & <a href=\'x/y\'>a link</a> <img src="pic.jpg" srcset="a.png 1x, b.png 2x">\n',
    "_Author: Jane Roe, Example Org_\n\nText after an author line.\n",
    "**_Author: Jo Doe_**\n\nAnother author line style.\n",
    "import X from '@site/x';\n\n<BlogAuthor {...authors.jane} />\n\nMDX *body*.\n",
    '<iframe src="https://www.youtube.com/embed/abc" title="a video"></iframe>\n\nEmbed.\n',
    "| a | b |\n|---|---|\n| ~~gone~~ | [l](https://[::1/x) |\n",
    "<!-- more -->\n\nA comment, then \u00a0text \u2014 caf\u00e9 \U0001f680.\n",
    "",
]


def _raw(i: int, body: str) -> bytes:
    return (
        f"---\ntitle: Post {i}\ndate: 2024-01-{i + 1:02d}\nauthor: Writer {i}\n"
        f"tags: [a, B]\n---\n{body}"
    ).encode()


def _context(tmp_path: Path, text: str = CONFIG) -> ReadContext:
    root = tmp_path / "site"
    (root / "posts").mkdir(parents=True)
    (root / "config.yaml").write_text(text, encoding="utf-8")
    return context_for(load_config(root / "config.yaml"))


def _round_trip(tmp_path: Path, ctx: ReadContext, posts: list[tuple[bytes, str, str]]) -> int:
    """Stores each post as a read worker with feed items does, reads its body back, and
    holds it to the reader's own text; returns how many posts had a body."""
    cache = PostCache(tmp_path / "cache.sqlite", files=())
    cache.reads_with(ctx)
    store = cache.store()
    assert store is not None
    checked = 0
    for n, (raw, post_id, file) in enumerate(posts):
        entry = parse_post(raw, post_id, file, ctx)
        if entry[0] is None:
            continue
        markdown, html = entry[0]["body_markdown"], entry[0]["body_html"]
        key = f"k{n}"
        assert cache.put_now([(key, encode_entry(entry))], html=False)
        with sqlite3.connect(tmp_path / "cache.sqlite") as db:
            (stored,) = db.execute("SELECT html FROM posts WHERE key = ?", (key,)).fetchone()
        assert stored is None or not markdown  # left out, unless there is no body
        assert store.load(key) == (markdown, html), file
        checked += 1
    cache.close()
    return checked


def test_the_html_made_again_is_the_readers(tmp_path: Path) -> None:
    ctx = _context(tmp_path)
    # A generator's author data (Docusaurus's authors file): a component naming an author
    # becomes a byline, so the HTML depends on the read context, not only on the row.
    ctx = replace(
        ctx, rules=replace(ctx.rules, authors=(("jane", "Jane Roe", "https://j.example"),))
    )
    posts = [
        (_raw(i, body), f"post-{i}", f"posts/post-{i}/index.md") for i, body in enumerate(BODIES)
    ]
    assert _round_trip(tmp_path, ctx, posts) == len(BODIES)
    byline = parse_post(posts[5][0], "post-5", "posts/post-5/index.md", ctx)[0]
    assert byline is not None and "Jane Roe" in byline["body_html"]


def test_the_html_made_again_is_the_readers_on_the_corpus(tmp_path: Path, corpus: Path) -> None:
    ctx = _context(tmp_path, CONFIG.replace("folder: posts", f"folder: {corpus}"))
    files = sorted(corpus.glob("*/index.md"))
    posts = [(f.read_bytes(), f.parent.name, f"posts/{f.parent.name}/index.md") for f in files]
    assert _round_trip(tmp_path, ctx, posts) > 40


def test_the_html_made_again_uses_the_generators_authors(tmp_path: Path, corpus: Path) -> None:
    """Docusaurus's authors file turns ``<BlogAuthor>``-like components into bylines: the
    read context's author data must reach the HTML made again."""
    site = corpus.parent.parent / "docusaurus-blog" / "website"
    if not site.is_dir():
        pytest.skip("the docusaurus sample is absent")
    text = CONFIG.replace("  folder: posts\n", f"  generator: docusaurus\n  site: {site}\n")
    ctx = _context(tmp_path, text)
    assert ctx.rules.authors  # the sample has an authors file
    config = load_config(tmp_path / "site" / "config.yaml")
    files = find_post_files(config)
    posts = [(f.read_bytes(), post_id_for(f, config), str(f)) for f in files]
    assert _round_trip(tmp_path, ctx, posts) == len(files) >= 10


def test_a_row_that_renders_otherwise_stops_the_build_and_is_dropped(tmp_path: Path) -> None:
    ctx = _context(tmp_path)
    entry = parse_post(_raw(1, BODIES[1]), "post-1", "posts/post-1/index.md", ctx)
    cache = PostCache(tmp_path / "cache.sqlite", files=())
    assert cache.put_now([("k", encode_entry(entry)), ("j", encode_entry(entry))], html=False)
    store = cache.store()
    assert store is not None
    # Another site URL: the relative link resolves elsewhere, so the digest differs.
    cache.reads_with(replace(ctx, site_url="https://elsewhere.example"))
    assert store.load("k")[1] == entry[0]["body_html"]  # the page URL is the record's own
    # The markdown changed behind the checksum's back (its CRC made again): not the HTML
    # the row's digest names, so never used.
    with sqlite3.connect(tmp_path / "cache.sqlite") as db:
        other = "Another [link](elsewhere.html).\n"
        db.execute(
            "UPDATE posts SET markdown = ?, body_crc = ? WHERE key = 'j'",
            (other, zlib.crc32(other.encode())),
        )
    with pytest.raises(StateError, match="rendered otherwise"):
        store.load("j")
    with sqlite3.connect(tmp_path / "cache.sqlite") as db:
        assert db.execute("SELECT count(*) FROM posts WHERE key = 'j'").fetchone() == (0,)
        db.execute("UPDATE posts SET markdown = 'x' WHERE key = 'k'")  # a bad disk block
    with pytest.raises(StateError, match="damaged on disk"):
        store.load("k")
    cache.close()


def _site(root: Path, posts: int = 24) -> Path:
    root.mkdir(parents=True)
    (root / "config.yaml").write_text(CONFIG, encoding="utf-8")
    for i in range(posts):
        folder = root / "posts" / f"post-{i:03d}"
        folder.mkdir(parents=True)
        (folder / "index.md").write_bytes(_raw(i % 28, BODIES[i % len(BODIES)]))
    return root


def _outputs(root: Path) -> dict[str, bytes]:
    public = root / "public"
    return {p.relative_to(public).as_posix(): p.read_bytes() for p in public.rglob("*.*")}


def test_every_item_rendered_from_worker_rows_gives_a_cold_builds_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(collect, "PARALLEL_THRESHOLD", 10)
    root = _site(tmp_path / "site")
    config = load_config(root / "config.yaml")
    assert not build_site(config, now=NOW, jobs=2).failed
    with sqlite3.connect(root / "state" / "cache.sqlite") as db:
        assert db.execute("SELECT count(*) FROM posts WHERE html IS NULL").fetchone()[0] >= 20
    # The feed items lost: every item is rendered from the post cache's rows, each HTML
    # made again from its markdown. One post edited too.
    (root / "state" / "feeds.sqlite").unlink()
    shutil.rmtree(root / "public")
    edited = root / "posts" / "post-003" / "index.md"
    edited.write_bytes(edited.read_bytes() + b"\nEdited [here](there.html).\n")
    result = build_site(config, now=NOW, jobs=2)
    assert not result.failed and result.read.cache_hits == 23
    rebuilt = _outputs(root)
    shutil.rmtree(root / "public")
    shutil.rmtree(root / "state")
    assert not build_site(config, now=NOW, jobs=1).failed
    assert _outputs(root) == rebuilt
    assert b"there.html" in rebuilt["rss.xml"]
