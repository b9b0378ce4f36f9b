"""Feed items rendered by the read workers (``publisher/feeds/early.py``, issue 12).

A parallel cold build renders each post's feed items in the worker that parsed it; the
feed stage uses such an item only when the finished post has the key the worker's post
had. Checked here on real files, real SQLite and a real process pool: the bytes are those
of a serial build, the feed stage renders nothing when every guess holds, and renders the
posts whose guess was wrong (a tag spelled otherwise across the site) when one does not.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from conftest import BASE_CONFIG
from publisher.build import build_site
from publisher.config.loader import load_config
from publisher.feeds import generate
from publisher.posts import collect

CONFIG = (
    BASE_CONFIG + "cards:\n  enabled: false\nfeeds:\n  formats: [rss, atom, json]\n  limit: null\n"
)
NOW = datetime(2025, 6, 1, tzinfo=UTC)
POSTS = 48


def _site(root: Path, tag: Callable[[int], str] = lambda i: f"t{i % 5}") -> Path:
    root.mkdir(parents=True)
    (root / "config.yaml").write_text(CONFIG, encoding="utf-8")
    for i in range(POSTS):
        folder = root / "posts" / f"post-{i:03d}"
        folder.mkdir(parents=True)
        (folder / "index.md").write_text(
            f"---\ntitle: Post {i}\ndate: 2024-01-01T00:{i // 60:02d}:{i % 60:02d}Z\n"
            f"tags: [{tag(i)}]\ndraft: {'true' if i == 7 else 'false'}\n---\n"
            f"Body of post {i}, *with* <b>some</b> text & a [link](/x/{i}).\n",
            encoding="utf-8",
        )
    return root


def _build(root: Path, jobs: int, monkeypatch: pytest.MonkeyPatch) -> tuple[dict[str, bytes], int]:
    """(every output file's bytes, how many items the feed stage rendered itself)."""
    rendered = 0
    render_items = generate.render_items

    def counted(posts: list[object], *args: object, **kwargs: object) -> object:
        nonlocal rendered
        rendered += len(posts)
        return render_items(posts, *args, **kwargs)  # type: ignore[arg-type]

    with monkeypatch.context() as patch:
        # Chunks of 8: a pool of two workers over 48 posts; the feed stage stays serial
        # (in this process, where it is counted).
        patch.setattr(collect, "PARALLEL_THRESHOLD", 10)
        patch.setattr(generate, "render_items", counted)
        result = build_site(load_config(root / "config.yaml"), now=NOW, jobs=jobs)
    assert not result.failed
    public = root / "public"
    files = {p.relative_to(public).as_posix(): p.read_bytes() for p in public.rglob("*")}
    return {k: v for k, v in files.items() if "." in k}, rendered


def test_worker_items_give_the_serial_bytes_and_the_feed_stage_renders_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    serial, rendered_serial = _build(_site(tmp_path / "serial"), 1, monkeypatch)
    parallel, rendered = _build(_site(tmp_path / "parallel"), 2, monkeypatch)
    assert rendered_serial == POSTS - 1  # the draft is in no feed
    assert parallel == serial
    assert {"rss.xml", "atom.xml", "feed.json"} <= set(parallel)
    assert rendered == 0


def test_an_item_guessed_wrong_is_rendered_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # "Go" in most posts, "go" in a few: the site's spelling is "Go"; a chunk of the read
    # that sees only "go" posts guesses "go", and those posts' items must not be used.
    def tag(i: int) -> str:
        return "go" if i < 8 else "Go"

    serial, _ = _build(_site(tmp_path / "serial", tag), 1, monkeypatch)
    parallel, rendered = _build(_site(tmp_path / "parallel", tag), 2, monkeypatch)
    assert parallel == serial
    assert b'/tags">Go</category>' in parallel["rss.xml"]
    assert b'/tags">go</category>' not in parallel["rss.xml"]
    assert 0 < rendered < POSTS - 1


def test_a_second_cold_build_over_worker_items_is_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker items stay in the feed cache under their own keys: a cold read of the
    same posts (post cache gone, feed cache kept) gives the same bytes."""
    root = _site(tmp_path / "site")
    first, _ = _build(root, 2, monkeypatch)
    (root / "state" / "cache.sqlite").unlink()
    shutil.rmtree(root / "public")
    again, rendered = _build(root, 2, monkeypatch)
    assert again == first
    assert rendered == 0


def test_a_worker_opens_the_feed_cache_only_under_the_workers_lock(tmp_path: Path) -> None:
    # The main process lays the feed cache out once the workers have their first posts
    # (posts/collect.py), holding the lock they write with: a worker that opened the
    # file before taking the lock could lay it out too, or read it half made.
    import threading
    import time

    from publisher.feeds.cache import CACHE_FILE
    from publisher.feeds.early import EarlyItems

    config = load_config(_site(tmp_path / "site") / "config.yaml")
    config.state.mkdir(parents=True)
    items = EarlyItems(config)
    lock = threading.Lock()
    items.start(lock)
    lock.acquire()  # the main process, laying the file out
    rows = [("post-000", "k" * 40, {"rss": b"<item/>", "atom": b"<entry/>", "json": b"{}"})]
    stored: list[bool] = []

    def work() -> None:  # a worker's store, then its connection closed (in its thread)
        stored.append(items._put(rows))
        items.close()

    worker = threading.Thread(target=work)
    worker.start()
    time.sleep(0.2)
    assert not (config.state / CACHE_FILE).exists()  # waits for the lock, file untouched
    lock.release()
    worker.join()
    assert stored == [True]
    assert (config.state / CACHE_FILE).exists()
