"""Posts turned into feed items: cleaned, absolute, sanitized, once per build.

Everything a feed format needs from a post is decided here, so the RSS, Atom and JSON
renderers only lay the same facts out in their own syntax. Text is stripped of characters
XML cannot carry, every URL is absolute and percent-encoded, and body HTML is sanitized.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterable, Sequence
from contextvars import ContextVar
from datetime import datetime
from pathlib import Path
from urllib.parse import quote, urljoin, urlsplit

from publisher.dataclass import dataclass
from publisher.digests import sha1
from publisher.feeds.media import image_facts
from publisher.feeds.prose import prose, prose_html
from publisher.lazy import LazyModule, lazy_pattern
from publisher.posts.fields import FieldProblem, normalize_url, tag_key
from publisher.posts.model import Post
from publisher.posts.text import escape

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (issue 12)

if TYPE_CHECKING:
    # Annotations only: the format registry (which options.py reads) names the renderers,
    # which import this module, so importing options or config here would close a cycle.
    import nh3

    from publisher.config import SiteConfig
    from publisher.feeds.options import FeedOptions
    from publisher.posts import mdx
else:
    # Only for an iframe: a build of prose posts does not load the MDX components.
    mdx = LazyModule("publisher.posts.mdx")
    # Only for a body feeds/prose.py does not answer for.
    nh3 = LazyModule("nh3")

# XML 1.0 forbids C0 controls other than tab/newline/CR, surrogates and U+FFFE/FFFF; C1
# controls are legal but never meant in prose and make the W3C validator complain.
# Written as the removed ranges, not as the complement of the kept ones: the same set of
# characters, compiled in a tenth of the time (5 ms of every build's startup).
_NOT_XML = lazy_pattern("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
#: UTF-8 bytes that cannot begin or be a character _NOT_XML removes: all but the C0
#: controls other than tab/newline/CR, DEL, and the lead bytes of U+0080-U+00BF (C1
#: controls), U+D000-U+DFFF (surrogates) and U+F000-U+FFFF (U+FFFE, U+FFFF). A text
#: whose UTF-8 is only these is already clean: a C-speed check instead of the regex
#: scanning a whole body (issue 12); other texts go through the regex.
_PLAIN_BYTES = bytes(
    b
    for b in range(256)
    if (b >= 0x20 or b in (0x09, 0x0A, 0x0D)) and b not in (0x7F, 0xC2, 0xED, 0xEF)
)
_SLUG_JUNK = lazy_pattern(r"[^\w]+")
#: An iframe in rendered HTML (attributes quoted, so no '>' inside a value) with its
#: fallback text; bounded, so a run of unclosed '<iframe' costs linear time.
_IFRAME = lazy_pattern(r"<iframe\b[^<>]{0,4096}>(?:[^<]{0,4096}</iframe\s*>)?", re.IGNORECASE)
_CLEAN_ABSOLUTE = lazy_pattern(
    r"https?://[a-z0-9.\-]+(:\d+)?(/[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*)?"
)
#: A folder URL and a relative path in it for which ``urljoin`` is concatenation and
#: ``normalize_url`` changes nothing: no query, fragment, parameters, empty or dot
#: segments (a segment may not start with a dot), nothing to percent-encode.
_PLAIN_BASE = re.compile(
    r"https?://[a-z0-9.\-]+(?::\d+)?/(?:[\w\-~!$&'()*+,=:@%][\w\-.~!$&'()*+,=:@%]*/)*", re.ASCII
).fullmatch
_PLAIN_RELATIVE = re.compile(r"[\w\-~%][\w\-.~%]*(?:/[\w\-~%][\w\-.~%]*)*", re.ASCII).fullmatch

_URL_ATTRIBUTES = frozenset({"href", "src", "poster", "cite"})
_SCHEMES = {"http", "https", "mailto"}
_TAG_SAFE = "/-._~!$&'()*+,;=:@"
#: Longest tag or category folder name: well under the 255 bytes file systems allow.
MAX_SLUG_BYTES = 120


@dataclass(frozen=True, kw_only=True)
class ItemAuthor:
    name: str
    email: str | None = None


@dataclass(frozen=True, kw_only=True)
class ItemImage:
    url: str
    #: Sniffed from the file's bytes; None for a remote image (``ogImageUrl``).
    mime: str | None = None
    length: int | None = None


@dataclass(frozen=True, kw_only=True)
class FeedItem:
    """One post as every feed format shows it."""

    post_id: str
    id: str
    link: str
    external_url: str | None
    title: str
    summary: str | None
    content_html: str | None
    published: datetime
    updated: datetime
    authors: tuple[ItemAuthor, ...]
    categories: tuple[str, ...]
    tags: tuple[str, ...]
    image: ItemImage | None
    is_featured: bool
    is_popular: bool


def xml_text(text: str) -> str:
    """``text`` without the characters an XML document cannot contain."""
    if not text.encode("utf-8", "surrogatepass").translate(None, _PLAIN_BYTES):
        return text  # no byte that can start a character _NOT_XML removes
    return _NOT_XML.sub("", text)


def absolute_url(url: str, base: str | None = None) -> str:
    """``url`` resolved against ``base`` and percent-encoded; unchanged if it is not http(s)."""
    if _CLEAN_ABSOLUTE.fullmatch(url):
        return url  # the common case, already what normalize_url would return
    if base is not None and _PLAIN_RELATIVE(url) and _PLAIN_BASE(base):
        return base + url  # a file beside the post (its cover image): what urljoin gives
    url = xml_text(url).strip()
    if base is not None:
        url = urljoin(base, url)
    try:
        return normalize_url(url)
    except FieldProblem:
        return url


def clean_html(html: str, base: str) -> str:
    """Sanitized HTML with every reference absolute against ``base`` (the post's folder URL)."""
    if "<iframe" in html.lower():
        # A feed reader runs no iframe: keep what it showed as a link (a video as its
        # linked thumbnail) before the sanitizer drops the element and its content.
        html = _IFRAME.sub(lambda tag: mdx.iframe_html(tag.group(0)), html)
    token = _BASE.set(base)
    try:
        cleaned = _sanitizer().clean(xml_text(html))
    finally:
        _BASE.reset(token)
    return cleaned.strip()


#: The folder URL of the post being sanitized, for :func:`_attribute` (one per thread).
_BASE: ContextVar[str] = ContextVar("base")


def _attribute(tag: str, name: str, value: str) -> str | None:
    """The sanitizer's rewrite of one attribute: URLs absolute against ``_BASE``."""
    if name in _URL_ATTRIBUTES:
        if _CLEAN_ABSOLUTE.fullmatch(value):
            return value  # http(s), as absolute_url gives it back: most links in a body
        resolved = absolute_url(value, _BASE.get())
        scheme = urlsplit(resolved).scheme
        return resolved if scheme in _SCHEMES else None
    if name == "srcset":
        return _srcset(value, _BASE.get())
    return value


def _allowed() -> tuple[set[str], dict[str, set[str]]]:
    """The tags and attributes the sanitizer keeps: nh3's, with media elements and their
    attributes, without image maps."""
    tags = (nh3.ALLOWED_TAGS | {"picture", "source", "video", "audio", "track"}) - {"map", "area"}
    attributes: dict[str, set[str]] = {
        **{tag: set(attrs) for tag, attrs in nh3.ALLOWED_ATTRIBUTES.items()},
        "a": {"href", "hreflang", "title"},
        "img": {"src", "srcset", "sizes", "alt", "title", "width", "height"},
        "source": {"src", "srcset", "sizes", "type", "media"},
        "video": {"src", "poster", "controls", "width", "height"},
        "audio": {"src", "controls"},
        "track": {"src", "kind", "srclang", "label"},
        "code": {"class"},
        "pre": {"class"},
        "*": {"lang", "dir"},
    }
    return tags, attributes


@functools.cache
def _sanitizer() -> nh3.Cleaner:
    """nh3's sanitizer, configured once per process: built for each call (as ``nh3.clean``
    does), its allow-lists took more time than the sanitizing (issue 12)."""
    tags, attributes = _allowed()
    return nh3.Cleaner(
        tags=tags,
        clean_content_tags={"script", "style", "iframe", "object", "template"},
        attributes=attributes,
        attribute_filter=_attribute,
        url_schemes=_SCHEMES,
        link_rel=None,
        strip_comments=True,
    )


def _srcset(value: str, base: str) -> str:
    candidates = []
    for candidate in value.split(","):
        words = candidate.split()
        if words:
            candidates.append(" ".join([absolute_url(words[0], base), *words[1:]]))
    return ", ".join(candidates)


def tag_uri(site_url: str, tag_date: str, post_id: str) -> str:
    """A permanent RFC 4151 id keyed on the post's folder, not its title, date or path."""
    return f"tag:{_host(site_url)},{tag_date}:{quote(post_id, safe=_TAG_SAFE)}"


@functools.lru_cache(maxsize=64)
def _host(site_url: str) -> str:
    # The same site URL for every post of a build: split once.
    return (urlsplit(site_url).hostname or "localhost").lower()


def feed_item(post: Post, site: SiteConfig, options: FeedOptions) -> FeedItem:
    """Everything the feeds say about ``post``."""
    base = post.page_url if post.page_url.endswith("/") else post.page_url + "/"
    link = absolute_url(post.url)
    external = absolute_url(post.external_url) if post.external_url else None
    title = " ".join(xml_text(post.title).split()) or link
    summary = " ".join(xml_text(post.summary or "").split()) or None
    published, updated = item_dates(post, site)

    content: str | None = None
    if options.content == "full":
        markdown, html = post.body.text()
        if html.strip():
            # The reader's rendering of markdown with no raw HTML: nh3 would give it back
            # as it is (issue 12: the sanitizer was a tenth of a cold build's CPU).
            # xml_text first, as clean_html does.
            kept = None
            if post.body.rendered and prose(markdown):
                kept = prose_html(xml_text(html), markdown)
            content = (clean_html(html, base) if kept is None else kept) or None
    if content is None and external is not None:
        # A link post has no body: say what it is and where to read it, never leave it empty.
        host = urlsplit(external).hostname or external
        lead = f"<p>{escape(summary)}</p>\n" if summary else ""
        content = f'{lead}<p><a href="{escape(external)}">Read it on {escape(host)}</a></p>'
    elif content is None and summary and options.content == "full":
        content = f"<p>{escape(summary)}</p>"

    return FeedItem(
        post_id=post.id,
        id=tag_uri(site.url, options.tag_uri_date, post.id),
        link=link,
        external_url=external,
        title=title,
        summary=summary,
        content_html=content,
        published=published,
        updated=updated,
        authors=_authors(post, site),
        categories=labels(post.categories),
        tags=labels(post.tags),
        image=_image(post, base),
        is_featured=post.is_featured,
        is_popular=post.is_popular,
    )


def item_dates(post: Post, site: SiteConfig) -> tuple[datetime, datetime]:
    """(published, updated) of ``post``'s item; cheap, so a feed's date needs no item."""
    published = _moment(post.date, site)
    updated = max(published, _moment(post.updated, site)) if post.updated else published
    return published, updated


def _moment(value: datetime, site: SiteConfig) -> datetime:
    # Posts from the reader are always aware; a naive one built by hand is in the site's zone.
    if value.tzinfo is None:
        value = value.replace(tzinfo=site.tz)
    return value.replace(microsecond=0)


def _authors(post: Post, site: SiteConfig) -> tuple[ItemAuthor, ...]:
    authors = []
    for author in post.authors:
        name = " ".join(xml_text(author.name).split())
        if not name:
            continue
        email = author.email
        if email is None and site.author is not None and site.author.name == author.name:
            email = site.author.email
        authors.append(ItemAuthor(name=name, email=xml_text(email).strip() if email else None))
    return tuple(authors)


def _image(post: Post, base: str) -> ItemImage | None:
    if post.og_image is not None:
        relative = _relative_path(post.og_image, post.source)
        url = absolute_url(_quoted(relative), base)
        facts = image_facts(post.og_image)
        if facts is None:
            return ItemImage(url=url)
        return ItemImage(url=url, mime=facts.mime, length=facts.length)
    if post.og_image_url:
        return ItemImage(url=absolute_url(post.og_image_url))
    return None


@functools.lru_cache(maxsize=4096)
def _quoted(path: str) -> str:
    # Most posts name their image alike (cover.png): percent-encode each name once.
    return quote(path, safe="/")


def _relative_path(image: Path, source: Path) -> str:
    """``image`` relative to the folder of ``source`` (as a URL path), else its name."""
    # Both are normalized paths: a string prefix ending at a separator is a parts prefix.
    folder = os.path.dirname(os.fspath(source))
    path = os.fspath(image)
    if len(folder) > 1 and path.startswith(folder + os.sep):
        return path[len(folder) + 1 :].replace(os.sep, "/")
    try:
        return image.relative_to(source.parent).as_posix()
    except ValueError:
        return image.name


def newest_first(posts: Iterable[Post], site: SiteConfig) -> list[Post]:
    """Newest first; posts published at the same moment in a stable order (by folder)."""
    return sorted(posts, key=lambda post: (-_moment(post.date, site).timestamp(), post.id))


def labels(values: Iterable[str]) -> tuple[str, ...]:
    """Categories or tags as the feeds show them: cleaned, blank ones dropped, no repeats."""
    return tuple(dict.fromkeys(label for label in map(_label, values) if label))


@functools.lru_cache(maxsize=4096)
def _label(value: str) -> str:
    # The same few categories and tags recur on every post; clean each once per process.
    return " ".join(xml_text(value).split())


def slugs(names: Sequence[str]) -> dict[str, str]:
    """A file-system and URL safe slug for each name; distinct names never share one.

    A name whose slug loses nothing but case and spacing ("Service Mesh" -> service-mesh)
    keeps the plain slug. A lossy one ("C++" -> c) gets a short hash of the exact name, so
    adding "C++" later never takes "c" away from "C". A slug is a folder name: one over
    :data:`MAX_SLUG_BYTES` is cut and hashed, so a post's 300-letter tag cannot make the
    build fail on the file system's 255-byte name limit.
    """
    result: dict[str, str] = {}
    taken: set[str] = set()
    plain = sorted(set(names), key=lambda n: (not _lossless(n), n))
    for name in plain:
        slug = _SLUG_JUNK.sub("-", tag_key(name)).strip("-_")
        too_long = len(slug.encode("utf-8")) > MAX_SLUG_BYTES
        if too_long:
            slug = _cut(slug, MAX_SLUG_BYTES - 7).rstrip("-_")
        if too_long or not _lossless(name) or not slug or slug in taken:
            slug = f"{slug or 'x'}-{sha1(name.encode('utf-8')).hexdigest()[:6]}"
        taken.add(slug)
        result[name] = slug
    return result


def _cut(text: str, limit: int) -> str:
    """The longest start of ``text`` whose UTF-8 encoding fits ``limit`` bytes."""
    return text.encode("utf-8")[:limit].decode("utf-8", errors="ignore")


def _lossless(name: str) -> bool:
    key = tag_key(name)
    return bool(key) and _SLUG_JUNK.sub("-", key).strip("-_") == key
