"""Write the feed files, copying what did not change from the files the last build wrote.

A feed file is its head, its items and the bytes between them: its layout (see
:mod:`publisher.splicing`) is kept with the file's stamp. When the file on disk is still
the one the last build wrote, the next build writes the new file from runs of the old one
and the bytes of the items that are new, and reads nothing else back from the feed cache.
Anything unexpected (no layout, a file changed by hand, a renderer that does not just
concatenate its items) writes the whole file, as before; the bytes are the same either way.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from functools import partial
from operator import attrgetter
from pathlib import Path

from publisher.config import SiteConfig
from publisher.dataclass import dataclass
from publisher.feeds import formats as registry
from publisher.feeds.cache import CACHE_FILE, KINDS
from publisher.feeds.generate import FeedDocument, feed_documents
from publisher.feeds.options import FeedOptions
from publisher.feeds.parallel import Task, readable, submit
from publisher.feeds.plan import FeedEntry
from publisher.output import Made, OutputWriter
from publisher.posts.model import Post
from publisher.splicing import Layout, LayoutStore, template, write_spliced, write_whole
from publisher.sweep import drop_leftovers

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (issue 12)

if TYPE_CHECKING:
    from typing import Any

    from publisher.posts.workers import Crew

#: Stands for an item while a document's literal bytes are found: a NUL is in no XML
#: document and escaped in JSON, so the mark cannot be part of a head.
MARK = b"\x00publisher item\x00"


def write_feeds(
    site: SiteConfig,
    posts: Sequence[Post],
    options: FeedOptions,
    writer: OutputWriter,
    *,
    layouts: LayoutStore | None = None,
    cache_dir: Path | None = None,
    jobs: int | None = None,
    entries: Sequence[FeedEntry] | None = None,
) -> list[str]:
    """Write every feed file through ``writer`` (the bytes :func:`~publisher.feeds.
    generate.iter_feeds` gives, spliced where ``layouts`` allows); returns their paths.
    ``entries``: as :func:`~publisher.feeds.generate.feed_documents` takes them. The
    feed cache is only read in a dry run (``writer.dry_run``)."""
    how = Sources(layouts=layouts, cache_dir=cache_dir, jobs=jobs, entries=entries)
    return start_feeds(site, posts, options, writer, how).finish()


@dataclass(frozen=True, kw_only=True)
class Sources:
    """What the feed files are made from besides the posts: the last build's layouts, the
    state folder (the feed cache), the jobs for new items, the posts' feed entries, and
    the worker processes left by a parallel read (``crew``), which write the files that
    cannot be spliced."""

    layouts: LayoutStore | None = None
    cache_dir: Path | None = None
    jobs: int | None = None
    entries: Sequence[FeedEntry] | None = None
    crew: Crew | None = None


def start_feeds(
    site: SiteConfig,
    posts: Sequence[Post],
    options: FeedOptions,
    writer: OutputWriter,
    how: Sources,
) -> FeedWrites:
    """:func:`write_feeds`, with the files written whole handed to ``how.crew``'s workers
    when it has any: the main process may do other work before :meth:`FeedWrites.finish`
    (which must be called) waits for them and puts their files in place."""
    layouts = how.layouts
    pool = how.crew.pool if how.crew is not None and not writer.dry_run else None
    writes = FeedWrites(writer, layouts)
    for document in feed_documents(
        site,
        posts,
        options,
        cache_dir=how.cache_dir,
        readonly=writer.dry_run,
        jobs=how.jobs,
        entries=how.entries,
    ):
        writes.paths.append(document.path)
        if document.kind is None:
            writer.write_bytes(document.path, document.shell)
            continue
        renderer = registry.get(document.kind).module()
        literals = template(
            partial(renderer.render_feed, document.kind, document.shell),
            MARK,
            len(document.posts),
            repeats=getattr(renderer, "CONCATENATES", False) is True,
        )
        # Each item's key, looked up in C (10,000 a file).
        keys = list(map(document.keys.__getitem__, map(attrgetter("id"), document.posts)))
        old = layouts.get(document.path) if literals is not None and layouts is not None else None
        if (
            pool is not None
            and old is None
            and how.cache_dir is not None
            and document.kind in KINDS
        ):
            writes.defer(document, literals, keys)  # nothing to splice from: a worker makes it
            continue
        layout: Layout | None = None
        if old is not None and literals is not None:
            layout = write_spliced(
                writer, document.path, old, literals, keys, partial(_new, document)
            )
        if layout is None:
            layout = _write_whole(writer, document, literals, keys)
        if layouts is not None:
            layouts.set(document.path, layout)
    # The feed cache is committed now (the documents are all taken): the workers read it.
    if pool is not None and how.cache_dir is not None:
        writes.send(pool, how.cache_dir / CACHE_FILE)
    if layouts is not None:
        # The layouts (every file's, posts.json's too: it is written before the wait) go
        # to disk while the spliced files are copied and synced; commit() stamps them.
        writer.meanwhile(layouts.stage)
    return writes


def _write_whole(
    writer: OutputWriter, document: FeedDocument, literals: list[bytes] | None, keys: list[str]
) -> Layout | None:
    assert document.kind is not None
    renderer = registry.get(document.kind).module()
    lengths: list[int] = []
    # In a function of its own: the bytes (70 MB at 10,000 posts) are not alive while
    # the next file is made.
    data = renderer.render_feed(document.kind, document.shell, _measured(document, lengths))
    return write_whole(writer, document.path, data, literals, keys, lengths)


class FeedWrites:
    """The feed files of :func:`start_feeds`: those being made by worker processes are
    put in place by :meth:`finish`, in the order a serial build writes them."""

    def __init__(self, writer: OutputWriter, layouts: LayoutStore | None) -> None:
        self.writer = writer
        self.layouts = layouts
        self.paths: list[str] = []
        #: (document, literals, keys, its place in ``writer.writes``, the worker's answer)
        self._deferred: list[tuple[FeedDocument, list[bytes] | None, list[str], int, Any]] = []

    def defer(self, document: FeedDocument, literals: list[bytes] | None, keys: list[str]) -> None:
        at = len(self.writer.writes) + len(self._deferred)
        self._deferred.append((document, literals, keys, at, None))

    @property
    def busy(self) -> bool:
        """Whether worker processes are making some of the files."""
        return any(future is not None for *_, future in self._deferred)

    def send(self, pool: Any, cache: Path) -> None:
        """Each deferred file to a worker of ``pool``, reading its items from ``cache``
        (none when another build holds it: the files are made here)."""
        if not readable(cache):
            return
        # Every target first: one the writer refuses raises here, before any is sent.
        targets = [os.fspath(self.writer.target(d.path)) for d, *_ in self._deferred]
        sent = []
        for (document, literals, keys, at, _), target in zip(self._deferred, targets, strict=True):
            assert document.kind is not None
            task = Task(
                kind=document.kind,
                shell=document.shell,
                items=tuple(zip((post.id for post in document.posts), keys, strict=True)),
                target=target,
                cache=os.fspath(cache),
                literals=tuple(literals) if literals is not None else None,
            )
            try:
                future = submit(pool, task)
            except Exception:  # a broken pool: the file is written here
                future = None
            sent.append((document, literals, keys, at, future))
        self._deferred = sent

    def finish(self) -> list[str]:
        """Wait for the workers' files and put each in place (or write it here when its
        worker could not make it); returns every feed file's path."""
        deferred, self._deferred = self._deferred, []
        try:
            while deferred:
                document, literals, keys, at, future = deferred[0]
                made = _answer(future)
                del deferred[0]
                if made is None and _failed(future):
                    drop_leftovers(self.writer, document.path)
                layout = self._place(document, literals, keys, at, made)
                if self.layouts is not None:
                    self.layouts.set(document.path, layout)
        finally:
            for document, *_, future in deferred:  # an error above: no temporary file left
                made = _answer(future)
                if made is not None and made.temp is not None:
                    Path(made.temp).unlink(missing_ok=True)
                elif made is None and _failed(future):
                    drop_leftovers(self.writer, document.path)
        return self.paths

    def _place(
        self,
        document: FeedDocument,
        literals: list[bytes] | None,
        keys: list[str],
        at: int,
        made: Made | None,
    ) -> Layout | None:
        writer = self.writer
        if made is None:
            layout = _write_whole(writer, document, literals, keys)
            writer.writes.insert(at, writer.writes.pop())  # where a serial build has it
            return layout
        writer.adopt(document.path, made, at=at)
        stamp = writer.stamps.get(document.path)
        if literals is None or stamp is None or made.lengths is None:
            return None
        if len(made.lengths) != len(keys):
            return None
        return Layout(stamp=stamp, keys=tuple(keys), lengths=made.lengths, literals=tuple(literals))


def _answer(future: Any) -> Made | None:
    """What a worker made of its file; None when it did not (an item it could not read,
    a worker that died, an error: the main process writes the file, and says why)."""
    if future is None:
        return None
    try:
        made = future.result()
    except Exception:
        return None
    return made if isinstance(made, Made) else None


def _failed(future: Any) -> bool:
    """Whether the worker making a file failed or died: one killed (by the kernel, for
    memory) after it made its temporary file leaves it beside the target, younger than
    this build, which the sweep leaves alone as another build's (publisher/sweep.py)."""
    if future is None:
        return False
    try:
        return future.exception() is not None
    except BaseException:  # cancelled
        return True


def _measured(document: FeedDocument, lengths: list[int]) -> Iterator[bytes]:
    for item in document.items():
        lengths.append(len(item))
        yield item


def _new(document: FeedDocument, positions: list[int]) -> list[bytes]:
    """The bytes of the items at ``positions``, from the cache (or rendered again)."""
    return list(document.items([document.posts[i] for i in positions]))
