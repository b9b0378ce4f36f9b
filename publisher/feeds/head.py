"""What an RSS or Atom feed says about itself (:class:`FeedHead`) and the constants its
head is written with: shared by feedgen's path (``rss_atom.py``) and the heads written
directly (``xml_heads.py``), which ``rss_atom`` falls back from."""

from __future__ import annotations

from datetime import UTC, datetime

from publisher.dataclass import dataclass

ATOM_NS = "http://www.w3.org/2005/Atom"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
RSS_DOCS = "https://www.rssboard.org/rss-specification"
GENERATOR = "publisher"

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (issue 12)

if TYPE_CHECKING:
    from typing import Literal

    Kind = Literal["rss", "atom"]
else:
    Kind = str  # the checker's Literal above, for annotations and aliases only

#: The media type of a feed's self link, by kind.
SELF_TYPE = {"rss": "application/rss+xml", "atom": "application/atom+xml"}


@dataclass(frozen=True, kw_only=True)
class FeedHead:
    """What a feed says about itself: titles, its own URL, the site's, stylesheet, hub."""

    title: str
    description: str
    site_url: str
    language: str
    author_name: str
    author_email: str | None
    self_url: str
    stylesheet_href: str | None
    hub: str | None
    category_scheme: str
    tag_scheme: str
    #: Absolute URLs of the feed's square icon and wide logo, and its copyright line.
    icon: str | None = None
    logo: str | None = None
    rights: str | None = None
