"""What the site's pages need from the cards: the manifest and per-post meta tags."""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import quote, urlsplit, urlunsplit

import jinja2

from publisher.config import SiteConfig
from publisher.feeds import formats
from publisher.posts.model import Post
from publisher.resources import templates

if TYPE_CHECKING:
    from publisher.feeds.options import FeedOptions

MANIFEST = "manifest.json"

#: The territory a bare language most likely means (CLDR likely subtags), so ``og:locale``,
#: which Facebook and LinkedIn read as ``ll_TT``, is always there: ``en`` -> ``en_US``.
_LIKELY_TERRITORY = {
    "ar": "EG", "bn": "BD", "ca": "ES", "cs": "CZ", "da": "DK", "de": "DE", "el": "GR",
    "en": "US", "es": "ES", "et": "EE", "fa": "IR", "fi": "FI", "fr": "FR", "he": "IL",
    "hi": "IN", "hr": "HR", "hu": "HU", "id": "ID", "it": "IT", "ja": "JP", "ko": "KR",
    "lt": "LT", "lv": "LV", "ms": "MY", "nb": "NO", "nl": "NL", "nn": "NO", "no": "NO",
    "pl": "PL", "pt": "BR", "ro": "RO", "ru": "RU", "sk": "SK", "sl": "SI", "sr": "RS",
    "sv": "SE", "sw": "KE", "ta": "IN", "th": "TH", "tr": "TR", "uk": "UA", "ur": "PK",
    "vi": "VN", "zh": "CN",
}  # fmt: skip


@dataclass(frozen=True, kw_only=True)
class FeedLink:
    """One feed a page advertises with ``<link rel="alternate">``."""

    href: str
    type: str
    title: str


@dataclass(frozen=True, kw_only=True)
class Card:
    """One rendered card as published: where it is and what it shows."""

    post_id: str
    path: str
    url: str
    width: int
    height: int
    bytes: int
    mime: str
    alt: str
    layout: str
    meta_html: str
    #: Why the card has this layout (see publisher.cards.choose): for previews and reviews.
    rule: str = "default"

    def manifest_entry(self) -> dict[str, object]:
        return {
            "alt": self.alt,
            "bytes": self.bytes,
            "height": self.height,
            "image": self.path,
            "layout": self.layout,
            "rule": self.rule,
            "type": self.mime,
            "url": self.url,
            "width": self.width,
        }


def manifest(cards: Sequence[Card]) -> str:
    """``og/manifest.json``: post id -> card, sorted keys, stable across runs."""
    data = {card.post_id: card.manifest_entry() for card in cards}
    return json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


@functools.lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates() / "cards")),
        autoescape=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )


def public_url(site_url: str, path: str) -> str:
    """``site_url`` + ``path`` with the path percent-encoded (spaces, non-ASCII post ids).

    Crawlers (Facebook, LinkedIn, Slack) fetch ``og:image`` as written; a raw space or a
    non-ASCII byte makes some of them drop the image. ``%`` is encoded too: a post id is a
    folder name, never an already-encoded URL.
    """
    return f"{_site_base(site_url)}/{quote(path, safe='/')}"


#: What may stay as written in the site URL's path: RFC 3986 path characters, and ``%`` so an
#: already-encoded site path (``/a%20b``) is not encoded twice.
_PATH_SAFE = "/%:@!$&'()*+,;=-._~"


def _site_base(site_url: str) -> str:
    """``site.url`` as crawlers can fetch it: an IDN host in punycode, the path percent-encoded.

    ``site.url`` is written by hand (``https://bücher.example/über uns``); the post's own page
    URL is normalised when it is read, and the card's URL must be too.
    """
    parts = urlsplit(site_url.rstrip("/"))
    user, at, hostport = parts.netloc.rpartition("@")
    host, colon, port = hostport.rpartition(":")
    if not (colon and port.isdigit()):
        host, colon, port = hostport, "", ""
    netloc = f"{quote(user, safe=':%')}{at}{_ascii_host(host)}{colon}{port}"
    path = quote(parts.path, safe=_PATH_SAFE)
    return urlunsplit((parts.scheme, netloc, path, parts.query, parts.fragment))


def _ascii_host(host: str) -> str:
    if host.isascii():
        return host
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:  # not a valid IDN (an emoji or a too-long label): percent-encode it
        return quote(host, safe="[]")


def feed_links(site: SiteConfig, feeds: FeedOptions | None) -> tuple[FeedLink, ...]:
    """The site's main feeds, in the configured order; none when feeds are off."""
    if feeds is None:
        return ()
    links = []
    for name in feeds.formats:
        fmt = formats.get(name)
        title = f"{site.title} ({fmt.label})" if site.title else fmt.label
        href = public_url(site.url, formats.path_of(feeds, name))
        links.append(FeedLink(href=href, type=fmt.media_type, title=title))
    return tuple(links)


def _locale(language: str) -> str:
    """``og:locale`` (``ll_TT``) from the site's language tag: ``en-gb`` -> ``en_GB``,
    ``en`` -> ``en_US``, ``zh-Hant-TW`` -> ``zh_TW``; a language with no known territory
    keeps its two letters doubled the way Facebook's list spells most (``xx_XX``)."""
    parts = [p for p in language.replace("_", "-").split("-") if p]
    if not parts or not parts[0].isalpha():
        return "en_US"
    lang = parts[0].lower()
    regions = [
        p for p in parts[1:] if (len(p) == 2 and p.isalpha()) or (len(p) == 3 and p.isdigit())
    ]
    if regions:
        return f"{lang}_{regions[0].upper()}"
    return f"{lang}_{_LIKELY_TERRITORY.get(lang, lang.upper())}"


def meta_html(
    site: SiteConfig,
    post: Post,
    *,
    title: str,
    description: str,
    card: Card | None,
    feeds: Sequence[FeedLink] = (),
) -> str:
    """The ``<meta>`` tags for one post's page, from ``templates/cards/meta.html.j2``.

    ``feeds`` adds the feed-discovery ``<link rel="alternate">`` tags (see :func:`feed_links`).
    """
    template = _environment().get_template("meta.html.j2")
    return template.render(
        title=title,
        description=description,
        url=post.page_url,
        site_name=site.title,
        locale=_locale(site.language),
        published=post.date.isoformat(),
        card=card,
        feeds=feeds,
    )
