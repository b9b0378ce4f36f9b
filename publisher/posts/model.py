"""The typed, frozen result of reading posts: no I/O here."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from publisher.errors import Problem


@dataclass(frozen=True, kw_only=True)
class Author:
    name: str
    org: str | None = None
    email: str | None = None


@dataclass(frozen=True, kw_only=True)
class Post:
    """One post, read and cleaned, ready for every later stage.

    ``url`` is where the post is read: ``external_url`` for link posts, else ``page_url``,
    the post's own page on the site. ``id`` is the post's folder relative to the posts root: it never changes when the
    title, date, summary or path is edited, so feeds and announcements key on it.
    """

    id: str
    source: Path
    url: str
    page_url: str
    path: str | None
    external_url: str | None
    title: str
    summary: str | None
    date: datetime
    updated: datetime | None
    og_image: Path | None
    og_image_url: str | None
    categories: tuple[str, ...]
    tags: tuple[str, ...]
    authors: tuple[Author, ...]
    is_featured: bool
    is_popular: bool
    draft: bool
    body_markdown: str
    body_html: str
    frontmatter: Mapping[str, Any] = field(compare=False, hash=False, repr=False)

    @property
    def is_link_post(self) -> bool:
        return self.external_url is not None

    def is_live(self, now: datetime) -> bool:
        """Published: not a draft and dated at or before ``now``."""
        return not self.draft and self.date <= now


@dataclass(frozen=True, kw_only=True)
class ReadResult:
    """Every post that could be read, and every diagnostic from reading them."""

    posts: tuple[Post, ...]
    problems: tuple[Problem, ...]
    files: int
    cache_hits: int = 0

    def published(self, now: datetime) -> tuple[Post, ...]:
        return tuple(p for p in self.posts if p.is_live(now))

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "error")
