"""One post's section of the preview page: the facts (views.py) gathered from every
stage's result; notices.py derives the section's warnings from them.

Nothing here touches the disk but for reading the size of a post's source image; the page
template only lays these facts out.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path

from publisher.announce import Announcement, Announcer, Card, Decision, redact
from publisher.announce.redact import redact_data
from publisher.announce.render import render_message
from publisher.cards import Card as PublishedCard
from publisher.cards.images import SourceImageError, probe
from publisher.cards.meta import meta_html
from publisher.cards.options import CardOptions
from publisher.cards.text import clean_text
from publisher.config import Config
from publisher.errors import AnnounceError
from publisher.feeds import formats as feed_formats
from publisher.feeds.items import FeedItem, feed_item
from publisher.posts.model import Post
from publisher.preview.unfurl import Picture, read_meta
from publisher.preview.views import (
    AnnouncementView,
    CardView,
    EnclosureView,
    FeedView,
    Status,
)

EXCERPT_WORDS = 60

_REASONS = {
    "new": "would be sent on the next run",
    "retry": "failed before; would be sent again on the next run",
    "seen": "already sent (or recorded in the target's baseline)",
    "in_doubt": "may already be on the platform; sent again only with --retry-in-doubt",
    "baseline": "this target's first run: recorded as already published, not sent",
    "too_old": "older than the target's max_age: never sent",
    "over_cap": "beyond the target's max_per_run: goes out on a later run",
    "filtered": "excluded by the target's filters: never sent",
    "not_live": "its page is not live yet: sent on a later run",
}


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.words: list[str] = []

    def handle_data(self, data: str) -> None:
        self.words.extend(data.split())


def excerpt(html: str | None, words: int = EXCERPT_WORDS) -> str:
    """The first ``words`` words of an HTML body as plain text, with … when cut."""
    if not html:
        return ""
    reader = _Text()
    reader.feed(html)
    reader.close()
    kept = reader.words[:words]
    return " ".join(kept) + (" …" if len(reader.words) > words else "")


def image_width(path: Path | None, options: CardOptions) -> int | None:
    """The pixel width of a source image (header only, with the cards stage's decoders and
    caps), or None if it cannot be used; the cards stage reports why."""
    if path is None:
        return None
    try:
        return probe(path, max_bytes=options.max_image_bytes, max_pixels=options.max_pixels).size[0]
    except SourceImageError:
        return None


def status_of(post: Post, now: datetime) -> Status:
    if post.draft:
        return "draft"
    return "published" if post.date <= now else "scheduled"


def card_view(card: PublishedCard | None, budget: int, src: str) -> CardView | None:
    """The card's facts as served; ``src`` is the small copy the page shows (thumbs.py)."""
    if card is None:
        return None
    picture = Picture(
        src=src,
        width=card.width,
        height=card.height,
        bytes=card.bytes,
        mime=card.mime,
        alt=card.alt,
    )
    return CardView(picture=picture, url=card.url, layout=card.layout, budget=budget)


def page_meta(config: Config, post: Post, card: PublishedCard | None) -> dict[str, str]:
    """The meta tags the post's page carries: the card's own snippet, else the same template."""
    if card is not None and card.meta_html:
        return read_meta(card.meta_html)
    description = clean_text(post.summary) or config.site.description
    html = meta_html(
        config.site, post, title=clean_text(post.title), description=description, card=None
    )
    return read_meta(html)


def feed_view(config: Config, post: Post, status: Status, position: int | None) -> FeedView | None:
    if not config.feeds.enabled:
        return None
    options = config.feeds.options
    item: FeedItem = feed_item(post, config.site, options)
    if status == "draft":
        note = "a draft: never in the feeds"
    elif status == "scheduled":
        note = "enters the feeds on the first run at or after its date"
    elif options.limit is not None and position is not None and position >= options.limit:
        main = feed_formats.paths(options, options.formats[:1])[0]
        note = f"older than the newest {options.limit}: no longer in {main}"
    else:
        note = f"in {', '.join(_feed_files(config))}"
    image = item.image
    return FeedView(
        title=item.title,
        link=item.link,
        summary=item.summary,
        excerpt=excerpt(item.content_html),
        enclosure=EnclosureView(url=image.url, mime=image.mime, length=image.length)
        if image
        else None,
        categories=(*item.categories, *item.tags),
        note=note,
    )


def _feed_files(config: Config) -> list[str]:
    options = config.feeds.options
    return feed_formats.paths(options, options.formats)


def _template(announcer: Announcer) -> str | None:
    template = announcer.config.get("template")
    if not template:
        return None
    path = Path(str(template))
    return str(path if path.is_absolute() else announcer.root / path)


#: What an adapter's dry-run payload holds where it would upload the card (Mastodon's
#: ``<uploaded card>``, Bluesky's ``<uploaded card blob>``).
UPLOADED = "<uploaded card"


def carries_card(payload: str, card: Card | None) -> bool:
    """Whether a message sends the card: its payload holds the card's URL (Slack, Discord,
    Teams, Telegram, webhooks) or an upload placeholder. Any kind, present or future, that
    follows one of the two is drawn with the picture, with no code here for it."""
    if card is None:
        return False
    url = json.dumps(card.url)[1:-1] if card.url else None
    return (url is not None and url in payload) or UPLOADED in payload


def _state(post: Post, status: Status, decision: Decision | None) -> str:
    """What a run would do with the post for one target, in words."""
    if status == "draft":
        return "a draft: never announced"
    if status == "scheduled":
        return f"announced on the first run at or after {post.date.isoformat()} (if its filters let it through)"
    if decision is None:
        return "not planned"
    if decision.result == "failed":
        return "would fail"
    state = _REASONS.get(decision.reason, decision.reason)
    if decision.detail and decision.result == "skipped":
        return f"{state} ({redact(decision.detail)})"
    return state


def announcement_views(
    post: Post,
    status: Status,
    announcers: Sequence[Announcer],
    decisions: Mapping[tuple[str, str], Decision],
    card: Card | None,
    language: str | None,
    now: datetime,
) -> tuple[AnnouncementView, ...]:
    """Each target's message for ``post``, rendered exactly as a run would send it."""
    views = []
    for announcer in announcers:
        state = _state(post, status, decisions.get((post.id, announcer.name)))
        limit = announcer.text_limit(None)
        try:
            rendered = render_message(announcer, post, limit, template=_template(announcer))
        except AnnounceError as exc:
            views.append(
                AnnouncementView(
                    target=announcer.name,
                    kind=announcer.kind,
                    status=state,
                    error=redact(exc.reason),
                    limit=limit.max,
                    unit=limit.unit,
                )
            )
            continue
        announcement = Announcement(
            post=post,
            target=announcer.name,
            text=rendered.text,
            title=rendered.title,
            summary=rendered.summary,
            url=post.url,
            card=card,
            key="<idempotency-key>",
            created_at=max(now, post.date),
            language=language,
        )
        payload = json.dumps(
            redact_data(announcer.payload(announcement)),
            ensure_ascii=False,
            indent=2,
            sort_keys=True,
        )
        views.append(
            AnnouncementView(
                target=announcer.name,
                kind=announcer.kind,
                status=state,
                text=redact(rendered.text),
                length=rendered.length,
                limit=limit.max,
                unit=limit.unit,
                shortened=rendered.shortened,
                payload=payload,
                picture=carries_card(payload, card),
            )
        )
    return tuple(views)
