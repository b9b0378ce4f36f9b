"""The og image look-ups a read worker hands back to the main process's rules
(``posts/rules.py`` ``LOOKED``, issue 12).

A parallel cold build's workers run the rules across posts on their chunk (for the early
feed items) and leave each og image look-up in the post's record; the main process's rules
use it instead of stat'ing the image again. Checked on real files and a real process pool:
the main process stats no og image then, a look-up made for another image or post is not
used, and an image replaced (same size and mtime) after the workers looked is seen by the
next build, whose output is a cold build's of the new files.
"""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from conftest import BASE_CONFIG, numbered_site
from publisher.build import build_site
from publisher.config.loader import load_config
from publisher.posts import collect, rules
from publisher.posts.folder import PlainPaths

CONFIG = BASE_CONFIG + "cards:\n  enabled: false\nfeeds:\n  formats: [rss, atom]\n  limit: null\n"
NOW = datetime(2025, 6, 1, tzinfo=UTC)
POSTS = 24
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 120
JPEG = b"\xff\xd8\xff\xe0" + b"\0" * (len(PNG) - 4)


def _site(root: Path) -> Path:
    numbered_site(root, CONFIG, POSTS, extra="ogImage: cover.png\n")
    for i in range(POSTS):
        cover = root / "posts" / f"post-{i:03d}" / "cover.png"
        cover.write_bytes(PNG)
        os.utime(cover, ns=(1_600_000_000 * 10**9, 1_600_000_000 * 10**9))
    return root


def _outputs(root: Path) -> dict[str, bytes]:
    public = root / "public"
    return {p.relative_to(public).as_posix(): p.read_bytes() for p in public.rglob("*.xml")}


def _build(root: Path, jobs: int, monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    with monkeypatch.context() as patch:
        patch.setattr(collect, "PARALLEL_THRESHOLD", 10)  # a pool of two over 24 posts
        result = build_site(load_config(root / "config.yaml"), now=NOW, jobs=jobs)
    assert not result.failed
    return _outputs(root)


def _replace(image: Path, data: bytes) -> None:
    """Another file renamed over ``image``: the same size and mtime, a new inode."""
    before = image.stat()
    fresh = image.with_name("fresh.tmp")
    fresh.write_bytes(data)
    os.utime(fresh, ns=(before.st_atime_ns, before.st_mtime_ns))
    fresh.replace(image)


@pytest.mark.parametrize("jobs", [1, 2])
def test_the_main_process_stats_no_og_image_a_worker_looked_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jobs: int
) -> None:
    seen: list[str] = []
    plain_stat = PlainPaths.stat

    def counted(self: PlainPaths, path: str) -> os.stat_result | None:
        if path.endswith("/cover.png"):
            seen.append(path)
        return plain_stat(self, path)

    # Patched before the pool forks: each worker counts in its own copy of ``seen``.
    monkeypatch.setattr(PlainPaths, "stat", counted)
    root = _site(tmp_path / "site")
    out = _build(root, jobs, monkeypatch)
    assert len(seen) == (POSTS if jobs == 1 else 0)
    assert out["rss.xml"].count(b'type="image/png"') == 2 * POSTS
    assert out == _build(_site(tmp_path / "serial"), 1, monkeypatch)


def test_a_look_up_for_another_image_or_post_is_not_used(tmp_path: Path) -> None:
    root = _site(tmp_path / "site")
    config = load_config(root / "config.yaml")
    source = config.posts.folder / "post-001" / "index.md"
    base = {"og_image": "cover.png"}
    for looked in [
        ("other.png", os.fspath(source), True, (1, 2, 3, 4)),
        ("cover.png", os.fspath(source.with_name("elsewhere.md")), True, (1, 2, 3, 4)),
    ]:
        record = {**base, rules.LOOKED: looked}
        site = rules._Site((config.posts.folder.resolve(), config.root.resolve()), None)
        site = rules._Site(site.allowed, PlainPaths(os.fspath(config.posts.folder)))
        _, inside, exists, stamp = rules._look_up(record, source, site)  # type: ignore[arg-type]
        assert (inside, exists) == (True, True)
        st = (source.parent / "cover.png").stat()
        assert stamp == (st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns)
        assert rules.LOOKED not in record  # taken out: used once at most


def test_an_image_replaced_after_the_workers_looked_is_seen_by_the_next_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _site(tmp_path / "site")
    image = root / "posts" / "post-005" / "cover.png"
    finalize = collect.finalize

    def replaced_first(*args: object, **kwargs: object) -> object:
        _replace(image, JPEG)  # after every worker's look-up, before the main's rules
        return finalize(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(collect, "finalize", replaced_first)
    _build(root, 2, monkeypatch)
    monkeypatch.setattr(collect, "finalize", finalize)
    again = _build(root, 2, monkeypatch)
    cold = tmp_path / "cold"
    shutil.copytree(root / "posts", cold / "posts")
    (cold / "config.yaml").write_text(CONFIG, encoding="utf-8")
    assert again == _build(cold, 1, monkeypatch)
    assert again["rss.xml"].count(b'type="image/jpeg"') == 2


def test_an_image_replaced_between_builds_is_seen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No look-up outlives its build (none is in the post cache)."""
    root = _site(tmp_path / "site")
    _build(root, 2, monkeypatch)
    _replace(root / "posts" / "post-009" / "cover.png", JPEG)
    shutil.rmtree(root / "public")
    again = _build(root, 2, monkeypatch)
    assert again["rss.xml"].count(b'type="image/jpeg"') == 2


def test_posts_of_one_date_are_in_id_order_whatever_order_they_are_read_in(
    tmp_path: Path,
) -> None:
    # Newest first, then by id: the rules sort by date alone and rely on the id order
    # they make the posts in (a stable sort keeps it among posts of one date).
    import random

    from publisher.posts.rules import finalize

    root = _site(tmp_path / "site")
    config = load_config(root / "config.yaml")
    ids = [f"post-{i:03d}" for i in range(POSTS)]
    records = []
    for i, post_id in enumerate(ids):
        source = root / "posts" / post_id / "index.md"
        page = f"https://example.org/{post_id}/"
        record: dict[str, object] = {
            "id": post_id, "url": page, "page_url": page, "path": f"/{post_id}/",
            "external_url": None, "title": post_id, "summary": None,
            "date": f"2024-01-0{1 + i % 3}T00:00:00+00:00", "updated": None,
            "og_image": None, "og_image_url": None, "categories": [], "tags": [],
            "authors": [], "is_featured": False, "is_popular": False, "draft": False,
            "frontmatter": {}, "body_markdown": "", "body_html": "",
        }  # fmt: skip
        records.append((record, source, f"posts/{post_id}/index.md", None))
    random.Random(4).shuffle(records)
    posts = finalize(records, config, [])  # type: ignore[arg-type]
    expected = sorted(ids, key=lambda i: (-(int(i[-3:]) % 3), i))
    assert [p.id for p in posts] == expected
