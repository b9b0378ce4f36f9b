"""The facts one post's section of the preview page shows, as frozen data.

sections.py gathers them from every stage's result, notices.py derives the warnings, and
the page template (page.py) only lays them out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from publisher.posts.model import Post
from publisher.preview.unfurl import Picture, Unfurl

Severity = Literal["error", "warning", "info"]
Status = Literal["published", "scheduled", "draft"]


@dataclass(frozen=True, kw_only=True)
class Notice:
    """One warning for one post, from whichever stage raised it."""

    stage: str
    severity: Severity
    message: str
    fix: str | None = None


@dataclass(frozen=True, kw_only=True)
class CardView:
    picture: Picture
    url: str
    layout: str
    budget: int


@dataclass(frozen=True, kw_only=True)
class AnnouncementView:
    target: str
    kind: str
    status: str
    text: str | None = None
    length: int | None = None
    limit: int | None = None
    unit: str | None = None
    shortened: bool = False
    payload: str | None = None
    error: str | None = None
    #: The message carries the card picture (its URL is in the payload): the mock-up shows it.
    picture: bool = False


@dataclass(frozen=True, kw_only=True)
class EnclosureView:
    url: str
    mime: str | None
    length: int | None


@dataclass(frozen=True, kw_only=True)
class FeedView:
    title: str
    link: str
    summary: str | None
    excerpt: str
    enclosure: EnclosureView | None
    categories: tuple[str, ...]
    note: str


@dataclass(frozen=True, kw_only=True)
class Section:
    post: Post
    status: Status
    card: CardView | None
    meta: Mapping[str, str]
    unfurls: tuple[Unfurl, ...]
    announcements: tuple[AnnouncementView, ...]
    feed: FeedView | None
    notices: tuple[Notice, ...]

    @property
    def level(self) -> Severity | Literal["ok"]:
        """The worst notice: what the page's "with errors"/"with warnings" filter reads."""
        found = {n.severity for n in self.notices}
        return "error" if "error" in found else ("warning" if "warning" in found else "ok")

    @property
    def search_text(self) -> str:
        """What the page's filter box matches: title, id, summary, tags, categories, warnings."""
        parts = [
            self.post.title,
            self.post.id,
            self.post.summary or "",
            self.status,
            *self.post.tags,
            *self.post.categories,
            *(n.message for n in self.notices),
        ]
        return " ".join(" ".join(parts).lower().split())
