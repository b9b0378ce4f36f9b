"""A read worker that dies costs the chunk it was parsing, not every post left
(``posts/forked.py``'s suspect task, ``posts/chunks.py``): the posts of that chunk are
read each in a process of its own, the other chunks by a new pool (issue 12: a worker
killed early made 300 posts take 8.5 s, not 0.8 s)."""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import publisher.posts.collect as collect
from conftest import Site, tree_bytes
from publisher.config import load_config
from publisher.posts import ReadResult, read_posts
from publisher.posts.chunks import Chunk, suspects
from publisher.posts.forked import BrokenPool, ForkedPool

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the read forks on Linux only")


def _nothing() -> None:
    return None


def _run(what: str) -> int:
    if what == "die":
        time.sleep(0.1)  # the other worker has its task by then
        os._exit(9)
    time.sleep(0.3)
    return os.getpid()


def test_only_the_task_the_dead_worker_was_running_is_suspect() -> None:
    pool = ForkedPool(2, _nothing)
    try:
        futures = [pool.submit(_run, what) for what in ("die", "live", "live", "live", "live")]
        errors = [future.exception() for future in futures]
    finally:
        pool.shutdown()
    assert all(isinstance(error, BrokenPool) for error in errors)
    # The first went to one worker, the second to the other; the rest waited.
    assert [getattr(error, "suspect", None) for error in errors] == [True] + [False] * 4


class _Done:
    def __init__(self, error: BaseException | None) -> None:
        self.error = error

    def exception(self) -> BaseException | None:
        return self.error


def _suspect(flag: bool) -> BrokenPool:
    error = BrokenPool("gone")
    error.suspect = flag
    return error


def test_suspects_reads_alone_only_the_suspect_chunk() -> None:
    answered = Chunk(0, 8, _Done(None))
    suspect = Chunk(8, 16, _Done(_suspect(True)))
    innocent = Chunk(16, 24, _Done(_suspect(False)))
    unsent = Chunk(24, 32, None)
    other = Chunk(32, 40, _Done(RuntimeError("a pool that does not tell")))
    read = Chunk(40, 48, None)
    read.alone = []
    chunks = [answered, suspect, innocent, unsent, other, read]
    assert suspects(chunks, every=False) == ([suspect, other], [innocent, unsent])
    assert suspects(chunks, every=True) == ([suspect, innocent, unsent, other], [])


def _killing_parse_one(job: Any) -> Any:
    """Stands in for collect._parse_one in the forked workers: the post 'killer' takes
    its process down, as the kernel's OOM killer would."""
    if job[1] == "killer" and os.getpid() != _MAIN:
        os._exit(9)
    return _real_parse_one(job)


_MAIN = os.getpid()
_real_parse_one = collect._parse_one
_killing_parse_one.__module__ = "publisher.posts.collect"
_killing_parse_one.__qualname__ = "_parse_one"

POSTS = 60


def _site(site: Site) -> None:
    for n in range(POSTS):
        post_id = "killer" if n == 5 else f"p{n:03d}"
        site.post(post_id, f"title: P{n}\ndate: 2024-01-{n % 28 + 1:02d}\ntags: [a, b]", "Body.")


def _read(site: Site, jobs: int) -> ReadResult:
    return read_posts(load_config(site.config_path), jobs=jobs)


class _Alone:
    """Stands in for collect._parse_isolated: the ids of the posts read alone."""

    def __init__(self) -> None:
        self.ids: list[str] = []
        self.parse = collect._parse_isolated

    def __call__(self, job: Any) -> Any:
        self.ids.append(job[1])
        return self.parse(job)


@pytest.fixture
def killer(site: Site, monkeypatch: pytest.MonkeyPatch) -> tuple[list[str], _Alone]:
    """The site with its post 'killer' (the ids a serial read publishes), read by a pool
    of two from 4 posts, whose workers die on it; what is read alone is counted."""
    _site(site)
    expected = [p.id for p in _read(site, jobs=1).posts if p.id != "killer"]
    monkeypatch.setattr(collect, "PARALLEL_THRESHOLD", 4)
    monkeypatch.setattr(collect, "_parse_one", _killing_parse_one)
    alone = _Alone()
    monkeypatch.setattr(collect, "_parse_isolated", alone)
    return expected, alone


def test_a_post_that_kills_its_worker_costs_only_its_chunk(
    site: Site, killer: tuple[list[str], _Alone]
) -> None:
    expected, alone = killer
    result = _read(site, jobs=2)
    # 60 files: chunks of 8; the killer's chunk alone, the 40-odd posts after it not.
    assert "killer" in alone.ids and len(alone.ids) <= 8, alone.ids
    assert [p.id for p in result.posts] == expected
    (problem,) = result.problems
    assert problem.file == "posts/killer/index.md"
    assert "the process reading it stopped" in problem.message


def test_no_process_for_a_new_pool_reads_each_post_left_alone(
    site: Site, killer: tuple[list[str], _Alone], monkeypatch: pytest.MonkeyPatch
) -> None:
    expected, alone = killer
    start = collect._Parser._start
    started: list[int] = []

    def refused(self: Any) -> None:
        started.append(1)
        if len(started) > 1:
            raise OSError(12, "Cannot allocate memory")
        start(self)

    monkeypatch.setattr(collect._Parser, "_start", refused)
    result = _read(site, jobs=2)
    assert len(started) == 2
    assert "killer" in alone.ids and len(alone.ids) > 8
    assert [p.id for p in result.posts] == expected


def test_a_worker_killed_in_a_cold_build_leaves_the_same_output(tmp_path: Path) -> None:
    from build_process import aged_bench_site, cold_output, killed_build

    site = aged_bench_site(tmp_path / "site", 300)
    expected = cold_output(site, tmp_path / "cold")
    for delay in (0.0, 0.05, 0.15):
        shutil.rmtree(site / "public", ignore_errors=True)
        shutil.rmtree(site / ".publisher", ignore_errors=True)
        code, stderr = killed_build(site, delay, "worker")
        assert code == 0 and "Traceback" not in stderr, (delay, stderr)
        assert tree_bytes(site / "public") == expected, delay
