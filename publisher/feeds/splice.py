"""Write the feed files, copying what did not change from the files the last build wrote.

A feed file is its head, its items and the bytes between them: its layout (see
:mod:`publisher.splicing`) is kept with the file's stamp. When the file on disk is still
the one the last build wrote, the next build writes the new file from runs of the old one
and the bytes of the items that are new, and reads nothing else back from the feed cache.
Anything unexpected (no layout, a file changed by hand, a renderer that does not just
concatenate its items) writes the whole file, as before; the bytes are the same either way.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import partial
from pathlib import Path

from publisher.config import SiteConfig
from publisher.feeds import formats as registry
from publisher.feeds.generate import FeedDocument, feed_documents
from publisher.feeds.options import FeedOptions
from publisher.feeds.plan import FeedEntry
from publisher.output import OutputWriter
from publisher.posts.model import Post
from publisher.splicing import Layout, LayoutStore, template, write_spliced, write_whole

#: Stands for an item while a document's literal bytes are found: a NUL is in no XML
#: document and escaped in JSON, so the mark cannot be part of a head.
MARK = b"\x00publisher item\x00"


def write_feeds(
    site: SiteConfig,
    posts: Sequence[Post],
    options: FeedOptions,
    writer: OutputWriter,
    *,
    layouts: LayoutStore | None = None,
    cache_dir: Path | None = None,
    jobs: int | None = None,
    entries: Sequence[FeedEntry] | None = None,
) -> list[str]:
    """Write every feed file through ``writer`` (the bytes :func:`~publisher.feeds.
    generate.iter_feeds` gives, spliced where ``layouts`` allows); returns their paths.
    ``entries``: as :func:`~publisher.feeds.generate.feed_documents` takes them. The
    feed cache is only read in a dry run (``writer.dry_run``)."""
    paths = []
    for document in feed_documents(
        site,
        posts,
        options,
        cache_dir=cache_dir,
        readonly=writer.dry_run,
        jobs=jobs,
        entries=entries,
    ):
        paths.append(document.path)
        if document.kind is None:
            writer.write_bytes(document.path, document.shell)
            continue
        renderer = registry.get(document.kind).module()
        literals = template(
            partial(renderer.render_feed, document.kind, document.shell), MARK, len(document.posts)
        )
        keys = [document.keys[post.id] for post in document.posts]
        layout: Layout | None = None
        if literals is not None and layouts is not None:
            old = layouts.get(document.path)
            layout = write_spliced(
                writer, document.path, old, literals, keys, partial(_new, document)
            )
        if layout is None:
            lengths: list[int] = []
            data = renderer.render_feed(document.kind, document.shell, _measured(document, lengths))
            layout = write_whole(writer, document.path, data, literals, keys, lengths)
            del data  # 70 MB at 10,000 posts: not alive while the next file is made
        if layouts is not None:
            layouts.set(document.path, layout)
    return paths


def _measured(document: FeedDocument, lengths: list[int]) -> Iterator[bytes]:
    for item in document.items():
        lengths.append(len(item))
        yield item


def _new(document: FeedDocument, positions: list[int]) -> list[bytes]:
    """The bytes of the items at ``positions``, from the cache (or rendered again)."""
    return list(document.items([document.posts[i] for i in positions]))
