"""Feed files written by the worker processes of a parallel read (issue 12, cold builds).

A cold build's feed files are written whole: each one's items read back from the feed
cache, joined into the document, compared with the file there, written to a temporary
file and synced (at 10,000 posts, two files of 70 MB: 0.9 s of one core while the other
was idle). The read workers are idle by then (``posts/workers.py``, :class:`Crew`), so
each such file is made by one of them, the files at once, while the main process writes
``posts.json``. A worker stops short of the rename: it hands back the temporary file's
name with the bytes' hash and the items' lengths, and the main process journals the file
and renames it into place (:meth:`~publisher.output.OutputWriter.adopt`), in the order a
serial build writes them, so the output folder, its manifest and the report are those of
a serial build. A worker that cannot make its file (an item missing or damaged in the
cache, a worker gone) leaves it to the main process, which writes it as before.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

from publisher.atomic import write_all
from publisher.dataclass import dataclass
from publisher.feeds import formats as registry
from publisher.feeds.cache import FeedCache
from publisher.output import Made
from publisher.staged import laid_out, stage, start_writeback, temporary
from publisher.stamps import compare_file

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (issue 12)

if TYPE_CHECKING:
    from typing import Any

#: Items asked of the cache at once (as ``FeedDocument.items`` does).
BATCH = 500


@dataclass(frozen=True, kw_only=True)
class Task:
    """One feed file for a worker: its format, head, items (post id, feed key) in order,
    the file to write, the feed cache to read the items from, and the literal bytes
    between the items (``publisher.splicing.template``), to check its layout by."""

    kind: str
    shell: bytes
    items: tuple[tuple[str, str], ...]
    target: str
    cache: str
    literals: tuple[bytes, ...] | None


class _Lost(Exception):
    """An item the cache does not hold (or holds damaged): the main process makes the file."""


def readable(path: Path) -> bool:
    """Whether the feed cache at ``path`` can be read now, without waiting: held by
    another build, each worker would wait for it (10 s) before giving its file up, so
    the main process makes the files from what it holds instead."""
    try:
        uri = f"{path.resolve().as_uri()}?mode=ro"
        with contextlib.closing(sqlite3.connect(uri, uri=True, timeout=0)) as db:
            db.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except (sqlite3.Error, OSError, ValueError):
        return False
    return True


def make_file(task: Task) -> Made | None:
    """In a worker: the feed file of ``task``, written to a temporary file beside its
    target (synced, not renamed); None when an item cannot be read from the cache."""
    if not readable(Path(task.cache)):
        return None
    cache = FeedCache(Path(task.cache), readonly=True)
    try:
        renderer = registry.get(task.kind).module()
        if _streamed(renderer, task):
            return _stream(cache, task)
        lengths: list[int] = []
        data = renderer.render_feed(task.kind, task.shell, _items(cache, task, lengths))
    except _Lost:
        return None
    finally:
        cache.close()
    pieces = lengths if laid_out(data, task.literals, lengths) else None
    return stage(Path(task.target), data, pieces)


def _streamed(renderer: object, task: Task) -> bool:
    """Whether the file is written a batch of items at a time: its renderer's documents
    are their literals around the items whatever the items' bytes (``CONCATENATES``),
    and there is no file at the target to compare with (a cold build's)."""
    literals = task.literals
    return (
        getattr(renderer, "CONCATENATES", False) is True
        and literals is not None
        and len(literals) == len(task.items) + 1
        and not os.path.lexists(task.target)
    )


def _stream(cache: FeedCache, task: Task) -> Made | None:
    """:func:`make_file` for a file that is not there: the literals and items written to
    the temporary file as they are read from the cache, a batch at a time, never the
    whole document in memory (70 MB at 10,000 posts, and a tenth of a worker's time to
    gather; issue 12). The same bytes as the renderer's document (``CONCATENATES``:
    ``tests/test_feed_workers.py`` holds them equal)."""
    import hashlib  # OpenSSL's SHA-256, for 70 MB (not loaded by a build that splices)

    assert task.literals is not None
    target = Path(task.target)
    literals = task.literals
    digest = hashlib.sha256()
    lengths: list[int] = []
    temp = temporary(target)
    try:
        fd = os.open(temp, os.O_WRONLY)
        try:
            pieces = [literals[0]]
            written = 0
            for item in _items(cache, task, lengths):
                pieces += (item, literals[len(lengths)])
                if len(pieces) > 2 * BATCH:
                    written += _put(fd, digest, pieces, written)
            _put(fd, digest, pieces, written)
            os.fsync(fd)
        finally:
            os.close(fd)
        if os.path.lexists(target):  # made meanwhile (another build): compared as a whole
            return _compared(Path(temp), target, digest.hexdigest(), tuple(lengths))
    except _Lost:
        Path(temp).unlink(missing_ok=True)
        return None
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    size = sum(lengths) + sum(map(len, literals))
    return Made(
        status="created",
        sha256=digest.hexdigest(),
        size=size,
        temp=temp,
        found=None,
        lengths=tuple(lengths),
    )


def _put(fd: int, digest: Any, pieces: list[bytes], at: int) -> int:
    """Write and hash ``pieces`` (at offset ``at``) and start their writeback, then empty
    the list; returns how many bytes they were."""
    data = b"".join(pieces)
    digest.update(data)
    write_all(fd, data)
    start_writeback(fd, at, len(data))
    pieces.clear()
    return len(data)


def _compared(temp: Path, target: Path, digest: str, lengths: tuple[int, ...]) -> Made:
    """What the whole path says of the bytes at ``temp`` against the file at ``target``."""
    data = temp.read_bytes()
    status, found = compare_file(target, data)
    if status == "unchanged":
        temp.unlink(missing_ok=True)
        return Made(
            status=status, sha256=digest, size=len(data), temp=None, found=found, lengths=lengths
        )
    return Made(
        status=status,
        sha256=digest,
        size=len(data),
        temp=os.fspath(temp),
        found=None,
        lengths=lengths,
    )


def _items(cache: FeedCache, task: Task, lengths: list[int]) -> Iterator[bytes]:
    for start in range(0, len(task.items), BATCH):
        chunk = dict(task.items[start : start + BATCH])
        found = cache.items(task.kind, chunk)
        for post_id in chunk:
            item = found.get(post_id)
            if item is None:
                raise _Lost(post_id)
            lengths.append(len(item))
            yield item


#: Seconds a hand-over to the pool is waited for, at most (see :func:`submit`).
HANDOVER = 0.02


def submit(pool: Any, task: Task) -> Any:
    """``task`` sent to ``pool``: a future of :func:`make_file`'s answer.

    A forked pool (``posts/forked.py``, Linux) writes it into a free worker's pipe here.
    A ``ProcessPoolExecutor`` is waited for (asleep, at most :data:`HANDOVER`) until it has
    queued the file, when a worker is free to take it: the pool's threads that pass it on
    need this process's interpreter lock, which the work after this call holds
    (posts.json, the site table), and a worker started its file 10 to 80 ms after it was
    sent (issue 12). A file that must wait for a worker anyway is not waited for."""
    import pickle  # here, not at the top: a build that splices its feeds never sends one

    free = _free_worker(pool)
    future = pool.submit(_make_pickled, pickle.dumps(task, protocol=pickle.HIGHEST_PROTOCOL))
    deadline = time.monotonic() + (HANDOVER if free else 0.0)
    while not (future.running() or future.done()) and time.monotonic() < deadline:
        time.sleep(0.0002)
    return future


def _free_worker(pool: Any) -> bool:
    """Whether a worker of ``pool`` has nothing to do (the pool's own bookkeeping:
    ``concurrent.futures.ProcessPoolExecutor``; False when it has none)."""
    pending = getattr(pool, "_pending_work_items", None)
    workers = getattr(pool, "_max_workers", None)
    if not isinstance(pending, dict) or not isinstance(workers, int):
        return False
    return len(pending) < workers


def _make_pickled(task: bytes) -> Made | None:
    import pickle

    return make_file(pickle.loads(task))
