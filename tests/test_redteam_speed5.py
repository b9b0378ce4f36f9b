"""Red team for issue 12's new machinery under kills, signals and failures: the read pool kept
to write the feed files (``posts/workers.py`` Crew, ``feeds/parallel.py``), the spliced
files written by a thread (``spliced.py``), the publish process's fast exit
(``cli/__init__.py`` ``_exit``).

Each test runs ``python -m publisher build`` as a user runs it, in a process of its own, on
a site of ``bench/bench_naive.py`` (the bench's posts), gets in its way (Ctrl-C, a kill, a
folder it cannot write), and then asks: one clear line and the right exit code, no
traceback, no worker left running, no temporary file left in the output folder, and a
next build that exits 0 with exactly a cold build's output folder.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from build_process import ENV, aged_bench_site, alive, children, publish_build, started_build
from cli_run import publish

from conftest import FEEDS_CONFIG, Site, tree_bytes
from publisher import build, snapshot
from publisher.feeds import parallel
from publisher.output import OutputWriter
from publisher.posts import collect

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import bench_naive

#: Posts in a site: enough for the parallel read (200) and its kept workers.
POSTS = 400
NOW = "--now=2025-06-01T00:00:00Z"

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="signals and /proc")


@pytest.fixture(scope="module")
def cold(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, bytes]]:
    """A bench site (posts older than two seconds: judged by their stat) and its cold
    build's output folder."""
    root = aged_bench_site(tmp_path_factory.mktemp("bench") / "site", POSTS)
    built = root.parent / "built"
    shutil.copytree(root, built)
    ran = publish_build(built)
    assert ran.returncode == 0, ran.stderr
    return root, tree_bytes(built / "public")


def _copy(cold: tuple[Path, dict[str, bytes]], where: Path) -> Path:
    shutil.copytree(cold[0], where)
    return where


def _temporary(root: Path) -> list[str]:
    return sorted(p.name for p in (root / "public").rglob(".*.tmp"))


def _put_right(root: Path, expected: dict[str, bytes]) -> None:
    """The next build: exit 0, no traceback, a cold build's output, no temporary file."""
    ran = publish_build(root)
    assert ran.returncode == 0 and "Traceback" not in ran.stderr, ran.stderr
    assert _temporary(root) == []
    assert tree_bytes(root / "public") == expected


def _interrupted(root: Path, when: str, signum: int) -> tuple[int, str, list[int]]:
    """A build sent ``signum`` (to its whole process group, as a terminal's Ctrl-C is)
    as soon as its stderr shows ``when``: its exit code, its stderr, and its workers
    still running a moment after it ended."""
    build = started_build(root)
    assert build.stderr is not None
    lines: list[str] = []
    workers: set[int] = set()
    seen = threading.Event()

    def read() -> None:
        assert build.stderr is not None
        for line in build.stderr:
            lines.append(line)
            if when in line:
                workers.update(children(build.pid))
                seen.set()

    reader = threading.Thread(target=read)
    reader.start()
    try:
        if seen.wait(60) and build.poll() is None:
            os.killpg(build.pid, signum)
        build.wait(60)
    finally:
        if build.poll() is None:
            os.killpg(build.pid, signal.SIGKILL)
        build.wait()
        reader.join()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(alive(pid) for pid in workers):
        time.sleep(0.05)
    assert workers, "".join(lines)  # the read's workers were seen
    return build.returncode, "".join(lines), [pid for pid in workers if alive(pid)]


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_while_the_kept_workers_wait_is_no_traceback(
    cold: tuple[Path, dict[str, bytes]], tmp_path: Path, signum: int
) -> None:
    # The read is done: its workers, kept for the feed files, wait for their tasks. A
    # terminal's Ctrl-C reaches them too; each used to print a KeyboardInterrupt traceback.
    root = _copy(cold, tmp_path / "site")
    code, stderr, left = _interrupted(root, "reading posts: 400/400 done", signum)
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr, stderr
    assert code in (0, 130, -signal.SIGTERM), stderr
    assert left == []
    _put_right(root, cold[1])


