"""Messages from jinja2 templates, cut to each platform's budget.

``templates/announce/<kind>.j2`` is the default message of each kind; a target's
``template`` option points at a file of its own. Templates see ``title``, ``summary``,
``url`` (never shortened), ``page_url``, ``tags``, ``hashtags``, ``categories``,
``authors``, ``date``, ``post`` and ``target``. When the result is over the limit the
summary is cut (at a word, with an ellipsis), then the title; the link never is.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from publisher import resources
from publisher.announce.contract import Announcer, TextLimit
from publisher.announce.text import fit, graphemes, shorten
from publisher.errors import AnnounceError
from publisher.posts.model import Post

_HASHTAG_DROP = re.compile(r"[^\w]+", re.UNICODE)


@dataclass(frozen=True, kw_only=True)
class Rendered:
    text: str
    title: str
    summary: str
    length: int
    limit: TextLimit
    shortened: bool


def _environment(folder: Path) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(folder)),
        autoescape=False,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )


@functools.lru_cache(maxsize=64)
def load_template(kind: str, override: str | None) -> jinja2.Template:
    """The target's own template file, else the built-in one for its kind."""
    if override:
        path = Path(override)
        try:
            source = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise AnnounceError(
                kind, None, f"template {override} cannot be read ({exc.strerror}); fix the path"
            ) from None
        return _environment(path.parent).from_string(source)
    folder = resources.templates() / "announce"
    try:
        return _environment(folder).get_template(f"{kind}.j2")
    except jinja2.TemplateNotFound:
        return _environment(folder).get_template("default.j2")


def hashtag(tag: str) -> str:
    """``#ebpf`` from 'eBPF', ``#ServiceMesh`` from 'service mesh': letters and digits only."""
    words = [w for w in _HASHTAG_DROP.split(tag) if w]
    if len(words) > 1:
        words = [w[:1].upper() + w[1:] for w in words]
    joined = "".join(words)
    return f"#{joined}" if joined and not joined.isdigit() else ""


def context(post: Post, target: str, escape: Any) -> dict[str, Any]:
    return {
        "post": post,
        "target": target,
        "url": post.url,
        "page_url": post.page_url,
        "tags": [escape(t) for t in post.tags],
        "hashtags": " ".join(h for h in (hashtag(t) for t in post.tags) if h),
        "categories": [escape(c) for c in post.categories],
        "authors": [escape(a.name) for a in post.authors],
        "date": post.date,
        "is_link_post": post.is_link_post,
    }


def render_message(
    announcer: Announcer, post: Post, limit: TextLimit, *, template: str | None = None
) -> Rendered:
    """Render ``post`` for ``announcer`` within ``limit``; AnnounceError if even the link cannot fit."""
    compiled = load_template(announcer.kind, template)
    base = context(post, announcer.name, announcer.escape)
    summary_full = " ".join((post.summary or "").split())
    title_full = " ".join(post.title.split())

    def parts(summary_kept: int | None, title_kept: int | None) -> tuple[str, str]:
        summary = summary_full if summary_kept is None else shorten(summary_full, summary_kept)
        title = title_full if title_kept is None else shorten(title_full, title_kept)
        return title, summary

    def render(summary_kept: int | None, title_kept: int | None) -> str:
        title, summary = parts(summary_kept, title_kept)
        try:
            text = compiled.render(
                **base, title=announcer.escape(title), summary=announcer.escape(summary)
            )
        except jinja2.TemplateError as exc:
            raise AnnounceError(
                announcer.name, None, f"template error: {exc}; fix the template"
            ) from None
        return re.sub(r"\n{3,}", "\n\n", text).strip()

    def measure(text: str) -> int:
        # The byte cap (Bluesky) counts as "over" by making the text look too long.
        if limit.max_bytes is not None and len(text.encode("utf-8")) > limit.max_bytes:
            return limit.max + 1
        return limit.measure(text)

    fitted = fit(
        render,
        measure,
        limit.max,
        summary_len=sum(1 for _ in graphemes(summary_full)),
        title_len=sum(1 for _ in graphemes(title_full)),
    )
    if fitted is None:
        raise AnnounceError(
            announcer.name,
            None,
            f"post {post.id}: the message cannot fit {limit.describe()} even without its summary; "
            "shorten the template or the link",
        )
    title, summary = parts(fitted.summary_kept, fitted.title_kept)
    return Rendered(
        text=fitted.text,
        title=title,
        summary=summary,
        length=fitted.length,
        limit=limit,
        shortened=fitted.summary_kept is not None,
    )
