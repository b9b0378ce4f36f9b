"""Feed items rendered by the read workers, while the posts are parsed (issue 12).

A cold build used to parse every post in one process pool, then send every post (body
included) to a second pool to render its feed items. Here a read worker renders a post's
items right after parsing it, and the main process stores them in the feed cache as they
come back, so the feed stage finds them there, like the items of an earlier build.

The rendering is speculative: a worker sees one post, not the rules that look across posts
(``posts/rules.py``: a tag's most common spelling, a URL two posts share). Each item is
stored under the feed key of the post the worker made (:func:`~publisher.feeds.cache.
post_key`: the file's content key, its path, the og image and its stat, the tags), and the
feed stage uses a cached item only when the finished post has that same key; any other
item is rendered there as before. So the bytes are those of a build without it.

Each worker stores the items it rendered in the feed cache itself, a chunk per
transaction, so 140 MB of items at 10,000 posts are not pickled to the main process and
written there while it waits for the workers; a worker that cannot write the file (locked
by another build, damaged) hands its items to the main process, which stores them.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

from publisher.config import Config
from publisher.feeds.cache import CACHE_FILE, FeedCache, context_key, post_key
from publisher.feeds.generate import feed_head, render_items
from publisher.posts.reader import Record
from publisher.posts.rules import finalize

#: A post's items: (post id, feed key, format -> the item's bytes).
Row = tuple[str, str, dict[str, bytes]]
#: What a worker sends back: (how many items it stored itself, the rows left to store).
Outcome = tuple[int, list[Row]]


class EarlyItems:
    """Renders (in a worker, :meth:`render`) and stores (in the main process,
    :meth:`keep`, then :meth:`close`) feed items of the posts a cold read parses."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.context = context_key(config.site, config.feeds.options)
        self._cache: FeedCache | None = None
        self._failed = False
        self._lock: AbstractContextManager[Any] = nullcontext()
        #: Items stored (by the workers or here): what tests and the bench count.
        self.stored = 0

    def __getstate__(self) -> dict[str, Any]:
        # A worker started by spawn gets the settings, never the main process's connection.
        return {**self.__dict__, "_cache": None}

    def prepare(self) -> list[Path]:
        """In the main process, holding the workers' lock once they have their first
        posts: the cache file laid out once (two workers opening a new file at once
        would both lay it out; they open it under that lock), and closed, so no worker
        inherits a connection. Returns it: the file the workers write."""
        self.close()
        FeedCache(self.config.state / CACHE_FILE).close()
        return [self.config.state / CACHE_FILE]

    def start(self, lock: AbstractContextManager[Any]) -> None:
        """In a worker, before its first :meth:`render`: a connection of its own (one
        inherited through fork must not be used); ``lock`` is held around each write."""
        self._cache = None
        self._failed = False
        self._lock = lock

    def render(self, records: list[tuple[Record, Path, str, str | None]]) -> list[Outcome]:
        """In a worker: the items of the posts of ``records`` (record, file path, file for
        messages, content key), drafts left out (never in a feed), stored in the feed cache
        from here when it can be written, else returned for :meth:`keep`. A post that
        cannot be made or rendered here is left to the feed stage."""
        rows = self._rows(records)
        if rows and self._put(rows):
            return [(len(rows), [])]
        return [(0, rows)]

    def _put(self, rows: list[Row]) -> bool:
        """Store and commit ``rows`` from this process (a worker): False when they could
        not be, and from then on, for this worker (it hands its rows to the main process)."""
        if self._failed:
            return False
        with self._lock:  # opened under it too: the main process may be laying it out
            if self._cache is None:
                self._cache = FeedCache(self.config.state / CACHE_FILE).unsynced()
            if self._cache.add_rows(rows) and self._cache.store():
                return True
        self._failed = True
        self._cache.close()
        return False

    def _rows(self, records: list[tuple[Record, Path, str, str | None]]) -> list[Row]:
        # The rules across posts, among this chunk's posts only: a post the whole site
        # makes otherwise gets another key (a tag's spelling) or is skipped (a URL).
        try:
            chunk = [r for r in records if not r[0].get("draft")]
            posts = finalize(chunk, self.config, [], hand_back=True)
        except Exception:  # the main process reports it, with the post's file
            return []
        posts = [post for post in posts if post.origin is not None]
        if not posts:
            return []
        site, options = self.config.site, self.config.feeds.options
        try:
            fresh = render_items(posts, site, options, feed_head(site, options))
        except Exception:
            return []
        return [
            (post.id, post_key(post, self.context), {k: v[post.id] for k, v in fresh.items()})
            for post in posts
        ]

    def keep(self, outcomes: list[Outcome]) -> None:
        """In the main process: what :meth:`render` returned. The rows a worker did not
        store go into the feed cache from here (uncommitted until :meth:`close`)."""
        for stored, rows in outcomes:
            self.stored += stored
            self._keep(rows)

    def _keep(self, rows: list[Row]) -> None:
        if not rows or self._failed:
            return
        if self._cache is None:
            self._cache = FeedCache(self.config.state / CACHE_FILE)
        if self._cache.add_rows(rows):
            self.stored += len(rows)
        else:
            self._failed = True  # locked or unwritable: the feed stage renders them

    def meanwhile(self) -> None:
        """In the main process, while the workers parse the last posts (it has nothing
        else to do): the modules the feed stage and ``posts.json`` import, loaded now
        rather than after the read, when one core waits on this process (issue 12).
        Not feedgen and the dateutil it loads (23 to 38 ms): the feed heads are written
        without them (``xml_heads.py``), so a build that needs neither loads neither."""
        import publisher.feeds.splice
        import publisher.index

        if {"rss", "atom"} & set(self.config.feeds.options.formats):
            import publisher.feeds.xml_heads  # noqa: F401

    def close(self) -> None:
        """Commit what was stored, before the feed stage opens the cache."""
        if self._cache is not None:
            self._cache.store()
            self._cache.close()
            self._cache = None
