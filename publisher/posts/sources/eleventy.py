"""Eleventy (11ty): templates under the input folder, ``permalink`` decides the URL.

Documented rules (11ty.dev: permalinks, dates, data cascade, collections): the URL is
frontmatter ``permalink``, else one from the folder's directory data file
(``<folder>/<folder>.json`` or ``<folder>.11tydata.json``), else the file's path below
the input folder without its extension, plus '/' (``index`` names the folder itself).
``page.fileSlug`` is the file name without a leading ``YYYY-MM-DD-``; the default URL
keeps it (``/posts/2024-05-01-hello/``). The date is
frontmatter ``date``, else that leading date (else the file's creation time, which a
checkout does not keep, so such a post needs a date). ``permalink: false`` and
``eleventyExcludeFromCollections: true`` are not in collections. Only the template
expressions ``page.fileSlug``, ``page.filePathStem`` and ``title | slugify`` are
evaluated; any other template needs ``posts.url``.
"""

from __future__ import annotations

import re
from datetime import tzinfo
from pathlib import Path
from typing import Any

from publisher.lazy import lazy_pattern
from publisher.posts.sources import siteconfig, slugs
from publisher.posts.sources.base import Resolved, Setup, Source, SourceRules, try_date

CONFIG_NAMES = (
    "eleventy.config.js",
    "eleventy.config.mjs",
    "eleventy.config.cjs",
    ".eleventy.js",
    "eleventy.config.ts",
)
_DATED = lazy_pattern(r"^(\d{4}-\d{2}-\d{2})-(.+)$")
# One greedy class between the braces (trimmed in ``_render``): optional '-' and spaces
# around a lazy middle backtracked cubically on '{{' and a long run of spaces.
_EXPR = lazy_pattern(r"\{\{([^{}]*)\}\}")


class EleventySource(Source):
    name = "eleventy"
    title = "Eleventy"
    markers = CONFIG_NAMES
    extensions = (".md", ".markdown")

    def read_config(self, site: Path, folder: Path | None) -> Setup:
        problems: list[str] = []
        notes: list[str] = []
        path = next((site / n for n in CONFIG_NAMES if (site / n).is_file()), None)
        text = ""
        if path is not None:
            try:
                text = siteconfig.strip_js_comments(siteconfig.read_text(path, path.name, site))
            except siteconfig.SiteConfigError as exc:
                problems.append(str(exc))
        input_dir = site / (siteconfig.js_string(text, "input") or ".")
        if folder is None:
            folder = next(
                (input_dir / n for n in ("blog", "posts", "post") if (input_dir / n).is_dir()),
                input_dir / "posts",
            )
        try:
            base = folder.resolve().relative_to(input_dir.resolve()).as_posix()
        except ValueError:
            base = folder.name
        base = "" if base == "." else base
        permalink: str | None = None
        for name in (f"{folder.name}.11tydata.json", f"{folder.name}.json"):
            data_file = folder / name
            if data_file.is_file():
                try:
                    data = siteconfig.load(data_file, f"{base}/{name}", site)
                except siteconfig.SiteConfigError as exc:
                    problems.append(str(exc))
                    continue
                if isinstance(data.get("permalink"), str):
                    permalink = data["permalink"]
                break
        if (folder / f"{folder.name}.11tydata.js").is_file():
            notes.append(
                f"{base}/{folder.name}.11tydata.js is code and is not run; if it sets "
                "permalink, set posts.url in config.yaml"
            )
        rules = SourceRules(generator=self.name, permalink=permalink, base=base)
        return Setup(
            folder=folder,
            rules=rules,
            problems=tuple(problems),
            notes=tuple(notes),
            rule=permalink or f"/{base + '/' if base else ''}<file name>/ (Eleventy's default)",
        )

    def find(self, folder: Path) -> list[Path]:
        # The folder's own index.md is its listing page; a post folder's index.md is a post.
        return [
            p
            for p in super().find(folder)
            if p.name.lower() != "readme.md" and p != folder / "index.md"
        ]

    def resolve(
        self, meta: dict[str, Any], body: str, post_id: str, rules: SourceRules, tz: tzinfo
    ) -> Resolved:
        out = dict(meta)
        notes: list[Any] = []
        if out.get("eleventyExcludeFromCollections") is True or out.get("permalink") is False:
            return Resolved(meta=out, body=body, skip="left out of collections")
        stem = post_id.rsplit("/", 1)[-1]
        dated = _DATED.match(stem)
        file_slug = dated.group(2) if dated else stem
        raw_date = out.get("date")
        if isinstance(raw_date, str) and raw_date.strip().lower() in (
            "last modified",
            "created",
            "git last modified",
            "git created",
        ):
            notes.append(
                (
                    "date",
                    f"'{raw_date}' is the file's time, which a checkout does not keep",
                    "write the date, e.g. date: 2024-05-01",
                    "error",
                )
            )
            raw_date = None
        date = try_date(raw_date, tz) or (try_date(dated.group(1), tz) if dated else None)
        out["date"] = date.isoformat() if date else raw_date
        title = str(out.get("title") or "")
        values = {
            "page.fileSlug": file_slug,
            "page.filePathStem": "/" + "/".join(p for p in (rules.base, post_id) if p),
            "title | slugify": slugs.jekyll(title),
            "title | slug": slugs.jekyll(title),
        }
        own = out.get("permalink")
        pattern = own if isinstance(own, str) and own.strip() else rules.permalink
        if rules.url and date is not None:
            path: str | None = slugs.expand(
                rules.url, {**slugs.date_tokens(date), "slug": file_slug, "id": post_id}, "brace"
            )
        elif pattern:
            path = _render(pattern, values)
            if path is None:
                notes.append(
                    (
                        "permalink",
                        f"'{pattern[:80]}' uses a template this reader cannot run",
                        "set posts.url in config.yaml, e.g. /blog/{slug}/",
                        "error",
                    )
                )
        else:
            # The default keeps the whole file name, date prefix included (filePathStem).
            path = "/" + "/".join(p for p in (rules.base, post_id) if p) + "/"
        if path is not None:
            out["path"] = path
        if isinstance(out.get("tags"), str):
            out["tags"] = [out["tags"]]
        if isinstance(out.get("tags"), list):
            out["tags"] = [t for t in out["tags"] if t not in ("post", "posts")]
        image = out.get("image")
        if isinstance(image, str) and image.strip():
            value = image.strip()
            if "://" in value:
                out["ogImageUrl"] = value
            elif value.startswith("/"):
                out["ogImageSitePath"] = value
            else:
                out["ogImage"] = value
        return Resolved(meta=out, body=body, notes=notes)


def _render(pattern: str, values: dict[str, str]) -> str | None:
    """The permalink with the known ``{{ ... }}`` expressions filled in, or None."""
    failed = False

    def one(match: re.Match[str]) -> str:
        nonlocal failed
        inner = match.group(1).strip()
        inner = inner.removeprefix("-").removesuffix("-")
        expr = " ".join(inner.split())
        if expr in values:
            return values[expr]
        failed = True
        return ""

    result = _EXPR.sub(one, pattern)
    if failed or "{%" in result:
        return None
    return result
