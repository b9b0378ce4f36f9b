"""The ``feeds:`` section of config.yaml: :class:`FeedOptions`, what every feed stage reads.

Its validator, ``parse_feed_options``, is in option_schema.py: a build handed the config
the last one loaded (config/stored.py) makes FeedOptions without the schema.
"""

from __future__ import annotations

from publisher.dataclass import dataclass
from publisher.feeds import formats as registry

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (issue 12)

if TYPE_CHECKING:
    from typing import Literal

    Content = Literal["full", "summary"]
else:
    Content = str  # the checker's Literal above, for annotations and aliases only

#: A name in :data:`publisher.feeds.formats.FORMATS`.
Format = str
FORMATS: tuple[Format, ...] = registry.names()


@dataclass(frozen=True, kw_only=True)
class FeedOptions:
    """How feeds are built. Every field has a default, so ``FeedOptions()`` is the default config."""

    formats: tuple[Format, ...] = FORMATS
    rss_path: str = "rss.xml"
    atom_path: str = "atom.xml"
    json_path: str = "feed.json"
    limit: int | None = 20
    content: Content = "full"
    categories: bool = False
    category_path: str = "categories/{slug}/"
    category_limit: int | None = 20
    tags: bool = False
    tag_path: str = "tags/{slug}/"
    tag_limit: int | None = 20
    featured: bool = False
    featured_path: str = "featured/"
    popular: bool = False
    popular_path: str = "popular/"
    #: One feed per author (opt-in), like categories and tags.
    authors: bool = False
    author_path: str = "authors/{slug}/"
    author_limit: int | None = 20
    #: Off by default: Chromium is removing XSLT and shows a banner over styled feeds.
    stylesheet: bool = False
    stylesheet_path: str = "feed.xsl"
    hub: str | None = None
    tag_uri_date: str = "2000"
    #: Square image (Atom <icon>, JSON Feed icon/favicon): a URL or a path on the site.
    icon: str | None = None
    #: Wide image, 2:1 (Atom <logo>, RSS <image>): a URL or a path on the site.
    logo: str | None = None
    #: Copyright notice (Atom <rights>, RSS <copyright>), e.g. "© 2026 The Lantern authors".
    rights: str | None = None
