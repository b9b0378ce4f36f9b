"""The read stage of a build, whichever way it goes: every post read (and the site table
kept for the next build), or only the changed ones (``quick.py``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from publisher import collector
from publisher.collector import paused
from publisher.config import Config
from publisher.incremental.quick import eligible
from publisher.incremental.rows import count_tags, make_rows
from publisher.incremental.table import CHUNK, TABLE_FILE, SiteTable, folders
from publisher.posts.model import Post, ReadResult
from publisher.progress import READING

if TYPE_CHECKING:
    from publisher.feeds.plan import FeedEntry
    from publisher.snapshot import Snapshot

#: Makes a progress callback for ``total`` steps of work called ``label`` (build.py's).
ProgressFactory = Callable[[int, str], AbstractContextManager[Any]]
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
            collector.hold()  # released when the table is kept, the build's last step
            return SiteRead(
                read=changed.read,
                published=changed.published,
                drafts=changed.drafts,
                scheduled=changed.scheduled,
                entries=changed.entries,
                index_keys=changed.index_keys,
                live=changed.live,
                keep=_releasing(changed.save),
            )
    from publisher.posts import find_post_files

    files = find_post_files(config)  # found once: the progress bar's total, then read
    with progress(len(files), READING) as bar:
        read = load(config, readonly=dry_run, jobs=jobs, progress=bar, files=files)
    if parsed:
        # They are in the post cache now; a build without the quick read parsed them here.
        read = replace(read, cache_hits=max(0, read.cache_hits - sum(parsed)))
    entries = None
    if not dry_run and config.feeds.enabled:
        from publisher.feeds.plan import feed_entries

        entries = feed_entries(read.posts, config.site, config.feeds.options)
    if not dry_run:
        collector.hold()  # released when the table is kept (a dry run keeps none)
    published = read.published(now)
    drafts = tuple(p for p in read.posts if p.draft)
    scheduled = tuple(p for p in read.posts if not p.draft and p.date > now)

    @_releasing
    def keep() -> None:
        if snapshot is not None and not dry_run:
            keep_table(config, snapshot, read, entries)

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
    )


@paused()
def keep_table(
    config: Config, snapshot: Snapshot, read: ReadResult, entries: list[FeedEntry] | None
) -> None:
    """After a build that read every post: keep its site table, or forget the last one
    when this build cannot have one (the next build then reads every post too)."""
    table = SiteTable(config.state / TABLE_FILE)
    try:
        inputs, digests = folders(snapshot)
        by_id = {e.id: e for e in entries} if entries is not None else None
        if config.feeds.enabled and by_id is None:
            rows = None
        else:
            rows = make_rows(config, read, by_id, digests) if eligible(config) and inputs else None
        if rows is None or inputs is None:
            table.forget()
            return
        spellings = count_tags(f.tags for f in read.found if f.tags is not None)
        table.save(
            inputs=inputs,
            spellings={key: dict(counts) for key, counts in spellings.items()},
            chunks={n: rows[i : i + CHUNK] for n, i in enumerate(range(0, len(rows), CHUNK))},
            whole=True,
        )
    finally:
        table.close()


def _releasing(keep: Callable[[], None]) -> Callable[[], None]:
    """``keep``, then give the collector back what the read set aside (``collector.hold``)."""

    def kept() -> None:
        try:
            keep()
        finally:
            collector.release()

    return kept
