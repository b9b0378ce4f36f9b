"""Feed files made by the read workers (``publisher/feeds/parallel.py``, issue 12).

A parallel cold build keeps its read pool for the feed stage: each feed file that cannot
be spliced (a cold build's) is made by a worker, written to a temporary file beside it,
and journaled and renamed into place by the main process, in a serial build's order.
Checked on real files, real SQLite and a real process pool: the files, the build's list of
writes and the layouts the next build splices from are those of a serial build; a worker
that cannot make its file (an item it cannot read, a worker that dies, a disk error)
leaves it to the main process; and a build killed while the workers write leaves nothing
the next build does not put right.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from itertools import accumulate
from pathlib import Path
from typing import Any

import pytest

from conftest import BASE_CONFIG, tree_bytes
from publisher import snapshot
from publisher.build import build_site
from publisher.config.loader import load_config
from publisher.feeds import parallel
from publisher.output import OutputWriter
from publisher.posts import collect

CONFIG = BASE_CONFIG + (
    "cards:\n  enabled: false\nfeeds:\n  formats: [rss, atom, json]\n  limit: null\n  tags: true\n"
)
NOW = datetime(2025, 6, 1, tzinfo=UTC)
POSTS = 40


@pytest.fixture(autouse=True)
def _pooled(monkeypatch: pytest.MonkeyPatch) -> None:
    # The pool starts at 200 posts; at 4 these few are read (and their feeds written) by
    # two workers. Files written a moment ago are judged by their stat, as a real site's
    # older files are, so the build after an edit splices.
    monkeypatch.setattr(collect, "PARALLEL_THRESHOLD", 4)
    monkeypatch.setattr(snapshot, "RECENT_NS", 0)
    monkeypatch.setattr(collect, "RECENT_NS", 0)


def _post(root: Path, i: int, words: str = "Body") -> None:
    folder = root / "posts" / f"post-{i:03d}"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "index.md").write_text(
        f"---\ntitle: Post {i}\ndate: 2024-01-01T00:{i // 60:02d}:{i % 60:02d}Z\n"
        f"tags: [t{i % 3}]\n---\n{words} of post {i}, *with* a [link](/x/{i}).\n",
        encoding="utf-8",
    )


def _site(root: Path) -> Path:
    root.mkdir(parents=True)
    (root / "config.yaml").write_text(CONFIG, encoding="utf-8")
    for i in range(POSTS):
        _post(root, i)
    return root


def _build(root: Path, jobs: int) -> list[tuple[str, str, int]]:
    """A real build of ``root`` (the snapshot a plain ``publish build`` takes, so it may
    read only what changed); its writes (path, status, bytes) in order."""
    from publisher import inputs

    config = load_config(root / "config.yaml")
    result = build_site(config, now=NOW, jobs=jobs, snapshot=inputs.take_snapshot(config))
    return [(w.path, w.status, w.bytes) for w in result.writes]


def _adopted(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The files the main process put in place from what a worker made."""
    paths: list[str] = []
    adopt = OutputWriter.adopt

    def counted(self: OutputWriter, relative: str, *args: Any, **kwargs: Any) -> Any:
        if relative != "posts.json":  # staged by a thread of the main process (index.py)
            paths.append(relative)
        return adopt(self, relative, *args, **kwargs)

    monkeypatch.setattr(OutputWriter, "adopt", counted)
    return paths


