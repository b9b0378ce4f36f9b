"""The posts finder takes the post files from the stat pass's walk of the posts folder
(posts/listed.py) only when they are the files a glob of the folder finds.

Random folders (hidden names, names a pattern part matches or not, files at every depth,
folders named like files, links to files and to folders, dangling links, a named pipe)
are walked as a build's stat pass walks them, and globbed as the finder globs them: when
the walk can tell, it gives the same paths, else it says so (None) and the finder globs.
The stats of a cold build's finding are counted too: none beyond the stat pass's.
"""

from __future__ import annotations

import os
import random
import sys
from pathlib import Path
from typing import Any

import pytest
from cli_run import publish

from conftest import BASE_CONFIG, tree_bytes
from publisher import snapshot
from publisher.posts import folder as posts_folder
from publisher.posts.listed import listed_files

PATTERNS = ("*/index.md", "*.md", "*/*.md", "a*/index.m?", "[ab]*/*", "blog/*/index.md", "*/*/x")
NAMES = ("a", "ab", "b1", ".hidden", "blog", "index.md", "x", "post.md", "c d", "é")


def _tree(root: Path, rng: random.Random, links: bool) -> None:
    """A random tree under ``root``: folders three deep, files, and (``links``) links."""
    root.mkdir()
    folders = [root]
    for _ in range(rng.randint(0, 25)):
        parent = rng.choice(folders)
        path = parent / rng.choice(NAMES)
        if path.exists() or path.is_symlink() or len(path.relative_to(root).parts) > 3:
            continue
        kind = rng.choice(["folder", "folder", "file", "file", "link", "pipe"])
        if kind == "folder":
            path.mkdir()
            folders.append(path)
        elif kind == "file":
            path.write_text("x", encoding="utf-8")
        elif kind == "pipe":
            os.mkfifo(path)
        elif links:
            target = rng.choice([*folders, root / "gone", root / "a" / "index.md"])
            path.symlink_to(target)


def _walk(root: Path) -> snapshot.Snapshot:
    plan = [["stat", "config", str(root / "nothing")], ["walk", snapshot.POSTS, str(root), ""]]
    return snapshot.take(plan, {}, 0)


def _glob(root: Path, pattern: str) -> list[str]:
    found = posts_folder.plain_glob(root, pattern)
    assert found is not None
    return sorted(map(str, found))


