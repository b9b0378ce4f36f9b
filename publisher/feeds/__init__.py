"""The feed stage: RSS 2.0, Atom 1.0 and JSON Feed 1.1 from the published posts.

formats.py   FORMATS: every feed format, its file, media type, renderer and lint
options.py   FeedOptions (the ``feeds:`` section of config.yaml)
option_schema.py  parse_feed_options: the ``feeds:`` section checked into FeedOptions
items.py     a Post as a FeedItem: cleaned text, absolute URLs, sanitized HTML
media.py     og image MIME type sniffed from its bytes, and its length
rss_atom.py  RSS and Atom through feedgen (the only module importing it)
xml_items.py, xml_heads.py  the same RSS and Atom bytes, written directly
head.py      FeedHead and the constants a head is written with (every format takes them)
jsonfeed.py  JSON Feed
cache.py     FeedCache: rendered items and feed heads kept between builds (SQLite)
plan.py      which feeds exist and which posts each holds (FeedEntry: a few fields a post)
generate.py  build_feeds: the bytes of each feed (splice.py: written from the last ones)
lint.py      lint_feed: W3C-validator-like checks for ``publish check``
websub.py    ping_hub: tell a WebSub hub that feeds changed

The names below are imported on first use (PEP 562): loading config.yaml imports
``publisher.feeds.options``, which must not pull in lxml, nh3 and feedgen (issue 12).
"""

from __future__ import annotations

from publisher.lazy import lazy_exports

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (issue 12)

if TYPE_CHECKING:
    from publisher.feeds.generate import build_feeds, feed_url
    from publisher.feeds.lint import lint_feed
    from publisher.feeds.option_schema import parse_feed_options
    from publisher.feeds.options import FeedOptions
    from publisher.feeds.websub import ping_hub

#: Each public name and the module that defines it.
_HOMES = {
    "build_feeds": "generate",
    "feed_url": "generate",
    "lint_feed": "lint",
    "FeedOptions": "options",
    "parse_feed_options": "option_schema",
    "ping_hub": "websub",
}

__all__ = ["FeedOptions", "build_feeds", "feed_url", "lint_feed", "parse_feed_options", "ping_hub"]


__getattr__ = lazy_exports(__name__, _HOMES, globals())
