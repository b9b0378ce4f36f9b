"""JSON Feed 1.1 (https://www.jsonfeed.org/version/1.1/): the same items, as sorted JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from publisher.feeds.items import FeedItem
from publisher.feeds.rss_atom import FeedHead

VERSION = "https://jsonfeed.org/version/1.1"


def _date(value: datetime) -> str:
    return value.isoformat()


def _item(item: FeedItem) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": item.id,
        "url": item.link,
        "title": item.title,
        "date_published": _date(item.published),
    }
    if item.updated != item.published:
        data["date_modified"] = _date(item.updated)
    if item.external_url:
        data["external_url"] = item.external_url
    if item.content_html:
        data["content_html"] = item.content_html
    else:
        # JSON Feed requires content_html or content_text.
        data["content_text"] = item.summary or item.title
    if item.summary:
        data["summary"] = item.summary
    if item.image is not None:
        data["image"] = item.image.url
    if item.authors:
        data["authors"] = [{"name": a.name} for a in item.authors]
    labels = list(dict.fromkeys([*item.categories, *item.tags]))
    if labels:
        data["tags"] = labels
    return data


def render_json(head: FeedHead, items: Sequence[FeedItem]) -> bytes:
    """A JSON Feed 1.1 document of ``items`` (already in feed order)."""
    feed: dict[str, Any] = {
        "version": VERSION,
        "title": head.title,
        "home_page_url": head.site_url,
        "feed_url": head.self_url,
        "language": head.language,
        "authors": [{"name": head.author_name}],
        "items": [_item(i) for i in items],
    }
    if head.description:
        feed["description"] = head.description
    if head.hub:
        feed["hubs"] = [{"type": "WebSub", "url": head.hub}]
    text = json.dumps(feed, ensure_ascii=False, indent=2, sort_keys=True)
    return (text + "\n").encode("utf-8")
