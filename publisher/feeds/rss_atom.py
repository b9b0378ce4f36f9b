"""RSS 2.0 and Atom 1.0 documents, through feedgen: the only module that imports it.

feedgen's traps and how they are handled here:

* ``add_entry()`` prepends: entries are added with ``order="append"`` in our own order.
* ``updated``/``lastBuildDate`` default to the build time: both are always set to the
  newest item's date (``generate`` dates an empty feed by the site's newest post or a
  config date; given none, Atom gets the Unix epoch and RSS no lastBuildDate).
* ``media.content()``/``thumbnail()`` default to ``group="default"``, which wraps them in a
  ``<media:group>`` holding one ``media:content``: the W3C validator rejects that. They are
  added with ``group=None``, straight under the item.
* The RSS channel ``<link>`` is whichever link was added last: the site link is added last.
* Atom content typed ``CDATA`` is not RFC 4287: content is always ``type="html"``, escaped.
* RSS ``<description>`` is HTML (entity-encoded) to every reader, but feedgen copies the
  Atom ``<summary>`` (plain text) into it: a summary holding ``<script>`` would reach
  readers as markup and ``ATT&CK`` as invalid HTML. The RSS description is the summary
  escaped as HTML, so readers show exactly the text the author wrote.
* feedgen 1.0.0 drops ``rel``/``type``/``length`` from every Atom entry link (issue #135),
  so an enclosure added through it becomes a second bare alternate link: enclosures are
  written by :class:`_EntryExtras` instead, which also gives the alternate link its ``rel``.

Each entry is rendered once, as a fragment, and every feed is feedgen's head for it with
the fragments spliced in where feedgen puts entries: the bytes of a single feedgen pass,
without rendering a post again for each feed or each build. The fragments are written
directly (``xml_items.py``, issue 12: feedgen's tree was most of a cold build's feed
stage); :func:`render_fragments` cuts them from a feedgen document, the reference
``tests/test_feed_items_xml.py`` holds them to. The heads are written directly too
(``xml_heads.py``: importing feedgen and dateutil for them was 23 to 38 ms of a build);
:func:`_serialize` is their reference (``tests/test_feed_heads_xml.py``) and renders a
head only feedgen can answer for (one it or lxml refuses: it raises, as it did).
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from datetime import datetime

from publisher.errors import FeedError
from publisher.feeds.head import (
    ATOM_NS,
    EPOCH,
    GENERATOR,
    RSS_DOCS,
    SELF_TYPE,
    FeedHead,
    Kind,
)
from publisher.feeds.items import FeedItem
from publisher.lazy import LazyModule
from publisher.posts.text import escape

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (issue 12)

if TYPE_CHECKING:
    from typing import Any

    from lxml import etree
else:
    # Only feedgen's path uses it (feedgen imports it then): the reference, a rare head.
    etree = LazyModule("lxml.etree")

_CLOSING = {"rss": b"</item>\n", "atom": b"</entry>\n"}


class _Extension:
    """What feedgen asks of an extension besides ``extend_rss`` and ``extend_atom`` (the
    rest of ``feedgen.ext.base.BaseExtension``, not subclassed: feedgen is imported only
    where the reference or a head ``xml_heads`` leaves to it is rendered, and feedgen.feed
    and feedgen.entry load dateutil, ~13 ms; a build does without them)."""

    def extend_ns(self) -> dict[str, str]:
        return {}


class _EntryExtras(_Extension):
    """Entry parts feedgen gets wrong: Atom link rels, the image enclosure, the RSS description."""

    def __init__(self) -> None:
        self.item: FeedItem | None = None

    def extend_atom(self, entry: Any) -> Any:
        # feedgen builds Atom with un-namespaced tags under a literal default xmlns.
        for link in entry.iterfind("link"):
            if link.get("rel") is None:
                link.set("rel", "alternate")
                link.set("type", "text/html")
        image = self.item.image if self.item else None
        if image is not None and image.mime is not None and image.length is not None:
            etree.SubElement(
                entry,
                "link",
                rel="enclosure",
                type=image.mime,
                length=str(image.length),
                href=image.url,
            )
        return entry

    def extend_rss(self, item: Any) -> Any:
        summary = self.item.summary if self.item else None
        description = item.find("description")
        if summary and description is not None and description.text == summary:
            description.text = escape(summary, quote=False)
        image = self.item.image if self.item else None
        if image is not None and image.mime is not None and image.length is not None:
            etree.SubElement(
                item, "enclosure", url=image.url, length=str(image.length), type=image.mime
            )
        return item


class _FeedExtras(_Extension):
    """Feed parts feedgen has no API for: the stylesheet, the RSS hub link, the empty feed."""

    def __init__(self) -> None:
        self.head: FeedHead | None = None
        self.empty = False

    def _stylesheet(self, root: Any) -> None:
        if self.head is not None and self.head.stylesheet_href:
            href = self.head.stylesheet_href.replace('"', "%22")
            root.addprevious(
                etree.ProcessingInstruction("xml-stylesheet", f'type="text/xsl" href="{href}"')
            )

    def extend_atom(self, feed: Any) -> Any:
        self._stylesheet(feed)
        return feed

    def extend_rss(self, feed: Any) -> Any:
        self._stylesheet(feed)
        channel = feed.find("channel")
        if self.head is not None and self.head.hub:
            etree.SubElement(channel, f"{{{ATOM_NS}}}link", href=self.head.hub, rel="hub")
        if self.empty:
            for stale in channel.findall("lastBuildDate"):
                channel.remove(stale)
        return feed


def _before_feedgen() -> None:
    """feedgen.util uses ``lxml.etree`` having imported only ``lxml``: it works when some
    module imported lxml.etree first, and none of ours does at load any more."""
    import lxml.etree  # noqa: F401


def make_entry(item: FeedItem, head: FeedHead) -> Any:
    """One feedgen entry for ``item``, for :func:`render_fragments`."""
    _before_feedgen()
    from feedgen.entry import FeedEntry
    from feedgen.ext.dc import DcEntryExtension
    from feedgen.ext.media import MediaEntryExtension

    entry = FeedEntry()
    entry.register_extension("publisher", _EntryExtras, atom=True, rss=True)
    entry.register_extension("media", MediaEntryExtension, atom=True, rss=True)
    entry.register_extension("dc", DcEntryExtension, atom=False, rss=True)
    entry.publisher.item = item
    entry.id(item.id)
    entry.title(item.title)
    entry.link(href=item.link, rel="alternate")
    entry.published(item.published)
    entry.updated(item.updated)
    if item.summary:
        entry.summary(item.summary)
    if item.content_html:
        entry.content(item.content_html, type="html")
    if item.authors:
        entry.author(
            [
                {"name": a.name, "email": a.email} if a.email else {"name": a.name}
                for a in item.authors
            ]
        )
        # RSS <author> must be an email address; the rest are named with dc:creator.
        for author in item.authors:
            if not author.email:
                entry.dc.dc_creator(author.name)
    categories = [{"term": c, "scheme": head.category_scheme} for c in item.categories]
    categories += [{"term": t, "scheme": head.tag_scheme} for t in item.tags]
    if categories:
        entry.category(categories)
    if item.image is not None:
        media: dict[str, str] = {"url": item.image.url, "medium": "image"}
        if item.image.mime:
            media["type"] = item.image.mime
        if item.image.length is not None:
            media["fileSize"] = str(item.image.length)
        entry.media.content(media, group=None)
        entry.media.thumbnail({"url": item.image.url}, group=None)
    return entry


def _generator(head: FeedHead, updated: datetime | None, entries: Sequence[Any], kind: Kind) -> Any:
    _before_feedgen()
    from feedgen.ext.dc import DcEntryExtension, DcExtension
    from feedgen.ext.media import MediaEntryExtension, MediaExtension
    from feedgen.feed import FeedGenerator

    fg = FeedGenerator()
    fg.register_extension("publisher", _FeedExtras, _EntryExtras, atom=True, rss=True)
    fg.register_extension("media", MediaExtension, MediaEntryExtension, atom=True, rss=True)
    fg.register_extension("dc", DcExtension, DcEntryExtension, atom=False, rss=True)
    fg.publisher.head = head
    fg.publisher.empty = updated is None
    fg.id(head.self_url)
    fg.title(head.title)
    fg.description(head.description or head.title)
    fg.language(head.language)
    fg.generator(GENERATOR)
    fg.docs(RSS_DOCS)
    author = {"name": head.author_name}
    if head.author_email:
        author["email"] = head.author_email
        fg.managingEditor(f"{head.author_email} ({head.author_name})")
    fg.author(author)
    fg.updated(updated or EPOCH)
    if head.icon:
        fg.icon(head.icon)
    if head.logo:
        fg.logo(head.logo)  # Atom <logo> and the RSS <image> (titled and linked as the channel)
    if head.rights:
        fg.rights(head.rights)
    fg.link(href=head.self_url, rel="self", type=SELF_TYPE[kind])
    if head.hub:
        fg.link(href=head.hub, rel="hub")
    # Last on purpose: feedgen makes the RSS channel <link> the last link added.
    fg.link(href=head.site_url, rel="alternate", type="text/html")
    for entry in entries:
        fg.add_entry(entry, order="append")
    return fg


def _serialize(
    kind: Kind, head: FeedHead, updated: datetime | None, entries: Sequence[Any] = ()
) -> bytes:
    fg = _generator(head, updated, entries, kind)
    write = fg.rss_str if kind == "rss" else fg.atom_str
    data: bytes = write(pretty=True, encoding="UTF-8", xml_declaration=True)
    return data


def _split(kind: Kind, shell: bytes) -> tuple[bytes, bytes]:
    """``shell`` (a document without entries) cut where feedgen puts the entries: last."""
    at = shell.rindex(b"  </channel>\n" if kind == "rss" else b"</feed>\n")
    return shell[:at], shell[at:]


def render_fragments(kind: Kind, head: FeedHead, entries: Sequence[Any]) -> list[bytes]:
    """The bytes of each entry's ``<item>`` (RSS) or ``<entry>`` (Atom), in ``entries`` order.

    Cut from one feedgen document holding them all: a fragment is the same in every feed
    (entries sit at one depth, under namespaces declared on the root), so a document is
    its head plus the fragments of its items (:func:`render_document`).
    """
    if not entries:
        return []
    prefix, suffix = _split(kind, _serialize(kind, head, EPOCH))
    full = _serialize(kind, head, EPOCH, entries)
    closing = _CLOSING[kind]
    body = full[len(prefix) : len(full) - len(suffix)]
    pieces = [piece + closing for piece in body.split(closing)[:-1]]
    if not (
        full.startswith(prefix)
        and full.endswith(suffix)
        and body.endswith(closing)
        and len(pieces) == len(entries)
    ):
        raise FeedError(f"feeds: feedgen laid out {kind} entries unexpectedly; report this bug")
    return pieces


def render_head(kind: Kind, head: FeedHead, updated: datetime | None) -> bytes:
    """The RSS 2.0 or Atom 1.0 document feedgen writes for ``head`` with no entries, dated
    ``updated`` (the newest item's date; None for an empty feed): written directly
    (``xml_heads.py``), through feedgen for a head only it can answer for."""
    from publisher.feeds import xml_heads

    written = xml_heads.render(kind, head, updated)
    return _serialize(kind, head, updated) if written is None else written


#: :func:`render_feed` puts each fragment between bytes that depend on the shell alone,
#: whatever the fragments hold: a document is the literals ``splicing.template`` finds
#: around its items, so a read worker writes it a batch at a time (``parallel.py``).
CONCATENATES = True


def render_document(kind: Kind, shell: bytes, fragments: Iterable[bytes]) -> bytes:
    """``shell`` (from :func:`render_head`) with ``fragments`` (from :func:`render_fragments`,
    in feed order) where feedgen would have put their entries. ``fragments`` may be a
    generator: it is consumed once, so the items need not all be in memory at once."""
    pieces = iter(fragments)
    first = next(pieces, None)
    if first is None:
        return shell
    prefix, suffix = _split(kind, shell)
    out = io.BytesIO()  # getvalue() hands over its buffer: no second copy of the file
    out.write(prefix)
    out.write(first)
    for piece in pieces:
        out.write(piece)
    out.write(suffix)
    return out.getvalue()


# The Renderer contract of publisher.feeds.formats: RSS and Atom share one feedgen entry
# per item, so both are rendered by one call.


def render_items(
    names: Sequence[str], items: Sequence[FeedItem], head: FeedHead
) -> dict[str, list[bytes]]:
    """Each item's ``<item>`` and/or ``<entry>``, for each of ``names`` (rss, atom): the
    bytes :func:`render_fragments` cuts from feedgen's document, written directly."""
    from publisher.feeds import xml_items

    kinds = [_kind(name) for name in names]
    return xml_items.fragments(kinds, items, head.category_scheme, head.tag_scheme)


def render_shell(name: str, head: FeedHead, updated: datetime | None) -> bytes:
    return render_head(_kind(name), head, updated)


def render_feed(name: str, shell: bytes, fragments: Iterable[bytes]) -> bytes:
    return render_document(_kind(name), shell, fragments)


def _kind(name: str) -> Kind:
    if name not in _CLOSING:
        raise FeedError(f"feeds: {name!r} is not rss or atom; report this bug")
    return name  # type: ignore[return-value]  # one of _CLOSING's: "rss" or "atom"
