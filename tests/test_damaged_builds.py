"""``publish build`` over a post cache (``cache.sqlite``) with one damaged page, as a user
runs it: the build that meets the damage exits 0 with a cold build's output and no
traceback, the file is deleted, and the next build makes it anew and is a cold build's
too (red team finding 2 of issue 12's ninth session, and the same damage under the
entries and the stamps). The damage: ``tests/damaged_pages.py``."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
from build_process import aged_bench_site, cold_output, publish_build
from damaged_pages import Broken, a_body, damage, entries, sound, stamps

from conftest import tree_bytes

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the bench site's helpers")

EDITED = "posts/post-00003/index.md"


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A bench site of 30 posts a minute old, built once."""
    root = aged_bench_site(tmp_path_factory.mktemp("bench") / "site", 30)
    ran = publish_build(root)
    assert ran.returncode == 0, ran.stderr
    return root


def _edit(root: Path, line: str) -> None:
    path = root / EDITED
    path.write_text(path.read_text(encoding="utf-8") + f"\n{line}\n", encoding="utf-8")


def _right(root: Path, tmp_path: Path) -> None:
    """A build of ``root`` that reads every post and renders every item exits 0, says
    nothing of a traceback, and writes a cold build's output."""
    for lost in ("feeds.sqlite", "site.sqlite", "layouts.sqlite"):
        (root / ".publisher" / lost).unlink(missing_ok=True)
    ran = publish_build(root)
    assert ran.returncode == 0 and "Traceback" not in ran.stderr, ran.stderr
    assert tree_bytes(root / "public") == cold_output(root, tmp_path / "cold")


@pytest.mark.parametrize("broken", [a_body, entries, stamps], ids=["body", "entries", "stamps"])
def test_a_build_meeting_a_damaged_post_cache_page_is_a_cold_builds(
    bench: Path, tmp_path: Path, broken: Broken
) -> None:
    root = tmp_path / "site"
    shutil.copytree(bench, root)
    cache = root / ".publisher" / "cache.sqlite"
    damage(cache, broken)
    _edit(root, "Edited.")
    _right(root, tmp_path)  # the build that meets the damage
    assert sound(cache)
    _edit(root, "Edited again.")
    _right(root, tmp_path)
    assert cache.exists() and sound(cache)
