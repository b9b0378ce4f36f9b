"""The preview page: sections in, one HTML file out, from ``templates/preview/``."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence

import jinja2

from publisher.config import Config
from publisher.errors import Problem
from publisher.preview.platforms import PLATFORMS
from publisher.preview.sections import Section
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


def render_page(
    config: Config,
    sections: Sequence[Section],
    site_problems: Sequence[Problem],
    *,
    dry_run: bool,
) -> str:
    """The whole page. Deterministic: no build time in it, sections newest first."""
    counts = {
        status: sum(s.status == status for s in sections)
        for status in ("published", "scheduled", "draft")
    }
    return (
        _environment()
        .get_template("index.html.j2")
        .render(
            site=config.site,
            sections=sections,
            site_problems=site_problems,
            counts=counts,
            platforms=PLATFORMS,
            dry_run=dry_run,
            warned=sum(any(n.severity != "info" for n in s.notices) for s in sections),
        )
    )
