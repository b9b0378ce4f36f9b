"""Which feeds a site gets and the bytes of each: ``build_feeds``, the feed stage.

A pure function of the site settings, the published posts and the feed options (it only
reads og image headers, the shipped stylesheet and its own cache of rendered items): the
same input gives the same bytes, so the output writer skips every unchanged file on a
rebuild, and the cache (``cache.py``) lets that rebuild render only the posts that changed.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from functools import partial
from operator import attrgetter
from pathlib import Path
from urllib.parse import urlsplit

from publisher import resources
from publisher.config import SiteConfig
from publisher.dataclass import dataclass, replace
from publisher.errors import FeedError
from publisher.feeds import formats as registry
from publisher.feeds.cache import (
    CACHE_FILE,
    FeedCache,
    Fragments,
    context_key,
    head_key,
)
from publisher.feeds.head import FeedHead
from publisher.feeds.items import (
    absolute_url,
    feed_item,
)
from publisher.feeds.options import FeedOptions
from publisher.feeds.plan import FeedEntry, FeedPlan, feed_entries, plan_feeds
from publisher.picking import pick
from publisher.posts.model import Post

STYLESHEET = "feeds/feed.xsl"
#: Posts rendered together (see :func:`iter_feeds`).
RENDER_CHUNK = 256
#: Below this many posts to render, a process pool costs more than it saves.
PARALLEL_THRESHOLD = 200


def feed_url(site: SiteConfig, path: str) -> str:
    """The public URL of the output file ``path``: what its self link says and the lint expects."""
    return absolute_url(f"{site.url.rstrip('/')}/{path}")


def build_feeds(
    site: SiteConfig,
    posts: Sequence[Post],
    options: FeedOptions,
    *,
    cache_dir: Path | None = None,
    readonly: bool = False,
    jobs: int | None = None,
) -> dict[str, bytes]:
    """Every feed file, keyed by its path relative to the output folder, in sorted order.

    ``posts`` are the published posts; none is filtered out here. With ``cache_dir`` (the
    state folder), each post's rendered items are kept in it and reused by the next build
    while the post is unchanged; ``readonly`` (a dry run) reads that cache but never writes
    it. The bytes are the same with or without a cache.
    """
    return dict(iter_feeds(site, posts, options, cache_dir=cache_dir, readonly=readonly, jobs=jobs))


def iter_feeds(
    site: SiteConfig,
    posts: Sequence[Post],
    options: FeedOptions,
    *,
    cache_dir: Path | None = None,
    readonly: bool = False,
    jobs: int | None = None,
) -> Iterator[tuple[str, bytes]]:
    """:func:`build_feeds` one file at a time, in path order: a caller that writes each
    file before asking for the next holds one feed document in memory, not all of them
    (10,000 posts with full content make a 70 MB RSS file and a 70 MB Atom file). The
    cache is written once the last file has been made. Many new items are rendered by
    ``jobs`` processes (default: one per core)."""
    for document in feed_documents(
        site, posts, options, cache_dir=cache_dir, readonly=readonly, jobs=jobs
    ):
        yield document.path, document.data()


@dataclass(frozen=True, kw_only=True)
class FeedDocument:
    """One output file of the feed stage, before its bytes are made: :meth:`data` makes
    them from the cached head and items (``publisher/feeds/splice.py`` can instead copy
    most of them from the file the last build wrote)."""

    path: str
    #: The format, or None for the stylesheet.
    kind: str | None
    shell: bytes
    posts: tuple[FeedEntry, ...]
    keys: Mapping[str, str]
    cache: FeedCache
    #: Renders the items of posts the cache lost (not expected: its file went away).
    render: Callable[[Sequence[FeedEntry]], Fragments]

    def data(self) -> bytes:
        if self.kind is None:
            return self.shell
        return registry.get(self.kind).module().render_feed(self.kind, self.shell, self.items())

    def items(self, posts: Sequence[FeedEntry] | None = None) -> Iterator[bytes]:
        """The ``kind`` items of ``posts`` (default: the document's) in order, read from
        the cache a chunk at a time."""
        assert self.kind is not None
        posts = self.posts if posts is None else posts
        for start in range(0, len(posts), 500):
            chunk = posts[start : start + 500]
            items = self.cache.items(self.kind, {post.id: self.keys[post.id] for post in chunk})
            lost = [post for post in chunk if post.id not in items]
            if lost:  # not expected (the cache file went away?); rendering again is the same
                items.update(self.render(lost)[self.kind])
            for post in chunk:
                yield items[post.id]


def feed_documents(
    site: SiteConfig,
    posts: Sequence[Post],
    options: FeedOptions,
    *,
    cache_dir: Path | None = None,
    readonly: bool = False,
    jobs: int | None = None,
    entries: Sequence[FeedEntry] | None = None,
) -> Iterator[FeedDocument]:
    """Every file of :func:`iter_feeds`, in path order, as a :class:`FeedDocument`; the
    cache is committed once the last one has been taken. ``entries``: each post's
    :class:`FeedEntry`, in the order of ``posts``, if the caller has them; a post is
    then looked at only when its items must be rendered."""
    if entries is None:
        entries = feed_entries(posts, site, options)
    position = {entry.id: i for i, entry in enumerate(entries)}
    ordered = feed_order(entries)
    xml_formats = {"rss", "atom"} & set(options.formats)
    stylesheet = options.stylesheet and bool(xml_formats)
    base_head = feed_head(site, options)
    plans = plan_feeds(ordered, site, options)
    outputs = [(f.name, registry.path_of(options, f.name)) for f in registry.FORMATS]
    # Every file's path first: a clash is an error before anything is rendered.
    files: dict[str, tuple[FeedPlan, str] | None] = {}

    def put(path: str, made_of: tuple[FeedPlan, str] | None) -> None:
        if path in files:
            raise FeedError(
                f"feeds: two feeds would be written to {path}; "
                "give feeds.category_path, tag_path, featured_path and popular_path distinct folders"
            )
        files[path] = made_of

    for plan in plans:
        for kind, filename in outputs:
            if kind in options.formats:
                put(plan.folder + filename, (plan, kind))
    if stylesheet:
        put(options.stylesheet_path, None)

    # Only posts that appear in some feed are rendered, each once, whatever the feed count.
    shown = {entry.id: entry for plan in plans for entry in plan.posts}
    updated = {post_id: entry.updated for post_id, entry in shown.items()}
    context = context_key(site, options)
    keys = {post_id: entry.key for post_id, entry in shown.items()}
    cache = FeedCache(cache_dir / CACHE_FILE if cache_dir else None, readonly=readonly)

    def render(lost: Sequence[FeedEntry]) -> Fragments:
        chosen = pick(posts, [position[entry.id] for entry in lost])
        fresh = render_items(chosen, site=site, options=options, head=base_head)
        cache.add_items({entry.id: keys[entry.id] for entry in lost}, fresh)  # once, kept
        return fresh

    try:
        cache.load(keys, options.formats, contents=False)  # which stored items still hold
        # Together: posts made lazily (incremental/lazy.py) are made in one read.
        missing = pick(posts, [position[i] for i in shown if i not in cache.hits])
        # In chunks: a post's feedgen entry and sanitized body are much larger than its
        # rendered bytes, so only one chunk's worth of them is alive at a time. The cache
        # keeps them (in its database when it has one), not this function: each file
        # below reads back only its own items (issue 12, memory at 10,000 posts).
        for chunk, fresh in _render_chunks(missing, site, options, base_head, jobs):
            cache.add_items({post.id: keys[post.id] for post in chunk}, fresh)
            del fresh
        del missing
        # A feed with no items (a featured feed before anything is featured, a site with no
        # post yet) is dated by the site's newest post, else by feeds.tag_uri_date: a date
        # from the config, never the build time (which would change the bytes every build)
        # nor 1970.
        fallback = max(updated.values(), default=None) or tag_date(options.tag_uri_date)
        # Each feed's date, once for all its formats, its items' looked up in C.
        newest_of: dict[int, datetime] = {}
        for path in sorted(files):
            made_of = files[path]
            if made_of is None:
                sheet = (resources.templates() / STYLESHEET).read_bytes()
                yield FeedDocument(
                    path=path, kind=None, shell=sheet, posts=(), keys={}, cache=cache, render=render
                )
                continue
            plan, kind = made_of
            newest = newest_of.get(id(plan))
            if newest is None:
                ids = map(attrgetter("id"), plan.posts)
                newest = newest_of[id(plan)] = max(map(updated.__getitem__, ids), default=fallback)
            head = replace(base_head, title=plan.title, self_url=feed_url(site, path))
            yield FeedDocument(
                path=path,
                kind=kind,
                shell=_shell(cache, context, kind, head, newest),
                posts=plan.posts,
                keys=keys,
                cache=cache,
                render=render,
            )
        cache.commit()
    finally:
        cache.close()


def feed_order(entries: Sequence[FeedEntry]) -> list[FeedEntry]:
    """``entries`` newest first (by ``moment``), then by id: ``sorted`` by the key
    ``(-moment, id)``, as two sorts by keys made in C (a stable sort keeps the order by
    id among equal moments, also in reverse; at 10,000 posts a lambda per entry was 3 to
    5 ms, and the entries usually come in this order already)."""
    ordered = sorted(entries, key=attrgetter("id"))
    ordered.sort(key=attrgetter("moment"), reverse=True)
    return ordered


def feed_head(site: SiteConfig, options: FeedOptions) -> FeedHead:
    """The head every feed of the site starts from (each feed sets its title and URL)."""
    site_url = site.url.rstrip("/")
    site_path = urlsplit(site_url).path
    # The stylesheet styles the XML formats (it is pointless with JSON alone).
    stylesheet = options.stylesheet and bool({"rss", "atom"} & set(options.formats))
    return FeedHead(
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
        icon=_site_image(site_url, options.icon),
        logo=_site_image(site_url, options.logo),
        rights=options.rights,
    )


def _render_chunks(
    posts: Sequence[Post], site: SiteConfig, options: FeedOptions, head: FeedHead, jobs: int | None
) -> Iterator[tuple[Sequence[Post], Fragments]]:
    """The items of ``posts``, rendered a chunk at a time, in order: by a process pool
    when there are many (the chunks are independent: a post's item is the same bytes
    whichever chunk renders it), else here."""
    chunks = [posts[i : i + RENDER_CHUNK] for i in range(0, len(posts), RENDER_CHUNK)]
    workers = min(jobs if jobs is not None else (os.cpu_count() or 1), len(chunks))
    done = 0
    if workers > 1 and len(posts) >= PARALLEL_THRESHOLD:
        render = partial(render_items, site=site, options=options, head=head)
        # Imported here: a build that renders a few items never starts a pool.
        from concurrent.futures import ProcessPoolExecutor
        from concurrent.futures.process import BrokenProcessPool

        from publisher.interrupts import ctrl_c_deferred
        from publisher.posts.workers import die_with_parent

        try:
            with ProcessPoolExecutor(
                max_workers=workers, initializer=die_with_parent, initargs=(os.getpid(),)
            ) as pool:
                with ctrl_c_deferred():  # the workers are forked as the chunks are handed out
                    fresh_chunks = pool.map(render, chunks)
                for fresh in fresh_chunks:
                    yield chunks[done], fresh
                    done += 1
        except BrokenProcessPool:
            pass  # a worker died (out of memory?): the rest is rendered here
    for chunk in chunks[done:]:
        yield chunk, render_items(chunk, site, options, head)


def tag_date(text: str) -> datetime:
    """``feeds.tag_uri_date`` (``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``) as midnight UTC."""
    year, month, day = ([*map(int, text.split("-")), 1, 1])[:3]
    return datetime(year, month, day, tzinfo=UTC)


def _site_image(site_url: str, value: str | None) -> str | None:
    """An icon or logo option as an absolute URL (a path is on the site)."""
    if value is None:
        return None
    if urlsplit(value).scheme:
        return absolute_url(value)
    return absolute_url(f"{site_url}/{value.lstrip('/')}")


def _shell(
    cache: FeedCache, context: bytes, kind: str, head: FeedHead, newest: datetime | None
) -> bytes:
    """A feed file's head (the document with no items), cached like the items."""
    fmt = registry.get(kind)
    updated = newest if fmt.dated else None
    key = head_key(context, kind, head, updated)
    shell = cache.head(key)
    if shell is None:
        shell = fmt.module().render_shell(kind, head, updated)
        cache.add_head(key, shell)
    return shell


def render_items(
    posts: Sequence[Post], site: SiteConfig, options: FeedOptions, head: FeedHead
) -> Fragments:
    """Each post's item in every enabled format: format -> post id -> bytes."""
    items = [feed_item(post, site, options) for post in posts]
    rendered: dict[str, list[bytes]] = {}
    # One call per renderer module: formats sharing one (RSS, Atom) share its work.
    by_module: dict[str, list[str]] = {}
    for fmt in registry.FORMATS:
        if fmt.name in options.formats:
            by_module.setdefault(fmt.renderer, []).append(fmt.name)
    for names in by_module.values():
        rendered.update(registry.get(names[0]).module().render_items(names, items, head))
    ids = [item.post_id for item in items]
    return {kind: dict(zip(ids, parts, strict=True)) for kind, parts in rendered.items()}
