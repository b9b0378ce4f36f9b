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

from collections.abc import Callable, Sequence
from datetime import datetime
from html import escape

from publisher.feeds.items import FeedItem

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _text(value: str) -> str:
    """``value`` escaped as libxml2 escapes text content."""
    # str.replace, not str.translate (slow on long text); it returns ``value`` itself when
    # there is nothing to replace.
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return value.replace("\r", "&#13;")


#: What libxml2 escapes in an attribute value (double-quoted), besides text's escapes.
_IN_ATTRIBUTE = (('"', "&quot;"), ("\n", "&#10;"), ("\t", "&#9;"))


def _attribute(value: str) -> str:
    """``value`` escaped as libxml2 escapes an attribute value."""
    value = _text(value)
    for char, escaped in _IN_ATTRIBUTE:
        value = value.replace(char, escaped)
    return value


def rfc2822(moment: datetime) -> str:
    """feedgen's ``formatRFC2822`` (strftime in the C locale), without switching locales."""
    return f"{_DAYS[moment.weekday()]}, {moment:%d} {_MONTHS[moment.month - 1]} {moment:%Y %H:%M:%S %z}"


def _element(indent: str, name: str, text: str, escaped: bool = False) -> str:
    # An empty text is an element with no content: lxml writes it self-closed.
    if not text:
        return f"{indent}<{name}/>\n"
    return f"{indent}<{name}>{text if escaped else _text(text)}</{name}>\n"


def _media(indent: str, item: FeedItem) -> list[str]:
    """media:content and media:thumbnail of the cover image (attributes feedgen keeps
    only when set)."""
    image = item.image
    if image is None:
        return []
    attributes = [("url", image.url)]
    if image.length is not None:
        attributes.append(("fileSize", str(image.length)))
    if image.mime:
        attributes.append(("type", image.mime))
    attributes.append(("medium", "image"))
    content = " ".join(f'{name}="{_attribute(value)}"' for name, value in attributes if value)
    lines = [f"{indent}<media:content {content}/>\n"]
    if image.url:
        lines.append(f'{indent}<media:thumbnail url="{_attribute(image.url)}"/>\n')
    else:
        lines.append(f"{indent}<media:thumbnail/>\n")
    return lines


def rss_item(item: FeedItem, category_scheme: str, tag_scheme: str, content: str = "") -> bytes:
    """The ``<item>`` feedgen writes for ``item`` (see ``rss_atom.make_entry``); ``content``:
    its HTML already escaped (:func:`fragments` escapes it once for RSS and Atom)."""
    pad = "      "
    content = content or _text(item.content_html or "")
    out = ["    <item>\n", _element(pad, "title", item.title)]
    if item.link:
        out.append(_element(pad, "link", item.link))
    if item.summary and item.content_html:
        out.append(_element(pad, "description", escape(item.summary, quote=False)))
        out.append(_element(pad, "content:encoded", content, escaped=True))
    elif item.summary:
        out.append(_element(pad, "description", escape(item.summary, quote=False)))
    elif item.content_html:
        out.append(_element(pad, "description", content, escaped=True))
    for author in item.authors:
        if author.email:
            named = f"{author.email} ({author.name})" if author.name else author.email
            out.append(_element(pad, "author", named))
    if item.id:
        out.append(f'{pad}<guid isPermaLink="false">{_text(item.id)}</guid>\n')
    for term, scheme in _categories(item, category_scheme, tag_scheme):
        domain = f' domain="{_attribute(scheme)}"' if scheme else ""
        out.append(
            f"{pad}<category{domain}>{_text(term)}</category>\n"
            if term
            else f"{pad}<category{domain}/>\n"
        )
    out.append(_element(pad, "pubDate", rfc2822(item.published)))
    image = item.image
    if image is not None and image.mime is not None and image.length is not None:
        out.append(
            f'{pad}<enclosure url="{_attribute(image.url)}" length="{image.length}" '
            f'type="{_attribute(image.mime)}"/>\n'
        )
    out.extend(_media(pad, item))
    out.extend(_element(pad, "dc:creator", a.name) for a in item.authors if not a.email)
    out.append("    </item>\n")
    return "".join(out).encode("utf-8")


def atom_entry(item: FeedItem, category_scheme: str, tag_scheme: str, content: str = "") -> bytes:
    """The ``<entry>`` feedgen writes for ``item`` (see ``rss_atom.make_entry``; ``content``
    as for :func:`rss_item`)."""
    pad = "    "
    content = content or _text(item.content_html or "")
    out = [
        "  <entry>\n",
        _element(pad, "id", item.id),
        _element(pad, "title", item.title),
        _element(pad, "updated", item.updated.isoformat()),
    ]
    for author in item.authors:
        if not author.name:
            continue
        out.append(f"{pad}<author>\n")
        out.append(_element(pad + "  ", "name", author.name))
        if author.email:
            out.append(_element(pad + "  ", "email", author.email))
        out.append(f"{pad}</author>\n")
    if item.content_html:
        out.append(f'{pad}<content type="html">{content}</content>\n')
    out.append(f'{pad}<link href="{_attribute(item.link)}" rel="alternate" type="text/html"/>\n')
    if item.summary:
        out.append(_element(pad, "summary", item.summary))
    for term, scheme in _categories(item, category_scheme, tag_scheme):
        scheme_attribute = f' scheme="{_attribute(scheme)}"' if scheme else ""
        out.append(f'{pad}<category term="{_attribute(term)}"{scheme_attribute}/>\n')
    out.append(_element(pad, "published", item.published.isoformat()))
    image = item.image
    if image is not None and image.mime is not None and image.length is not None:
        out.append(
            f'{pad}<link rel="enclosure" type="{_attribute(image.mime)}" '
            f'length="{image.length}" href="{_attribute(image.url)}"/>\n'
        )
    out.extend(_media(pad, item))
    out.append("  </entry>\n")
    return "".join(out).encode("utf-8")


def _categories(item: FeedItem, category_scheme: str, tag_scheme: str) -> list[tuple[str, str]]:
    return [(c, category_scheme) for c in item.categories] + [(t, tag_scheme) for t in item.tags]


#: kind -> the writer of one item of that kind.
WRITERS: dict[str, Callable[[FeedItem, str, str, str], bytes]] = {
    "rss": rss_item,
    "atom": atom_entry,
}


def fragments(
    kinds: Sequence[str], items: Sequence[FeedItem], category_scheme: str, tag_scheme: str
) -> dict[str, list[bytes]]:
    """Each item of ``items`` in each of ``kinds`` (rss, atom), the content escaped once."""
    out: dict[str, list[bytes]] = {kind: [] for kind in kinds}
    writers = [(WRITERS[kind], out[kind]) for kind in kinds]
    for item in items:
        content = _text(item.content_html or "")
        for write, pieces in writers:
            pieces.append(write(item, category_scheme, tag_scheme, content))
    return out
