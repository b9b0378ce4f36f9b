"""A read worker stores a post's entry without its body (``posts/reread.py``, issue 12).

Its feed items are made as it parses, so the body is needed again only when an item must
be rendered anew; the post file is then read and parsed again, and the body used only
when the file has the bytes of the row's key and gives the HTML the row's digest names.
Checked on real SQLite, real files and a real process pool: every body made again is the
one a serial read holds, on awkward posts and on the sample corpus; a build that must
render every item from such rows (the feed cache lost) writes what a serial cold build
does; a file changed since the read, or a row whose digest no longer holds, stops the
build with one line (the row dropped), and the next build is right.
"""

from __future__ import annotations

import shutil
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from conftest import BASE_CONFIG
from publisher import build
from publisher.build import build_site
from publisher.config import Config
from publisher.config.loader import load_config
from publisher.errors import StateError
from publisher.feeds.early import EarlyItems
from publisher.posts import collect
from publisher.posts.cache import PostCache
from publisher.posts.collect import read_posts
from publisher.posts.model import ReadResult

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
    "\ufeffBOM-like \u200b invisible and mojibake cafÃ© text.\r\n",
    "",
]


def _raw(i: int, body: str) -> bytes:
    return (
        f"---\ntitle: Post {i}\ndate: 2024-01-{i % 28 + 1:02d}\nauthor: Writer {i}\n"
        f"tags: [a, B]\n---\n{body}"
    ).encode()


def _site(root: Path, posts: int = 24) -> Path:
    (root / "posts").mkdir(parents=True)
    (root / "config.yaml").write_text(CONFIG, encoding="utf-8")
    for i in range(posts):
        folder = root / "posts" / f"post-{i:03d}"
        folder.mkdir()
        (folder / "index.md").write_bytes(_raw(i, BODIES[i % len(BODIES)]))
    return root


def _read(config: Config, jobs: int) -> ReadResult:
    """A cold read as a build does it: with a pool, the workers store the entries
    without their bodies (their feed items are made)."""
    cache = PostCache(config.cache_file)
    ahead = EarlyItems(config)
    try:
        return read_posts(config, cache=cache, jobs=jobs, ahead=ahead)
    finally:
        cache.close()
        ahead.close()


def _bodies_again_are_the_serial_ones(config: Config, state: Path) -> int:
    shutil.rmtree(state, ignore_errors=True)
    serial = {p.id: p.body.text() for p in _read(config, 1).posts}
    shutil.rmtree(state)
    pooled = _read(config, 2)
    with sqlite3.connect(state / "cache.sqlite") as db:
        stored = db.execute("SELECT count(*) FROM posts WHERE markdown IS NULL").fetchone()[0]
    assert stored >= len(serial) > 0  # every body left out by the workers
    assert {p.id: p.body.text() for p in pooled.posts} == serial
    return len(serial)


