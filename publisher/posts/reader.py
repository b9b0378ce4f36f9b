"""Read one post file into a plain record (JSON-safe, so it can be cached) and problems.

Nothing here looks at other posts or at other files: that is ``finalize``'s job in
``publisher.posts``. Given the same bytes and the same :class:`ReadContext`, the result
is the same, which is what makes the content-hash cache sound.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from publisher.errors import PostError, Problem, Severity
from publisher.posts import body, fields, frontmatter, limits
from publisher.posts.fields import FieldProblem
from publisher.posts.limits import DEFAULT_LIMITS, Limits
from publisher.posts.model import Author
from publisher.posts.sources.base import SourceRules
from publisher.posts.text import clean_line, preview, repair_mojibake, strip_invisible

_UPDATED_KEYS = ("updated", "lastmod", "lastUpdated", "modified")


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


Record = dict[str, Any]


def decode(raw: bytes, file: str) -> str:
    """UTF-8 text (a BOM is fine) with Unix newlines, or a PostError saying where it breaks."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")) or _looks_utf16(raw):
        raise PostError(
            Problem(file=file, field=None, message="is UTF-16 text", fix="save the file as UTF-8")
        )
    try:
        text = raw.decode("utf-8-sig")
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
    caps = ctx.limits
    limits.check_size(raw, file, caps)
    text = decode(raw, file)
    limits.check_lines(text, file, caps)
    meta, body_text, meta_text, meta_line, body_line, problems = _frontmatter(text, file, ctx)
    tz = ZoneInfo(ctx.timezone)
    lines = _key_lines(meta_text, meta_line)
    resolved = _resolve(meta, body_text, post_id, ctx)
    problems.extend(
        Problem(
            file=file, field=key, message=message, fix=fix, severity=severity, line=lines.get(key)
        )
        for key, message, fix, severity in resolved.notes
    )
    if resolved.skip is not None:
        return None, [
            *problems,
            Problem(
                file=file,
                field=None,
                message=f"is not published by {ctx.rules.generator} ({resolved.skip}); skipped",
                fix=f"nothing to do: it is read once {ctx.rules.generator} would publish it",
                severity="info",
            ),
        ]
    if any(severity == "error" for *_, severity in resolved.notes):
        return None, problems
    meta, body_text = resolved.meta, resolved.body

    def problem(key: str, message: str, fix: str, severity: Severity = "error") -> Problem:
        return Problem(
            file=file,
            field=key,
            message=message,
            fix=fix,
            severity=severity,
            line=lines.get(key),
        )

    def mojibake(key: str, repair: str | None) -> None:
        if repair:
            problems.append(
                problem(
                    key,
                    f"had mojibake, repaired ({repair})",
                    "save the text as UTF-8 to silence this",
                    "warning",
                )
            )

    errors: list[Problem] = []

    title_raw = meta.get("title")
    title = ""
    if isinstance(title_raw, str | int | float) and not isinstance(title_raw, bool):
        title, repair = clean_line(str(title_raw))
        mojibake("title", repair)
    elif title_raw is not None:
        errors.append(
            problem("title", f"must be text, not {type(title_raw).__name__}", "quote the title")
        )
        title = "-"
    if not title:
        errors.append(
            problem("title", "is missing", "add a line like title: 'What this post is about'")
        )

    date: datetime | None = None
    if meta.get("date") in (None, ""):
        errors.append(problem("date", "is missing", "add a line like date: '2024-05-01T17:00:00Z'"))
    else:
        try:
            date = limits.read_date(meta["date"], tz, caps)
        except FieldProblem as exc:
            errors.append(problem("date", exc.message, exc.fix))

    updated: datetime | None = None
    for key in _UPDATED_KEYS:
        if meta.get(key) not in (None, ""):
            try:
                updated = limits.read_date(meta[key], tz, caps)
            except FieldProblem as exc:
                problems.append(problem(key, exc.message + "; ignored", exc.fix, "warning"))
            break

    summary: str | None = None
    for key in ctx.summary_keys:
        value = meta.get(key)
        if (
            isinstance(value, str | int | float)
            and not isinstance(value, bool)
            and str(value).strip()
        ):
            summary, repair = clean_line(str(value))
            mojibake(key, repair)
            if summary:
                break

    if summary is None and isinstance(meta.get("_excerpt"), str):
        # The generator's own fallback (text before <!--more-->, the first paragraph).
        summary, _ = clean_line(meta["_excerpt"])
        summary = summary or None

    path_raw = meta.get("path")
    path = str(path_raw).strip() if path_raw not in (None, "") else None
    if path and "://" in path:
        site_prefix = ctx.site_url.rstrip("/") + "/"
        if path.startswith(site_prefix):
            path = "/" + path[len(site_prefix) :]
        else:
            errors.append(
                problem(
                    "path",
                    f"'{preview(path)}' is a full URL outside the site {ctx.site_url}",
                    "write only the path, e.g. /blog/2024/05/01/slug; for a post that lives "
                    "elsewhere use externalUrl",
                )
            )
    own_path = path or ctx.default_path.replace("{id}", post_id)
    own_url = ""
    try:
        own_url = fields.join_site_path(ctx.site_url, own_path)
    except FieldProblem as exc:
        errors.append(
            problem("path", exc.message, "write it as a path such as /blog/2024/05/01/slug")
        )

    external_url: str | None = None
    if meta.get("externalUrl") not in (None, ""):
        raw_external = str(meta["externalUrl"])
        try:
            external_url = fields.normalize_url(raw_external)
        except FieldProblem as exc:
            problems.append(
                problem(
                    "externalUrl",
                    exc.message,
                    f"write it as https://host/path; until then the post links to {own_url}",
                    "warning",
                )
            )

    og_image: str | None = None
    og_image_url: str | None = None
    image_raw = meta.get("ogImage")
    if image_raw not in (None, ""):
        value = str(image_raw).strip()
        if "://" in value:
            og_image_url = value
        elif value.startswith("/"):
            errors.append(
                problem(
                    "ogImage",
                    f"'{preview(value)}' is a site-root path",
                    "write the file name relative to the post folder",
                )
            )
        else:
            name_problem = limits.file_name_problem(value, caps)
            if name_problem is not None:
                errors.append(problem("ogImage", *name_problem))
            else:
                og_image = value.removeprefix("./")
    if meta.get("ogImageUrl") not in (None, "") and og_image_url is None:
        og_image_url = str(meta["ogImageUrl"]).strip()
    site_image = meta.get("ogImageSitePath")
    if isinstance(site_image, str) and og_image is None and og_image_url is None:
        # An image in the site's static folder (/img/x.png): served from the site.
        try:
            og_image_url = fields.join_site_path(ctx.site_url, site_image)
        except FieldProblem:
            og_image_url = None
    if og_image_url is not None:
        try:
            og_image_url = fields.normalize_url(og_image_url)
        except FieldProblem as exc:
            problems.append(problem("ogImageUrl", exc.message + "; ignored", exc.fix, "warning"))
            og_image_url = None

    for key in ("categories", "category", "tags"):
        if isinstance(meta.get(key), dict):
            problems.append(
                problem(
                    key,
                    "must be a list, not a mapping; ignored",
                    f"write it as {key}: [a, b]",
                    "warning",
                )
            )
            meta = {k: v for k, v in meta.items() if k != key}

    if errors:
        return None, problems + errors

    body_text = strip_invisible(body_text) if body_text.strip() else ""
    body_text, repair = repair_mojibake(body_text)
    if repair:
        problems.append(
            Problem(
                file=file,
                field="body",
                message=f"had mojibake, repaired ({repair})",
                fix="save the text as UTF-8 to silence this",
                severity="warning",
                line=body_line,
            )
        )

    authors = fields.authors_from_frontmatter(meta.get("authors", meta.get("author")))
    if not authors:
        authors = fields.author_from_body(body_text)
    if not authors and ctx.default_author:
        authors = (Author(name=ctx.default_author, email=ctx.default_author_email),)

    dropped: list[tuple[str, str]] = []
    body_html, bad_urls = body.to_html_checked(
        body_text,
        own_url,
        authors=ctx.rules.authors,
        names=tuple(a.name for a in authors),
        notes=dropped,
    )
    problems.extend(
        Problem(
            file=file, field="body", message=message, fix=fix, severity="warning", line=body_line
        )
        for message, fix in dropped[:5]
    )
    for bad in bad_urls[:3]:
        problems.append(
            Problem(
                file=file,
                field="body",
                message=f"link or image '{preview(bad)}' is not a valid URL; removed",
                fix="correct the URL (an IPv6 host needs both brackets: https://[::1]/path)",
                severity="warning",
                line=body_line,
            )
        )
    if len(bad_urls) > 3:
        problems.append(
            Problem(
                file=file,
                field="body",
                message=f"has {len(bad_urls) - 3} more links or images that are not valid URLs",
                fix="correct the URLs",
                severity="warning",
                line=body_line,
            )
        )

    assert date is not None
    record: Record = {
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
        "categories": limits.cap_labels(
            fields.text_list(meta.get("categories", meta.get("category"))),
            "categories" if "categories" in meta else "category",
            caps,
            problem,
            problems,
        ),
        "tags": limits.cap_labels(
            fields.text_list(meta.get("tags")), "tags", caps, problem, problems
        ),
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
        "lines": {key: lines[key] for key in ("ogImage", "path", "externalUrl") if key in lines},
    }
    return record, problems


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
        meta, body, post_id, rules, ZoneInfo(rules.timezone or ctx.timezone)
    )


def _key_lines(meta_text: str, first_line: int) -> dict[str, int]:
    """Line numbers (in the file) of top-level frontmatter keys, for diagnostics."""
    lines: dict[str, int] = {}
    for number, line in enumerate(meta_text.split("\n"), start=first_line):
        if line[:1].isalpha() and (":" in line or "=" in line):
            separator = ":" if ":" in line.split("=", 1)[0] else "="
            lines.setdefault(line.split(separator, 1)[0].strip(), number)
    return lines
