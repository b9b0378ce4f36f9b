"""JSON Feed 1.1 (https://www.jsonfeed.org/version/1.1/): the same items, as sorted JSON."""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Sequence
from datetime import datetime

from publisher import jsontext
from publisher.feeds.head import FeedHead
from publisher.feeds.items import FeedItem

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (issue 12)

if TYPE_CHECKING:
    from typing import Any

VERSION = "https://jsonfeed.org/version/1.1"
# Items sit two levels deep (feed > items > item) in a document indented by two spaces.
_ITEM_INDENT = "    "
_EMPTY_ITEMS = b'\n  "items": []'


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


def render_fragment(item: FeedItem) -> bytes:
    """``item`` as it appears in the ``items`` list of any JSON Feed document."""
    # jsontext: json.dumps's bytes, without its per-value Python generators (issue 12),
    # written at the item's depth (no second pass over the item to indent it).
    value = _item(item)
    text = jsontext.dumps_nested(value, depth=2, indent=2)
    if text is None:
        text = jsontext.dumps(value, indent=2).replace("\n", "\n" + _ITEM_INDENT)
    return (_ITEM_INDENT + text).encode("utf-8")


def render_head(head: FeedHead) -> bytes:
    """The JSON Feed 1.1 document for ``head`` with no items."""
    feed: dict[str, Any] = {
        "version": VERSION,
        "title": head.title,
        "home_page_url": head.site_url,
        "feed_url": head.self_url,
        "language": head.language,
        "authors": [{"name": head.author_name}],
        "items": [],
    }
    if head.description:
        feed["description"] = head.description
    if head.icon:
        # JSON Feed's icon is the big square one, favicon the small: one square image serves.
        feed["icon"] = head.icon
        feed["favicon"] = head.icon
    if head.hub:
        feed["hubs"] = [{"type": "WebSub", "url": head.hub}]
    return (json.dumps(feed, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode("utf-8")


#: :func:`render_feed` puts each fragment between bytes that depend on the shell alone,
#: whatever the fragments hold: a document is the literals ``splicing.template`` finds
#: around its items, so a read worker writes it a batch at a time (``parallel.py``).
CONCATENATES = True


def render_document(shell: bytes, fragments: Iterable[bytes]) -> bytes:
    """``shell`` (from :func:`render_head`) with ``fragments`` (from :func:`render_fragment`,
    in feed order) as its items: the bytes ``json.dumps`` gives for the whole feed.

    JSON escapes every newline inside a string, so the ``items`` key's line is found by
    its indentation.
    """
    pieces = iter(fragments)
    first = next(pieces, None)
    if first is None:
        return shell
    at = shell.index(_EMPTY_ITEMS) + len(_EMPTY_ITEMS) - 1
    out = io.BytesIO()  # getvalue() hands over its buffer: no second copy of the file
    out.write(shell[:at] + b"\n")
    out.write(first)
    for piece in pieces:
        out.write(b",\n")
        out.write(piece)
    out.write(b"\n  " + shell[at:])
    return out.getvalue()


# The Renderer contract of publisher.feeds.formats.


def render_items(
    names: Sequence[str], items: Sequence[FeedItem], head: FeedHead
) -> dict[str, list[bytes]]:
    return {name: [render_fragment(item) for item in items] for name in names}


def render_shell(name: str, head: FeedHead, updated: datetime | None) -> bytes:
    return render_head(head)


def render_feed(name: str, shell: bytes, fragments: Iterable[bytes]) -> bytes:
    return render_document(shell, fragments)
