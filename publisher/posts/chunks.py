"""What a parallel read's pool answers, chunk by chunk (``posts/collect.py``'s parser
sends the chunks): each post's result in order, and what becomes of the chunks not
answered when a worker dies. Which post killed it is unknown, so each post of the chunk
it was parsing is read again in a process of its own (only a post that kills its process
is lost), and the other chunks go to a new pool. A worker killed early in a cold build
(the OOM killer) used to make every post left parse alone (300 posts: 0.8 to 8.5 s,
issue 12)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

from publisher.posts.cache import BodyStore, Encoded
from publisher.posts.found import read_unread
from publisher.posts.model import Body
from publisher.posts.workers import Ahead

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (issue 12)

if TYPE_CHECKING:
    from typing import Any

#: Pools a read starts again after a worker died; then every post left is read alone.
RESTARTS = 2

#: A post's (entry, encoded entry or None), as ``posts/collect.py`` takes them.
Result = tuple["Any", Encoded | None]  # quoted: typing is not imported at run time


class Chunk:
    """Jobs ``start`` to ``stop`` of a read, sent to the pool as one task (``future``:
    None when they could not be), or read one by one (``alone``: their results)."""

    __slots__ = ("alone", "future", "start", "stop")

    def __init__(self, start: int, stop: int, future: Any) -> None:
        self.start, self.stop, self.future = start, stop, future
        self.alone: list[Result] | None = None


def suspects(chunks: list[Chunk], *, every: bool) -> tuple[list[Chunk], list[Chunk]]:
    """After the pool broke: (the chunks to read post by post, those to send to a new
    pool) among ``chunks``, leaving those answered (or read) already. A chunk whose task
    failed as :attr:`~publisher.posts.forked.BrokenPool.suspect` (any error of a pool
    that does not tell, ``ProcessPoolExecutor``'s) is read post by post, as is every
    chunk when ``every``."""
    alone: list[Chunk] = []
    again: list[Chunk] = []
    for chunk in chunks:
        if chunk.alone is not None:
            continue
        error = chunk.future.exception() if chunk.future is not None else None
        if chunk.future is not None and error is None:
            continue  # answered before the pool broke
        if every or (error is not None and getattr(error, "suspect", True)):
            alone.append(chunk)
        else:
            again.append(chunk)
    return alone, again


class Answers:
    """The answering side of ``posts/collect.py``'s parser, which sets these attributes
    and gives the hooks below (its own module's functions, which tests replace)."""

    jobs: list[Any]
    origins: list[tuple[Path, str | None]]
    made: dict[int, str | None]
    progress: Callable[[int], None] | None
    ahead: Ahead | None
    pool: Any
    sent: list[Chunk]
    broken_errors: tuple[type[Exception], ...]
    _queued: int
    #: Posts in a chunk (the last few are smaller).
    size: int
    _store: BodyStore | None
    watched: list[Path]
    #: Pools started again after a worker died (:meth:`_recover`).
    restarts = 0

    def _parse(self, job: Any, *, isolated: bool) -> Result:
        raise NotImplementedError  # one post, here or (isolated) in a process of its own

    def _submit(self, tasks: list[Any]) -> Any:
        raise NotImplementedError  # a chunk's tasks to the pool: a future

    def _tasks(self, start: int, stop: int) -> list[Any]:
        raise NotImplementedError  # the tasks of jobs start to stop

    def _start(self) -> None:
        raise NotImplementedError  # the pool started

    def _watch(self, paths: list[Path]) -> None:
        raise NotImplementedError  # the writeback of what the workers write started

    def close(self, keep: bool = False) -> None:
        raise NotImplementedError  # the pool ended (keep: left to the crew)

    def results(self) -> Iterator[Result]:
        """Every job's (entry, encoded entry or None), in order."""
        done = 0
        if self.pool is not None:
            self._send(last=True)
            if self.ahead is not None:
                self.ahead.meanwhile()  # this process would only wait for them
            chunks = list(self.sent)
            for start in range(self._queued, len(self.jobs), self.size):
                # Not sent: a worker died while they were found (the pool broke).
                chunks.append(Chunk(start, min(len(self.jobs), start + self.size), None))
            at = 0
            while at < len(chunks):
                chunk = chunks[at]
                answer = self._answer(chunk) if chunk.alone is None else None
                if answer is None and chunk.alone is None:  # the pool broke
                    self._recover(chunks[at:])
                    continue
                for result in (
                    chunk.alone if chunk.alone is not None else self._unpack(answer, done)
                ):
                    done += 1
                    yield result
                at += 1
            self.close(done == len(self.jobs))
        for at, job in enumerate(self.jobs[done:], done):
            yield self._alone(at, job, isolated=False)

    def _send(self, *, last: bool, size: int = 0) -> None:
        raise NotImplementedError  # every chunk not sent yet (last: and the rest)

    def _alone(self, at: int, job: Any, *, isolated: bool) -> Result:
        """Job ``at`` parsed by this process, or (``isolated``) in a process of its own."""
        if isinstance(job[0], tuple):  # left unread: read here
            raw, self.made[at], problems = read_unread(job[0], job[2])
            if raw is None:
                return (None, problems), None
            job = (raw, *job[1:])
        result = self._parse(job, isolated=isolated)
        if self.progress is not None:
            self.progress(1)
        return result

    def _answer(self, chunk: Chunk) -> Any:
        """A chunk's answer from the pool; None when the pool broke first."""
        try:
            return chunk.future.result() if chunk.future is not None else None
        except self.broken_errors:
            return None

    def _recover(self, chunks: list[Chunk]) -> None:
        """After a worker died, the chunks not read yet: each post of the one it was
        parsing read alone, the others sent to a new pool, at most :data:`RESTARTS`
        times (then every post left is read alone)."""
        alone, again = suspects(chunks, every=self.restarts >= RESTARTS)
        self.close()
        self._isolate(alone)  # before a new pool: its writeback thread must not be forked
        if again:
            self.restarts += 1
            try:
                self._start()
            except OSError:  # no process to be had (memory): each post alone, here
                self._isolate(again)
                return
            self._watch(self.watched)
        for chunk in again:
            try:
                chunk.future = self._submit(self._tasks(chunk.start, chunk.stop))
            except self.broken_errors:
                chunk.future = None  # recovered again, in results()

    def _isolate(self, chunks: list[Chunk]) -> None:
        for chunk in chunks:
            jobs = enumerate(self.jobs[chunk.start : chunk.stop], chunk.start)
            chunk.alone = [self._alone(at, job, isolated=True) for at, job in jobs]

    def _unpack(self, answer: Any, done: int) -> Iterator[Result]:
        """A chunk's results as the main process takes them: an entry a worker stored in
        the post cache comes back as it would from the cache (its body read back on use)."""
        parsed, rows, made = answer
        if self.ahead is not None:
            self.ahead.keep(rows)
        store = self._store
        keys = iter(made)
        for (record, problems), encoded in parsed:
            key, read = self.origins[done][1], True
            if isinstance(self.jobs[done][0], tuple):  # read by the worker: its key
                key = self.made[done] = next(keys)
                read = key is not None  # else gone: not counted, as if never found
            if self.progress is not None and read:
                self.progress(1)
            if isinstance(encoded, bytes):  # stored by the worker, body and all
                if record is not None and store is not None and key is not None:
                    record["body"] = Body(load=partial(store.load, key), digest=encoded)
                encoded = None
            done += 1
            yield (record, problems), encoded
