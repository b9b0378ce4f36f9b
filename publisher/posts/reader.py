"""Read one post file into a plain record (JSON-safe, so it can be cached) and problems.

Nothing here looks at other posts or at other files: that is ``finalize``'s job in
``publisher.posts``. Given the same bytes and the same :class:`ReadContext`, the result
is the same, which is what makes the content-hash cache sound.
"""

from __future__ import annotations

from publisher.dataclass import dataclass
from publisher.errors import PostError, Problem
from publisher.posts import body, fields, frontmatter, limits, record
from publisher.posts.limits import DEFAULT_LIMITS, Limits
from publisher.posts.model import Author
from publisher.posts.sources.base import SourceRules
from publisher.posts.text import preview, repair_mojibake, strip_invisible
from publisher.zones import zone

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (issue 12)

if TYPE_CHECKING:
    from typing import Any

#: The generic layout's rules: frontmatter keys are the reader's own.
DEFAULT_RULES = SourceRules()


@dataclass(frozen=True, kw_only=True)
class ReadContext:
    """Everything from config.yaml that shapes how one post is read."""

    site_url: str
    timezone: str
    summary_keys: tuple[str, ...]
    default_path: str
    default_author: str | None
    default_author_email: str | None = None
    limits: Limits = DEFAULT_LIMITS
    #: The generator whose rules turn frontmatter into title, date, URL, ... (generic: ours).
    rules: SourceRules = DEFAULT_RULES


Record = dict[str, "Any"]  # quoted: typing is not imported at run time


def decode(raw: bytes, file: str) -> str:
    """UTF-8 text (a BOM is fine) with Unix newlines, or a PostError saying where it breaks."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")) or _looks_utf16(raw):
        raise PostError(
            Problem(file=file, field=None, message="is UTF-16 text", fix="save the file as UTF-8")
        )
    try:
        # The BOM taken off here: the utf-8-sig codec is Python code, five times slower
        # than UTF-8's own decoder on a post (its error offsets are after the BOM, too).
        bom = raw.startswith(b"\xef\xbb\xbf")
        text = (raw[3:] if bom else raw).decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise PostError(
            Problem(
                file=file,
                field=None,
                message=f"is not UTF-8 text (byte 0x{raw[exc.start]:02X} on line {line})",
                fix="save the file as UTF-8",
                line=line,
            )
        ) from None
    if "\r" not in text:  # a C scan; two replaces over the whole text cost ten times it
        return text
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _looks_utf16(raw: bytes) -> bool:
    """UTF-16 saved without a BOM: every other byte of the (mostly ASCII) start is NUL.

    Such bytes are valid UTF-8, so without this the file would be reported as having
    no frontmatter, which sends the user looking in the wrong place.
    """
    head = raw[:64]
    return len(head) >= 4 and max(head[0::2].count(0), head[1::2].count(0)) >= len(head) // 4


def parse_post(
    raw: bytes, post_id: str, file: str, ctx: ReadContext
) -> tuple[Record | None, list[Problem]]:
    """Parse one post; a None record means the post is skipped (the problems say why).

    Never raises for any bytes: this runs in worker processes too, and one post that
    trips over a bug here must cost that post, not the run.
    """
    try:
        return _parse(raw, post_id, file, ctx)
    except PostError as exc:
        return None, [exc.problem]
    except RecursionError:
        return None, [
            Problem(
                file=file,
                field=None,
                message="is nested too deeply to read",
                fix="flatten the nesting (lists, quotes, HTML elements) to a few levels",
            )
        ]
    except Exception as exc:  # the guard the docstring promises
        return None, [unexpected(file, exc)]


def unexpected(file: str, exc: BaseException) -> Problem:
    """The problem for a post that failed in a way the reader does not expect."""
    detail = " ".join(str(exc).split())[:200]
    return Problem(
        file=file,
        field=None,
        message=f"could not be read: {type(exc).__name__}: {detail}",
        fix="this is a bug in publisher, please report it with this post attached",
    )


def _parse(
    raw: bytes, post_id: str, file: str, ctx: ReadContext
) -> tuple[Record | None, list[Problem]]:
    limits.check_size(raw, file, ctx.limits)
    text = decode(raw, file)
    limits.check_lines(text, file, ctx.limits)
    meta, body_text, meta_text, meta_line, body_line, problems = _frontmatter(text, file, ctx)
    # Findings appends its warnings to this same list, so they stay in the order found.
    found = record.Findings(file, _key_lines(meta_text, meta_line), ctx.limits, problems)
    resolved = _resolve(meta, body_text, post_id, ctx)
    if resolved.notes:  # most posts have none: no generator to run
        problems.extend(
            found.problem(key, message, fix, severity)
            for key, message, fix, severity in resolved.notes
        )
    if resolved.skip is not None:
        return None, [*problems, _not_published(file, ctx.rules.generator, resolved.skip)]
    if resolved.notes and any(severity == "error" for *_, severity in resolved.notes):
        return None, problems
    meta = resolved.meta
    tz = zone(ctx.timezone)
    title = record.title(meta, found)
    date = record.date(meta, tz, found)
    updated = record.updated(meta, tz, found)
    summary = record.summary(meta, ctx.summary_keys, found)
    path, own_url = record.page(meta, post_id, ctx.site_url, ctx.default_path, found)
    external_url = record.external_url(meta, own_url, found)
    og_image, og_image_url = record.og_image(meta, ctx.site_url, found)
    meta = record.without_mapping_labels(meta, found)
    if found.errors:
        return None, problems + found.errors
    assert date is not None  # a missing or bad date is an error above
    body_text = _clean_body(resolved.body, file, body_line, problems)
    authors = record.authors(meta, body_text, ctx.default_author, ctx.default_author_email)
    body_html = _body_html(body_text, own_url, authors, ctx, _BodyNotes(file, body_line, problems))
    categories, tags = record.labels(meta, found)
    return {
        "id": post_id,
        "url": external_url or own_url,
        "page_url": own_url,
        "path": path,
        "external_url": external_url,
        "title": title,
        "summary": summary,
        "date": date.isoformat(),
        "updated": updated.isoformat() if updated else None,
        "og_image": og_image,
        "og_image_url": og_image_url,
        "categories": categories,
        "tags": tags,
        "authors": [{"name": a.name, "org": a.org, "email": a.email} for a in authors],
        "is_featured": fields.truthy(meta.get("isFeatured")),
        "is_popular": fields.truthy(meta.get("isPopular")),
        "draft": fields.truthy(meta.get("draft")),
        "body_markdown": body_text,
        "body_html": body_html,
        "frontmatter": meta,
        # A generator's image may live outside the checkout (static/ not copied): a
        # missing file then costs the image, not the post.
        "image_optional": ctx.rules.generator != "generic",
        # For diagnostics raised later, when all posts are known (og image, duplicate URL).
        "lines": {
            k: found.lines[k] for k in ("ogImage", "path", "externalUrl") if k in found.lines
        },
    }, problems


def _not_published(file: str, generator: str, why: str) -> Problem:
    return Problem(
        file=file,
        field=None,
        message=f"is not published by {generator} ({why}); skipped",
        fix=f"nothing to do: it is read once {generator} would publish it",
        severity="info",
    )


@dataclass(frozen=True)
class _BodyNotes:
    """The body's place in the file, and the list its warnings go to."""

    file: str
    line: int
    problems: list[Problem]

    def warn(self, message: str, fix: str) -> None:
        self.problems.append(
            Problem(
                file=self.file,
                field="body",
                message=message,
                fix=fix,
                severity="warning",
                line=self.line,
            )
        )


