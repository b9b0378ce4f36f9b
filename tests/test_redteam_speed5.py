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

import pytest

from conftest import tree_bytes

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import bench_naive

#: Posts in a site: enough for the parallel read (200) and its kept workers.
POSTS = 400
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "PYTHONIOENCODING": "utf-8"}

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="signals and /proc")


def _publish(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "publisher", "build", *args],
        cwd=root,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def cold(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, bytes]]:
    """A bench site (posts older than two seconds: judged by their stat) and its cold
    build's output folder."""
    root = tmp_path_factory.mktemp("bench") / "site"
    root.mkdir()
    bench_naive.write_site(root, POSTS)
    old = time.time() - 60
    for path in root.rglob("*"):
        os.utime(path, (old, old))
    built = root.parent / "built"
    shutil.copytree(root, built)
    ran = _publish(built)
    assert ran.returncode == 0, ran.stderr
    return root, tree_bytes(built / "public")


def _copy(cold: tuple[Path, dict[str, bytes]], where: Path) -> Path:
    shutil.copytree(cold[0], where)
    return where


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _temporary(root: Path) -> list[str]:
    return sorted(p.name for p in (root / "public").rglob(".*.tmp"))


def _put_right(root: Path, expected: dict[str, bytes]) -> None:
    """The next build: exit 0, no traceback, a cold build's output, no temporary file."""
    ran = _publish(root)
    assert ran.returncode == 0 and "Traceback" not in ran.stderr, ran.stderr
    assert _temporary(root) == []
    assert tree_bytes(root / "public") == expected


def _interrupted(root: Path, when: str, signum: int) -> tuple[int, str, list[int]]:
    """A build sent ``signum`` (to its whole process group, as a terminal's Ctrl-C is)
    as soon as its stderr shows ``when``: its exit code, its stderr, and its workers
    still running a moment after it ended."""
    build = subprocess.Popen(
        [sys.executable, "-m", "publisher", "build"],
        cwd=root,
        env=ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert build.stderr is not None
    lines: list[str] = []
    workers: set[int] = set()
    seen = threading.Event()

    def read() -> None:
        assert build.stderr is not None
        for line in build.stderr:
            lines.append(line)
            if when in line:
                workers.update(_children(build.pid))
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
    while time.monotonic() < deadline and any(_alive(pid) for pid in workers):
        time.sleep(0.05)
    assert workers, "".join(lines)  # the read's workers were seen
    return build.returncode, "".join(lines), [pid for pid in workers if _alive(pid)]


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
