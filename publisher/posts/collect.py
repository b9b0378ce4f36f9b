"""``read_posts``, the stage function: find the post files, parse each one (from the
content-hash cache when its bytes have not changed, in parallel when many have), then
apply the rules that need all posts at once (:mod:`publisher.posts.rules`)."""

from __future__ import annotations

import gc
import os
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

from publisher.config import Config
from publisher.errors import Problem
from publisher.posts.cache import BodyStore, Encoded, PostCache, encode_entry
from publisher.posts.chunks import Answers, Chunk
from publisher.posts.folder import find_post_files
from publisher.posts.found import FoundFiles, Unread, context_for, read_unread
from publisher.posts.model import ReadResult
from publisher.posts.reader import ReadContext, Record, parse_post
from publisher.posts.reread import Reread
from publisher.posts.rules import Around, Early, finalize
from publisher.posts.shown import Shown, printable_problem
from publisher.posts.workers import (
    Ahead,
    Crew,
    Parsed,
    ReadWorker,
    Task,
    Writeback,
    die_with_parent,
    heads_of,
    marked_up,
    parse_alone,
    spelled_dates,
    start_pool,
)

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (issue 12)

if TYPE_CHECKING:
    from typing import Any

#: Below this many files to parse, a process pool costs more than it saves.
PARALLEL_THRESHOLD = 200
#: At most this many posts go to a read worker at once.
CHUNK = 128

Progress = Callable[[int], None]


def read_posts(
    config: Config,
    *,
    cache: PostCache | None = None,
    jobs: int | None = None,
    progress: Progress | None = None,
    files: list[Path] | None = None,
    ahead: Ahead | None = None,
    around: Around | None = None,
    leave: tuple[Crew | None, list[Callable[[], None]] | None] = (None, None),
) -> ReadResult:
    """Read every post under ``config.posts.folder`` (``files``: what
    :func:`~publisher.posts.folder.find_post_files` found, if the caller has it).
    ``ahead``: what the read workers also do with each post they parse (see
    :class:`Ahead`); only a parallel read uses it. ``around``: ``files`` are only some
    of the site's post files, and this is what the others bring to the rules across
    posts (``publisher/incremental``); the cache then keeps every other file's entry.
    ``leave``: (``crew``, ``later``): a parallel read leaves its worker processes in
    ``crew``, for the feed stage; the wait for the cache's last commit is left in
    ``later``, for the caller to run before it uses or closes ``cache`` (else it is
    waited for here)."""
    crew, later = leave
    ctx = context_for(config)
    files = find_post_files(config) if files is None else files
    problems: list[Problem] = []
    found = FoundFiles(config, ctx, cache, RECENT_NS)
    if cache is not None:
        cache.reads_with(Reread(found))  # a body stored without its text is read again
    shown = Shown(config.root)
    keys = found.keys
    entries: list[Entry | None] = []
    early: Early | None = None
    # Files are found and hashed a block at a time, and each block's posts to parse go
    # to the parser at once: a parallel read's pool starts with the first block when
    # none of it was cached, else with the first 200, and parses while the rest are
    # found (0.4 s of one core at 10,000 posts, issue 12).
    parser = _Parser((jobs, crew), progress, (ahead, cache), len(files))
    found.defer = around is None and parser.pooled() and cache is not None and cache.empty()
    misses: list[int] = []
    try:
        for start in range(0, len(files), parser.size):
            first = len(keys)
            found.find(files[start : start + parser.size], shown, problems)
            cached = cache.get_many(keys[first:]) if cache is not None else {}
            entries.extend(cached.get(k) for k in keys[first:])
            block = [i for i in range(first, len(keys)) if entries[i] is None]
            for index in found.read_misses(block, problems):
                origin = (found.sources[index][0], keys[index] if cache is not None else None)
                parser.add(found.job(index), origin)
                misses.append(index)
            parser.block(len(keys) - first)
        hits = len(entries) - len(misses)
        if progress is not None and hits:
            progress(hits)
        # Written to the cache (index, the HTML's digest): bodies read back from it when used.
        stored: list[tuple[int, bytes | None]] = []
        # A pool's posts get their own part of the rules as they come back (rules.Early).
        early = Early(config, found.plain) if parser.pool is not None and around is None else None
        for at, (index, (fresh, encoded)) in enumerate(zip(misses, parser.results(), strict=True)):
            if index in found.unread:  # read by its parser, which made its key
                found.made(index, parser.made.pop(at))
            entries[index] = fresh
            if early is not None and encoded is None and fresh[0] is not None:
                # (A record stored here has its body swapped later: left to finalize.)
                key = keys[index] if cache is not None else None
                early.add((fresh[0], *found.sources[index], key))
            if cache is not None and encoded is not None:
                stored.append((index, encoded[3]))
                if cache.put_encoded(keys[index], encoded):
                    cache.detach(entries, keys, stored)
    finally:
        parser.close()
    committed = (
        cache.finish(found.stamps, keys, some=around is not None, done=(entries, stored))
        if cache is not None
        else lambda: None
    )
    try:
        records, tags = found.records(entries, problems, keyed=cache is not None)
        elsewhere: set[str] = set()  # og images outside the posts folder (inputs.py)
        posts = finalize(
            records, config, problems, found.plain, around, early=early, elsewhere=elsewhere
        )
    except BaseException:
        committed()
        raise
    if later is None:
        committed()
    else:
        later.append(committed)
    problems = [printable_problem(p) for p in problems]
    problems.sort(key=lambda p: (p.file, p.line or 0, p.field or "", p.message))
    return ReadResult(
        posts=tuple(posts),
        problems=tuple(problems),
        files=len(files),
        cache_hits=hits,
        found=found.listed(keys if cache is not None else None, tags),
        settled=len(posts) == len(records),
        elsewhere=frozenset(elsewhere),
    )


