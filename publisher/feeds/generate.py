"""Which feeds a site gets and the bytes of each: ``build_feeds``, the feed stage.

A pure function of the site settings, the published posts and the feed options (it only
reads og image headers and the shipped stylesheet): the same input gives the same bytes,
so the output writer skips every unchanged file on a rebuild.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

from publisher import resources
from publisher.config import SiteConfig
from publisher.errors import FeedError
from publisher.feeds.items import FeedItem, absolute_url, feed_item, labels, newest_first, slugs
from publisher.feeds.jsonfeed import render_json
from publisher.feeds.options import FeedOptions
from publisher.feeds.rss_atom import FeedHead, make_entry, render_atom, render_rss
from publisher.posts.model import Post

STYLESHEET = "feeds/feed.xsl"


@dataclass(frozen=True, kw_only=True)
class FeedPlan:
    """One feed, in every enabled format: where it goes, what it is called, what it holds."""

    folder: str
    title: str
    posts: tuple[Post, ...]


def plan_feeds(posts: Sequence[Post], site: SiteConfig, options: FeedOptions) -> list[FeedPlan]:
    """The main feed plus every optional feed switched on; ``posts`` are newest first."""
    plans = [FeedPlan(folder="", title=site.title, posts=tuple(posts[: options.limit]))]

    def grouped(
        values: Callable[[Post], tuple[str, ...]], path: str, limit: int | None, title: str
    ) -> None:
        groups: dict[str, list[Post]] = defaultdict(list)
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


def feed_url(site: SiteConfig, path: str) -> str:
    """The public URL of the output file ``path``: what its self link says and the lint expects."""
    return absolute_url(f"{site.url.rstrip('/')}/{path}")


def build_feeds(site: SiteConfig, posts: Sequence[Post], options: FeedOptions) -> dict[str, bytes]:
    """Every feed file, keyed by its path relative to the output folder, in sorted order.

    ``posts`` are the published posts; none is filtered out here.
    """
    ordered = newest_first(posts, site)
    site_url = site.url.rstrip("/")
    site_path = urlsplit(site_url).path
    xml_formats = {"rss", "atom"} & set(options.formats)
    stylesheet = options.stylesheet and bool(xml_formats)
    files: dict[str, bytes] = {}

    def put(path: str, data: bytes) -> None:
        if path in files:
            raise FeedError(
                f"feeds: two feeds would be written to {path}; "
                "give feeds.category_path, tag_path, featured_path and popular_path distinct folders"
            )
        files[path] = data

    # Only posts that appear in some feed are converted, each once, whatever the feed count.
    items: dict[str, FeedItem] = {}
    entries: dict[str, Any] = {}
    base_head = FeedHead(
        title=site.title,
        self_url=site_url,
        description=site.description,
        site_url=site_url + "/",
        language=site.language,
        author_name=site.author.name if site.author else site.title,
        author_email=site.author.email if site.author else None,
        stylesheet_href=f"{site_path}/{options.stylesheet_path}" if stylesheet else None,
        hub=options.hub,
        category_scheme=f"{site_url}/categories",
        tag_scheme=f"{site_url}/tags",
    )
    for plan in plan_feeds(ordered, site, options):
        plan_items = []
        for post in plan.posts:
            if post.id not in items:
                items[post.id] = feed_item(post, site, options)
            plan_items.append(items[post.id])
        for kind, filename in (
            ("rss", options.rss_path),
            ("atom", options.atom_path),
            ("json", options.json_path),
        ):
            if kind not in options.formats:
                continue
            path = plan.folder + filename
            head = replace(base_head, title=plan.title, self_url=feed_url(site, path))
            if kind == "json":
                put(path, render_json(head, plan_items))
                continue
            feed_entries = []
            for item in plan_items:
                if item.post_id not in entries:
                    entries[item.post_id] = make_entry(item, head)
                feed_entries.append(entries[item.post_id])
            render = render_rss if kind == "rss" else render_atom
            put(path, render(head, plan_items, feed_entries))
    if stylesheet:
        put(options.stylesheet_path, (resources.templates() / STYLESHEET).read_bytes())
    return dict(sorted(files.items()))
