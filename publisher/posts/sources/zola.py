"""Zola: ``content/`` sections (folders with ``_index.md``), TOML frontmatter.

Documented rules (getzola.org: content overview, page, section): a page is any ``.md``
but ``_index.md``; a folder with ``index.md`` is one page with its assets. The URL is
frontmatter ``path`` (relative to the site root), else the section's path plus the slug:
frontmatter ``slug``, else the file (or folder) name with a leading date
(``YYYY-MM-DD_`` or ``YYYY-MM-DD-``) removed, slugified. The date is frontmatter
``date``, else that leading date. ``draft = true`` is not built. Taxonomies (tags,
categories) live under ``[taxonomies]``; theme keys such as an image under ``[extra]``.
"""

from __future__ import annotations

import os
from datetime import tzinfo
from pathlib import Path
from typing import Any

from publisher.lazy import lazy_pattern
from publisher.posts.sources import siteconfig, slugs
from publisher.posts.sources.base import Resolved, Setup, Source, SourceRules, excerpt, try_date

_DATED = lazy_pattern(r"^(\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2})?)?)[_-](.+)$")


class ZolaSource(Source):
    name = "zola"
    title = "Zola"
    markers = ("zola.toml", "config.toml")

    def detect(self, site: Path) -> bool:
        for marker in self.markers:
            path = site / marker
            if path.is_file():
                try:
                    return "base_url" in siteconfig.load(path, marker, site)
                except siteconfig.SiteConfigError:
                    return False
        return False

    def read_config(self, site: Path, folder: Path | None) -> Setup:
        problems: list[str] = []
        data: dict[str, Any] = {}
        path = next((site / m for m in self.markers if (site / m).is_file()), None)
        if path is not None:
            try:
                data = siteconfig.load(path, path.name, site)
            except siteconfig.SiteConfigError as exc:
                problems.append(str(exc))
        content = site / "content"
        if folder is None:
            folder = next(
                (content / n for n in ("blog", "posts", "post") if (content / n).is_dir()), content
            )
        try:
            section = folder.resolve().relative_to(content.resolve()).as_posix()
        except ValueError:
            section = folder.name
        section = "" if section == "." else section
        slugify_raw = data.get("slugify")
        slugify: dict[str, Any] = slugify_raw if isinstance(slugify_raw, dict) else {}
        base_url = data.get("base_url") if isinstance(data.get("base_url"), str) else None
        rules = SourceRules(
            generator=self.name,
            base=section,
            timezone="UTC",
            options=(("slugify", str(slugify.get("paths", "on"))),),
        )
        return Setup(
            folder=folder,
            rules=rules,
            site_url=base_url,
            problems=tuple(problems),
            rule=f"/{section + '/' if section else ''}<slug>/ or frontmatter path",
        )

    def find(self, folder: Path) -> list[Path]:
        found: list[Path] = []
        for top, dirs, files in os.walk(folder):
            dirs.sort()
            if "index.md" in files and Path(top) != folder:
                found.append(Path(top) / "index.md")
                dirs[:] = []
                continue
            dirs[:] = [d for d in dirs if not d.startswith(".")]
            found.extend(
                Path(top) / n
                for n in files
                if n.endswith(".md") and n not in ("_index.md", "index.md")
            )
        return sorted(found)

    def resolve(
        self, meta: dict[str, Any], body: str, post_id: str, rules: SourceRules, tz: tzinfo
    ) -> Resolved:
        out = dict(meta)
        parts = post_id.split("/")
        dated = _DATED.match(parts[-1])
        file_date = try_date(dated.group(1), tz) if dated else None
        name = dated.group(2) if dated and file_date else parts[-1]
        date = try_date(out.get("date"), tz) or file_date
        out["date"] = date.isoformat() if date else out.get("date")
        mode = rules.option("slugify", "on")
        slug_raw = out.get("slug")
        slug = str(slug_raw) if slug_raw not in (None, "") else name
        if mode == "on":
            slug = slugs.zola(slug)
        values: dict[str, str] = {
            "slug": slug,
            "id": post_id,
            **(slugs.date_tokens(date) if date else {}),
        }
        own = out.get("path")
        if rules.url and date is not None:
            path = slugs.expand(rules.url, values, "brace")
        elif isinstance(own, str) and own.strip():
            path = "/" + own.strip().lstrip("/")
        else:
            path = "/" + "/".join(p for p in (rules.base, *parts[:-1], slug) if p)
        out["path"] = slugs.tidy_path(path, not path.endswith(".html"))
        taxonomies = out.get("taxonomies")
        if isinstance(taxonomies, dict):
            for key in ("tags", "categories"):
                if isinstance(taxonomies.get(key), list):
                    out[key] = taxonomies[key]
        extra = out.get("extra")
        if isinstance(extra, dict):
            for key in ("image", "cover", "og_image", "banner"):
                value = extra.get(key)
                if isinstance(value, str) and value.strip():
                    value = value.strip()
                    if "://" in value:
                        out["ogImageUrl"] = value
                    elif value.startswith("/"):
                        out["ogImageSitePath"] = value
                    else:
                        out["ogImage"] = value
                    break
        if isinstance(out.get("updated"), str | int):
            out["updated"] = str(out["updated"])
        out["_excerpt"] = excerpt(body, ("<!-- more -->", "<!--more-->"))
        return Resolved(meta=out, body=body)