@pytest.fixture
def pooled(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(collect, "PARALLEL_THRESHOLD", 10)


def test_a_body_made_again_is_the_serial_reads(tmp_path: Path, pooled: None) -> None:
    config = load_config(_site(tmp_path / "site") / "config.yaml")
    assert _bodies_again_are_the_serial_ones(config, config.state) == 24


def test_a_body_made_again_is_the_serial_reads_on_the_corpus(
    tmp_path: Path, pooled: None, corpus: Path
) -> None:
    root = tmp_path / "site"
    root.mkdir()
    (root / "config.yaml").write_text(
        CONFIG.replace("folder: posts", f"folder: {corpus}"), encoding="utf-8"
    )
    config = load_config(root / "config.yaml")
    assert _bodies_again_are_the_serial_ones(config, config.state) > 40


def test_a_body_made_again_uses_the_generators_authors(
    tmp_path: Path, pooled: None, corpus: Path
) -> None:
    """Docusaurus: an authors file, dates and ids from paths, MDX files."""
    site = corpus.parent.parent / "docusaurus-blog" / "website"
    if not site.is_dir():
        pytest.skip("the docusaurus sample is absent")
    root = tmp_path / "site"
    root.mkdir()
    text = CONFIG.replace("  folder: posts\n", f"  generator: docusaurus\n  site: {site}\n")
    (root / "config.yaml").write_text(text, encoding="utf-8")
    config = load_config(root / "config.yaml")
    assert _bodies_again_are_the_serial_ones(config, config.state) >= 10


def test_a_file_changed_since_the_read_stops_the_build_that_needs_it(
    tmp_path: Path, pooled: None
) -> None:
    root = _site(tmp_path / "site")
    config = load_config(root / "config.yaml")
    result = _read(config, 2)
    post = next(p for p in result.posts if p.id == "post-001")
    post.source.write_bytes(post.source.read_bytes() + b"\nEdited.\n")
    with pytest.raises(StateError, match=r"post-001/index\.md: changed or gone while the build"):
        post.body.text()
    post.source.unlink()
    with pytest.raises(StateError, match="changed or gone"):
        post.body.text()
    assert next(p for p in result.posts if p.id == "post-002").body.html  # the others hold


def test_a_row_whose_digest_does_not_hold_is_dropped(tmp_path: Path, pooled: None) -> None:
    root = _site(tmp_path / "site")
    config = load_config(root / "config.yaml")
    result = _read(config, 2)
    post = next(p for p in result.posts if p.id == "post-003")
    path = config.state / "cache.sqlite"
    with sqlite3.connect(path) as db:
        # Another digest in the row than the HTML the file gives (a damaged row, or a
        # rendering that changed): never used.
        changed = db.execute(
            "UPDATE posts SET digest = ? WHERE entry LIKE ?", (b"x" * 32, '%"id": "post-003"%')
        ).rowcount
    assert changed == 1
    with pytest.raises(StateError, match="gave other HTML"):
        post.body.text()
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT count(*) FROM posts WHERE digest = ?", (b"x" * 32,)).fetchone()
    assert rows == (0,)


def _outputs(root: Path) -> dict[str, bytes]:
    public = root / "public"
    return {p.relative_to(public).as_posix(): p.read_bytes() for p in public.rglob("*.*")}


def test_every_item_rendered_from_worker_rows_gives_a_cold_builds_bytes(
    tmp_path: Path, pooled: None
) -> None:
    root = _site(tmp_path / "site")
    config = load_config(root / "config.yaml")
    assert not build_site(config, now=NOW, jobs=2).failed
    with sqlite3.connect(root / "state" / "cache.sqlite") as db:
        assert db.execute("SELECT count(*) FROM posts WHERE markdown IS NULL").fetchone()[0] >= 20
    # The feed items lost: every item is rendered from the post cache's rows, each body
    # made again from its file. One post edited too.
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


def test_a_post_edited_while_a_build_needs_its_body_again_stops_it_once(
    tmp_path: Path, pooled: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The trade-off (posts/reread.py): a tag spelled "go" in a few posts and "Go" in
    most, so the items a worker guessed for the "go" posts are rendered again from their
    bodies; one of those files edited after the read stops the build with one line, and
    the next build is a cold build's bytes."""
    root = tmp_path / "site"
    (root / "posts").mkdir(parents=True)
    (root / "config.yaml").write_text(CONFIG, encoding="utf-8")
    for i in range(24):
        folder = root / "posts" / f"post-{i:03d}"
        folder.mkdir()
        tag = "go" if i < 6 else "Go"
        (folder / "index.md").write_text(
            f"---\ntitle: Post {i}\ndate: 2024-01-{i + 1:02d}\ntags: [{tag}]\n---\nBody {i}.\n",
            encoding="utf-8",
        )
    edited = root / "posts" / "post-001" / "index.md"
    load = build.load_posts

    def edit_after_the_read(*args: Any, **kwargs: Any) -> Any:
        # After the whole read (EarlyItems.close also runs when the workers start, before
        # they read their files: too early).
        read = load(*args, **kwargs)
        if b"Edited" not in edited.read_bytes():
            edited.write_bytes(edited.read_bytes() + b"\nEdited.\n")
        return read

    config = load_config(root / "config.yaml")
    with monkeypatch.context() as patch:
        patch.setattr(build, "load_posts", edit_after_the_read)
        with pytest.raises(StateError, match=r"post-001/index\.md: changed or gone while"):
            build_site(config, now=NOW, jobs=2)
    assert not build_site(config, now=NOW, jobs=2).failed
    rebuilt = _outputs(root)
    assert b"Edited." in rebuilt["rss.xml"]
    shutil.rmtree(root / "public")
    shutil.rmtree(root / "state")
    assert not build_site(config, now=NOW, jobs=1).failed
    assert _outputs(root) == rebuilt
