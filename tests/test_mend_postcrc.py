"""The post cache's checksums (posts/cache.py): an entry or body whose bytes changed on
disk (a bad block: SQLite checks none of a row's bytes) is never used as it is. Real
SQLite files, damaged by SQL as a flipped byte would be."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from cli_run import publish

from conftest import Site, tree_bytes
from publisher.errors import StateError
from publisher.posts.cache import PostCache

NOW = "--now=2025-06-01T00:00:00Z"
CONFIG = """\
site:
  title: Blog
  url: https://blog.example.org
  timezone: UTC
posts:
  folder: posts
output:
  folder: public
state:
  folder: state
cards:
  enabled: false
feeds:
  formats: [rss, atom, json]
  content: full
"""

RECORD = {"id": "a", "title": "Title A", "body_markdown": "Body *A*", "body_html": "<p>Body A</p>"}


def _damage(path: Path, column: str, old: str, new: str) -> int:
    db = sqlite3.connect(path)
    with db:
        changed = db.execute(
            f"UPDATE posts SET {column} = replace({column}, ?, ?) WHERE instr({column}, ?) > 0",
            (old, new, old),
        ).rowcount
    db.close()
    return changed


def _stored(path: Path) -> None:
    cache = PostCache(path)
    cache.put("ka", (dict(RECORD), []))
    assert cache.commit(["ka"])
    cache.close()


def test_a_damaged_entry_is_a_miss(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite"
    _stored(path)
    intact = PostCache(path)
    assert intact.get_many(["ka"])["ka"][0]["title"] == "Title A"  # type: ignore[index]
    intact.close()
    assert _damage(path, "entry", "Title A", "Title B") == 1
    cache = PostCache(path)
    assert cache.get_many(["ka"]) == {}
    cache.close()


def test_a_damaged_body_stops_the_build_once_and_is_dropped(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite"
    _stored(path)
    assert _damage(path, "html", "Body A", "Body B") == 1
    cache = PostCache(path)
    record = cache.get_many(["ka"])["ka"][0]
    assert record is not None
    with pytest.raises(StateError, match=r"damaged on disk.*run the build again"):
        record["body"].html  # noqa: B018 (the read is the point)
    cache.close()
    again = PostCache(path)
    assert again.get_many(["ka"]) == {}  # dropped: the next build parses the post again
    again.close()


def _build(root: Path) -> tuple[int, str]:
    ran = publish("build", NOW, cwd=root)
    assert "Traceback" not in ran.stderr, ran.stderr
    return ran.returncode, ran.stderr


def test_a_build_with_a_damaged_post_cache_writes_what_a_cold_one_does(
    site: Site, tmp_path: Path
) -> None:
    site.config(CONFIG)
    for n in range(3):
        site.post(f"p{n}", f"title: Post {n}\ndate: 2024-01-0{n + 1}", f"Text {n}.\n")
    assert _build(site.root)[0] == 0
    shutil.copytree(site.root, tmp_path / "cold", ignore=shutil.ignore_patterns("public", "state"))
    assert _build(tmp_path / "cold")[0] == 0
    cache = site.root / "state" / "cache.sqlite"
    assert _damage(cache, "entry", "Post ", "Posx ") == 3
    assert _damage(cache, "markdown", "Text ", "Texx ") == 3
    assert _damage(cache, "html", "Text ", "Texx ") == 3
    # Only the post cache is left: every post is looked up there, and every feed item made.
    for stale in (site.root / "state").iterdir():
        if stale.name != "cache.sqlite":
            stale.unlink()
    shutil.rmtree(site.root / "public")
    code, err = _build(site.root)
    assert code == 0, err
    assert tree_bytes(site.root / "public") == tree_bytes(tmp_path / "cold" / "public")


def test_a_build_meeting_a_damaged_body_says_so_and_the_next_one_is_right(
    site: Site, tmp_path: Path
) -> None:
    site.config(CONFIG)
    for n in range(3):
        site.post(f"p{n}", f"title: Post {n}\ndate: 2024-01-0{n + 1}", f"Text {n}.\n")
    assert _build(site.root)[0] == 0
    shutil.copytree(site.root, tmp_path / "cold", ignore=shutil.ignore_patterns("public", "state"))
    assert _build(tmp_path / "cold")[0] == 0
    cache = site.root / "state" / "cache.sqlite"
    assert _damage(cache, "html", "Text 1", "Texx 1") == 1
    for stale in (site.root / "state").iterdir():
        if stale.name != "cache.sqlite":
            stale.unlink()
    shutil.rmtree(site.root / "public")
    code, err = _build(site.root)
    # The damaged body is read (its feed items are made): one line, and the row dropped.
    assert code != 0
    assert "damaged on disk" in err and len(err.strip().splitlines()) == 1, err
    code, err = _build(site.root)
    assert code == 0, err
    assert tree_bytes(site.root / "public") == tree_bytes(tmp_path / "cold" / "public")
