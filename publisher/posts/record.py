"""The fields of one post's record, each read from the frontmatter by its own function.

:func:`publisher.posts.reader.parse_post` calls them in a fixed order: the order in which
a post's problems are listed. Each takes the frontmatter mapping and a :class:`Findings`,
returns the field's value, and files what it found wrong: an error costs the post (the
other posts go on), a warning costs only the value.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from publisher.dataclass import dataclass, field
from publisher.errors import Problem, Severity
from publisher.posts import fields, limits
from publisher.posts.fields import FieldProblem
from publisher.posts.limits import Limits
from publisher.posts.model import Author
from publisher.posts.text import clean_line, preview

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (issue 12)

if TYPE_CHECKING:
    from typing import Any

_UPDATED_KEYS = ("updated", "lastmod", "lastUpdated", "modified")
_LABEL_KEYS = ("categories", "category", "tags")
_MOJIBAKE_FIX = "save the text as UTF-8 to silence this"


@dataclass
class Findings:
    """What reading one post found wrong, in the order found; ``lines`` maps a
    frontmatter key to its line in the file."""

    file: str
    lines: dict[str, int]
    caps: Limits
    problems: list[Problem] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)

    def problem(self, key: str, message: str, fix: str, severity: Severity = "error") -> Problem:
        return Problem(
            file=self.file,
            field=key,
            message=message,
            fix=fix,
            severity=severity,
            line=self.lines.get(key),
        )

    def error(self, key: str, message: str, fix: str) -> None:
        self.errors.append(self.problem(key, message, fix))

    def warn(self, key: str, message: str, fix: str) -> None:
        self.problems.append(self.problem(key, message, fix, "warning"))

    def mojibake(self, key: str, repair: str | None) -> None:
        if repair:
            self.warn(key, f"had mojibake, repaired ({repair})", _MOJIBAKE_FIX)


def _is_text(value: Any) -> bool:
    return isinstance(value, str | int | float) and not isinstance(value, bool)


def _given(value: Any) -> bool:
    return value not in (None, "")


def title(meta: dict[str, Any], found: Findings) -> str:
    raw = meta.get("title")
    text = ""
    if _is_text(raw):
        text, repair = clean_line(str(raw))
        found.mojibake("title", repair)
    elif raw is not None:
        found.error("title", f"must be text, not {type(raw).__name__}", "quote the title")
        text = "-"  # reported: not "missing" as well
    if not text:
        found.error("title", "is missing", "add a line like title: 'What this post is about'")
    return text


def date(meta: dict[str, Any], tz: tzinfo, found: Findings) -> datetime | None:
    if not _given(meta.get("date")):
        found.error("date", "is missing", "add a line like date: '2024-05-01T17:00:00Z'")
        return None
    try:
        return limits.read_date(meta["date"], tz, found.caps)
    except FieldProblem as exc:
        found.error("date", exc.message, exc.fix)
        return None


def updated(meta: dict[str, Any], tz: tzinfo, found: Findings) -> datetime | None:
    """The first of the generators' "last changed" keys given; a bad one is ignored."""
    key = next((k for k in _UPDATED_KEYS if _given(meta.get(k))), None)
    if key is None:
        return None
    try:
        return limits.read_date(meta[key], tz, found.caps)
    except FieldProblem as exc:
        found.warn(key, exc.message + "; ignored", exc.fix)
        return None


def summary(meta: dict[str, Any], keys: tuple[str, ...], found: Findings) -> str | None:
    """The first of ``summary_keys`` with text, else the generator's excerpt."""
    text: str | None = None
    for key in keys:
        value = meta.get(key)
        if _is_text(value) and str(value).strip():
            text, repair = clean_line(str(value))
            found.mojibake(key, repair)
            if text:
                return text
    if text is None and isinstance(meta.get("_excerpt"), str):
        # The generator's own fallback (text before <!--more-->, the first paragraph).
        return clean_line(meta["_excerpt"])[0] or None
    return text  # "" when a key held only characters that clean away


