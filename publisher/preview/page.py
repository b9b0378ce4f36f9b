"""The preview page: sections in, one HTML file out, from ``templates/preview/``."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence
from dataclasses import dataclass

import jinja2

from publisher.config import Config
from publisher.errors import Problem
from publisher.preview.platforms import PLATFORMS
from publisher.preview.views import Section
from publisher.resources import templates

_UNITS = {"graphemes": "characters", "chars": "characters", "utf16": "UTF-16 units"}


@functools.lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates() / "preview")),
        autoescape=True,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    environment.filters["bytes"] = human_bytes
    environment.filters["unit"] = lambda unit: _UNITS.get(unit, unit or "")
    environment.filters["without_fix"] = without_fix
    environment.filters["image_format"] = lambda mime: (mime or "").removeprefix("image/").upper()
    return environment


def without_fix(problem: Problem) -> str:
    """A site-wide problem's line without its fix, which the page shows once beside it."""
    return str(dataclasses.replace(problem, fix=None))


def human_bytes(count: int) -> str:
    """``123,456 bytes (121 KB)``: exact, then readable."""
    if count < 1024:
        return f"{count:,} bytes"
    return f"{count:,} bytes ({count / 1024:,.0f} KB)"


#: Posts per page: a big blog's page stays well under a megabyte (see docs/preview.md).
PER_PAGE = 25


@dataclass(frozen=True, kw_only=True)
class Row:
    """One line of the overview of every post: where its section is, and how it fares."""

    section: Section
    href: str
    errors: int
    warnings: int


def page_name(number: int) -> str:
    """``index.html`` for the first page, ``page-2.html`` and on for the others."""
    return "index.html" if number == 1 else f"page-{number}.html"


def render_pages(
    config: Config,
    sections: Sequence[Section],
    site_problems: Sequence[Problem],
    *,
    dry_run: bool,
    per_page: int = PER_PAGE,
) -> dict[str, str]:
    """Every page, by file name. Deterministic: no build time in them, sections newest first.

    The first page (``index.html``) carries the overview of every post (filterable by
    text, status and warnings, each linking to its section) and the first ``per_page``
    sections; the others carry the next sections. ``per_page`` 0 puts all on one page.
    """
    size = per_page if per_page > 0 else max(1, len(sections))
    chunks = [sections[i : i + size] for i in range(0, len(sections), size)] or [()]
    names = [page_name(n) for n in range(1, len(chunks) + 1)]
    rows = [
        Row(
            section=s,
            href=("" if i < size else names[i // size]) + f"#post-{s.post.id}",
            errors=sum(n.severity == "error" for n in s.notices),
            warnings=sum(n.severity == "warning" for n in s.notices),
        )
        for i, s in enumerate(sections)
    ]
    counts = {
        status: sum(s.status == status for s in sections)
        for status in ("published", "scheduled", "draft")
    }
    template = _environment().get_template("index.html.j2")
    return {
        name: template.render(
            site=config.site,
            sections=chunk,
            total=len(sections),
            rows=rows if number == 1 else (),
            pages=names,
            current=number,
            first=(number - 1) * size + 1,
            site_problems=site_problems,
            counts=counts,
            platforms=PLATFORMS,
            dry_run=dry_run,
            warned=sum(any(n.severity != "info" for n in s.notices) for s in sections),
        )
        for number, (name, chunk) in enumerate(zip(names, chunks, strict=True), start=1)
    }
