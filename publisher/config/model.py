"""What a validated ``config.yaml`` holds: frozen dataclasses, no I/O.

:mod:`publisher.config.loader` builds them; every other stage only reads them. Each class
has a docstring: without one, ``dataclass`` writes one from ``inspect.signature``, which
costs every build importing this module about 0.1 ms a class (issue 12).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import tzinfo
from pathlib import Path

from publisher.dataclass import dataclass, field
from publisher.zones import zone

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (issue 12)

if TYPE_CHECKING:
    from typing import Any

    from publisher.cards.options import CardOptions
    from publisher.feeds.options import FeedOptions
    from publisher.loadtrail import Trail
    from publisher.posts.sources.base import SourceRules


@dataclass(frozen=True, kw_only=True)
class SiteAuthor:
    """The site's author (``site.author``): the feeds', and a post's that names none."""

    name: str
    email: str | None = None


@dataclass(frozen=True, kw_only=True)
class SiteConfig:
    """The ``site:`` section: what the site is called, where it lives, its language and zone."""

    title: str
    url: str
    description: str
    language: str
    timezone: str
    author: SiteAuthor | None

    @property
    def tz(self) -> tzinfo:
        return zone(self.timezone)


@dataclass(frozen=True, kw_only=True)
class PostsConfig:
    """The ``posts:`` section: where the posts are and which generator's rules read them."""

    folder: Path
    glob: str
    summary_keys: tuple[str, ...]
    default_path: str
    #: Which generator's rules read the posts (``posts.generator``); "generic" is the
    #: layout of the example blog.
    generator: str = "generic"
    #: The folder holding the generator's own config files (``posts.site``).
    site: Path | None = None
    #: What the generator's config files say (None for generic).
    rules: SourceRules | None = None
    #: What could not be read from the generator's files, for ``publish init`` and -v.
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class TargetConfig:
    """One announcement target (``announce.targets``): its name, adapter kind and options."""

    name: str
    kind: str
    options: Mapping[str, Any] = field(compare=False)


@dataclass(frozen=True, kw_only=True)
class AnnounceConfig:
    """The ``announce:`` section: whether announcements run, and where to."""

    enabled: bool
    targets: tuple[TargetConfig, ...]
    live_wait: float = 0.0


@dataclass(frozen=True, kw_only=True)
class FeedsConfig:
    """The ``feeds:`` section: whether feeds are written, and their options."""

    enabled: bool
    options: FeedOptions


@dataclass(frozen=True, kw_only=True)
class CardsConfig:
    """The ``cards:`` section: whether Open Graph cards are drawn, and their options."""

    enabled: bool
    options: CardOptions


@dataclass(frozen=True, kw_only=True)
class Config:
    """A whole validated config.yaml, with the folders it names resolved."""

    source: Path
    root: Path
    site: SiteConfig
    posts: PostsConfig
    output: Path
    state: Path
    #: A shared PostgreSQL ledger (``state.ledger``); None: SQLite in the state folder.
    ledger: str | None = field(default=None, repr=False)
    feeds: FeedsConfig
    cards: CardsConfig
    announce: AnnounceConfig
    #: What loading the file read (for the no-op fast path); None when not loaded from one.
    trail: Trail | None = field(default=None, repr=False, compare=False)

    @property
    def cache_file(self) -> Path:
        return self.state / "cache.sqlite"
