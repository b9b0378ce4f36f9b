"""Which feeds a site gets and which posts each holds: planned from a few fields of each
post (:class:`FeedEntry`), not the posts themselves, so a build that read only the
changed posts plans them from the site table's rows (``publisher/incremental``)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import datetime

from publisher.config import SiteConfig
from publisher.dataclass import dataclass
from publisher.feeds.cache import context_key, post_key
from publisher.feeds.items import item_dates, labels, slugs
from publisher.feeds.options import FeedOptions
from publisher.posts.model import Post
from publisher.tuples import NamedTuple


class FeedEntry(NamedTuple):
    """What the feed stage needs to know of a published post to plan the feeds, date
    them and find its items in the cache: a few fields, not the post (a build that read
    only the changed posts has these from the site table, ``publisher/incremental``)."""

    id: str
    #: ``item_dates(post)[0].timestamp()``: feeds are newest first by it, then by id.
    moment: float
    #: ``item_dates(post)[1]``: a feed is dated by its newest item's.
    updated: datetime
    categories: tuple[str, ...]
    tags: tuple[str, ...]
    authors: tuple[str, ...]  # their names
    is_featured: bool
    is_popular: bool
    #: The key of its items in the feed cache (``cache.post_key``).
    key: str


def feed_entries(posts: Sequence[Post], site: SiteConfig, options: FeedOptions) -> list[FeedEntry]:
    """The :class:`FeedEntry` of each post, in the same order."""
    context = context_key(site, options)
    entries = []
    for post in posts:
        published, updated = item_dates(post, site)
        entries.append(
            FeedEntry(
                id=post.id,
                moment=published.timestamp(),
                updated=updated,
                categories=post.categories,
                tags=post.tags,
                authors=tuple(a.name for a in post.authors),
                is_featured=post.is_featured,
                is_popular=post.is_popular,
                key=post_key(post, context),
            )
        )
    return entries


@dataclass(frozen=True, kw_only=True)
class FeedPlan:
    """One feed, in every enabled format: where it goes, what it is called, what it holds."""

    folder: str
    title: str
    posts: tuple[FeedEntry, ...]


def plan_feeds(
    posts: Sequence[FeedEntry], site: SiteConfig, options: FeedOptions
) -> list[FeedPlan]:
    """The main feed plus every optional feed switched on; ``posts`` are newest first."""
    plans = [FeedPlan(folder="", title=site.title, posts=tuple(posts[: options.limit]))]

    def grouped(
        values: Callable[[FeedEntry], tuple[str, ...]], path: str, limit: int | None, title: str
    ) -> None:
        groups: dict[str, list[FeedEntry]] = defaultdict(list)
        for post in posts:
            for value in values(post):
                groups[value].append(post)
        names = slugs(sorted(groups))
        for name in sorted(groups, key=lambda n: names[n]):
            plans.append(
                FeedPlan(
                    folder=path.replace("{slug}", names[name]),
                    title=title.format(site=site.title, name=name),
                    posts=tuple(groups[name][:limit]),
                )
            )

    if options.categories:
        grouped(
            lambda p: labels(p.categories),
            options.category_path,
            options.category_limit,
            "{site}: {name}",
        )
    if options.tags:
        grouped(
            lambda p: labels(p.tags),
            options.tag_path,
            options.tag_limit,
            "{site}: posts tagged {name}",
        )
    if options.authors:
        grouped(
            lambda p: labels(p.authors),
            options.author_path,
            options.author_limit,
            "{site}: posts by {name}",
        )
    for switch, flag, folder, name in (
        (options.featured, "is_featured", options.featured_path, "featured"),
        (options.popular, "is_popular", options.popular_path, "popular"),
    ):
        if switch:
            chosen = [p for p in posts if getattr(p, flag)][: options.limit]
            plans.append(
                FeedPlan(folder=folder, title=f"{site.title}: {name}", posts=tuple(chosen))
            )
    return plans
