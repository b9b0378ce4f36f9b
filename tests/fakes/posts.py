"""Posts and targets for announcement tests, built directly (no files to read)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from publisher.announce.options import parse_target_options
from publisher.config import TargetConfig
from publisher.posts.model import Author, Post

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def make_post(
    n: int,
    *,
    days_ago: float | None = None,
    site: str = "https://blog.example.org",
    external_url: str | None = None,
    **fields: Any,
) -> Post:
    """Post number ``n``, published two days ago (minus ``n`` minutes) unless ``days_ago``
    says otherwise; ``fields`` replace any other field (``title``, ``summary``, ``tags``...)."""
    post_id = f"2026-05-{n:04d}-post"
    page = f"{site}/blog/{post_id}/"
    post = Post(
        id=post_id,
        source=Path(f"/posts/{post_id}/index.md"),
        url=external_url or page,
        page_url=page,
        path=f"/blog/{post_id}/",
        external_url=external_url,
        title=f"Post number {n}",
        summary="A short summary of the post.",
        date=NOW
        - (
            timedelta(days=days_ago)
            if days_ago is not None
            else timedelta(days=2) - timedelta(minutes=n)
        ),
        updated=None,
        og_image=None,
        og_image_url=None,
        categories=("news",),
        tags=("ebpf",),
        authors=(Author(name="Ada"),),
        is_featured=False,
        is_popular=False,
        draft=False,
        body_markdown="",
        body_html="",
        frontmatter={},
    )
    return replace(post, **fields) if fields else post


def target(name: str, kind: str, raw: Mapping[str, Any]) -> TargetConfig:
    """A target validated the way config.yaml's are; fails the test on any problem."""
    options, problems = parse_target_options(
        kind, {"kind": kind, "name": name, **raw}, where=f"announce.targets[{name}]"
    )
    assert problems == [], problems
    return TargetConfig(name=name, kind=kind, options=options)