@pytest.mark.parametrize("seed", range(60))
def test_the_walk_finds_what_the_glob_finds(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    root = tmp_path / "posts"
    _tree(root, rng, links=seed % 3 == 0)
    taken = _walk(root)
    # Walked again from the record of the first walk: folders known by their stat.
    again = snapshot.take(
        [["stat", "config", str(root / "nothing")], ["walk", snapshot.POSTS, str(root), ""]],
        taken.tree,
        10**19,
    )
    for pattern in PATTERNS:
        for walk in (taken, again):
            listed = listed_files(walk, str(root), pattern, snapshot.POSTS)
            if listed is not None:
                assert sorted(listed) == _glob(root, pattern), pattern
    if seed % 3 != 0 and any(root.iterdir()):
        # Without links, the walk always tells.
        assert listed_files(taken, str(root), "*/index.md", snapshot.POSTS) is not None


def test_a_link_to_a_folder_walked_once_is_left_to_the_glob(tmp_path: Path) -> None:
    root = tmp_path / "posts"
    (root / "a").mkdir(parents=True)
    (root / "a" / "index.md").write_text("x", encoding="utf-8")
    (root / "b").symlink_to(root / "a")
    (root / "c").symlink_to(root / "a")
    taken = _walk(root)
    assert snapshot.POSTS in taken.odd
    assert listed_files(taken, str(root), "*/index.md", snapshot.POSTS) is None
    assert len(_glob(root, "*/index.md")) == 3  # a, and one per link


def test_patterns_the_walk_cannot_answer_are_globbed(tmp_path: Path) -> None:
    root = tmp_path / "posts"
    (root / "a").mkdir(parents=True)
    (root / "a" / "index.md").write_text("x", encoding="utf-8")
    taken = _walk(root)
    for pattern in ("**/index.md", "./a/index.md", "a//index.md", "../posts/a/index.md"):
        assert listed_files(taken, str(root), pattern, snapshot.POSTS) is None
    assert listed_files(taken, str(tmp_path / "other"), "*/index.md", snapshot.POSTS) is None
    assert listed_files(taken, str(root), "*/index.md", "nothing:") is None
    assert listed_files(taken, str(root), "*/index.md", snapshot.POSTS) == [
        str(root / "a" / "index.md")
    ]


def test_a_cold_build_finds_its_posts_without_a_stat_of_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "site"
    root.mkdir()
    (root / "config.yaml").write_text(BASE_CONFIG + "cards: {enabled: false}\n", "utf-8")
    for i in range(40):
        folder = root / "posts" / f"p{i:02d}"
        folder.mkdir(parents=True)
        (folder / "index.md").write_text(
            f"---\ntitle: P{i}\ndate: 2024-01-01\n---\nBody {i}.\n", encoding="utf-8"
        )
    counted: dict[str, int] = {"stat": 0, "scandir": 0}
    stat, scandir = os.stat, os.scandir

    def counting(name: str, call: Any) -> Any:
        def counted(*args: Any, **kwargs: Any) -> Any:
            caller = sys._getframe(1).f_globals.get("__name__")
            if caller == "publisher.posts.folder":
                counted_calls[name] += 1
            return call(*args, **kwargs)

        return counted

    counted_calls = counted
    monkeypatch.setattr(os, "stat", counting("stat", stat))
    monkeypatch.setattr(os, "scandir", counting("scandir", scandir))
    done = publish("build", "--jobs", "1", cwd=root)
    monkeypatch.undo()
    assert done.returncode == 0, done.stderr
    assert "40 posts" in done.stderr + done.stdout
    assert counted == {"stat": 0, "scandir": 0}  # the glob's own: none
    assert len(list((root / "public").glob("*.xml"))) >= 1


def _post(root: Path, name: str, day: int) -> None:
    folder = root / "posts" / name
    folder.mkdir(parents=True)
    (folder / "index.md").write_text(
        f"---\ntitle: {name}\ndate: 2024-01-{day:02d}\n---\nBody of {name}.\n", encoding="utf-8"
    )


def test_a_post_added_after_the_stat_pass_is_built_by_the_next_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The files read are the ones the stat pass saw, and the record says so: a post added
    # while a build runs is not in it, and the next build finds its folder new.
    root = tmp_path / "site"
    root.mkdir()
    (root / "config.yaml").write_text(BASE_CONFIG + "cards: {enabled: false}\n", "utf-8")
    for day in range(1, 4):
        _post(root, f"p{day}", day)
    take = snapshot.take

    def then_a_post(*args: Any) -> snapshot.Snapshot:
        taken = take(*args)
        if not (root / "posts" / "late").exists():
            _post(root, "late", 9)
        return taken

    monkeypatch.setattr(snapshot, "take", then_a_post)
    first = publish("build", cwd=root)
    monkeypatch.undo()
    assert first.returncode == 0, first.stderr
    assert "late" not in (root / "public" / "posts.json").read_text(encoding="utf-8")
    again = publish("build", cwd=root)
    assert again.returncode == 0, again.stderr
    assert "late" in (root / "public" / "posts.json").read_text(encoding="utf-8")
    cold = tmp_path / "cold"
    cold.mkdir()
    (cold / "config.yaml").write_bytes((root / "config.yaml").read_bytes())
    for day, name in [(1, "p1"), (2, "p2"), (3, "p3"), (9, "late")]:
        _post(cold, name, day)
    assert publish("build", cwd=cold).returncode == 0
    assert tree_bytes(root / "public") == tree_bytes(cold / "public")