def _clean_body(body_text: str, file: str, line: int, problems: list[Problem]) -> str:
    body_text = strip_invisible(body_text) if body_text.strip() else ""
    body_text, repair = repair_mojibake(body_text)
    if repair:
        _BodyNotes(file, line, problems).warn(
            f"had mojibake, repaired ({repair})", "save the text as UTF-8 to silence this"
        )
    return body_text


def _body_html(
    body_text: str, own_url: str, authors: tuple[Author, ...], ctx: ReadContext, where: _BodyNotes
) -> str:
    """The body as HTML; what the renderer dropped or could not use is a warning."""
    dropped: list[tuple[str, str]] = []
    body_html, bad_urls = body.to_html_checked(
        body_text,
        own_url,
        authors=ctx.rules.authors,
        names=tuple([a.name for a in authors]),
        notes=dropped,
    )
    for message, fix in dropped[:5]:
        where.warn(message, fix)
    for bad in bad_urls[:3]:
        where.warn(
            f"link or image '{preview(bad)}' is not a valid URL; removed",
            "correct the URL (an IPv6 host needs both brackets: https://[::1]/path)",
        )
    if len(bad_urls) > 3:
        where.warn(
            f"has {len(bad_urls) - 3} more links or images that are not valid URLs",
            "correct the URLs",
        )
    return body_html


def _frontmatter(
    text: str, file: str, ctx: ReadContext
) -> tuple[dict[str, Any], str, str, int, int, list[Problem]]:
    """(mapping, body, frontmatter text, its line, body line, warnings) in any format.

    A generic post must have frontmatter; a generator's post may have none (Hugo and
    Docusaurus take the title and date from elsewhere).
    """
    try:
        kind, meta_text, body_text, meta_line, body_line = frontmatter.split_any(text, file)
    except PostError as exc:
        if ctx.rules.generator == "generic" or not exc.problem.message.startswith("is missing"):
            raise
        return {}, text, "", 1, 1, []
    if kind == "toml":
        return (
            frontmatter.parse_toml(meta_text, file, meta_line, ctx.limits),
            body_text,
            meta_text,
            meta_line,
            body_line,
            [],
        )
    if kind == "json":
        meta, body_text = frontmatter.parse_json(meta_text, file, meta_line, ctx.limits)
        return meta, body_text, "", meta_line, meta_line, []
    meta, problems = frontmatter.parse(meta_text, file, meta_line, ctx.limits)
    return meta, body_text, meta_text, meta_line, body_line, problems


def _resolve(meta: dict[str, Any], body: str, post_id: str, ctx: ReadContext) -> Any:
    from publisher.posts import sources

    rules = ctx.rules
    return sources.get(rules.generator).resolve(
        meta, body, post_id, rules, zone(rules.timezone or ctx.timezone)
    )


def _key_lines(meta_text: str, first_line: int) -> dict[str, int]:
    """Line numbers (in the file) of top-level frontmatter keys, for diagnostics."""
    lines: dict[str, int] = {}
    for number, line in enumerate(meta_text.split("\n"), start=first_line):
        if line[:1].isalpha() and (":" in line or "=" in line):
            separator = ":" if ":" in line.split("=", 1)[0] else "="
            lines.setdefault(line.split(separator, 1)[0].strip(), number)
    return lines