def _spliced(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The files written from the last build's by their layout."""
    paths: list[str] = []
    write_splice = OutputWriter.write_splice

    def counted(self: OutputWriter, relative: str, *args: Any, **kwargs: Any) -> Any:
        done = write_splice(self, relative, *args, **kwargs)
        if done is not None:
            paths.append(relative)
        return done

    monkeypatch.setattr(OutputWriter, "write_splice", counted)
    return paths


def _temporary(root: Path) -> list[str]:
    return sorted(p.name for p in (root / "public").rglob(".*.tmp"))


def _serial(root: Path, where: Path) -> tuple[dict[str, bytes], list[tuple[str, str, int]]]:
    """A cold serial build of a copy of ``root``: its files and its writes."""
    shutil.copytree(root, where, ignore=shutil.ignore_patterns("public", "state"))
    writes = _build(where, jobs=1)
    return tree_bytes(where / "public"), writes


def test_the_workers_make_the_feed_files_of_a_serial_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _site(tmp_path / "site")
    adopted = _adopted(monkeypatch)
    writes = _build(root, jobs=2)
    files, serial_writes = _serial(root, tmp_path / "serial")
    feeds = {path for path, *_ in writes if path != "posts.json" and not path.endswith(".xsl")}
    assert sorted(adopted) == sorted(feeds)
    assert len(feeds) == 12  # rss, atom and json of the site and of three tags
    assert tree_bytes(root / "public") == files
    assert writes == serial_writes  # same files, statuses, sizes, in the same order
    assert _temporary(root) == []
    # The layouts kept are good to splice: one post edited, only it is rendered, and the
    # bytes are a cold build's.
    adopted.clear()
    spliced = _spliced(monkeypatch)
    _post(root, 5, words="Edited")
    _build(root, jobs=2)
    assert adopted == []
    assert sorted(set(spliced) - {"posts.json"}) == sorted(feeds)
    assert tree_bytes(root / "public") == _serial(root, tmp_path / "serial2")[0]


def _lost(task: parallel.Task) -> Any:
    """In a worker: an item the cache cannot give (not expected: the file went away)."""
    return None


_MAKE = parallel.make_file  # the real one: the tests patch the module's name


def _died(task: parallel.Task) -> Any:
    """In a worker: killed (for memory) while it makes its file, its temporary file
    written and never handed back."""
    _MAKE(task)
    os._exit(9)


def _disk_error(task: parallel.Task) -> Any:
    raise OSError(28, "No space left on device")


@pytest.mark.parametrize("worker", [_lost, _died, _disk_error])
def test_a_file_a_worker_cannot_make_is_made_by_the_main_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, worker: Any
) -> None:
    root = _site(tmp_path / "site")
    monkeypatch.setattr(parallel, "make_file", worker)
    adopted = _adopted(monkeypatch)
    writes = _build(root, jobs=2)
    files, serial_writes = _serial(root, tmp_path / "serial")
    assert adopted == []
    assert tree_bytes(root / "public") == files
    assert writes == serial_writes
    assert _temporary(root) == []  # a dead worker's file is swept by the build itself


# A cold build whose main process is killed once a worker has made its file (written and
# synced beside the target, not yet renamed): the next build must not publish it, nor
# leave it, and must write what a cold build writes.
KILLED = """
import os, signal, sys
from publisher import snapshot
from publisher.feeds import parallel
from publisher.posts import collect
collect.PARALLEL_THRESHOLD = 4
snapshot.RECENT_NS = 0
collect.RECENT_NS = 0
made = parallel.make_file
def make_then_kill(task):
    with open(os.environ["WORKERS_LOG"], "a") as log:
        log.write(str(os.getpid()) + " ")
    answer = made(task)
    os.kill(os.getppid(), signal.SIGKILL)
    return answer
parallel.make_file = make_then_kill
from publisher.cli import main
sys.argv = ["publish", "-q", "build", "--jobs", "2", "--now", "2025-06-01T00:00:00Z"]
main()
"""


def _alive(pid: int) -> bool:
    """A process ``pid`` that is running (not gone, not a zombie waiting to be reaped)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return text.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.mark.skipif(sys.platform != "linux", reason="kills by signal, as the kernel would")
def test_a_build_killed_while_the_workers_write_is_put_right_by_the_next(
    tmp_path: Path,
) -> None:
    root = _site(tmp_path / "site")
    log = tmp_path / "workers.txt"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "WORKERS_LOG": str(log)}
    killed = subprocess.run(
        [sys.executable, "-c", KILLED], cwd=root, env=env, capture_output=True, timeout=60
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert _temporary(root)  # a worker's file, never renamed into place
    # The workers the build kept for its feed files died with it.
    workers = {int(line) for line in log.read_text(encoding="utf-8").split()}
    assert workers
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_alive(pid) for pid in workers):
        time.sleep(0.05)
    assert not [pid for pid in workers if _alive(pid)]
    _build(root, jobs=2)
    assert _temporary(root) == []
    assert tree_bytes(root / "public") == _serial(root, tmp_path / "serial")[0]


def test_no_file_goes_to_a_worker_while_another_build_holds_the_feed_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each worker would wait for the lock (10 s; 0.2 s here) before giving its file up:
    # the main process makes the files from the items it holds instead.
    import sqlite3

    from publisher import statecache
    from publisher.feeds import cache as feed_cache
    from publisher.feeds import splice

    monkeypatch.setattr(statecache.open_cache, "__kwdefaults__", {"timeout": 0.2})
    monkeypatch.setattr(feed_cache, "LOCK_TIMEOUT", 0.2)
    root = _site(tmp_path / "site")
    _build(root, jobs=2)
    for name in ("cache.sqlite", "layouts.sqlite", "site.sqlite", "inputs.json"):
        (root / "state" / name).unlink()  # every post read again, every feed file whole
    sent: list[parallel.Task] = []
    submit = splice.submit

    def counted(pool: Any, task: parallel.Task) -> Any:
        sent.append(task)
        return submit(pool, task)

    monkeypatch.setattr(splice, "submit", counted)
    holder = sqlite3.connect(root / "state" / "feeds.sqlite", isolation_level=None, timeout=0)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        _build(root, jobs=2)
    finally:
        holder.rollback()
        holder.close()
    assert sent == []
    assert tree_bytes(root / "public") == _serial(root, tmp_path / "serial")[0]
    assert _temporary(root) == []


def _tasks(root: Path, monkeypatch: pytest.MonkeyPatch) -> list[parallel.Task]:
    """The feed files a cold build of ``root`` gives its workers, as they were sent."""
    from publisher.feeds import splice

    sent: list[parallel.Task] = []
    submit = splice.submit

    def kept(pool: Any, task: parallel.Task) -> Any:
        sent.append(task)
        return submit(pool, task)

    monkeypatch.setattr(splice, "submit", kept)
    _build(root, jobs=2)
    monkeypatch.setattr(splice, "submit", submit)
    return sent


def _document(task: parallel.Task) -> bytes:
    """The file ``task`` names, as the format's renderer makes it from the cache."""
    from publisher.feeds import formats
    from publisher.feeds.cache import FeedCache

    cache = FeedCache(Path(task.cache), readonly=True)
    try:
        items = cache.items(task.kind, dict(task.items))
        fragments = [items[post_id] for post_id, _ in task.items]
    finally:
        cache.close()
    return formats.get(task.kind).module().render_feed(task.kind, task.shell, fragments)


