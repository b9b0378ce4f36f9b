"""Check a generated feed the way the W3C feed validator would, for ``publish check``.

``lint_feed`` looks at the bytes of one RSS 2.0, Atom 1.0 or JSON Feed 1.1 file and
returns every problem as ``path: what is wrong; how to fix it`` (an empty list when the
feed is clean). It never raises for a bad feed: a broken feed is a finding, not a crash.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import datetime
from email.utils import parsedate_tz
from typing import Any
from urllib.parse import urlsplit

import lxml.html
from lxml import etree

from publisher.feeds import formats as registry

ATOM = "http://www.w3.org/2005/Atom"
XSLT = "http://www.w3.org/1999/XSL/Transform"
A = f"{{{ATOM}}}"
CONTENT_ENCODED = "{http://purl.org/rss/1.0/modules/content/}encoded"
MEDIA = "{http://search.yahoo.com/mrss/}"
_MEDIUMS = ("image", "audio", "video", "document", "executable")
_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")
_RFC822 = re.compile(
    r"(?:(Mon|Tue|Wed|Thu|Fri|Sat|Sun), )?\d{1,2} "
    r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} "
    r"\d{2}:\d{2}(:\d{2})? ([+-]\d{4}|GMT|UT|[A-IK-Z]|[ECMP][SD]T)"
)
_HTML_URL_ATTRIBUTES = ("href", "src", "poster", "cite")
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)


def lint_feed(path: str, data: bytes, public_url: str) -> list[str]:
    """Every problem in the feed file ``path`` (its bytes ``data``, served at ``public_url``)."""
    problems: list[str] = []
    check = registry.checker_for(path, data)
    if check is not None:
        check(data, public_url, problems)
    return [f"{path}: {p}" for p in problems]


def _absolute(url: str | None) -> bool:
    if not url:
        return False
    try:
        parts = urlsplit(url.strip())
    except ValueError:  # an unclosed IPv6 bracket, say: not a URL a reader could follow
        return False
    return bool(parts.scheme) and (bool(parts.netloc) or parts.scheme in ("mailto", "tag", "urn"))


def _encoded(url: str) -> bool:
    return not any(c.isspace() or ord(c) > 126 for c in url)


def _check_url(url: str | None, where: str, problems: list[str]) -> None:
    if url is None or not url.strip():
        problems.append(f"{where} is empty; write an absolute URL")
    elif not _absolute(url):
        problems.append(f"{where} '{url}' is a relative reference; make it absolute (https://...)")
    elif not _encoded(url):
        problems.append(f"{where} '{url}' is not percent-encoded; encode spaces and non-ASCII")


def _relative_refs(html: str | None) -> list[str]:
    """Relative (or unencoded) URLs in an HTML fragment."""
    if not html or not html.strip():
        return []
    try:
        fragments = lxml.html.fragments_fromstring(html)
    except (etree.ParserError, ValueError):
        return []
    bad: list[str] = []
    for fragment in fragments:
        if not isinstance(fragment, lxml.html.HtmlElement):
            continue
        for element in fragment.iter():
            if not isinstance(element.tag, str):
                continue
            for attribute in _HTML_URL_ATTRIBUTES:
                value = element.get(attribute)
                if (
                    value is not None
                    and not value.startswith(("#", "data:"))
                    and not _absolute(value)
                ):
                    bad.append(value)
            srcset = element.get("srcset")
            for candidate in (srcset or "").split(","):
                words = candidate.split()
                if words and not _absolute(words[0]):
                    bad.append(words[0])
    return bad


def _check_html(html: str | None, where: str, problems: list[str]) -> None:
    bad = _relative_refs(html)
    if bad:
        problems.append(
            f"{where} has relative references ({', '.join(sorted(set(bad))[:3])}); "
            "feed readers cannot resolve them, make them absolute"
        )


def _check_rfc3339(value: str | None, where: str, problems: list[str]) -> None:
    text = (value or "").strip()
    ok = bool(_RFC3339.fullmatch(text))
    if ok:
        try:
            datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            ok = False
    if not ok:
        problems.append(
            f"{where} '{text}' is not an RFC 3339 date; write it like 2024-05-01T17:00:00Z"
        )


def _check_rfc822(value: str | None, where: str, problems: list[str]) -> None:
    text = (value or "").strip()
    if not _RFC822.fullmatch(text) or parsedate_tz(text) is None:
        problems.append(
            f"{where} '{text}' is not an RFC 822 date; write it like Wed, 01 May 2024 17:00:00 +0000"
        )


def _duplicates(values: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    repeated: list[str] = []
    for value in values:
        if value in seen and value not in repeated:
            repeated.append(value)
        seen.add(value)
    return repeated


def _check_media(item: Any, where: str, problems: list[str]) -> None:
    """Media RSS as the W3C validator reads it, in RSS items and Atom entries alike."""
    for group in item.findall(f"{MEDIA}group"):
        count = len(group.findall(f"{MEDIA}content"))
        if count < 2:
            problems.append(
                f"{where} <media:group> holds {count} media:content; the W3C validator "
                "requires two or more: put a single media:content straight in the item"
            )
    for content in item.iter(f"{MEDIA}content"):
        url = content.get("url")
        if url is None and content.find(f"{MEDIA}player") is None:
            problems.append(f"{where} <media:content> has no url; add the media file's URL")
        elif url is not None:
            _check_url(url, f"{where} <media:content url>", problems)
        size = content.get("fileSize")
        if size is not None and not size.isdigit():
            problems.append(f"{where} <media:content fileSize> must be a number of bytes")
        medium = content.get("medium")
        if medium is not None and medium not in _MEDIUMS:
            problems.append(
                f'{where} <media:content medium="{medium}"> is not one of {", ".join(_MEDIUMS)}'
            )
    for thumbnail in item.iter(f"{MEDIA}thumbnail"):
        _check_url(thumbnail.get("url"), f"{where} <media:thumbnail url>", problems)


def lint_xml(data: bytes, public_url: str, problems: list[str]) -> None:
    """An RSS 2.0 or Atom 1.0 feed (told apart by its root element)."""
    try:
        root = etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as exc:
        line = f" at line {exc.lineno}" if exc.lineno else ""
        problems.append(f"not well-formed XML{line} ({exc.msg}); rebuild the feed")
        return
    if root.tag == "rss":
        _lint_rss(root, public_url, problems)
    elif root.tag == f"{A}feed":
        _lint_atom(root, public_url, problems)
    elif root.tag != f"{{{XSLT}}}stylesheet":  # the browser-view stylesheet is not a feed
        problems.append(f"root element <{root.tag}> is neither RSS 2.0 <rss> nor Atom <feed>")


def _text(element: Any, path: str) -> str | None:
    found = element.find(path)
    return None if found is None else (found.text or "")


def _check_self(links: list[Any], public_url: str, problems: list[str]) -> None:
    selves = [link.get("href") for link in links if link.get("rel") == "self"]
    if not selves:
        problems.append(f'no atom:link rel="self"; add one pointing to {public_url}')
    elif selves[0] != public_url:
        problems.append(
            f"self link '{selves[0]}' is not the feed's public URL {public_url}; "
            "check site.url and the feed path"
        )


def _lint_rss(root: Any, public_url: str, problems: list[str]) -> None:
    if root.get("version") != "2.0":
        problems.append(f'<rss version="{root.get("version")}"> should be version="2.0"')
    channel = root.find("channel")
    if channel is None:
        problems.append("<rss> has no <channel>; the feed is empty")
        return
    _lint_channel(channel, public_url, problems)
    guids: list[str] = []
    for index, item in enumerate(channel.findall("item"), 1):
        _lint_rss_item(item, f"item {index}", guids, problems)
    for guid in _duplicates(guids):
        problems.append(f"guid '{guid}' is used by more than one item; ids must be unique")


def _lint_channel(channel: Any, public_url: str, problems: list[str]) -> None:
    for name in ("title", "link", "description"):
        if not (_text(channel, name) or "").strip():
            problems.append(f"channel has no <{name}>; RSS 2.0 requires it")
    _check_url(_text(channel, "link"), "channel <link>", problems)
    if not (_text(channel, "language") or "").strip():
        problems.append("channel has no <language>; set site.language")
    for name in ("lastBuildDate", "pubDate"):
        if channel.find(name) is not None:
            _check_rfc822(_text(channel, name), f"channel <{name}>", problems)
    _check_self(channel.findall(f"{A}link"), public_url, problems)
    image = channel.find("image")
    if image is not None:
        for name in ("url", "title", "link"):
            if not (_text(image, name) or "").strip():
                problems.append(f"channel <image> has no <{name}>; RSS 2.0 requires it")
        _check_url(_text(image, "url"), "channel <image> <url>", problems)
        if (_text(image, "link") or "").strip() != (_text(channel, "link") or "").strip():
            problems.append("channel <image> <link> is not the channel's <link>; make them equal")


def _lint_rss_item(item: Any, where: str, guids: list[str], problems: list[str]) -> None:
    """One ``<item>``; its guid, if any, is added to ``guids``."""
    if not (_text(item, "title") or _text(item, "description")):
        problems.append(f"{where} has neither <title> nor <description>; give it a title")
    if item.find("link") is not None:
        _check_url(_text(item, "link"), f"{where} <link>", problems)
    guid = item.find("guid")
    if guid is not None:
        value = (guid.text or "").strip()
        guids.append(value)
        if guid.get("isPermaLink", "true") == "true":
            _check_url(value, f"{where} <guid> (isPermaLink)", problems)
        elif not value:
            problems.append(f"{where} <guid> is empty; give every item a permanent id")
    else:
        problems.append(f"{where} has no <guid>; readers will show it again when it changes")
    if item.find("pubDate") is not None:
        _check_rfc822(_text(item, "pubDate"), f"{where} <pubDate>", problems)
    for author in item.findall("author"):
        if "@" not in (author.text or ""):
            problems.append(
                f"{where} <author> '{author.text}' is not an email address; "
                "use dc:creator for a name"
            )
    _check_enclosures(item.findall("enclosure"), where, problems)
    _check_html(_text(item, "description"), f"{where} <description>", problems)
    _check_html(_text(item, CONTENT_ENCODED), f"{where} <content:encoded>", problems)
    _check_media(item, where, problems)


def _check_enclosures(enclosures: list[Any], where: str, problems: list[str]) -> None:
    if len(enclosures) > 1:
        problems.append(f"{where} has {len(enclosures)} enclosures; RSS allows one")
    for enclosure in enclosures:
        for field in ("url", "length", "type"):
            if not enclosure.get(field):
                problems.append(f"{where} <enclosure> has no {field}; RSS 2.0 requires it")
        if enclosure.get("url"):
            _check_url(enclosure.get("url"), f"{where} <enclosure url>", problems)
        if enclosure.get("length") and not enclosure.get("length", "").isdigit():
            problems.append(f"{where} <enclosure length> must be a number of bytes")


def _lint_atom(root: Any, public_url: str, problems: list[str]) -> None:
    for name in ("id", "title", "updated"):
        if root.find(f"{A}{name}") is None:
            problems.append(f"feed has no <{name}>; RFC 4287 requires it")
    if root.find(f"{A}updated") is not None:
        _check_rfc3339(_text(root, f"{A}updated"), "feed <updated>", problems)
    if not root.get("{http://www.w3.org/XML/1998/namespace}lang"):
        problems.append("feed has no xml:lang; set site.language")
    _check_self(root.findall(f"{A}link"), public_url, problems)
    for link in root.findall(f"{A}link"):
        _check_url(link.get("href"), f'feed <link rel="{link.get("rel", "alternate")}">', problems)
    for name in ("icon", "logo"):
        if root.find(f"{A}{name}") is not None:
            _check_url(_text(root, f"{A}{name}"), f"feed <{name}>", problems)
    feed_author = root.find(f"{A}author") is not None
    ids: list[str] = []
    for index, entry in enumerate(root.findall(f"{A}entry"), 1):
        ids.append(_lint_entry(entry, f"entry {index}", feed_author, problems))
    for duplicate in _duplicates(i for i in ids if i):
        problems.append(f"id '{duplicate}' is used by more than one entry; ids must be unique")


def _lint_entry(entry: Any, where: str, feed_author: bool, problems: list[str]) -> str:
    """One Atom ``<entry>``; returns its id ("" when it has none)."""
    entry_id = (_text(entry, f"{A}id") or "").strip()
    if not entry_id:
        problems.append(f"{where} has no <id>; give every entry a permanent id")
    elif not _absolute(entry_id):
        problems.append(f"{where} <id> '{entry_id}' is not an IRI; use a tag: URI or a URL")
    if not (_text(entry, f"{A}title") or "").strip():
        problems.append(f"{where} has no <title>; RFC 4287 requires it")
    if entry.find(f"{A}updated") is None:
        problems.append(f"{where} has no <updated>; RFC 4287 requires it")
    else:
        _check_rfc3339(_text(entry, f"{A}updated"), f"{where} <updated>", problems)
    if entry.find(f"{A}published") is not None:
        _check_rfc3339(_text(entry, f"{A}published"), f"{where} <published>", problems)
    if not feed_author and entry.find(f"{A}author") is None:
        problems.append(f"{where} has no <author> and the feed has none; set site.author")
    _check_entry_links(entry, where, problems)
    for name in ("content", "summary"):
        element = entry.find(f"{A}{name}")
        if element is None:
            continue
        kind = element.get("type", "text")
        if kind not in ("text", "html", "xhtml") and "/" not in kind:
            problems.append(f'{where} <{name} type="{kind}"> is not allowed; use html')
        if kind == "html":
            _check_html(element.text, f"{where} <{name}>", problems)
    _check_media(entry, where, problems)
    return entry_id


def _check_entry_links(entry: Any, where: str, problems: list[str]) -> None:
    links = entry.findall(f"{A}link")
    alternates = [link for link in links if link.get("rel", "alternate") == "alternate"]
    if len(alternates) > 1:
        problems.append(f'{where} has {len(alternates)} rel="alternate" links; keep exactly one')
    elif not alternates and entry.find(f"{A}content") is None:
        problems.append(f'{where} has neither content nor a rel="alternate" link')
    for link in links:
        _check_url(
            link.get("href"), f'{where} <link rel="{link.get("rel", "alternate")}">', problems
        )
        if link.get("rel") == "enclosure" and not (link.get("length") and link.get("type")):
            problems.append(f"{where} enclosure link has no length or type; add both")


def lint_json(data: bytes, public_url: str, problems: list[str]) -> None:
    """A JSON Feed 1.x document."""
    try:
        feed = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        problems.append(f"not valid JSON ({exc}); rebuild the feed")
        return
    if not isinstance(feed, dict):
        problems.append("a JSON Feed must be an object")
        return
    if not str(feed.get("version", "")).startswith("https://jsonfeed.org/version/"):
        problems.append("no JSON Feed version; set version to https://jsonfeed.org/version/1.1")
    if not feed.get("title"):
        problems.append("feed has no title; JSON Feed requires it")
    if feed.get("feed_url") != public_url:
        problems.append(
            f"feed_url '{feed.get('feed_url')}' is not the feed's public URL {public_url}"
        )
    if feed.get("home_page_url") is not None:
        _check_url(feed.get("home_page_url"), "home_page_url", problems)
    items = feed.get("items")
    if not isinstance(items, list):
        problems.append("feed has no items list; JSON Feed requires one (it may be empty)")
        return
    ids: list[str] = []
    for index, item in enumerate(items, 1):
        _lint_json_item(item, f"item {index}", ids, problems)
    for duplicate in _duplicates(ids):
        problems.append(f"id '{duplicate}' is used by more than one item; ids must be unique")


def _lint_json_item(item: Any, where: str, ids: list[str], problems: list[str]) -> None:
    """One JSON Feed item; its id, if it has one, is added to ``ids``."""
    if not isinstance(item, dict):
        problems.append(f"{where} is not an object")
        return
    item_id = item.get("id")
    if not isinstance(item_id, str) or not item_id:
        problems.append(f"{where} has no string id; JSON Feed requires one")
    else:
        ids.append(item_id)
    for key in ("url", "external_url", "image"):
        if item.get(key) is not None:
            _check_url(item.get(key), f"{where} {key}", problems)
    if not (item.get("content_html") or item.get("content_text")):
        problems.append(f"{where} has neither content_html nor content_text")
    for key in ("date_published", "date_modified"):
        if item.get(key) is not None:
            _check_rfc3339(item.get(key), f"{where} {key}", problems)
    _check_html(item.get("content_html"), f"{where} content_html", problems)
