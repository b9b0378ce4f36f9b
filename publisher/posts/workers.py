"""What a read worker of a parallel read (``collect._parse_pooled``) is given and keeps.

A worker parses a chunk of post files, hands the records to :class:`Ahead` (the feed
items, ``feeds/early.py``), and stores the entries in the post cache itself, so a cold
build's bodies (markdown and HTML, most of a result's bytes) are never pickled back to the
main process nor written by it while it waits for the workers (issue 12). The main
process gets each such entry as it would from the cache: its body read back on use.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import threading
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from pathlib import Path

from publisher.errors import Problem
from publisher.posts.cache import Encoded, PostCache
from publisher.posts.reader import ReadContext, Record

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (issue 12)

if TYPE_CHECKING:
    from typing import Any, Protocol
else:
    Protocol = object  # a protocol to the checker; to the interpreter a plain class

Entry = tuple[Record | None, list[Problem]]


class Ahead(Protocol):
    """Work a read worker does on the posts it has just parsed, whose results the main
    process keeps (``feeds/early.py``: their feed items, rendered speculatively)."""

    def prepare(self) -> list[Path]:
        """In the main process, once the workers have their first posts, holding the
        lock they write with; returns the files the workers will write (their commits
        are not synced: see :class:`Writeback`)."""
        ...

    def start(self, lock: AbstractContextManager[Any]) -> None:
        """In a worker, before its first :meth:`render`; ``lock``: what the workers hold
        around each write to a cache (and around opening one :meth:`prepare` lays out)."""
        ...

    def render(self, records: list[tuple[Record, Path, str, str | None]]) -> list[Any]:
        """In a worker: (record, file path, file for messages, content key) -> results."""
        ...

    def keep(self, rows: list[Any]) -> None:
        """In the main process: what :meth:`render` returned."""
        ...

    def meanwhile(self) -> None:
        """In the main process, once every post is sent to the workers: what it can do
        while it waits for them (import what the stages after the read need)."""
        ...


class ReadWorker:
    """A read worker's settings, sent once (the pool's initializer), not with every post
    (issue 12: the read context was most of a job's pickle), and its own connection to
    the post cache, where it stores what it parses: the bodies (most of a result's bytes)
    then never travel back to the main process, which reads them from there when used."""

    def __init__(
        self,
        ctx: ReadContext,
        ahead: Ahead | None,
        cache: Path | None,
        lock: AbstractContextManager[Any],
    ) -> None:
        self.ctx = ctx
        self.ahead = ahead
        self.path = cache
        self.cache: PostCache | None = None
        # Held around each write: SQLite lets one process write at a time, and a worker
        # it turns away polls with growing sleeps (1.5 s of waiting at 10,000 posts); a
        # lock of the pool's own wakes the next one as soon as the file is free.
        self.lock = lock
        if ahead is not None:
            ahead.start(lock)

    def store(self, results: list[Parsed], keys: list[str | None]) -> list[Parsed]:
        """``results`` with the entries stored in the post cache from here: each such
        result carries its HTML's digest (``b""`` with no record) instead of its encoded
        entry, and its record no body. Unchanged when the cache cannot be written."""
        rows = [
            (key, encoded)
            for (_, encoded), key in zip(results, keys, strict=True)
            if isinstance(encoded, tuple) and key is not None
        ]
        if not rows or self.path is None:
            return results
        if self.cache is None:
            self.cache = PostCache(self.path, files=())  # no file stamps: never asked here
        with self.lock:
            # With their feed items made, the bodies are left out (posts/cache.py).
            written = self.cache.put_now(rows, bodies=self.ahead is None)
        if not written:
            self.path = None  # locked or damaged: the main process stores the rest
            self.cache.close()
            return results
        stored: list[Parsed] = []
        for (entry, encoded), key in zip(results, keys, strict=True):
            if isinstance(encoded, tuple) and key is not None:
                if entry[0] is not None:
                    del entry[0]["body_markdown"], entry[0]["body_html"]
                encoded = encoded[3] or b""
            stored.append((entry, encoded))
        return stored


#: (raw bytes or a file left unread (found.Unread), post id, file for messages, encode?,
#: file path, content key or None)
Task = tuple[bytes | tuple[str, str, int], str, str, bool, Path, str | None]
#: A parsed task as a worker sends it back: its entry and either the entry encoded for
#: the cache (None: not to be cached) or, when the worker stored it, its HTML's digest.
Parsed = tuple[Entry, Encoded | bytes | None]


class Writeback:
    """Syncs the cache files the workers write, every so often while they work and once
    when they are done, from a thread of the main process (idle then, waiting for
    results). Their commits are not synced (see ``PostCache.put_now``: a sync per chunk
    made the workers wait on the disk), and syncing as they go leaves little for the
    main process's commits to wait for. The process waits for the last sync before it
    exits. Best effort: these are caches."""

    #: Seconds between two syncs.
    EVERY = 0.25

    def __init__(self, paths: list[Path]) -> None:
        self.paths = paths
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="cache writeback")

    def start(self) -> None:
        if self.paths and not self._done.is_set():
            self._thread.start()

    def _run(self) -> None:
        while not self._done.wait(self.EVERY):
            self._sync()
        self._sync()

    def _sync(self) -> None:
        for path in self.paths:
            try:
                fd = os.open(path, os.O_RDONLY)
            except OSError:
                continue
            try:
                os.fdatasync(fd)
            except OSError:
                pass
            finally:
                os.close(fd)

    def stop(self) -> None:
        """The last sync, in the thread: not waited for here."""
        self._done.set()


class Crew:
    """The worker processes of one build, kept from the parallel read to the feed stage.

    A cold build's read pool used to end with the read, leaving one core idle while the
    main process wrote the feed files alone (0.9 s at 10,000 posts): the pool the read
    started is handed here (:meth:`keep`) and writes those files next
    (``feeds/parallel.py``); the build ends it (:meth:`close`). The workers hold no cache
    lock between tasks (each write is its own transaction), so keeping them costs nothing
    but their memory."""

    def __init__(self) -> None:
        self.pool: Any = None  # a ProcessPoolExecutor (imported only when a pool starts)
        #: The manager threads of pools told to end without a wait (``writes.py``).
        self._ending: list[Any] = []

    def keep(self, pool: Any) -> None:
        self.close()
        self.pool = pool

    def drop(self) -> None:
        """Forget a pool that broke (a worker died): it is shut down, nothing more runs on it."""
        self.close(wait=False)

    def close(self, *, wait: bool = True) -> None:
        """End the pool; ``wait`` (the build's last close) also joins the manager threads
        of pools ended without one. One still closing its pipes at interpreter exit races
        concurrent.futures' exit hook, which writes to them (Python 3.11: "OSError: [Errno
        9] Bad file descriptor" printed after a build that exited 0)."""
        pool, self.pool = self.pool, None
        if pool is not None:
            # shutdown(wait=False) forgets the thread: kept to be joined here. A forked
            # pool (posts/forked.py) is joined itself: its workers waited for.
            ending = (
                pool if hasattr(pool, "join") else getattr(pool, "_executor_manager_thread", None)
            )
            pool.shutdown(wait=wait, cancel_futures=True)
            if not wait and ending is not None:
                self._ending.append(ending)
        while wait and self._ending:
            self._ending.pop().join()


def start_pool(
    workers: int,
    initializer: Callable[..., None],
    initargs: Callable[[AbstractContextManager[Any]], tuple[Any, ...]],
    *,
    markup: bool = True,
) -> tuple[Any, tuple[type[Exception], ...], AbstractContextManager[Any]]:
    """A read's ``workers`` processes, each started by ``initializer(*initargs(lock))``;
    what the pool raises once one of them died; ``lock``, one the workers share.
    On Linux forked without concurrent.futures and multiprocessing (``posts/forked.py``:
    their imports were ~30 ms before the first post reached a worker); elsewhere a
    ``ProcessPoolExecutor``, imported only now (~10 ms for a build that parses one post).
    ``markup``: whether the posts are likely to hold links, images or HTML
    (:func:`marked_up`)."""
    # hashlib (OpenSSL), which publisher/digests.py takes once a process has hashed 1 MB:
    # each worker of a read this large would load it itself.
    import hashlib  # noqa: F401

    if markup:
        # lxml.etree and the MDX components, which posts/body.py imports on first use:
        # most posts of a blog link somewhere, so they parse HTML, and a forked worker
        # shares what was imported before the fork. Not for posts of plain prose: the
        # imports (~18 ms) would hold up the fork while the other core waits.
        from publisher.posts import mdx  # noqa: F401
        from publisher.posts.body import lxml_parsing

        lxml_parsing()
    if sys.platform == "linux":
        from publisher.posts.forked import BrokenPool, ForkedPool, PipeLock

        lock = PipeLock()
        forked = ForkedPool(workers, initializer, initargs(lock))
        forked.locks.append(lock)
        return forked, (BrokenPool,), lock
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    context = multiprocessing.get_context()
    shared = context.Lock()
    pool = ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=initializer, initargs=initargs(shared)
    )
    return pool, (BrokenProcessPool,), shared


def parse_alone(parse: Callable[[Any], Any], job: Any, *, file: str) -> Any:
    """``parse(job)`` in a process of its own: a post read after a pool's worker died
    (which post killed it is unknown), so only a post that kills its own process is
    lost, with a problem for ``file`` (``parse``'s (entry, encoded) shape)."""
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    from publisher.interrupts import ctrl_c_deferred

    try:
        with ProcessPoolExecutor(
            max_workers=1, initializer=die_with_parent, initargs=(os.getpid(),)
        ) as pool:
            with ctrl_c_deferred():  # its worker is forked as the job is handed over
                future = pool.submit(parse, job)
            return future.result()
    except BrokenProcessPool:
        problem = Problem(
            file=file,
            field=None,
            message="could not be read: the process reading it stopped (out of memory?)",
            fix="this is a bug in publisher, please report it with this post attached",
        )
        return ((None, [problem]), None)


def spelled_dates(heads: Iterable[bytes]) -> bool:
    """Whether the head of one of these post files (:func:`heads_of`) holds a date with a
    time or a month's name: read through dateutil (``posts/fields.py``), which a read
    then imports before its workers fork, so they share it. A guess, for speed only:
    dates missed here are read the same, by workers that import dateutil themselves
    (~12 ms each)."""
    search = re.compile(_SPELLED_DATE).search  # compiled once, on first use (re's cache)
    return any(search(head, 0, _HEAD) for head in heads)


def marked_up(heads: Iterable[bytes]) -> bool:
    """Whether the body of one of these post files (:func:`heads_of`) has a ``[`` or a
    ``<``, without which markdown holds no link, image or HTML: none, and its rendering
    is not parsed by lxml (``posts/body.py``). A guess, for speed only, as
    :func:`spelled_dates`: a post it misses is read the same, by a worker that imports
    lxml itself."""
    for text in heads:
        # The frontmatter's own brackets (``tags: [a, b]``) are no link: the body is
        # what follows its closing line, when it has one.
        start = text.find(b"\n---", 3) if text.startswith(b"---") else -1
        body = text[start + 4 :] if start >= 0 else text
        if b"[" in body or b"<" in body:
            return True
    return False


def heads_of(raws: Iterable[bytes | tuple[str, str, int]]) -> list[bytes]:
    """Each post file's bytes, or the first 64 KB of a file left unread (``found.Unread``):
    what :func:`spelled_dates` and :func:`marked_up` look at, each file opened once."""
    return [raw if isinstance(raw, bytes) else _head(raw[0]) for raw in raws]


def _head(path: str) -> bytes:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return b""
    try:
        return os.read(fd, _BODY)
    except OSError:
        return b""
    finally:
        os.close(fd)


#: A date and a time, a date with slashes, or a month's name before or after a number.
_SPELLED_DATE = (
    rb"\d{4}-\d\d-\d\d[Tt ]\d|\d{4}/\d\d?/\d|"
    rb"(?i:\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?,? +\d)|"
    rb"(?i:\d +(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec))"
)
#: Bytes of a post file looked at for a spelled date: its frontmatter, usually.
_HEAD = 2048
#: Bytes of a post file left unread that are read for the guesses: most posts whole.
_BODY = 65536


def held(path: Path) -> bool:
    """Whether another process holds the write lock of the cache at ``path`` now (or
    for the next tenth of a second). A cache held for a whole cold read used to cost
    each read worker, then the main process, the full wait for it (10 s each): asked
    once, before the workers start, it is left alone by all of them."""
    import sqlite3

    if not path.exists():
        return False
    try:
        with contextlib.closing(sqlite3.connect(path, timeout=0.1, isolation_level=None)) as db:
            db.execute("BEGIN IMMEDIATE")
            db.execute("ROLLBACK")
    except sqlite3.Error as error:
        name = getattr(error, "sqlite_errorname", "")
        return name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED"))
    return False


def die_with_parent(parent: int) -> None:
    """In a pool worker (its initializer): make it end when ``parent``, the build that
    started it, ends. A build killed by SIGKILL cannot stop its pool, and an idle worker
    waits on its call queue forever (the red team found some still running after 34
    minutes). On Linux the kernel kills it (``PR_SET_PDEATHSIG``); elsewhere a thread
    watches for the parent to go.

    Ctrl-C is not for the worker: a terminal sends SIGINT to the whole process group, and
    the build stops its pool itself; a worker waiting for its next task (the read's
    workers are kept for the feed files) printed a KeyboardInterrupt traceback
    (tests/test_redteam_speed5.py)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if not (sys.platform == "linux" and _death_signal()):
        threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    # The parent may have died before the signal was asked for (no signal then): the
    # worker has been handed to another process.
    if os.getppid() != parent:
        os._exit(1)


def _death_signal() -> bool:
    """Ask the kernel to SIGKILL this process when its parent ends; False if it cannot.
    Through cffi's backend (``publisher/cfunctions.py``), not ctypes: each worker
    imported ctypes after its fork, 3 to 7 ms before its first post."""
    import signal

    from publisher.atomic import libc_function

    prctl = libc_function("prctl", ("c_int", "c_ulong", "c_ulong", "c_ulong", "c_ulong"))
    return prctl is not None and prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0


#: ``prctl``'s option for the signal sent to a process when its parent ends (linux/prctl.h).
_PR_SET_PDEATHSIG = 1


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        threading.Event().wait(1.0)
    os._exit(1)
