"""Write the feed files, copying what did not change from the files the last build wrote.

A feed file is its head, its items and the bytes between them (:class:`Layout`, kept in
the feed cache with the file's stamp). When the file on disk is still the one the last
build wrote (its stamp: ``OutputWriter.write_splice`` checks it), the next build writes
the new file from runs of the old one (``copy_file_range``: no byte passes through
Python) and the bytes of the items that are new, and reads nothing else back from the
cache: at 10,000 posts, one post edited no longer reads 140 MB of items and writes two
70 MB files from Python (issue 12). Anything unexpected (no layout, a file changed by
hand, a renderer that does not just concatenate its items) writes the whole file, as
before; the bytes are the same either way.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

from publisher.config import SiteConfig
from publisher.feeds import formats as registry
from publisher.feeds.cache import Layout
from publisher.feeds.generate import FeedDocument, feed_documents
from publisher.feeds.options import FeedOptions
from publisher.output import OutputWriter, Part
from publisher.posts.model import Post

#: Stands for an item while a document's literal bytes are found: a NUL is in no XML
#: document and escaped in JSON, so the mark cannot be part of a head.
MARK = b"\x00publisher item\x00"


def write_feeds(
    site: SiteConfig,
    posts: Sequence[Post],
    options: FeedOptions,
    writer: OutputWriter,
    *,
    cache_dir: Path | None = None,
    readonly: bool = False,
    jobs: int | None = None,
) -> list[str]:
    """Write every feed file through ``writer`` (the bytes :func:`~publisher.feeds.
    generate.iter_feeds` gives, spliced where it can); returns their paths."""
    paths = []
    for document in feed_documents(
        site, posts, options, cache_dir=cache_dir, readonly=readonly, jobs=jobs
    ):
        paths.append(document.path)
        if document.kind is None:
            writer.write_bytes(document.path, document.shell)
            continue
        literals = template(document)
        layout = _splice(document, literals, writer) if literals is not None else None
        if layout is None:
            layout = _write_whole(document, literals, writer)
        if not writer.dry_run:
            document.cache.set_layout(document.path, layout)
    return paths


def template(document: FeedDocument) -> list[bytes] | None:
    """The bytes around the items of ``document``: its items' count plus one pieces;
    None when its renderer does not put each item's bytes in the document as they are."""
    assert document.kind is not None
    count = len(document.posts)
    renderer = registry.get(document.kind).module()
    marked = renderer.render_feed(document.kind, document.shell, (MARK for _ in range(count)))
    pieces = marked.split(MARK)
    return pieces if len(pieces) == count + 1 else None


def _write_whole(
    document: FeedDocument, literals: list[bytes] | None, writer: OutputWriter
) -> Layout | None:
    """Write the document's bytes; its layout, when the bytes are laid out as expected."""
    lengths: list[int] = []

    def measured() -> Iterator[bytes]:
        for item in document.items():
            lengths.append(len(item))
            yield item

    assert document.kind is not None
    renderer = registry.get(document.kind).module()
    data = renderer.render_feed(document.kind, document.shell, measured())
    writer.write_bytes(document.path, data)
    stamp = writer.stamps.get(document.path)
    if literals is None or stamp is None or len(lengths) != len(document.posts):
        return None
    at = 0
    for index, literal in enumerate(literals):  # the literals where the layout puts them
        if data[at : at + len(literal)] != literal:
            return None
        at += len(literal) + (lengths[index] if index < len(lengths) else 0)
    if at != len(data):
        return None
    keys = tuple(document.keys[post.id] for post in document.posts)
    return Layout(stamp=stamp, keys=keys, lengths=tuple(lengths), literals=tuple(literals))


def _splice(document: FeedDocument, literals: list[bytes], writer: OutputWriter) -> Layout | None:
    """Write the document from the file the last build wrote, if it is still that file."""
    old = document.cache.layout(document.path)
    if old is None:
        return None
    # Where each piece of the old file is: items by key, literals by offset.
    items: dict[str, tuple[int, int]] = {}
    literal_at: dict[int, bytes] = {}
    at = 0
    for index, literal in enumerate(old.literals):
        literal_at[at] = literal
        at += len(literal)
        if index < len(old.keys):
            items[old.keys[index]] = (at, old.lengths[index])
            at += old.lengths[index]
    keys = tuple(document.keys[post.id] for post in document.posts)
    fresh = _new_items(document, [k not in items for k in keys])
    parts: list[Part] = []
    lengths: list[int] = []
    run: list[int] = []  # the open run of the old file: [start, end]

    def copy(start: int, length: int) -> None:
        if run and run[1] == start:
            run[1] += length
            return
        close()
        run[:] = [start, start + length]

    def close() -> None:
        if run:
            parts.append((run[0], run[1] - run[0]))
            run.clear()

    for index, literal in enumerate(literals):
        if literal:
            at = run[1] if run else 0 if index == 0 else -1
            if literal_at.get(at) == literal:
                copy(at, len(literal))
            else:
                close()
                parts.append(literal)
        if index == len(keys):
            break
        found = items.get(keys[index])
        if found is not None:
            copy(*found)
            lengths.append(found[1])
        else:
            item = fresh[index]
            close()
            parts.append(item)
            lengths.append(len(item))
    close()
    if writer.write_splice(document.path, parts, previous=old.stamp) is None:
        return None
    stamp = writer.stamps[document.path]
    return Layout(stamp=stamp, keys=keys, lengths=tuple(lengths), literals=tuple(literals))


def _new_items(document: FeedDocument, wanted: list[bool]) -> dict[int, bytes]:
    """The bytes of the items at the ``wanted`` positions, from the cache (or rendered)."""
    positions = [i for i, want in enumerate(wanted) if want]
    posts = [document.posts[i] for i in positions]
    return dict(zip(positions, document.items(posts), strict=True))
