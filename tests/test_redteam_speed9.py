"""Red team for issue 12's new state under damage and change: post cache rows stored
without their bodies (layout 5) and read again from their files (``posts/reread.py``),
the site table (layout 6, marshalled chunks with a CRC), layouts.sqlite (layout 2, staged
rows), each state file damaged on disk, a folder made unwritable while a build runs.

Each test runs ``python -m publisher build`` in a process of its own on a bench site
(``bench/bench_naive.py``) and asks: the build either makes a cold build's output folder,
or stops with one line and no traceback and the next build does.
"""

from __future__ import annotations

import random
import shutil
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from build_process import (
    ENV,
    aged_bench_site,
    bench_naive,
    publish_build,
    settles,
    started_build,
)

#: Posts in a site: enough for the parallel read (200), whose workers store body-less rows.
POSTS = 400
EDITED = "posts/post-00200/index.md"
JSON = "formats: [rss, atom, json]"
NOW = datetime(2025, 6, 1, tzinfo=UTC)

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="signals and chattr")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A bench site (posts older than two seconds: judged by their stat) after its cold
    build, whose read workers stored their rows without bodies."""
    root = aged_bench_site(tmp_path_factory.mktemp("bench") / "site", POSTS)
    ran = publish_build(root)
    assert ran.returncode == 0, ran.stderr
    with sqlite3.connect(root / ".publisher" / "cache.sqlite") as db:
        stored = db.execute("SELECT count(*), sum(markdown IS NULL) FROM posts").fetchone()
    assert stored == (POSTS, POSTS)  # what the tests below attack
    return root


def _copy(built: Path, root: Path) -> Path:
    """``built`` copied to ``root`` and built there once: a copy's files are new to the
    stat pass (their inodes), and the attacks below need a build that trusts its state."""
    shutil.copytree(built, root)
    ran = publish_build(root)
    assert ran.returncode == 0, ran.stderr
    with sqlite3.connect(root / ".publisher" / "cache.sqlite") as db:
        stored = db.execute("SELECT count(*), sum(markdown IS NULL) FROM posts").fetchone()
    assert stored == (POSTS, POSTS)
    return root


#: Run as ``python -c``: a build whose first body made again from its post file finds
#: that file changed (MODE "append") or gone ("remove") since the read found it.
_RACED = """
import os, sys
sys.argv = ["publish", "build"]
from publisher.posts import reread
made_again = reread.Reread.__call__
def call(self, key, digest):
    if not getattr(reread, "raced", False):
        reread.raced = True
        path = self.sources[self.keys.index(key)][0]
        if os.environ["MODE"] == "append":
            with open(path, "a") as handle:
                handle.write("changed while the build ran")
        else:
            os.remove(path)
    return made_again(self, key, digest)