def page(
    meta: dict[str, Any], post_id: str, site_url: str, default_path: str, found: Findings
) -> tuple[str | None, str]:
    """(the ``path`` written, or None; the post's own URL on the site)."""
    path = str(meta["path"]).strip() if _given(meta.get("path")) else None
    if path and "://" in path:
        site_prefix = site_url.rstrip("/") + "/"
        if path.startswith(site_prefix):
            path = "/" + path[len(site_prefix) :]
        else:
            found.error(
                "path",
                f"'{preview(path)}' is a full URL outside the site {site_url}",
                "write only the path, e.g. /blog/2024/05/01/slug; for a post that lives "
                "elsewhere use externalUrl",
            )
    try:
        return path, fields.join_site_path(site_url, path or default_path.replace("{id}", post_id))
    except FieldProblem as exc:
        found.error("path", exc.message, "write it as a path such as /blog/2024/05/01/slug")
        return path, ""


def external_url(meta: dict[str, Any], own_url: str, found: Findings) -> str | None:
    if not _given(meta.get("externalUrl")):
        return None
    try:
        return fields.normalize_url(str(meta["externalUrl"]))
    except FieldProblem as exc:
        fix = f"write it as https://host/path; until then the post links to {own_url}"
        found.warn("externalUrl", exc.message, fix)
        return None


def og_image(meta: dict[str, Any], site_url: str, found: Findings) -> tuple[str | None, str | None]:
    """(a file beside the post, or None; an image URL, or None)."""
    image, url = _og_image_written(meta, found)
    if url is None and _given(meta.get("ogImageUrl")):
        url = str(meta["ogImageUrl"]).strip()
    site_image = meta.get("ogImageSitePath")
    if isinstance(site_image, str) and image is None and url is None:
        # An image in the site's static folder (/img/x.png): served from the site.
        try:
            url = fields.join_site_path(site_url, site_image)
        except FieldProblem:
            url = None
    if url is not None:
        try:
            url = fields.normalize_url(url)
        except FieldProblem as exc:
            found.warn("ogImageUrl", exc.message + "; ignored", exc.fix)
            url = None
    return image, url


def _og_image_written(meta: dict[str, Any], found: Findings) -> tuple[str | None, str | None]:
    """``ogImage``: a URL, or a file name relative to the post's folder."""
    if not _given(meta.get("ogImage")):
        return None, None
    value = str(meta["ogImage"]).strip()
    if "://" in value:
        return None, value
    if value.startswith("/"):
        fix = "write the file name relative to the post folder"
        found.error("ogImage", f"'{preview(value)}' is a site-root path", fix)
        return None, None
    name_problem = limits.file_name_problem(value, found.caps)
    if name_problem is not None:
        found.error("ogImage", *name_problem)
        return None, None
    return value.removeprefix("./"), None


def without_mapping_labels(meta: dict[str, Any], found: Findings) -> dict[str, Any]:
    """``tags: {a: 1}`` is a warning and no tags, not a tag named after the mapping."""
    for key in _LABEL_KEYS:
        if isinstance(meta.get(key), dict):
            found.warn(key, "must be a list, not a mapping; ignored", f"write it as {key}: [a, b]")
            meta = {k: v for k, v in meta.items() if k != key}
    return meta


def labels(meta: dict[str, Any], found: Findings) -> tuple[list[str], list[str]]:
    """(categories, tags), cleaned and capped."""
    category_key = "categories" if "categories" in meta else "category"
    categories = fields.text_list(meta.get("categories", meta.get("category")))
    tags = fields.text_list(meta.get("tags"))
    return (
        limits.cap_labels(categories, category_key, found.caps, found.problem, found.problems),
        limits.cap_labels(tags, "tags", found.caps, found.problem, found.problems),
    )


def authors(
    meta: dict[str, Any], body_text: str, default: str | None, email: str | None
) -> tuple[Author, ...]:
    """From the frontmatter, else an author line in the body, else the site's author."""
    found = fields.authors_from_frontmatter(meta.get("authors", meta.get("author")))
    if not found:
        found = fields.author_from_body(body_text)
    if not found and default:
        found = (Author(name=default, email=email),)
    return found
