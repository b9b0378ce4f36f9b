"""Messages from jinja2 templates, cut to each platform's budget.

``templates/announce/<kind>.j2`` is the default message of each kind; a target's
``template`` option points at a file of its own. Templates see ``title``, ``summary``,
``url`` (never shortened), ``page_url``, ``tags``, ``hashtags``, ``categories``,
``authors``, ``date``, ``post`` and ``target``. When the result is over the limit the
summary is cut (at a word, with an ellipsis), then the title; the link never is.

A template is code that runs on every post, and whoever can edit it may not be whoever
runs ``publish``: templates run in jinja2's immutable sandbox, and see plain data only
(``post`` is a mapping of the post's fields, not the :class:`Post` object, whose paths
could reach the disk). :func:`template_problem` finds a broken template at config load.
"""

from __future__ import annotations

import difflib
import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import jinja2.exceptions
import jinja2.meta
from jinja2.sandbox import ImmutableSandboxedEnvironment

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


#: The names a template may use, besides jinja2's own globals (range, cycler, ...).
VARIABLES = (
    "title",
    "summary",
    "url",
    "page_url",
    "tags",
    "hashtags",
    "categories",
    "authors",
    "date",
    "is_link_post",
    "post",
    "target",
)


def _environment(folder: Path | None) -> jinja2.Environment:
    """The sandbox; a site's own template (``folder`` None) can load no other file.

    Jinja's ``{% include %}`` reads any file beside the template (a ``.env``, the config),
    which a message would then carry to a public channel.
    """
    loader = jinja2.FileSystemLoader(str(folder)) if folder else jinja2.DictLoader({})
    return ImmutableSandboxedEnvironment(
        loader=loader,
        autoescape=False,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )


def _compile(path: Path) -> jinja2.Template:
    """Raises OSError, UnicodeDecodeError or jinja2.TemplateSyntaxError."""
    source = path.read_text(encoding="utf-8")
    return _environment(None).from_string(source)


def template_problem(path: Path, shown: str) -> str | None:
    """What is wrong with the template file at ``path`` (called ``shown``), or None.

    One line naming the file, the line and the fix: a missing or unreadable file, a
    syntax error, or a variable no template is given (``{{ titel }}``).
    """
    try:
        source = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return f"{shown} does not exist; fix the path (it is relative to config.yaml)"
    except IsADirectoryError:
        return f"{shown} is a folder; point it at a template file"
    except OSError as exc:
        return f"{shown} cannot be read ({exc.strerror}); fix the path or its permissions"
    except UnicodeDecodeError:
        return f"{shown} is not UTF-8 text; save it as UTF-8"
    environment = _environment(None)
    try:
        tree = environment.parse(source)
    except jinja2.TemplateSyntaxError as exc:
        return f"{shown}:{exc.lineno}: template syntax error: {exc.message}; fix the template"
    for other in jinja2.meta.find_referenced_templates(tree):
        return (
            f"{shown}: loads another file ({other or 'a computed name'}) with include, import "
            "or extends; a template must be one self-contained file"
        )
    known = {*VARIABLES, *environment.globals}
    for name in sorted(jinja2.meta.find_undeclared_variables(tree)):
        if name not in known:
            hint = difflib.get_close_matches(name, VARIABLES, n=1)
            fix = f"did you mean '{hint[0]}'?" if hint else f"use one of {', '.join(VARIABLES)}"
            return f"{shown}: unknown variable '{name}'; {fix}"
    return None


@functools.lru_cache(maxsize=64)
def load_template(kind: str, override: str | None) -> jinja2.Template:
    """The target's own template file, else the built-in one for its kind."""
    if override:
        try:
            return _compile(Path(override))
        except OSError as exc:
            raise AnnounceError(
                kind, None, f"template {override} cannot be read ({exc.strerror}); fix the path"
            ) from None
        except (UnicodeDecodeError, jinja2.TemplateSyntaxError):
            # Config load reports these with the line (template_problem); a file changed since.
            problem = template_problem(Path(override), override)
            raise AnnounceError(kind, None, problem or f"template {override} is broken") from None
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


def post_fields(post: Post) -> dict[str, Any]:
    """``post`` as templates see it: its fields as plain values (no paths, no methods)."""
    return {
        "id": post.id,
        "url": post.url,
        "page_url": post.page_url,
        "path": post.path,
        "external_url": post.external_url,
        "title": post.title,
        "summary": post.summary,
        "date": post.date,
        "updated": post.updated,
        "og_image_url": post.og_image_url,
        "categories": list(post.categories),
        "tags": list(post.tags),
        "authors": [{"name": a.name, "org": a.org, "email": a.email} for a in post.authors],
        "is_featured": post.is_featured,
        "is_popular": post.is_popular,
        "is_link_post": post.is_link_post,
        "draft": post.draft,
        "frontmatter": dict(post.frontmatter),
    }


def context(post: Post, target: str, escape: Any) -> dict[str, Any]:
    return {
        "post": post_fields(post),
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
        except jinja2.exceptions.SecurityError as exc:
            raise AnnounceError(
                announcer.name,
                None,
                f"post {post.id}: the template was stopped by the sandbox ({exc}); "
                "a template may only format the post's fields",
            ) from None
        except jinja2.TemplateError as exc:
            raise AnnounceError(
                announcer.name, None, f"post {post.id}: template error: {exc}; fix the template"
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