reread.Reread.__call__ = call
from publisher.cli import main
main()
"""


@pytest.mark.parametrize("mode", ["append", "remove"])
def test_a_body_made_again_from_a_file_changed_meanwhile_is_never_used(
    built: Path, tmp_path: Path, mode: str
) -> None:
    # A JSON feed added: every item is rendered anew, each body made again from its file.
    root = _copy(built, tmp_path / "site")
    config = root / "config.yaml"
    config.write_text(config.read_text().replace("formats: [rss, atom]", JSON))
    ENV["MODE"] = mode
    try:
        ran = publish_build(root, script=_RACED)
    finally:
        del ENV["MODE"]
    assert ran.returncode != 0, ran.stderr
    assert "changed or gone while the build ran" in ran.stderr, ran.stderr
    settles(root, ran, mode)


def _damage(path: Path, how: str, rng: random.Random) -> None:
    data = bytearray(path.read_bytes())
    if how == "truncate":
        data = data[: rng.randrange(len(data))]
    elif how == "flip":
        for _ in range(8):
            at = rng.randrange(len(data))
            data[at] ^= 1 << rng.randrange(8)
    else:  # a page of noise past SQLite's header page
        at = rng.randrange(1, max(2, len(data) // 4096)) * 4096
        data[at : at + 4096] = rng.randbytes(4096)
    path.write_bytes(bytes(data))


STATE = ["cache.sqlite", "feeds.sqlite", "layouts.sqlite", "site.sqlite", "inputs.json"]


@pytest.mark.parametrize("name", STATE)
def test_a_damaged_state_file_is_rebuilt_or_refused(built: Path, tmp_path: Path, name: str) -> None:
    # Damaged, then one post edited and the JSON feed added (bodies made again): a
    # damaged row must be a miss or one line, never a feed's bytes.
    for how in ("truncate", "flip", "page"):
        root = _copy(built, tmp_path / how / "site")
        _damage(root / ".publisher" / name, how, random.Random(f"{name}/{how}"))
        with (root / EDITED).open("a", encoding="utf-8") as handle:
            handle.write("\nEdited after the damage.\n")
        config = root / "config.yaml"
        config.write_text(config.read_text().replace("formats: [rss, atom]", JSON))
        settles(root, publish_build(root), f"{name} {how}")


def test_staged_layouts_left_by_a_killed_build_are_never_used(built: Path, tmp_path: Path) -> None:
    # A build killed between LayoutStore.stage and commit leaves rows marked "staged:":
    # here each row's file is then changed by hand. A staged row used as a layout would
    # splice the old bytes around the new ones.
    root = _copy(built, tmp_path / "site")
    with sqlite3.connect(root / ".publisher" / "layouts.sqlite") as db:
        paths = [row[0] for row in db.execute("SELECT path FROM stamps")]
        db.execute("UPDATE stamps SET stamp = 'staged:0123456789abcdef'")
    assert paths
    for relative in paths:
        target = root / "public" / relative
        target.write_bytes(target.read_bytes().replace(b"Bench", b"Bunch", 1))
    with (root / EDITED).open("a", encoding="utf-8") as handle:
        handle.write("\nEdited after a killed build.\n")
    settles(root, publish_build(root), "staged")


def _chattr(flag: str, folder: Path) -> bool:
    return subprocess.run(["chattr", flag, str(folder)], capture_output=True).returncode == 0


@pytest.mark.parametrize("folder", ["public", ".publisher"])
def test_a_folder_made_unwritable_mid_build_is_one_line(
    built: Path, tmp_path: Path, folder: str
) -> None:
    # chattr +i: no file made, renamed or removed in the folder, even by root (the tests
    # may run as root, whom a mode of 0o555 does not stop).
    probe = tmp_path / "probe"
    probe.mkdir()
    if not _chattr("+i", probe) or not _chattr("-i", probe):
        pytest.skip("chattr +i is not allowed here")
    rng = random.Random(folder)
    root = _copy(built, tmp_path / "site")
    for round_ in range(4):
        with (root / EDITED).open("a", encoding="utf-8") as handle:
            handle.write(f"\nEdited in round {round_}.\n")
        build = started_build(root, own_group=False)
        try:
            time.sleep(rng.uniform(0.05, 0.4))
            _chattr("+i", root / folder)
            _, stderr = build.communicate(timeout=60)
        finally:
            _chattr("-i", root / folder)
            if build.poll() is None:
                build.kill()
                build.wait()
        ran = subprocess.CompletedProcess(build.args, build.returncode, "", stderr)
        settles(root, ran, f"{folder} round {round_}")


def test_no_pool_thread_is_left_running_when_the_build_returns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The read workers are told to end once their feed files are in place (shutdown
    # without a wait). Their pool's manager thread, still closing its wakeup pipe when the
    # interpreter exits, raced concurrent.futures' exit hook, which wrote to that pipe:
    # "Exception ignored ... OSError: [Errno 9] Bad file descriptor" and a traceback after
    # a build that exited 0 (about one cold build in 40 on a loaded machine).
    import threading
    from concurrent.futures import process

    from publisher import inputs
    from publisher.build import build_site
    from publisher.config.loader import load_config

    # A loaded machine: the manager thread ends a moment after the workers are told to.
    internals = process._ExecutorManagerThread.join_executor_internals

    def slowly(self: Any) -> None:
        time.sleep(0.5)
        internals(self)

    monkeypatch.setattr(process._ExecutorManagerThread, "join_executor_internals", slowly)
    root = tmp_path / "site"
    root.mkdir()
    bench_naive.write_site(root, POSTS)
    monkeypatch.chdir(root)
    config = load_config(root / "config.yaml")
    before = set(threading.enumerate())
    result = build_site(config, now=NOW, jobs=2, snapshot=inputs.take_snapshot(config))
    assert [w.status for w in result.writes] == ["created"] * 3  # a cold build's
    left = [t.name for t in set(threading.enumerate()) - before if t.is_alive()]
    assert left == []