#: A stat this recent may be followed by an edit with the same mtime (a coarse clock):
#: such a file is read and hashed, not judged by its stat (as in ``publisher/inputs.py``).
RECENT_NS = 2_000_000_000


#: (raw bytes or a file left unread, post id, file for messages, read context, encode?)
Job = tuple[bytes | Unread, str, str, ReadContext, bool]
Entry = tuple[Record | None, list[Problem]]


def _parse_one(job: Job) -> tuple[Entry, Encoded | None]:
    """Parse one file; the cache's JSON is made here too, so a worker process does it."""
    raw, post_id, file, ctx, encode = job
    assert isinstance(raw, bytes)  # an Unread file is read first (read_unread)
    entry = parse_post(raw, post_id, file, ctx)
    if not encode:
        return entry, None
    try:
        return entry, encode_entry(entry)
    except (TypeError, ValueError, RecursionError):
        return entry, None  # a value JSON cannot hold: read this post afresh every time


_WORKER: ReadWorker | None = None


def _start_worker(
    ctx: ReadContext,
    ahead: Ahead | None,
    cache: Path | None,
    lock: AbstractContextManager[Any],
    parent: int,
) -> None:
    global _WORKER
    die_with_parent(parent)
    _WORKER = ReadWorker(ctx, ahead, cache, lock)


def _parse_many(tasks: list[Task]) -> tuple[list[Parsed], list[Any], list[str | None]]:
    """In a worker: read each :data:`Unread` file, parse each task's, hand the records
    to ``Ahead``, then store the entries in the post cache (``Ahead`` needs the bodies
    first); with the content key of each file read here (None: it could not be)."""
    assert _WORKER is not None
    ctx, ahead = _WORKER.ctx, _WORKER.ahead
    made: list[str | None] = []
    results: list[Parsed] = []
    for at, (raw, post_id, file, encode, source, key) in enumerate(tasks):
        if isinstance(raw, tuple):
            data, key, problems = read_unread(raw, file)
            made.append(key)
            if data is None:
                results.append(((None, problems), None))
                continue
            tasks[at] = (data, post_id, file, encode, source, key)
            raw = data
        results.append(_parse_one((raw, post_id, file, ctx, encode)))
    rendered: list[Any] = []
    if ahead is not None:
        records = [
            (record, source, file, key)
            for ((record, _), _), (_, _, file, _, source, key) in zip(results, tasks, strict=True)
            if record is not None
        ]
        rendered = ahead.render(records)
    return _WORKER.store(results, [task[5] for task in tasks]), rendered, made


