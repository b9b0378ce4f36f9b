"""What the site's pages need from the cards: the manifest and per-post meta tags."""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass

import jinja2

from publisher.config import SiteConfig
from publisher.posts.model import Post
from publisher.resources import templates

MANIFEST = "manifest.json"


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

    def manifest_entry(self) -> dict[str, object]:
        return {
            "alt": self.alt,
            "bytes": self.bytes,
            "height": self.height,
            "image": self.path,
            "layout": self.layout,
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


def _locale(language: str) -> str:
    parts = language.replace("-", "_").split("_")
    if len(parts) == 2:
        return f"{parts[0].lower()}_{parts[1].upper()}"
    return ""


def meta_html(
    site: SiteConfig,
    post: Post,
    *,
    title: str,
    description: str,
    card: Card | None,
) -> str:
    """The ``<meta>`` tags for one post's page, from ``templates/cards/meta.html.j2``."""
    template = _environment().get_template("meta.html.j2")
    return template.render(
        title=title,
        description=description,
        url=post.page_url,
        site_name=site.title,
        locale=_locale(site.language),
        published=post.date.isoformat(),
        card=card,
    )
