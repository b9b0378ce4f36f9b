"""The walk of the posts folder (publisher/incremental/walk.py) finds the same post files to
read again as every folder's digest does (issue 12: one post edited at 10,000 posts).

A site table is kept by a real build; then, after each step of a seeded random sequence of
changes under the posts folder (an edit, a touch, a chmod, a file replaced by a rename, an
image rewritten with its length, a stray file changed, a file added or removed, a build in
between, files left too recent to be judged by their stat), both ways of finding the
changed files are asked about the same stat pass and must answer the same: the walk's
when the labels under the posts folder are the ones the table kept (else it must decline),
and the digests of every folder (``table.folders``) always. The folder digests the walk
makes for the folders it reads again must be those ``table.folders`` makes.
"""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any

import pytest
from cli_run import publish

from conftest import BASE_CONFIG, numbered_site
from publisher import inputs, snapshot
from publisher.config import load_config
from publisher.incremental import table, walk
from publisher.incremental.changes import changed_files
from publisher.incremental.table import TABLE_FILE, Row, SiteTable

CONFIG = BASE_CONFIG + "cards:\n  enabled: false\nfeeds:\n  formats: [rss]\n"
NOW = "--now=2025-06-01T00:00:00Z"
#: An hour ago: files this old are judged by their stat.
OLD = 3600 * 10**9
POSTS = 16


def _age(path: Path, rng: random.Random) -> None:
    """Set ``path``'s times an hour or so back (its ctime moves on regardless)."""
    before = path.stat().st_mtime_ns - OLD - rng.randrange(10**9)
    os.utime(path, ns=(before, before))


def _build(root: Path) -> None:
    done = publish("build", NOW, cwd=root)
    assert done.returncode == 0, done.stderr


def _names(change: Any) -> tuple[list[str], list[str]]:
    reread, gone = change
    return (
        sorted(r.file if isinstance(r, Row) else r for r in reread),
        sorted(r.file for r in gone),
    )


def _compare(root: Path, monkeypatch: pytest.MonkeyPatch, window: int) -> tuple[bool, int]:
    """Both answers for the stat pass now (``window``: how recent a file is judged by its
    bytes); (whether the walk answered, how many files it reads again)."""
    config = load_config(root / "config.yaml")
    kept = SiteTable(config.state / TABLE_FILE, readonly=True)
    try:
        stored = kept.load()
    finally:
        kept.close()
    assert stored is not None and stored.walk is not None
    monkeypatch.setattr(snapshot, "RECENT_NS", window)
    taken = inputs.take_snapshot(config)
    monkeypatch.undo()
    walked = walk.take(taken)
    assert walked is not None
    _, digests = table.folders(taken)
    every = changed_files(config, stored, digests, 10**6)
    changed = walk.changed_groups(walked, stored.walk, taken.recent)
    if changed is None:
        return False, 0
    found = changed_files(config, stored, {}, 10**6, changed)
    assert every is not None and found is not None
    assert _names(found) == _names(every)
    groups = {walk.group_of(r.label if isinstance(r, Row) else r) for r in found[0]}
    made = walk.digests_of(walked.entries, groups, taken.recent)
    assert made == {g: digests[g] for g in groups if g in digests}
    return True, len(found[0]) + len(found[1])


def _change(step: str, target: Path, rng: random.Random) -> None:
    """One step of the sequence, on ``target`` (a post's file) or beside it."""
    folder, posts = target.parent, target.parent.parent
    if step == "edit" and target.exists():
        with target.open("ab") as handle:
            handle.write(b"\nMore.\n")
    elif step == "touch" and target.exists():
        _age(target, rng)
    elif step == "chmod" and target.exists():
        target.chmod(0o600 if target.stat().st_mode & 0o077 else 0o644)
    elif step == "rename" and target.exists():
        spare = folder / ".spare"
        spare.write_bytes(target.read_bytes())
        os.replace(spare, target)
    elif step == "image" and (folder / "cover.png").exists():
        data = (folder / "cover.png").read_bytes()
        (folder / "cover.png").write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
    elif step == "stray":
        (posts / "assets" / "logo.svg").write_text(f"<svg id='{rng.random()}'/>")
    elif step == "add":
        (folder / f"note-{rng.randrange(99)}.txt").write_text("note", encoding="utf-8")
    elif step == "remove" and target.exists() and target.name == "cover.png":
        target.unlink()
    elif step == "build":
        _build(posts.parent)  # files changed a moment ago are kept as unjudged ("?")


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_walk_finds_the_files_every_folder_digest_finds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    rng = random.Random(seed)
    root = numbered_site(tmp_path / "site", CONFIG, POSTS, extra="ogImage: cover.png\n")
    posts = root / "posts"
    for folder in posts.iterdir():
        (folder / "cover.png").write_bytes(
            b"\x89PNG" + bytes(rng.randrange(256) for _ in range(40))
        )
    (posts / "assets").mkdir()
    (posts / "assets" / "logo.svg").write_text("<svg/>", encoding="utf-8")
    for path in [root / "config.yaml", *posts.rglob("*")]:
        _age(path, rng)
    _build(root)
    answered = reread = 0
    for _ in range(14):
        folder = posts / f"post-{rng.randrange(POSTS):03d}"
        step = rng.choice(
            ["edit", "touch", "chmod", "rename", "image", "stray", "add", "remove", "build"]
        )
        target = folder / rng.choice(["index.md", "cover.png"])
        _change(step, target, rng)
        if rng.random() < 0.5 and target.exists():
            _age(target, rng)
        # Judged as a build now would, and as one two seconds later (nothing recent).
        for window in (snapshot.RECENT_NS, 0):
            done, count = _compare(root, monkeypatch, window)
            answered += done
            reread += count
        if rng.random() < 0.3:
            _build(root)
    assert answered >= 8 and reread >= 4, (answered, reread)


def test_a_recent_file_is_read_again_even_with_the_stat_it_had(tmp_path: Path) -> None:
    """On a file system whose timestamps are coarse, an edit within the same tick leaves
    the stat as it was: a file changed in the last two seconds is judged by its bytes
    (its folder read again), whatever its fingerprint says."""
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "index.md").write_text(name, encoding="utf-8")
    entries = tuple(
        (label, str(tmp_path / path), os.stat(tmp_path / path) if "." in path else None)
        for label, path in [
            ("post:/a/", "a"),
            ("post:/b/", "b"),
            ("post:/a/index.md", "a/index.md"),
            ("post:/b/index.md", "b/index.md"),
        ]
    )
    quiet = snapshot.Snapshot(entries=entries, recent=frozenset(), walks=(("post:", 0, 4),))
    kept = walk.take(quiet)
    assert kept is not None
    assert walk.changed_groups(kept, kept.walk, quiet.recent) == set()
    fresh = snapshot.Snapshot(
        entries=entries, recent=frozenset({"post:/b/index.md"}), walks=(("post:", 0, 4),)
    )
    taken = walk.take(fresh)
    assert taken is not None and taken.walk == kept.walk
    assert walk.changed_groups(taken, kept.walk, fresh.recent) == {"b"}
    assert walk.digests_of(taken.entries, {"a", "b"}, fresh.recent)["b"] == "?"
    assert walk.changed_groups(taken, None, fresh.recent) is None  # no walk kept
    other = walk.Walk("0" * 40, kept.walk.prints)
    assert walk.changed_groups(taken, other, fresh.recent) is None  # other labels
