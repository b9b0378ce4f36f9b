"""The read stage of a build, whichever way it goes: every post read (and the site table
kept for the next build), or only the changed ones (``quick.py``)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from functools import partial

from publisher.config import Config
from publisher.dataclass import dataclass, replace
from publisher.incremental.quick import eligible
from publisher.incremental.rows import count_tags, make_rows
from publisher.incremental.table import CHUNK, TABLE_FILE, Encoded, SiteTable, encode, folders
from publisher.incremental.walk import take as take_walk
from publisher.posts.model import Post, ReadResult
from publisher.progress import READING

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (issue 12)

if TYPE_CHECKING:
    from typing import Any

    from publisher.feeds.plan import FeedEntry
    from publisher.snapshot import Snapshot

#: Makes a progress callback for ``total`` steps of work called ``label`` (build.py's).
ProgressFactory = Callable[
    [int, str], AbstractContextManager["Any"]
]  # quoted: typing is not imported at run time
#: build.load_posts: reads every post.
Loader = Callable[..., ReadResult]


@dataclass(frozen=True, kw_only=True)
class SiteRead:
    """The posts of a build, split by status, and what the writing stages may take
    instead of looking at each post."""

    read: ReadResult
    published: Sequence[Post]
    drafts: Sequence[Post]
    scheduled: Sequence[Post]
    #: The published posts' feed entries (None: each post's is made from it).
    entries: list[FeedEntry] | None
    #: The published posts' posts.json keys (None: from each post's origin).
    index_keys: list[str] | None
    #: The newest published post's date, the first scheduled one's (inputs.record).
    live: tuple[datetime | None, datetime | None]
    #: Keeps the site table for the next build (after the outputs are written).
    keep: Callable[[], None]
    #: Starts making the site table by a thread (else :attr:`keep` makes it): a cold
    #: build whose read workers write the feed files makes it while they do, and does not
    #: slow the main process's work before it hands them their files (issue 12).
    begin: Callable[[], None] = lambda: None


def read_site(
    config: Config,
    *,
    now: datetime,
    snapshot: Snapshot | None,
    quick: bool,
    how: tuple[bool, int | None, ProgressFactory],
    load: Loader,
) -> SiteRead:
    """Read the posts of a build (``how``: dry run, jobs, progress). ``quick``: it may
    read only the changed posts, from ``snapshot`` (a real build's stat pass)."""
    dry_run, jobs, progress = how
    parsed: list[int] = []  # posts a quick read parsed before it gave up
    if quick and snapshot is not None and not dry_run:
        from publisher.incremental.quick import read_changed

        changed = read_changed(config, snapshot, now, progress, parsed)
        if changed is not None:
            return SiteRead(
                read=changed.read,
                published=changed.published,
                drafts=changed.drafts,
                scheduled=changed.scheduled,
                entries=changed.entries,
                index_keys=changed.index_keys,
                live=changed.live,
                keep=changed.save,
            )
    from publisher.posts import find_post_files

    # Found once (the progress bar's total, then read), from the stat pass's listing.
    files = find_post_files(config, snapshot)
    with progress(len(files), READING) as bar:
        read = load(config, readonly=dry_run, jobs=jobs, progress=bar, files=files)
    if parsed:
        # They are in the post cache now; a build without the quick read parsed them here.
        read = replace(read, cache_hits=max(0, read.cache_hits - sum(parsed)))
    entries = None
    if not dry_run and config.feeds.enabled:
        from publisher.feeds.plan import feed_entries

        entries = feed_entries(read.posts, config.site, config.feeds.options)
    published = read.published(now)
    drafts = tuple(p for p in read.posts if p.draft)
    scheduled = tuple(p for p in read.posts if not p.draft and p.date > now)

    made: Later | None = None
    if snapshot is not None and not dry_run and eligible(config):
        # Made by a thread while the feeds are written (their reads, hashing and writes
        # leave the GIL free most of the time): 0.2 s of CPU at 10,000 posts, and only
        # the save is left for the end of the build. From begin(), or by keep().
        made = Later(partial(table_of, config, snapshot, read, entries))

    def keep() -> None:
        if snapshot is not None and not dry_run:
            save_table(config, made.result() if made is not None else None)

    return SiteRead(
        read=read,
        published=published,
        drafts=drafts,
        scheduled=scheduled,
        entries=None
        if entries is None
        else [e for p, e in zip(read.posts, entries, strict=True) if p.is_live(now)],
        index_keys=None,
        live=(
            max((p.date for p in published), default=None),
            min((p.date for p in scheduled), default=None),
        ),
        keep=keep,
        begin=made.start if made is not None else lambda: None,
    )


def table_of(
    config: Config, snapshot: Snapshot, read: ReadResult, entries: list[FeedEntry] | None
) -> Encoded | None:
    """The site table of a build that read every post, or None when it cannot have one
    (the next build then reads every post too). Run by a thread (:class:`Later`)."""
    if not eligible(config):
        return None
    inputs, digests = folders(snapshot)
    by_id = {e.id: e for e in entries} if entries is not None else None
    if config.feeds.enabled and by_id is None:
        return None
    rows = make_rows(config, read, by_id, digests) if inputs else None
    if rows is None or inputs is None:
        return None
    spellings = count_tags(f.tags for f in read.found if f.tags is not None)
    taken = take_walk(snapshot)
    return encode(
        inputs=inputs,
        spellings={key: dict(counts) for key, counts in spellings.items()},
        chunks={n: rows[i : i + CHUNK] for n, i in enumerate(range(0, len(rows), CHUNK))},
        walk=taken.walk if taken is not None else None,
    )


def save_table(config: Config, kept: Encoded | None) -> None:
    """Keep ``kept`` (:func:`table_of`), or forget the last table when it is None."""
    table = SiteTable(config.state / TABLE_FILE)
    try:
        if kept is None:
            table.forget()
        else:
            table.write(kept, whole=True)
    finally:
        table.close()


class Later:
    """A call made by a thread from :meth:`start`, its answer (or exception) given by
    :meth:`result`; made there, by the caller, if it was never started."""

    def __init__(self, call: Callable[[], Encoded | None]) -> None:
        self._answer: Encoded | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(call,), daemon=True)
        self._call: Callable[[], Encoded | None] | None = call

    def start(self) -> None:
        if self._call is not None:
            self._call = None
            self._thread.start()

    def _run(self, call: Callable[[], Encoded | None]) -> None:
        try:
            self._answer = call()
        except BaseException as error:  # handed to the caller of result()
            self._error = error

    def result(self) -> Encoded | None:
        if self._call is not None:
            call, self._call = self._call, None
            self._run(call)
        else:
            self._thread.join()
        if self._error is not None:
            raise self._error
        return self._answer
