"""Red team for issue 12's ninth session: what a build leaves when it is killed, and what
the next build makes of it, after the eighth session's machinery (feeds and ``posts.json``
swapped into place by ``renameat2(RENAME_EXCHANGE)`` and left unsynced, the file they
replaced freed by the splice thread after the build's record is written).

Each finding is a test marked ``xfail(strict=True)`` with the reason: it fails today, and
the fix turns it into a pass (then the mark goes). Each runs ``python -m publisher build``
as a user does, on a small bench site, and holds the next build to a cold build's output
folder, byte for byte, with no temporary file left in it.
"""

from __future__ import annotations

import shutil
import sqlite3
import sys
from pathlib import Path

import pytest
from build_process import aged_bench_site, cold_output, publish_build

from conftest import tree_bytes

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="renameat2, signals and /proc")

POSTS = 30
EDITED = "posts/post-00003/index.md"


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A bench site (posts a minute old: judged by their stat); each test builds a copy."""
    return aged_bench_site(tmp_path_factory.mktemp("bench") / "site", POSTS)


def _copied(bench: Path, tmp_path: Path) -> Path:
    """A copy of the bench site, built: the next build splices from its feeds."""
    root = tmp_path / "site"
    shutil.copytree(bench, root)
    ran = publish_build(root)
    assert ran.returncode == 0, ran.stderr
    return root


def _hidden(folder: Path) -> list[str]:
    """Temporary files (``.rss.xml.k3j5x9q2.tmp``) in ``folder`` and below."""
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob(".*") if p.is_file())


#: ``publish build`` killed by SIGKILL once the build has written its record
#: (``inputs.json``) and before a splice thread does anything more after it told the
#: build its file is in place (``spliced.Pending.done``): the build goes on to its sweep
#: and record meanwhile, and the thread frees the file it swapped out (20 to 50 ms at
#: 70 MB on a disk mounted with ``discard``). Until the ninth session the thread also
#: unlinked that file only then, so the kill left it in ``public/`` under its temporary
#: name, and the next build, a no-op answered by the fast path, never swept it.
KILLED_AFTER_THE_RECORD = r"""
import os, signal, sys, threading, time
from publisher import spliced


class Done(threading.Event):
    def set(self):
        super().set()
        record = os.path.join(".publisher", "inputs.json")
        before = os.stat(record).st_mtime_ns
        deadline = time.monotonic() + 10
        while os.stat(record).st_mtime_ns == before and time.monotonic() < deadline:
            time.sleep(0.001)
        if os.stat(record).st_mtime_ns != before:
            print("killed after the record", file=sys.stderr, flush=True)
            os.kill(os.getpid(), signal.SIGKILL)


made = spliced.Pending.__init__


def init(self):
    made(self)
    self.done = Done()


spliced.Pending.__init__ = init
sys.argv = ["publish", "build"]
from publisher.cli import main

main()
"""


def test_a_feed_swapped_out_by_a_killed_build_is_not_left_published(
    bench: Path, tmp_path: Path
) -> None:
    root = _copied(bench, tmp_path)
    path = root / EDITED
    path.write_text(path.read_text(encoding="utf-8") + "\nEdited.\n", encoding="utf-8")
    killed = publish_build(root, script=KILLED_AFTER_THE_RECORD)
    assert killed.returncode == -9 and "killed after the record" in killed.stderr, killed.stderr
    assert _hidden(root / "public") == []  # the old feeds are gone at once
    ran = publish_build(root)
    assert ran.returncode == 0 and "Traceback" not in ran.stderr, ran.stderr
    assert _hidden(root / "public") == []
    assert tree_bytes(root / "public") == cold_output(root, tmp_path / "cold")


def _body_page(cache: Path) -> bytes | None:
    """``cache`` (a ``cache.sqlite``) with one page zeroed, as a bad block or a power loss
    in the quarter second its commits go unsynced leaves it: a page that every post
    entry can still be read past, and the body of one to four posts cannot (an overflow
    page of their markdown and HTML); None when no page is such a page."""
    data = cache.read_bytes()
    size = int.from_bytes(data[16:18], "big")
    probe = cache.with_name("probe.sqlite")
    for page in range(2, len(data) // size):
        damaged = data[: page * size] + bytes(size) + data[(page + 1) * size :]
        probe.write_bytes(damaged)
        db = sqlite3.connect(probe)
        try:
            keys = [row[0] for row in db.execute("SELECT key, entry, crc, digest FROM posts")]
            lost = 0
            for key in keys:
                try:
                    db.execute("SELECT markdown, html FROM posts WHERE key = ?", (key,)).fetchone()
                except sqlite3.DatabaseError:
                    lost += 1
        except sqlite3.DatabaseError:
            continue
        finally:
            db.close()
        if 1 <= lost <= 4:
            probe.unlink()
            return damaged
    probe.unlink()
    return None


def test_a_post_body_on_a_damaged_cache_page_is_parsed_again(bench: Path, tmp_path: Path) -> None:
    root = _copied(bench, tmp_path)
    state = root / ".publisher"
    damaged = _body_page(state / "cache.sqlite")
    if damaged is None:
        pytest.fail("no page of cache.sqlite holds only a few posts' bodies")
    (state / "cache.sqlite").write_bytes(damaged)
    (state / "feeds.sqlite").unlink()  # every feed item is rendered again, from its body
    path = root / EDITED
    path.write_text(path.read_text(encoding="utf-8") + "\nEdited.\n", encoding="utf-8")
    first = publish_build(root)
    again = publish_build(root)
    assert "Traceback" not in first.stderr + again.stderr
    assert again.returncode == 0, again.stderr  # at the latest the second build is right
    assert tree_bytes(root / "public") == cold_output(root, tmp_path / "cold")