def test_a_temporary_file_of_a_build_running_beside_is_not_swept(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two builds at once: the read workers' temporary feed files wait beside their targets
    # until the main process renames them in (and a spliced file's, until its thread
    # does). A build ending meanwhile swept them as a killed run's leftovers, and the other
    # build failed ("cannot write public/atom.xml: No such file or directory"). A killed
    # run's leftovers (made before this build began) still go.
    site.config(FEEDS_CONFIG)
    for n in range(3):
        site.post(f"p{n}", f"title: P{n}\ndate: 2024-01-0{n + 1}", "Body.\n")
    assert publish("build", NOW, cwd=site.root).returncode == 0
    public = site.root / "public"
    killed = public / ".rss.xml.k3j5x9q2.tmp"
    killed.write_bytes(b"<rss>a killed build's</rss>")
    old = time.time() - 60
    os.utime(killed, (old, old))
    time.sleep(0.05)  # the killed build's file is older than the next build, to the clock tick
    site.post("p3", "title: P3\ndate: 2024-01-04", "Body.\n")
    beside = public / ".atom.xml.abcd1234.tmp"
    write_outputs = build.write_outputs

    def meanwhile(*args: Any) -> Any:
        done = write_outputs(*args)
        beside.write_bytes(b"<feed>the other build's, about to be renamed in</feed>")
        return done

    monkeypatch.setattr(build, "write_outputs", meanwhile)
    ran = publish("build", NOW, cwd=site.root)
    assert ran.returncode == 0, ran.stderr
    assert not killed.exists(), ran.stderr
    assert beside.exists(), ran.stderr


_MAKE = parallel.make_file


def _made_then_killed(task: parallel.Task) -> Any:
    """In a worker: killed (by the kernel, for memory) once its file is made beside the
    target, before it hands it back."""
    _MAKE(task)
    os._exit(9)


def test_a_temporary_file_of_a_worker_killed_in_this_build_is_swept(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Not another build's: the build whose worker died deletes what that worker left
    # (feeds/splice.py), and a no-op build after it would never sweep.
    monkeypatch.setattr(collect, "PARALLEL_THRESHOLD", 4)
    monkeypatch.setattr(snapshot, "RECENT_NS", 0)
    monkeypatch.setattr(collect, "RECENT_NS", 0)
    site.config(FEEDS_CONFIG)
    for n in range(8):
        site.post(f"p{n}", f"title: P{n}\ndate: 2024-01-0{n + 1}", "Body.\n")
    monkeypatch.setattr(parallel, "make_file", _made_then_killed)
    made: list[str] = []
    adopt = OutputWriter.adopt

    def adopted(self: OutputWriter, relative: str, *args: Any, **kwargs: Any) -> Any:
        if relative != "posts.json":  # staged by a thread of the main process (index.py)
            made.append(relative)
        return adopt(self, relative, *args, **kwargs)

    monkeypatch.setattr(OutputWriter, "adopt", adopted)
    ran = publish("build", NOW, "--jobs", "2", cwd=site.root)
    assert ran.returncode == 0, ran.stderr
    assert made == []  # each file was written by the main process
    assert _temporary(site.root) == []
    monkeypatch.undo()
    cold = site.root.parent / "cold"
    shutil.copytree(site.root, cold, ignore=shutil.ignore_patterns("public", "state"))
    assert publish("build", NOW, cwd=cold).returncode == 0
    assert tree_bytes(site.root / "public") == tree_bytes(cold / "public")


# A publish process whose splice thread meets an error that is not the disk's (a bug, or
# memory): the script is named ``publish``, so the build ends by the fast exit.
BROKEN = """
import sys
from publisher import output

def broken(*args, **kwargs):
    raise RuntimeError("boom in the splice thread")

output.write_from = broken
from publisher.cli import main
if __name__ == "__main__":
    sys.exit(main())
"""


def _aged(root: Path) -> None:
    """Every post file judged by its stat, as a real site's older files are."""
    old = time.time() - 60
    for path in (root / "posts").rglob("*"):
        os.utime(path, (old, old))


def test_an_error_in_the_splice_thread_fails_the_build_and_keeps_the_feeds(
    cold: tuple[Path, dict[str, bytes]], tmp_path: Path
) -> None:
    # It used to be printed by the thread and dropped: the build went on, exit 0, its
    # sweep deleted both feed files as no longer produced, and the next build, finding
    # nothing changed, left the site without feeds.
    root = _copy(cold, tmp_path / "site")
    assert publish_build(root).returncode == 0
    bench_naive.edit_one(root, POSTS, 1)
    _aged(root)
    script = tmp_path / "bin" / "publish"
    script.parent.mkdir()
    script.write_text(BROKEN, encoding="utf-8")
    ran = subprocess.run(
        [sys.executable, str(script), "build"],
        cwd=root,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert ran.returncode != 0 and "boom in the splice thread" in ran.stderr, ran.stderr
    assert "deleted" not in ran.stderr
    assert {"atom.xml", "rss.xml"} <= {p.name for p in (root / "public").iterdir()}
    fresh = tmp_path / "cold"
    shutil.copytree(root, fresh, ignore=shutil.ignore_patterns("public", ".publisher"))
    assert publish_build(fresh).returncode == 0
    _put_right(root, tree_bytes(fresh / "public"))
