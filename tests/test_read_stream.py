"""The parallel read streams its posts to the pool (``posts/collect.py``, ``_Parser``).

Files are found and hashed a block at a time, and the posts to parse go to the pool as
chunks fill, so the workers parse while the rest are still being found (issue 12). Held
here on real files and a real pool: the pool starts with the first posts, not after the
last file is found; the bytes are a serial build's; and a worker that dies while files
are still being sent leaves the read to go on without the pool, each post not read yet
in a process of its own, as before.
"""

from __future__ import annotations

import os
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from conftest import BASE_CONFIG, numbered_site, tree_bytes
from publisher.build import build_site
from publisher.config.loader import load_config
from publisher.posts import collect, found, workers

CONFIG = BASE_CONFIG + "cards:\n  enabled: false\nfeeds:\n  formats: [rss, atom]\n  limit: null\n"
NOW = datetime(2025, 6, 1, tzinfo=UTC)
POSTS = 60


def _site(root: Path) -> Path:
    return numbered_site(root, CONFIG, POSTS, tags=4, body=", *with* a [link](/x/{i})")


def _build(root: Path, jobs: int) -> dict[str, bytes]:
    build_site(load_config(root / "config.yaml"), now=NOW, jobs=jobs)
    return tree_bytes(root / "public")


def _serial(root: Path, where: Path) -> dict[str, bytes]:
    shutil.copytree(root, where, ignore=shutil.ignore_patterns("public", "state"))
    return _build(where, jobs=1)


