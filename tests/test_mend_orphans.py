"""A pool worker ends with the build that started it (posts/workers.py ``die_with_parent``).

A build killed by SIGKILL cannot shut its process pool down; an idle worker then waits on
its call queue forever (the red team found some running 34 minutes later). Real processes
here: a build of a site big enough for the read pool, killed once its workers exist.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")

CONFIG = """site: {title: Orphans, url: 'https://blog.example.org', timezone: UTC}
posts: {folder: posts, default_path: '/blog/{id}/'}
output: {folder: public}
state: {folder: .publisher}
cards: {enabled: false}
feeds: {formats: [rss, atom], limit: null, content: full}
"""

# The read pool for any read of two files or more, two workers.
BUILD = """
import sys
from publisher.posts import collect
collect.PARALLEL_THRESHOLD = 2
from publisher.cli import main
sys.argv = ["publish", "-q", "build", "--jobs", "2"]
main()
"""


def _write_site(root: Path, posts: int) -> None:
    (root / "config.yaml").write_text(CONFIG, encoding="utf-8")
    paragraph = " ".join(f"word{i % 97} **bold{i % 13}** text" for i in range(120))
    for i in range(posts):
        folder = root / "posts" / f"post-{i:05d}"
        folder.mkdir(parents=True)
        body = "\n\n".join([paragraph] * 8)
        (folder / "index.md").write_text(
            f"---\ntitle: Post {i}\ndate: 2001-01-{i % 28 + 1:02d}\n---\n{body}\n",
            encoding="utf-8",
        )


def _stat(pid: int) -> tuple[int, str, str] | None:
    """(parent pid, state, start time) of a live process ``pid``, or None."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text.rsplit(")", 1)[1].split()  # the name, in parentheses, may hold spaces
    return int(fields[1]), fields[0], fields[19]


def _children(parent: int) -> dict[int, str]:
    """Each child of ``parent``: its start time (a pid can be reused)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _stat(int(entry.name))
            if stat is not None and stat[0] == parent and stat[1] != "Z":
                found[int(entry.name)] = stat[2]
    return found


def _alive(pid: int, started: str) -> bool:
    stat = _stat(pid)
    return stat is not None and stat[1] != "Z" and stat[2] == started


def test_read_workers_die_when_the_build_is_killed(tmp_path: Path) -> None:
    _write_site(tmp_path, 600)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    build = subprocess.Popen(
        [sys.executable, "-c", BUILD],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    workers: dict[int, str] = {}
    try:
        deadline = time.monotonic() + 10
        while not workers and build.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
            workers = _children(build.pid)
        assert workers, "the build ended (or took 10 s) before any worker started"
        time.sleep(0.05)  # let the workers start on their first chunks
        workers.update(_children(build.pid))
        os.kill(build.pid, signal.SIGKILL)
    finally:
        if build.poll() is None:
            build.kill()
        build.wait()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(_alive(*worker) for worker in workers.items()):
        time.sleep(0.05)
    left = [pid for pid, started in workers.items() if _alive(pid, started)]
    for pid in left:  # not to leave them running after a failure either
        os.kill(pid, signal.SIGKILL)
    assert not left, f"workers {left} outlived the killed build"


_DEATH_SIGNAL = """
import os, sys, time
from publisher.posts.workers import _death_signal
read, write = os.pipe()
pid = os.fork()
if pid == 0:
    asked = _death_signal()
    os.write(write, f"{asked:d} {'ctypes' in sys.modules}".encode())
    time.sleep(60)
    os._exit(0)
print(os.read(read, 100).decode(), pid, flush=True)
"""


@pytest.mark.skipif(sys.platform != "linux", reason="prctl's death signal is Linux's")
def test_a_worker_asks_the_kernel_for_its_death_signal_without_ctypes() -> None:
    # A process that asked for the signal is killed as its parent exits: here with no
    # watching thread, so without the signal it would sleep its 60 seconds.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run(
        [sys.executable, "-c", _DEATH_SIGNAL], env=env, capture_output=True, text=True, timeout=30
    )
    asked, ctypes_loaded, pid = done.stdout.split()

    def gone() -> bool:
        stat = _stat(int(pid))
        return stat is None or stat[1] == "Z"

    try:
        assert asked == "1", done.stderr
        assert ctypes_loaded == "False"  # cffi's backend, not ctypes (publisher/cfunctions.py)
        deadline = time.monotonic() + 10
        while not gone() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert gone(), "the child outlived its parent"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(int(pid), signal.SIGKILL)
