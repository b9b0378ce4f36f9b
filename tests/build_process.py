"""``publish build`` in a process of its own, for the tests that kill, interrupt or
race it (``tests/test_redteam_speed5.py``, ``8``, ``9``, ``11``, ``tests/kill_soak.py``):
the run, a build killed or interrupted, the temporary files it leaves, an aged bench site,
a cold build's output, and the processes a build leaves (read from ``/proc``)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from conftest import tree_bytes

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import bench_naive

#: This interpreter's import path, so the process runs the checkout's publisher.
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "PYTHONIOENCODING": "utf-8"}


def publish_build(
    root: Path, *args: str, script: str | None = None
) -> subprocess.CompletedProcess[str]:
    """``python -m publisher build ARGS`` in ``root`` (or ``python -c script``)."""
    command = ["-m", "publisher", "build", *args] if script is None else ["-c", script]
    return subprocess.run(
        [sys.executable, *command],
        cwd=root,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def started_build(
    root: Path, *, own_group: bool = True, args: tuple[str, ...] = ()
) -> subprocess.Popen[str]:
    """``python -m publisher build ARGS`` started in ``root``, its stderr piped
    (``own_group``: in a process group of its own, which a test signals as a terminal
    does)."""
    return subprocess.Popen(
        [sys.executable, "-m", "publisher", "build", *args],
        cwd=root,
        env=ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=own_group,
    )


def a_worker(build: subprocess.Popen[str]) -> int | None:
    """A read worker of ``build``, as soon as one is forked; None if the build ends first."""
    deadline = time.monotonic() + 30
    while build.poll() is None and time.monotonic() < deadline:
        found = children(build.pid)
        if found:
            return found[0]
        time.sleep(0.002)
    return None


def killed_build(
    root: Path, delay: float, how: str, *, args: tuple[str, ...] = (), timeout: float = 60
) -> tuple[int, str]:
    """A build of ``root`` with ``args`` killed ``delay`` seconds in, ``how``: "group"
    (SIGKILL to its process group), "main" (SIGKILL to the main process alone), "worker"
    (SIGKILL to one read worker, ``delay`` after it is forked), "int"/"term" (SIGINT or
    SIGTERM to its group, as a terminal or a CI runner sends them). Its exit code and
    stderr, once every process of its group has ended."""
    build = started_build(root, args=args)
    try:
        worker = a_worker(build) if how == "worker" else None
        time.sleep(delay)
        if build.poll() is None:
            if how == "group":
                os.killpg(build.pid, signal.SIGKILL)
            elif how == "main":
                os.kill(build.pid, signal.SIGKILL)
            elif how == "worker":
                if worker is not None:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(worker, signal.SIGKILL)
            else:
                os.killpg(build.pid, signal.SIGINT if how == "int" else signal.SIGTERM)
        _, stderr = build.communicate(timeout=timeout)
    finally:
        if build.poll() is None:
            os.killpg(build.pid, signal.SIGKILL)
            build.wait()
    # A worker orphaned by its main process's kill ends by itself (its pipe is gone).
    deadline = time.monotonic() + 10
    while in_group(build.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert in_group(build.pid) == [], f"{how} at {delay:.2f} s left processes: {stderr}"
    return build.returncode, stderr


def interrupted_starting(code: int, stderr: str) -> bool:
    """A Ctrl-C that landed while the interpreter was still starting, before any function
    of publisher's ran (so before its handler, which makes it "aborted" and 130): on a
    loaded machine ``site`` and its ``.pth`` hooks (coverage's) can take a second. CPython
    says "Fatal Python error: init_import_site"; later, importing the entry module, the
    interrupted import's traceback (module-level frames only) and exit -2. The tests that
    interrupt builds at random hold the next build to a cold build's output all the same."""
    if "Fatal Python error: init_" in stderr:
        return True
    frames = [line.strip() for line in stderr.splitlines() if line.strip().startswith("File ")]
    return code == -signal.SIGINT and all(
        frame.endswith("in <module>") or "<frozen " in frame for frame in frames
    )


def leftovers(root: Path) -> list[str]:
    """Temporary files left in the output and state folders. Not a SQLite journal: a
    build killed while it wrote ``site.sqlite`` leaves a hot journal, which the next
    build that opens the file rolls back; a no-op answered by the fast path opens none,
    and deleting a hot journal would leave the file half written."""
    return sorted(
        p.name
        for folder in (root / "public", root / ".publisher")
        if folder.is_dir()
        for p in folder.iterdir()
        if p.name.endswith((".tmp", "-wal", "-shm")) or p.name.startswith(".")
    )


def aged_bench_site(root: Path, posts: int) -> Path:
    """``bench_naive``'s site of ``posts`` posts in ``root``, its files a minute old: a
    build judges them by their stat, not as changed in the last two seconds."""
    root.mkdir(parents=True, exist_ok=True)
    bench_naive.write_site(root, posts)
    old = time.time() - 60
    for path in root.rglob("*"):
        os.utime(path, (old, old))
    return root


def settles(root: Path, ran: subprocess.CompletedProcess[str], what: str) -> None:
    """``ran`` made a cold build's output, or stopped with one line and the next build
    does; nothing is left behind in the output or state folder."""
    assert "Traceback" not in ran.stderr, (what, ran.stderr)
    if ran.returncode != 0:
        errors = [line for line in ran.stderr.splitlines() if line.startswith("error")]
        assert len(errors) == 1, (what, ran.stderr)
        ran = publish_build(root)
        assert ran.returncode == 0 and "Traceback" not in ran.stderr, (what, ran.stderr)
    got = tree_bytes(root / "public")
    expected = cold_output(root, root.parent / "cold")
    assert [p for p in sorted(set(got) | set(expected)) if got.get(p) != expected.get(p)] == []
    assert leftovers(root) == [], what


def cold_output(root: Path, where: Path) -> dict[str, bytes]:
    """The output folder of a cold build of ``root``'s posts and config, in ``where``."""
    shutil.rmtree(where, ignore_errors=True)
    where.mkdir(parents=True)
    shutil.copy2(root / "config.yaml", where / "config.yaml")
    shutil.copytree(root / "posts", where / "posts")
    ran = publish_build(where)
    assert ran.returncode == 0, ran.stderr
    return tree_bytes(where / "public")


def _stats() -> list[tuple[int, list[str]]]:
    """(pid, the fields of /proc/PID/stat after the command name) of each process."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            found.append((int(entry.name), stat.rsplit(")", 1)[1].split()))
    return found


def children(pid: int) -> list[int]:
    """The processes whose parent is ``pid``."""
    return [child for child, fields in _stats() if int(fields[1]) == pid]


def in_group(group: int) -> list[int]:
    """Processes still alive (not zombies) in process group ``group``."""
    return [member for member, fields in _stats() if int(fields[3]) == group and fields[0] != "Z"]


def alive(pid: int) -> bool:
    """``pid`` runs and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"