class _Parser(Answers):
    """The posts of a read parsed in order, here or by a pool of ``workers`` processes
    (started when the posts to parse reach :data:`PARALLEL_THRESHOLD`): :meth:`add`
    each, then take their ``results`` (``posts/chunks.py``). Chunks go to the pool as
    they fill, so the workers parse while the files after them are still being found.
    The pool is left to the build's ``crew`` once every post is parsed, else ended by
    :meth:`close`."""

    def __init__(
        self,
        how: tuple[int | None, Crew | None],
        progress: Progress | None,
        extra: tuple[Ahead | None, PostCache | None],
        files: int,
    ) -> None:
        jobs, self.crew = how
        self.workers = jobs if jobs is not None else (os.cpu_count() or 1)
        self.progress = progress
        self.ahead, self.cache = extra
        # Chunks of at most 128: a finished chunk's results wait in this process until
        # their turn. Fewer chunks cost less CPU (3-5% from 64 to 128: a transaction and
        # the rules for each), more balance the cores. Sized by the files found, the
        # most there can be to parse.
        self.size = max(8, min(CHUNK, files // (self.workers * 8)))
        self.files = files
        self.jobs: list[Job] = []
        self.origins: list[tuple[Path, str | None]] = []
        self.pool: Any = None
        #: The chunks sent to the pool, and how many jobs were sent.
        self.sent: list[Chunk] = []
        self.restarts = 0
        self._queued = 0
        self._blocks = 0
        #: Job -> the content key of a file its parser read (None: it could not).
        self.made: dict[int, str | None] = {}
        self.broken = False
        #: What the pool raises once a worker died (BrokenProcessPool, or posts/forked.py's).
        self.broken_errors: tuple[type[Exception], ...] = ()
        self._writeback: Writeback | None = None
        #: The files the workers write, which a thread here syncs.
        self.watched: list[Path] = []
        self._lock: AbstractContextManager[Any] = nullcontext()
        self._store: BodyStore | None = None

    def add(self, job: Job, origin: tuple[Path, str | None]) -> None:
        self.jobs.append(job)
        self.origins.append(origin)
        if self.pool is None and self.workers > 1 and len(self.jobs) >= PARALLEL_THRESHOLD:
            self._start()
        if self.pool is not None:
            self._send(last=False)

    def pooled(self) -> bool:
        """Whether a pool parses the posts, if there are enough of them."""
        return self.workers > 1 and self.files >= PARALLEL_THRESHOLD

    def block(self, found: int) -> None:
        """A block of files is in, ``found`` of them. When none of the first was in the
        cache (a cold build, another config) and there are enough files, the rest will
        not be either, and the pool starts now, with these, not at
        :data:`PARALLEL_THRESHOLD` posts (the fork and the first chunk about 10 ms sooner
        at 1,000 posts, issue 12)."""
        self._blocks += 1
        if self._blocks > 1 or self.pool is not None or self.workers < 2:
            return
        if self.files >= PARALLEL_THRESHOLD and found and len(self.jobs) == found:
            self._start()
            # A chunk each: the second waited for the next block, behind _forked (~20 ms).
            self._send(last=False, size=-(-found // self.workers))

    def _start(self) -> None:
        heads = heads_of([job[0] for job in self.jobs[:16]])  # for the guesses below
        if spelled_dates(heads):
            # Before the fork, so the workers share it: a date not written YYYY-MM-DD
            # needs dateutil, which fields.py imports on first use (~12 ms in each worker
            # otherwise). Not for a site whose dates are all days (12 ms of one core).
            import dateutil.parser  # noqa: F401

        cache = self.cache
        self._store = cache.store() if cache is not None and not cache.readonly else None
        cache_path = self._store.path if self._store is not None else None
        ctx, ahead, parent = self.jobs[0][3], self.ahead, os.getpid()
        self.pool, self.broken_errors, self._lock = start_pool(
            self.workers,
            _start_worker,
            lambda lock: (ctx, ahead, cache_path, lock, parent),
            markup=marked_up(heads),
        )

    def _forked(self) -> None:
        """Once the workers have their first posts: the file ``Ahead`` has them write
        laid out, under the lock they write with (none opens it half made); it held the
        fork back before (a synced commit, 5 to 15 ms, issue 12). Then the thread that
        syncs what they write, after the fork: no thread here but the main one."""
        written: list[Path] = []
        if self.ahead is not None:
            with self._lock:
                written = self.ahead.prepare()
        self._watch([self._store.path, *written] if self._store is not None else written)

    def _watch(self, paths: list[Path]) -> None:
        self.watched = paths
        self._writeback = Writeback(paths)
        self._writeback.start()

    def _send(self, *, last: bool, size: int = 0) -> None:
        """Each full chunk (of ``size`` jobs if given) not sent yet to the pool
        (``last``: and the rest)."""
        first = not self.sent
        try:
            self._send_chunks(last=last, size=size)
        finally:
            # After the first chunk of each worker, not between them: the second worker
            # started 7 to 10 ms after the first (issue 12).
            if first and self.sent:
                self._forked()

    def _send_chunks(self, *, last: bool, size: int) -> None:
        while not self.broken and len(self.jobs) - self._queued >= (
            1 if last else size or self._chunk(self._queued)
        ):
            at = self._queued
            stop = min(at + (size or self._chunk(at)), len(self.jobs))
            first = not self.sent
            tasks = self._tasks(at, stop)
            # The objects alive at the first submit (the fork) are the workers' as they
            # are: a collection there would touch, and so copy, every page of them.
            if first:
                gc.freeze()
            try:
                self.sent.append(Chunk(at, stop, self._submit(tasks)))
            except self.broken_errors:
                self.broken = True  # a worker died: the rest is read without the pool
                return
            finally:
                if first:
                    gc.unfreeze()
            self._queued = stop

    def _tasks(self, start: int, stop: int) -> list[Task]:
        return [
            (raw, post_id, file, encode, *origin)
            for (raw, post_id, file, _, encode), origin in zip(
                self.jobs[start:stop], self.origins[start:stop], strict=True
            )
        ]

    def _chunk(self, at: int) -> int:
        """The size of the chunk from job ``at``: the last few are a quarter of the others,
        so the workers run out of work together (a chunk was 40-70 ms of one worker while
        the other had none left)."""
        if self.files - at > self.size * self.workers * 2:
            return self.size
        return max(8, self.size // 4)

    def _parse(self, job: Job, *, isolated: bool) -> tuple[Entry, Encoded | None]:
        return _parse_isolated(job) if isolated else _parse_one(job)

    def _submit(self, tasks: list[Task]) -> Any:
        return self.pool.submit(_parse_many, tasks)

    def close(self, keep: bool = False) -> None:
        """End the pool (``keep``: leave it to the crew, every post parsed)."""
        if self._writeback is not None:
            self._writeback.stop()
            self._writeback = None
        pool, self.pool = self.pool, None
        if pool is None:
            return
        if keep and self.crew is not None:
            self.crew.keep(pool)
        else:
            pool.shutdown(wait=True, cancel_futures=True)


def _parse_isolated(job: Job) -> tuple[Entry, Encoded | None]:
    """One post parsed in a process of its own, after a worker died (posts/workers.py)."""
    answer: tuple[Entry, Encoded | None] = parse_alone(_parse_one, job, file=job[2])
    return answer