def test_a_file_written_a_batch_at_a_time_is_the_renderers_document(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A file with no target yet (a cold build's) is written as it is read from the cache;
    # one whose target is there is made whole and compared. Both are the renderer's bytes.
    import hashlib
    from dataclasses import replace

    monkeypatch.setattr(parallel, "BATCH", 7)  # several batches of 40 posts
    root = _site(tmp_path / "site")
    tasks = _tasks(root, monkeypatch)
    assert {task.kind for task in tasks} == {"rss", "atom", "json"}
    streamed: list[str] = []
    stream = parallel._stream

    def counted(cache: Any, task: parallel.Task) -> Any:
        streamed.append(task.kind)
        return stream(cache, task)

    monkeypatch.setattr(parallel, "_stream", counted)
    ranges: list[tuple[int, int]] = []
    start_writeback = parallel.start_writeback

    def started(fd: int, offset: int, length: int) -> None:
        ranges.append((offset, length))
        start_writeback(fd, offset, length)

    monkeypatch.setattr(parallel, "start_writeback", started)
    for n, task in enumerate(tasks):
        expected = _document(task)
        target = tmp_path / "out" / str(n) / "feed"
        ranges.clear()
        made = parallel.make_file(replace(task, target=os.fspath(target)))
        assert made is not None and made.temp is not None and made.status == "created"
        assert Path(made.temp).read_bytes() == expected
        # Each batch's writeback started as it was written: the ranges cover the file.
        assert [offset for offset, _ in ranges] == [0, *accumulate(n for _, n in ranges)][:-1]
        assert sum(n for _, n in ranges) == len(expected)
        assert len(ranges) > 1 or len(task.items) <= parallel.BATCH
        assert (made.size, made.sha256) == (len(expected), hashlib.sha256(expected).hexdigest())
        assert made.lengths is not None and len(made.lengths) == len(task.items)
        assert oct(Path(made.temp).stat().st_mode & 0o777) == oct(0o644)
        # The same file with something at the target: made whole, compared, same answer.
        target.write_bytes(b"older")
        whole = parallel.make_file(replace(task, target=os.fspath(target)))
        assert whole is not None and whole.temp is not None and whole.status == "changed"
        assert Path(whole.temp).read_bytes() == expected
        assert (whole.sha256, whole.size, whole.lengths) == (made.sha256, made.size, made.lengths)
    assert sorted(streamed) == sorted(task.kind for task in tasks)


def test_a_target_made_while_its_file_is_written_is_compared_with_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Another build put the file in place while this one wrote it a batch at a time: the
    # answer is what comparing the whole bytes with it says.
    from dataclasses import replace

    from publisher.feeds.cache import FeedCache

    root = _site(tmp_path / "site")
    task = _tasks(root, monkeypatch)[0]
    expected = _document(task)
    target = tmp_path / "out" / "feed"
    target.parent.mkdir()
    for there, status in ((expected, "unchanged"), (expected[:-1] + b"!", "changed")):
        target.write_bytes(there)
        cache = FeedCache(Path(task.cache), readonly=True)
        try:
            made = parallel._stream(cache, replace(task, target=os.fspath(target)))
        finally:
            cache.close()
        assert made is not None and made.status == status
        if status == "unchanged":
            assert made.temp is None and made.found is not None
        else:
            assert made.temp is not None and Path(made.temp).read_bytes() == expected
            Path(made.temp).unlink()
    assert [p.name for p in target.parent.iterdir()] == ["feed"]


@pytest.mark.parametrize("kind", ["rss", "atom", "json"])
def test_a_concatenating_renderer_is_its_literals_around_its_fragments(
    tmp_path: Path, kind: str
) -> None:
    # What CONCATENATES promises, on fragments that look like the marks, the shell's
    # own bytes, or nothing at all.
    import random

    from publisher.feeds import formats
    from publisher.feeds.generate import feed_head
    from publisher.feeds.splice import MARK
    from publisher.splicing import template

    (tmp_path / "config.yaml").write_text(CONFIG, encoding="utf-8")
    (tmp_path / "posts").mkdir()
    config = load_config(tmp_path / "config.yaml")
    module = formats.get(kind).module()
    assert getattr(module, "CONCATENATES", False) is True
    head = feed_head(config.site, config.feeds.options)
    shell = module.render_shell(kind, head, NOW)
    rng = random.Random(7)
    choices = [b"", b"<item>x</item>", MARK, shell[:40], b",\n", b"\x00", "\u2603".encode()]
    for count in (0, 1, 2, 5, 30):
        literals = template(lambda marks: module.render_feed(kind, shell, marks), MARK, count)
        assert literals is not None
        fragments = [b"".join(rng.choices(choices, k=3)) for _ in range(count)]
        joined = [literals[0]]
        for fragment, literal in zip(fragments, literals[1:], strict=True):
            joined += (fragment, literal)
        assert b"".join(joined) == module.render_feed(kind, shell, fragments)


@pytest.mark.parametrize("jobs", [1, 2])
def test_the_site_table_of_a_cold_build_lets_the_next_read_one_post(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jobs: int
) -> None:
    # The site table is made while the workers write the feed files (a parallel build's),
    # or by a thread (a serial one's); either way it is kept, and the build after one post
    # is edited parses that post alone and writes a cold build's files.
    from publisher.incremental import reading

    root = _site(tmp_path / "site")
    threads: list[bool] = []
    start = reading.Later.start

    def started(self: reading.Later) -> None:
        threads.append(True)
        start(self)

    monkeypatch.setattr(reading.Later, "start", started)
    _build(root, jobs=jobs)
    assert bool(threads) == (jobs == 1)
    parsed: list[str] = []
    parse_one = collect._parse_one

    def counted(job: Any) -> Any:
        parsed.append(job[2])
        return parse_one(job)

    from publisher.incremental import quick

    answers: list[bool] = []
    read_changed = quick.read_changed

    def quick_read(*args: Any) -> Any:
        answer = read_changed(*args)
        answers.append(answer is not None)
        return answer

    monkeypatch.setattr(collect, "_parse_one", counted)
    monkeypatch.setattr(quick, "read_changed", quick_read)
    _post(root, 7, words="Edited")
    _build(root, jobs=jobs)
    assert answers == [True]  # from the site table, not a read of every post
    assert parsed == ["posts/post-007/index.md"]
    monkeypatch.setattr(collect, "_parse_one", parse_one)
    assert tree_bytes(root / "public") == _serial(root, tmp_path / "serial")[0]


def test_a_file_is_queued_for_a_worker_before_its_hand_over_returns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The main process goes on with CPU-bound work (posts.json, the site table) once the
    # files are sent: the pool's threads that pass a file on to a worker would wait for
    # it, so the hand-over waits until the pool has taken the file.
    from concurrent.futures import ProcessPoolExecutor
    from dataclasses import replace

    root = _site(tmp_path / "site")
    task = replace(_tasks(root, monkeypatch)[0], target=os.fspath(tmp_path / "feed.xml"))
    monkeypatch.setattr(parallel, "HANDOVER", 5.0)
    with ProcessPoolExecutor(max_workers=1) as pool:
        pool.submit(int).result()  # the worker is up
        future = parallel.submit(pool, task)
        assert future.running() or future.done()
        made = future.result()
    assert made is not None and made.temp is not None
    assert Path(made.temp).read_bytes() == _document(task)
    Path(made.temp).unlink()


def test_posts_json_is_staged_by_a_thread_while_the_workers_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Its bytes written and synced beside it by a thread, renamed into place after the
    # feed files: the files, the writes and the layout the next build splices from are a
    # serial build's.
    root = _site(tmp_path / "site")
    staged: list[str] = []
    adopt = OutputWriter.adopt

    def counted(self: OutputWriter, relative: str, *args: Any, **kwargs: Any) -> Any:
        staged.append(relative)
        return adopt(self, relative, *args, **kwargs)

    monkeypatch.setattr(OutputWriter, "adopt", counted)
    writes = _build(root, jobs=2)
    assert staged[-1] == "posts.json"
    files, serial_writes = _serial(root, tmp_path / "serial")
    assert tree_bytes(root / "public") == files
    assert writes == serial_writes
    assert _temporary(root) == []
    spliced = _spliced(monkeypatch)
    _post(root, 5, words="Edited")
    _build(root, jobs=2)
    assert "posts.json" in spliced  # its layout was kept
    assert tree_bytes(root / "public") == _serial(root, tmp_path / "serial2")[0]


def test_a_disk_error_while_posts_json_is_staged_stops_the_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from publisher import index
    from publisher.errors import OutputError

    root = _site(tmp_path / "site")
    stage = index.stage

    def full(target: Path, data: bytes, *args: Any) -> Any:
        made = stage(target, data, *args)  # its temporary file is there, then the disk fills
        if made.temp is not None:
            Path(made.temp).unlink()
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(index, "stage", full)
    with pytest.raises(OutputError, match=r"posts\.json: No space left on device; check the"):
        _build(root, jobs=2)
    assert _temporary(root) == []
    assert not (root / "public" / "posts.json").exists()


def _gated(task: parallel.Task) -> Any:
    """In a worker: busy until the test opens the gate beside the task's target."""
    gate = Path(task.target).with_name("gate")
    while not gate.exists():
        time.sleep(0.01)
    return None


def test_a_file_that_must_wait_for_a_worker_is_not_waited_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Waiting for the pool to queue a file the busy workers cannot take yet would only
    # hold the main process back (a site with many tag feeds has dozens of files).
    from concurrent.futures import ProcessPoolExecutor

    task = parallel.Task(
        kind="rss", shell=b"", items=(), target=str(tmp_path / "feed.xml"), cache="", literals=None
    )
    naps: list[float] = []

    class Clock:
        monotonic = staticmethod(time.monotonic)

        @staticmethod
        def sleep(seconds: float) -> None:
            naps.append(seconds)
            time.sleep(seconds)

    monkeypatch.setattr(parallel, "make_file", _gated)
    monkeypatch.setattr(parallel, "HANDOVER", 5.0)
    monkeypatch.setattr(parallel, "time", Clock)
    with ProcessPoolExecutor(max_workers=1) as pool:
        try:
            pool.submit(int).result()  # the worker is up, and free
            first = parallel.submit(pool, task)
            assert first.running()  # waited for until the pool queued it
            naps.clear()
            later = [parallel.submit(pool, task) for _ in range(4)]
            assert naps == []  # the worker is busy: none of these was waited for
        finally:
            (tmp_path / "gate").touch()
        assert [f.result() for f in (first, *later)] == [None] * 5


# A cold build killed once its thread has staged posts.json beside it (written and synced,
# not yet renamed): the next build deletes the temporary file and writes a cold build's.
KILLED_STAGED = """
import os, signal, sys
from publisher import index, snapshot
from publisher.posts import collect
collect.PARALLEL_THRESHOLD = 4
snapshot.RECENT_NS = 0
collect.RECENT_NS = 0
def place_then_kill(self):
    self._thread.join()
    os.kill(os.getpid(), signal.SIGKILL)
index._Staging.place = place_then_kill
from publisher.cli import main
sys.argv = ["publish", "-q", "build", "--jobs", "2", "--now", "2025-06-01T00:00:00Z"]
main()
"""


@pytest.mark.skipif(sys.platform != "linux", reason="kills by signal, as the kernel would")
def test_a_build_killed_once_posts_json_is_staged_is_put_right_by_the_next(
    tmp_path: Path,
) -> None:
    root = _site(tmp_path / "site")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_STAGED], cwd=root, env=env, capture_output=True, timeout=60
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert [name for name in _temporary(root) if name.startswith(".posts.json.")]
    assert not (root / "public" / "posts.json").exists()
    time.sleep(0.05)  # the next build starts after the killed one's file, to the clock tick
    _build(root, jobs=2)
    assert _temporary(root) == []
    assert tree_bytes(root / "public") == _serial(root, tmp_path / "serial")[0]