def _starts(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many posts to parse each read had found when its pool started."""
    at_start: list[int] = []
    start = collect._Parser._start

    def started(self: Any) -> None:
        at_start.append(len(self.jobs))
        start(self)

    monkeypatch.setattr(collect._Parser, "_start", started)
    return at_start


def test_the_pool_starts_with_the_first_posts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(collect, "PARALLEL_THRESHOLD", 10)
    root = _site(tmp_path / "site")
    at_start = _starts(monkeypatch)
    files = _build(root, jobs=2)
    # The first block (8 files: 60 // 16, at least 8) found, none of it cached: a read
    # that parses every post, so the pool starts with it; the rest are found while the
    # workers parse.
    assert at_start == [8]
    assert files == _serial(root, tmp_path / "serial")


def test_each_worker_gets_a_chunk_of_the_first_block(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(collect, "PARALLEL_THRESHOLD", 10)
    root = _site(tmp_path / "site")
    sent: list[int] = []
    block = collect._Parser.block

    def counted(self: Any, found: int) -> None:
        block(self, found)
        sent.append(len(self.sent))

    monkeypatch.setattr(collect._Parser, "block", counted)
    build_site(load_config(root / "config.yaml"), now=NOW, jobs=2)
    # The first block's 8 posts went at once as two chunks, one for each worker; neither
    # waits for the next block (found after the feed cache is laid out) to start.
    assert sent[0] == 2


def test_a_read_whose_first_posts_are_cached_starts_its_pool_at_the_threshold(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(collect, "PARALLEL_THRESHOLD", 10)
    root = _site(tmp_path / "site")
    _build(root, jobs=1)  # every post in the post cache
    for i in range(4, POSTS):  # half the first block stays as it is
        index = root / "posts" / f"post-{i:03d}" / "index.md"
        index.write_text(index.read_text().replace("Body of", "New body of"))
    at_start = _starts(monkeypatch)
    files = _build(root, jobs=2)
    # Half the first block cached: not a read that parses everything, so only
    # once 10 posts to parse are found, the threshold, does it start.
    assert at_start == [10]
    assert files == _serial(root, tmp_path / "serial")


#: The pid of the test process: a worker of its pool is any other.
_MAIN = os.getpid()


def _die(tasks: list[Any]) -> Any:
    """In a worker: killed (for memory) on its first chunk."""
    if os.getpid() != _MAIN:
        os._exit(9)
    raise AssertionError("only a worker parses a chunk")


def test_a_worker_dying_while_chunks_are_sent_leaves_the_rest_read_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each file is found slowly, so the worker dies while most posts are still to be
    # sent: the next chunk cannot go to the broken pool, and the read goes on without it.
    import time

    monkeypatch.setattr(collect, "PARALLEL_THRESHOLD", 4)
    root = _site(tmp_path / "site")
    add = found.FoundFiles.add

    def slow(self: Any, *args: Any) -> None:
        time.sleep(0.01)
        add(self, *args)

    alone: list[str] = []
    isolated = collect._parse_isolated

    def parse_isolated(job: Any) -> Any:
        alone.append(job[1])
        return isolated(job)

    monkeypatch.setattr(found.FoundFiles, "add", slow)
    monkeypatch.setattr(collect, "_parse_many", _die)
    monkeypatch.setattr(collect, "_parse_isolated", parse_isolated)
    files = _build(root, jobs=2)
    assert len(alone) == POSTS  # the pool parsed none: each post alone, none lost
    assert files == _serial(root, tmp_path / "serial")


@pytest.mark.parametrize(
    ("head", "spelled"),
    [
        (b"---\ntitle: A\ndate: 2024-01-02\n---\nBody", False),
        (b"---\ndate: '2024-01-02'\ntitle: Maybe in May\n---\n", False),
        (b"---\ndate: 2024-01-02T10:00:00Z\n---\n", True),
        (b"---\ndate: 2024-01-02 10:00:00 +0100\n---\n", True),
        (b"---\ndate: Jan 2, 2024\n---\n", True),
        (b"---\ndate: 2 January 2024\n---\n", True),
        (b'{"date": "2024/1/2"}\n', True),
        (b"---\ntitle: A\ndate: 2024-01-02\n---\n" + b"x" * 4096 + b"2024-01-02T10:00", False),
    ],
)
def test_dateutil_is_imported_before_the_fork_for_spelled_dates(head: bytes, spelled: bool) -> None:
    # A guess for speed only (posts/workers.py): a date it misses is read the same, by
    # workers that import dateutil themselves; a site of plain days spares 12 ms of the
    # main process before its workers start.
    assert workers.spelled_dates([b"---\ndate: 2024-01-01\n---\n", head]) is spelled


def _main_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The post files this process (not a worker) reads, from now on."""
    from publisher.posts import files as post_files

    read: list[str] = []
    real = post_files.read_regular

    def counted(path: Path, limit: int) -> bytes | None:
        if os.getpid() == _MAIN:
            read.append(os.fspath(path))
        return real(path, limit)

    monkeypatch.setattr(found, "read_regular", counted)
    return read


def test_a_cold_read_leaves_each_file_to_the_worker_that_parses_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(collect, "PARALLEL_THRESHOLD", 10)
    root = _site(tmp_path / "site")
    time.sleep(2.1)  # older than the stat window: each file is stamped by this read
    read = _main_reads(monkeypatch)
    files = _build(root, jobs=2)
    assert read == []  # an empty post cache: every file read and hashed by a worker
    assert files == _serial(root, tmp_path / "serial")  # jobs=1: no pool, files read here
    read.clear()
    # Each file's key and stamp were kept: the next read knows every file by its stamp,
    # opens none of them and parses nothing.
    config = load_config(root / "config.yaml")
    from publisher.posts.cache import PostCache

    cache = PostCache(config.cache_file)
    try:
        again = collect.read_posts(config, cache=cache, jobs=2)
    finally:
        cache.close()
    assert read == []
    assert again.cache_hits == POSTS


def test_a_file_gone_before_its_worker_reads_it_is_reported_as_before(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(collect, "PARALLEL_THRESHOLD", 10)
    root = _site(tmp_path / "site")
    gone = root / "posts" / "post-013" / "index.md"
    add = found.FoundFiles.add

    def add_then_remove(self: Any, path: Path, file: str, problems: list[Any]) -> None:
        add(self, path, file, problems)
        if path == gone:  # stat'ed and found, removed before anyone reads it
            gone.unlink()

    monkeypatch.setattr(found.FoundFiles, "add", add_then_remove)
    config = load_config(root / "config.yaml")
    from publisher.posts.cache import PostCache

    cache = PostCache(config.cache_file)
    try:
        result = collect.read_posts(config, cache=cache, jobs=2)
    finally:
        cache.close()
    assert "post-013" not in {post.id for post in result.posts}
    assert len(result.posts) == POSTS - 1
    (problem,) = result.problems
    assert problem.file == "posts/post-013/index.md"
    assert problem.message == "was removed while the build ran; not read"
    assert problem.fix == "run the build again"
    listed = {f.file: f for f in result.found}
    assert listed["posts/post-013/index.md"].key is None  # as a file never read
    assert listed["posts/post-012/index.md"].key is not None


def test_the_post_cache_commits_while_the_rules_across_posts_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    from publisher.posts.cache import PostCache

    monkeypatch.setattr(collect, "PARALLEL_THRESHOLD", 10)
    root = _site(tmp_path / "site")
    time.sleep(2.1)  # stamped by this read
    commit = PostCache.commit

    def slow(self: Any, *args: Any, **kwargs: Any) -> bool:
        time.sleep(0.3)  # a disk slow to sync
        return commit(self, *args, **kwargs)

    seen: list[bool] = []
    rules = collect.finalize

    def finalize(*args: Any, **kwargs: Any) -> Any:
        seen.append(any(t.name == "post cache commit" for t in threading.enumerate()))
        return rules(*args, **kwargs)

    monkeypatch.setattr(PostCache, "commit", slow)
    monkeypatch.setattr(collect, "finalize", finalize)
    config = load_config(root / "config.yaml")
    cache = PostCache(config.cache_file)
    try:
        collect.read_posts(config, cache=cache, jobs=2)
        assert not any(t.name == "post cache commit" for t in threading.enumerate())
    finally:
        cache.close()
    assert seen == [True]  # the commit's sync overlapped the rules, and was waited for
    monkeypatch.setattr(PostCache, "commit", commit)
    read = _main_reads(monkeypatch)
    cache = PostCache(config.cache_file)
    try:
        again = collect.read_posts(config, cache=cache, jobs=2)
    finally:
        cache.close()
    assert read == [] and again.cache_hits == POSTS  # every stamp and entry committed

    def broken(self: Any, *args: Any, **kwargs: Any) -> bool:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(PostCache, "commit", broken)
    cache = PostCache(config.cache_file)
    try:
        with pytest.raises(RuntimeError, match="disk on fire"):  # not lost in its thread
            collect.read_posts(config, cache=cache, jobs=2)
    finally:
        cache.close()
