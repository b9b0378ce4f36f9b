"""RSS and Atom feed heads (a document with no items) written directly, as feedgen writes them.

A head is the document ``rss_atom._serialize`` makes of a :class:`FeedHead` and no
entries; the items are spliced into it. Rendered through feedgen, it imported feedgen,
the dateutil it loads and lxml.etree (51 to 73 ms of CPU, feedgen and dateutil 24 to 39)
in every build that renders a head: a cold one, or one whose newest post changed (issue
12). Its layout is fixed (the channel or feed elements feedgen writes for the fields a
head has, in feedgen's order, with the fixes ``rss_atom._FeedExtras`` makes,
pretty-printed), so it is written here as text with ``xml_items``' escaping and dates.

What only feedgen can say is left to it (:func:`render` returns None): a head lxml would
refuse (a character XML cannot hold, ``?>`` in the stylesheet's URL), one feedgen refuses
(no title, feed URL or site URL; a date without a time zone): feedgen raises there, as
before. ``tests/test_feed_heads_xml.py`` holds these bytes to feedgen's.
"""

from __future__ import annotations

from datetime import datetime

from publisher.feeds.head import (
    ATOM_NS,
    EPOCH,
    GENERATOR,
    RSS_DOCS,
    SELF_TYPE,
    FeedHead,
    Kind,
)
from publisher.feeds.xml_items import element, escape_attribute, escape_text, rfc2822
from publisher.lazy import lazy_pattern

_DECLARATION = "<?xml version='1.0' encoding='UTF-8'?>\n"
#: The root start tags, with the namespaces feedgen declares for the extensions
#: ``rss_atom._generator`` registers (media for both, dc for RSS alone).
_RSS_ROOT = (
    '<rss xmlns:media="http://search.yahoo.com/mrss/"'
    ' xmlns:dc="http://purl.org/dc/elements/1.1/"'
    f' xmlns:atom="{ATOM_NS}"'
    ' xmlns:content="http://purl.org/rss/1.0/modules/content/" version="2.0">\n'
)
_ATOM_ROOT = f'<feed xmlns:media="http://search.yahoo.com/mrss/" xmlns="{ATOM_NS}"'
#: What lxml refuses in a string (it raises ValueError): C0 controls but tab, newline
#: and carriage return, surrogates, U+FFFE and U+FFFF. C1 controls it keeps.
_REFUSED = lazy_pattern("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def render(kind: Kind, head: FeedHead, updated: datetime | None) -> bytes | None:
    """The bytes ``rss_atom._serialize(kind, head, updated)`` returns (``kind`` rss or
    atom), or None for a head only feedgen can answer for (see the module's docstring)."""
    if not _writable(head, updated):
        return None
    out = [_DECLARATION]
    if head.stylesheet_href:
        # No escaping in a processing instruction: rss_atom's extension writes it so.
        href = head.stylesheet_href.replace('"', "%22")
        out.append(f'<?xml-stylesheet type="text/xsl" href="{href}"?>\n')
    out.extend(_rss(head, updated) if kind == "rss" else _atom(head, updated or EPOCH))
    return "".join(out).encode("utf-8")


def _writable(head: FeedHead, updated: datetime | None) -> bool:
    """Whether feedgen writes ``head`` (it raises for the rest: see the module's docstring)."""
    if updated is not None and updated.tzinfo is None:
        return False
    if not (head.title and head.self_url and head.site_url):
        return False
    if head.stylesheet_href and "?>" in head.stylesheet_href:
        return False
    texts = (
        head.title,
        head.description,
        head.site_url,
        head.language,
        head.author_name,
        head.author_email or "",
        head.self_url,
        head.stylesheet_href or "",
        head.hub or "",
        head.icon or "",
        head.logo or "",
        head.rights or "",
    )
    return _REFUSED.search("".join(texts)) is None


def _rss(head: FeedHead, updated: datetime | None) -> list[str]:
    """The ``<rss>`` element: feedgen's ``_create_rss`` for the fields ``_generator`` sets,
    then ``_FeedExtras.extend_rss`` (no lastBuildDate in an empty feed; the hub link)."""
    pad = "    "
    title = escape_text(head.title)
    site = escape_text(head.site_url)
    out = [
        _RSS_ROOT,
        "  <channel>\n",
        element(pad, "title", title, escaped=True),
        element(pad, "link", site, escaped=True),
        element(pad, "description", head.description or head.title),
        f'{pad}<atom:link href="{escape_attribute(head.self_url)}" rel="self"'
        f' type="{SELF_TYPE["rss"]}"/>\n',
    ]
    if head.rights:
        out.append(element(pad, "copyright", head.rights))
    out.append(element(pad, "docs", RSS_DOCS))
    out.append(element(pad, "generator", GENERATOR))
    if head.logo:
        out.append(f"{pad}<image>\n")
        out.append(element(pad + "  ", "url", head.logo))
        out.append(element(pad + "  ", "title", title, escaped=True))
        out.append(element(pad + "  ", "link", site, escaped=True))
        out.append(f"{pad}</image>\n")
    if head.language:
        out.append(element(pad, "language", head.language))
    if updated is not None:
        out.append(element(pad, "lastBuildDate", rfc2822(updated)))
    if head.author_email:
        out.append(element(pad, "managingEditor", f"{head.author_email} ({head.author_name})"))
    if head.hub:
        out.append(f'{pad}<atom:link href="{escape_attribute(head.hub)}" rel="hub"/>\n')
    out.append("  </channel>\n</rss>\n")
    return out


def _atom(head: FeedHead, updated: datetime) -> list[str]:
    """The ``<feed>`` element: feedgen's ``_create_atom`` for the fields ``_generator`` sets."""
    pad = "  "
    language = f' xml:lang="{escape_attribute(head.language)}"' if head.language else ""
    out = [
        f"{_ATOM_ROOT}{language}>\n",
        element(pad, "id", head.self_url),
        element(pad, "title", head.title),
        element(pad, "updated", updated.isoformat()),
    ]
    if head.author_name:
        out.append(f"{pad}<author>\n")
        out.append(element(pad + "  ", "name", head.author_name))
        if head.author_email:
            out.append(element(pad + "  ", "email", head.author_email))
        out.append(f"{pad}</author>\n")
    out.append(
        f'{pad}<link href="{escape_attribute(head.self_url)}" rel="self"'
        f' type="{SELF_TYPE["atom"]}"/>\n'
    )
    if head.hub:
        out.append(f'{pad}<link href="{escape_attribute(head.hub)}" rel="hub"/>\n')
    out.append(
        f'{pad}<link href="{escape_attribute(head.site_url)}" rel="alternate" type="text/html"/>\n'
    )
    out.append(element(pad, "generator", GENERATOR))
    for name, value in (("icon", head.icon), ("logo", head.logo), ("rights", head.rights)):
        if value:
            out.append(element(pad, name, value))
    out.append(element(pad, "subtitle", head.description or head.title))
    out.append("</feed>\n")
    return out
