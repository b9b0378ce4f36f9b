"""RSS ``<item>`` and Atom ``<entry>`` bytes written directly, as feedgen lays them out.

feedgen builds an lxml tree of a whole document per chunk of items and serializes it,
and ``rss_atom.render_fragments`` cuts the items back out: most of the feed stage's CPU
in a cold build (issue 12). An item's layout is fixed (the elements feedgen writes for
the fields :class:`~publisher.feeds.items.FeedItem` has, with the fixes ``rss_atom``'s
extensions make, pretty-printed at the item's depth), so it is written here as text.
``tests/test_feed_items_xml.py`` holds these bytes to feedgen's for every optional field,
awkward text and the sample corpus; ``rss_atom`` keeps the feedgen path as that reference.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from publisher.feeds.items import FeedItem
from publisher.posts.text import escape
from publisher.tuples import NamedTuple

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def escape_text(value: str) -> str:
    """``value`` escaped as libxml2 escapes text content."""
    # str.replace, not str.translate (slow on long text), each after a test for its
    # character (a C scan, where a replace with nothing to replace still counts them).
    if "&" in value:
        value = value.replace("&", "&amp;")
    if "<" in value:
        value = value.replace("<", "&lt;")
    if ">" in value:
        value = value.replace(">", "&gt;")
    return value.replace("\r", "&#13;") if "\r" in value else value


#: What libxml2 escapes in an attribute value (double-quoted), besides text's escapes.
_IN_ATTRIBUTE = (('"', "&quot;"), ("\n", "&#10;"), ("\t", "&#9;"))


def escape_attribute(value: str) -> str:
    """``value`` escaped as libxml2 escapes an attribute value."""
    value = escape_text(value)
    for char, escaped in _IN_ATTRIBUTE:
        if char in value:
            value = value.replace(char, escaped)
    return value


def rfc2822(moment: datetime) -> str:
    """feedgen's ``formatRFC2822`` (strftime in the C locale), without switching locales."""
    day, month = _DAYS[moment.weekday()], _MONTHS[moment.month - 1]
    offset = moment.utcoffset()
    if offset is None or offset % _MINUTE or not 1000 <= moment.year <= 9999:
        # Naive, an offset in seconds, a year strftime may not pad: strftime says.
        return f"{day}, {moment:%d} {month} {moment:%Y %H:%M:%S %z}"
    # The fields formatted here: strftime parses its format for every call (issue 12).
    minutes = offset // _MINUTE
    sign = "-" if minutes < 0 else "+"
    zone = f"{sign}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"
    return (
        f"{day}, {moment.day:02d} {month} {moment.year} "
        f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d} {zone}"
    )


_MINUTE = timedelta(minutes=1)


def element(indent: str, name: str, text: str, escaped: bool = False) -> str:
    """``<name>text</name>`` on a line of its own at ``indent``, as lxml pretty-prints an
    element holding only text (``escaped``: ``text`` is already :func:`escape_text`'s)."""
    # An empty text is an element with no content: lxml writes it self-closed.
    if not text:
        return f"{indent}<{name}/>\n"
    return f"{indent}<{name}>{text if escaped else escape_text(text)}</{name}>\n"


class _Parts(NamedTuple):
    """What RSS and Atom both write of an item, escaped once for the two."""

    title: str
    link_text: str
    link_attribute: str
    id: str
    content: str
    #: (term as text, term as attribute, scheme as attribute) of each category, then tag.
    categories: list[tuple[str, str, str]]
    #: The media:content and media:thumbnail elements, without their indentation.
    media: list[str]
    #: The image's (URL, type) as attributes, when it has a type and a length.
    enclosure: tuple[str, str] | None


def _parts(item: FeedItem, category_scheme: str, tag_scheme: str) -> _Parts:
    image = item.image
    media: list[str] = []
    enclosure = None
    if image is not None:
        # Attributes feedgen keeps only when set, in its order; each escaped once.
        url = escape_attribute(image.url)
        mime = escape_attribute(image.mime) if image.mime is not None else None
        attributes = [f'url="{url}"'] if url else []
        if image.length is not None:
            attributes.append(f'fileSize="{escape_attribute(str(image.length))}"')
        if mime:
            attributes.append(f'type="{mime}"')
        attributes.append('medium="image"')
        media = [f"<media:content {' '.join(attributes)}/>\n"]
        media.append(f'<media:thumbnail url="{url}"/>\n' if url else "<media:thumbnail/>\n")
        if mime is not None and image.length is not None:
            enclosure = (url, mime)
    return _Parts(
        title=escape_text(item.title),
        link_text=escape_text(item.link),
        link_attribute=escape_attribute(item.link),
        id=escape_text(item.id),
        content=escape_text(item.content_html or ""),
        categories=[_category(c, category_scheme) for c in item.categories]
        + [_category(t, tag_scheme) for t in item.tags],
        media=media,
        enclosure=enclosure,
    )


