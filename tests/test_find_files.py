"""``posts.glob`` without pathlib's glob (``posts/folder.py``, ``plain_glob``; issue 12).

The post files a generic site has are found with ``os.scandir`` and one ``stat`` per match
instead of ``Path.glob`` and ``Path.is_file``. Held to pathlib, on seeded random folder
trees with the odd entries a real checkout has (hidden names, names with glob
characters, symbolic links to folders, to files, dangling and looping, a file where a
folder is expected), for the patterns a config may give.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from publisher.posts.folder import plain_glob

pytestmark = pytest.mark.skipif(os.name != "posix", reason="plain_glob is POSIX only")

PATTERNS = [
    "*/index.md",
    "*.md",
    "*/*.md",
    "*/*/index.md",
    "p*/index.m?",
    "[ab]*/index.md",
    "[!a]*/*",
    "a/*.md",
    "a/b/index.md",
    "*/b/*",
    ".*/index.md",
    "*",
    "index.md",
    "*/[*]",
]
NAMES = ["a", "b", "post-1", "post-2", ".hidden", "x[1]", "*", "pb", "index.md", "b.md"]


def _tree(root: Path, rng: random.Random, depth: int = 0) -> None:
    for name in rng.sample(NAMES, rng.randint(1, 6)):
        path = root / name
        kind = rng.random()
        if depth < 2 and kind < 0.45:
            path.mkdir()
            _tree(path, rng, depth + 1)
        elif kind < 0.75:
            path.write_text("---\ntitle: x\n---\n", encoding="utf-8")
        elif kind < 0.8:
            target = root / "target.md"  # a post file by a link
            target.write_text("---\ntitle: y\n---\n", encoding="utf-8")
            path.symlink_to(target)
        elif kind < 0.87:
            path.symlink_to(root.parent if depth else root)  # a folder (a loop for **)
        elif kind < 0.92:
            path.symlink_to(root / "missing")  # dangling
        elif kind < 0.96:
            path.symlink_to(path)  # loops on itself: ELOOP
        else:
            os.mkfifo(path)  # not a regular file: never a post


def _pathlib(folder: Path, pattern: str) -> list[Path]:
    return sorted(p for p in folder.glob(pattern) if p.is_file())


@pytest.mark.parametrize("seed", range(12))
def test_the_files_of_pathlibs_glob(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    folder = tmp_path / "posts"
    folder.mkdir()
    _tree(folder, rng)
    for pattern in PATTERNS:
        found = plain_glob(folder, pattern)
        assert found is not None, pattern
        assert sorted(found) == _pathlib(folder, pattern), pattern


def test_a_file_where_a_folder_is_expected_and_a_missing_folder(tmp_path: Path) -> None:
    (tmp_path / "a").write_text("x", encoding="utf-8")  # a/b/index.md: ENOTDIR
    assert plain_glob(tmp_path, "a/b/index.md") == _pathlib(tmp_path, "a/b/index.md") == []
    assert plain_glob(tmp_path / "none", "*/index.md") == []
    assert _pathlib(tmp_path / "none", "*/index.md") == []


@pytest.mark.parametrize(
    "pattern", ["**/index.md", "a/**/x.md", "./*/index.md", "a//b.md", "*/", "../x/*.md", "a/./b"]
)
def test_other_patterns_are_left_to_pathlib(tmp_path: Path, pattern: str) -> None:
    assert plain_glob(tmp_path, pattern) is None


def test_the_site_finds_the_same_posts(tmp_path: Path) -> None:
    from conftest import BASE_CONFIG
    from publisher.config.loader import load_config
    from publisher.posts.folder import find_post_files

    (tmp_path / "config.yaml").write_text(BASE_CONFIG, encoding="utf-8")
    rng = random.Random(99)
    folder = tmp_path / "posts"
    folder.mkdir()
    _tree(folder, rng)
    config = load_config(tmp_path / "config.yaml")
    assert find_post_files(config) == sorted(
        (p for p in config.posts.folder.glob(config.posts.glob) if p.is_file()),
        key=lambda p: p.parts,
    )
