"""A stat pass that lists many folders is split between two processes (statwalk.py:
``Walker._split``): a forked process walks some of the folders while the build walks the
others. The result must be the serial walk's exactly (entries in the same order with the
same stats, listings, counts), whatever the tree holds, and the forked process must never
outlive the walk, print anything, or take a Ctrl-C meant for the build."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from publisher import snapshot, statwalk

NAMES = ("a", "b", "c", ".hidden", "index.md", "cover.png", "x y", "é")


def _tree(root: Path, rng: random.Random, links: bool) -> None:
    root.mkdir()
    folders = [root]
    for i in range(rng.randint(5, 40)):
        parent = rng.choice(folders)
        path = parent / f"{rng.choice(NAMES)}{i % 4}"
        if path.exists() or path.is_symlink():
            continue
        kind = rng.choice(["folder", "folder", "file", "file", "file", "link"])
        if kind == "folder":
            path.mkdir()
            folders.append(path)
        elif kind == "file":
            path.write_text("x" * rng.randint(0, 9), encoding="utf-8")
        elif links:
            path.symlink_to(rng.choice([*folders, root / "gone"]))


def _take(root: Path, known: dict[str, Any] | None = None) -> snapshot.Snapshot:
    plan = [["stat", "config", str(root / "none")], ["walk", snapshot.POSTS, str(root), ""]]
    # As if taken long after the tree was written: folders are kept in the record.
    return snapshot.take(plan, known or {}, 10**19)


def _same(one: snapshot.Snapshot, two: snapshot.Snapshot) -> None:
    assert one.entries == two.entries
    # os.stat_result compares its first ten fields only: the times in nanoseconds too.
    for (_, _, a), (_, _, b) in zip(one.entries, two.entries, strict=True):
        assert (a is None) == (b is None)
        if a is not None and b is not None:
            assert (a.st_mtime_ns, a.st_ctime_ns, a.st_mtime) == (
                b.st_mtime_ns,
                b.st_ctime_ns,
                b.st_mtime,
            )
    assert one.tree == two.tree
    assert (one.relisted, one.odd, one.walks) == (two.relisted, two.odd, two.walks)
    assert one.digest(one.recent) == two.digest(two.recent)


@pytest.fixture
def forks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Every walk of a folder holding a folder is split; the forks made, by pid."""
    made: list[int] = []
    fork = os.fork

    def counted() -> int:
        pid = fork()
        if pid:
            made.append(pid)
        return pid

    monkeypatch.setattr(statwalk, "SPLIT_FROM", 1)
    monkeypatch.setattr(statwalk, "_can_fork", lambda: True)
    monkeypatch.setattr(os, "fork", counted)
    return made


def _serial(root: Path, known: dict[str, Any] | None = None) -> snapshot.Snapshot:
    split = statwalk.SPLIT_FROM
    statwalk.SPLIT_FROM = 10**9
    try:
        return _take(root, known)
    finally:
        statwalk.SPLIT_FROM = split


def _reaped(pids: list[int]) -> bool:
    for pid in pids:
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            continue
        return False
    return True


@pytest.mark.parametrize("seed", range(30))
def test_a_split_walk_is_the_serial_walk(tmp_path: Path, seed: int, forks: list[int]) -> None:
    rng = random.Random(seed)
    root = tmp_path / "posts"
    _tree(root, rng, links=seed % 2 == 1)
    serial = _serial(root)
    split = _take(root)
    _same(serial, split)
    top = list(root.iterdir())
    if any(p.is_dir() for p in top) and not any(p.is_symlink() for p in top):
        assert forks  # it was split (a link at the top: walked here, as the glob would)
    assert _reaped(forks)


def test_a_walk_with_a_record_is_not_split(tmp_path: Path, forks: list[int]) -> None:
    root = tmp_path / "posts"
    _tree(root, random.Random(7), links=False)
    (root / "sub").mkdir()
    first = _take(root)
    assert forks
    forks.clear()
    # Folders known by their stat cost a stat each: not worth a process.
    _same(_serial(root, dict(first.tree)), _take(root, dict(first.tree)))
    assert forks == []


def test_a_part_the_forked_process_cannot_ship_is_walked_here(
    tmp_path: Path, forks: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "posts"
    for name in "abcdef":
        (root / name).mkdir(parents=True)
        (root / name / "index.md").write_text(name, encoding="utf-8")
    serial = _serial(root)

    def broken(*args: object) -> bytes:
        raise MemoryError

    monkeypatch.setattr(statwalk, "_ship", broken)
    _same(serial, _take(root))
    assert forks and _reaped(forks)
    # Half of what it wrote is nothing either.
    monkeypatch.undo()
    assert statwalk._unship(b"") is None
    whole = statwalk._ship([("a", "b", None)], {}, 0, set())
    assert statwalk._unship(len(whole).to_bytes(8, "little") + whole[:-1]) is None


SCRIPT = """
import os, signal, sys, time
from publisher import snapshot, statwalk
statwalk.SPLIT_FROM = 1
descend = statwalk.Walker._descend
parent = os.getpid()

def slow(self, *args):
    if os.getpid() != parent:
        os.killpg(0, signal.SIGINT)  # Ctrl-C, to the whole group, while the part is walked
        time.sleep(0.5)
    return descend(self, *args)

statwalk.Walker._descend = slow
root = sys.argv[1]
plan = [["walk", snapshot.POSTS, root, ""]]
try:
    snapshot.take(plan, {}, 0)
    time.sleep(1)
except KeyboardInterrupt:
    print("interrupted", flush=True)
    sys.exit(130)
print("walked", flush=True)
"""


def test_ctrl_c_is_the_builds_and_the_forked_process_ends_with_it(tmp_path: Path) -> None:
    root = tmp_path / "posts"
    for name in "abcd":
        (root / name).mkdir(parents=True)
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(SCRIPT), str(root)],
        capture_output=True,
        text=True,
        timeout=60,
        start_new_session=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    # The build takes the Ctrl-C (at once or once its walk is done); the forked process
    # ignores it and prints nothing: no second traceback, no second line.
    assert done.returncode == 130, done
    assert done.stdout == "interrupted\n" and "Traceback" not in done.stderr, done
    assert signal.SIGINT  # (the group's signal, sent from the forked process above)


def test_a_part_that_met_a_link_is_walked_here(tmp_path: Path, forks: list[int]) -> None:
    # Two links to one folder, one in each part: the serial walk walks the target once,
    # below the link it meets first (in the build's part); a forked part cannot know it.
    root = tmp_path / "posts"
    target = tmp_path / "shared"
    (target / "deep").mkdir(parents=True)
    (target / "deep" / "index.md").write_text("x", encoding="utf-8")
    for name in "abcdefgh":
        (root / name).mkdir(parents=True)
        (root / name / "index.md").write_text(name, encoding="utf-8")
    (root / "a" / "link").symlink_to(target)  # in the forked part (walked last)
    (root / "h" / "link").symlink_to(target)  # in the build's part (walked first)
    serial = _serial(root)
    assert sum(label.endswith("/deep/index.md") for label, _, _ in serial.entries) == 1
    _same(serial, _take(root))
    assert forks and _reaped(forks)