@functools.lru_cache(maxsize=4096)
def _category(term: str, scheme: str) -> tuple[str, str, str]:
    # The same few categories and tags recur on every post.
    return escape_text(term), escape_attribute(term), escape_attribute(scheme)


def rss_item(item: FeedItem, category_scheme: str, tag_scheme: str) -> bytes:
    """The ``<item>`` feedgen writes for ``item`` (see ``rss_atom.make_entry``)."""
    return _rss(item, _parts(item, category_scheme, tag_scheme))


def atom_entry(item: FeedItem, category_scheme: str, tag_scheme: str) -> bytes:
    """The ``<entry>`` feedgen writes for ``item`` (see ``rss_atom.make_entry``)."""
    return _atom(item, _parts(item, category_scheme, tag_scheme))


def _rss(item: FeedItem, parts: _Parts) -> bytes:
    pad = "      "
    out = ["    <item>\n", element(pad, "title", parts.title, escaped=True)]
    if item.link:
        out.append(f"{pad}<link>{parts.link_text}</link>\n")
    if item.summary:
        out.append(element(pad, "description", escape(item.summary, quote=False)))
        if item.content_html:
            out.append(f"{pad}<content:encoded>{parts.content}</content:encoded>\n")
    elif item.content_html:
        out.append(f"{pad}<description>{parts.content}</description>\n")
    for author in item.authors:
        if author.email:
            named = f"{author.email} ({author.name})" if author.name else author.email
            out.append(element(pad, "author", named))
    if item.id:
        out.append(f'{pad}<guid isPermaLink="false">{parts.id}</guid>\n')
    for term, _, scheme in parts.categories:
        domain = f' domain="{scheme}"' if scheme else ""
        out.append(
            f"{pad}<category{domain}>{term}</category>\n" if term else f"{pad}<category{domain}/>\n"
        )
    out.append(f"{pad}<pubDate>{rfc2822(item.published)}</pubDate>\n")
    if parts.enclosure is not None and item.image is not None:
        url, mime = parts.enclosure
        out.append(f'{pad}<enclosure url="{url}" length="{item.image.length}" type="{mime}"/>\n')
    out.extend(pad + line for line in parts.media)
    out.extend(element(pad, "dc:creator", a.name) for a in item.authors if not a.email)
    out.append("    </item>\n")
    return "".join(out).encode("utf-8")


def _atom(item: FeedItem, parts: _Parts) -> bytes:
    pad = "    "
    out = [
        "  <entry>\n",
        element(pad, "id", parts.id, escaped=True),
        element(pad, "title", parts.title, escaped=True),
        f"{pad}<updated>{item.updated.isoformat()}</updated>\n",
    ]
    for author in item.authors:
        if not author.name:
            continue
        out.append(f"{pad}<author>\n")
        out.append(element(pad + "  ", "name", author.name))
        if author.email:
            out.append(element(pad + "  ", "email", author.email))
        out.append(f"{pad}</author>\n")
    if item.content_html:
        out.append(f'{pad}<content type="html">{parts.content}</content>\n')
    out.append(f'{pad}<link href="{parts.link_attribute}" rel="alternate" type="text/html"/>\n')
    if item.summary:
        out.append(element(pad, "summary", item.summary))
    for _, term, scheme in parts.categories:
        scheme_attribute = f' scheme="{scheme}"' if scheme else ""
        out.append(f'{pad}<category term="{term}"{scheme_attribute}/>\n')
    out.append(f"{pad}<published>{item.published.isoformat()}</published>\n")
    if parts.enclosure is not None and item.image is not None:
        url, mime = parts.enclosure
        out.append(
            f'{pad}<link rel="enclosure" type="{mime}" length="{item.image.length}" href="{url}"/>\n'
        )
    out.extend(pad + line for line in parts.media)
    out.append("  </entry>\n")
    return "".join(out).encode("utf-8")


#: kind -> the writer of one item of that kind, from its escaped parts.
_WRITERS: dict[str, Callable[[FeedItem, _Parts], bytes]] = {"rss": _rss, "atom": _atom}
#: kind -> the writer of one item of that kind.
WRITERS: dict[str, Callable[[FeedItem, str, str], bytes]] = {"rss": rss_item, "atom": atom_entry}


def fragments(
    kinds: Sequence[str], items: Sequence[FeedItem], category_scheme: str, tag_scheme: str
) -> dict[str, list[bytes]]:
    """Each item of ``items`` in each of ``kinds`` (rss, atom), escaped once for all."""
    out: dict[str, list[bytes]] = {kind: [] for kind in kinds}
    writers = [(_WRITERS[kind], out[kind]) for kind in kinds]
    for item in items:
        parts = _parts(item, category_scheme, tag_scheme)
        for write, pieces in writers:
            pieces.append(write(item, parts))
    return out
