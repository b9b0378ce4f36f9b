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
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from publisher.config import Config
from publisher.feeds.cache import CACHE_FILE, FeedCache, context_key, post_key
from publisher.feeds.generate import feed_head, render_items
from publisher.posts.reader import Record
from publisher.posts.rules import finalize

#: What a worker sends back: (post id, feed key, format -> the item's bytes).
Row = tuple[str, str, dict[str, bytes]]


class EarlyItems:
    """Renders (in a worker, :meth:`render`) and stores (in the main process,
    :meth:`keep`, then :meth:`close`) feed items of the posts a cold read parses."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.context = context_key(config.site, config.feeds.options)
        self._cache: FeedCache | None = None
        self._failed = False
        #: Items stored: what tests and the bench count.
        self.stored = 0

    def __getstate__(self) -> dict[str, Any]:
        # A worker started by spawn gets the settings, never the main process's connection.
        return {**self.__dict__, "_cache": None}

    def render(self, records: list[tuple[Record, Path, str, str | None]]) -> list[Row]:
        """The items of the posts of ``records`` (record, file path, file for messages,
        content key), drafts left out (never in a feed); a post that cannot be made or
        rendered here is left to the feed stage."""
        # The rules across posts, among this chunk's posts only: a post the whole site
        # makes otherwise gets another key (a tag's spelling) or is skipped (a URL).
        try:
            posts = finalize([r for r in records if not r[0].get("draft")], self.config, [])
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

    def keep(self, rows: list[Row]) -> None:
        """Store ``rows`` in the feed cache (uncommitted until :meth:`close`)."""
        if not rows or self._failed:
            return
        if self._cache is None:
            self._cache = FeedCache(self.config.state / CACHE_FILE)
        if self._cache.add_rows(rows):
            self.stored += len(rows)
        else:
            self._failed = True  # locked or unwritable: the feed stage renders them

    def close(self) -> None:
        """Commit what was stored, before the feed stage opens the cache."""
        if self._cache is not None:
            self._cache.store()
            self._cache.close()
            self._cache = None
