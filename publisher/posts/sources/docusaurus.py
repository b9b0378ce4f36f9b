"""Docusaurus blog plugin (``blog/``, flat files and folders).

Documented rules (docusaurus.io/docs/blog, plugin-content-blog ``blogUtils``): a path below
the blog folder matching ``<folder><YYYY-MM-DD or YYYY/MM/DD>[-/]<text>[/index].md(x)``
gives the date (midnight UTC) and the slug ``/YYYY/MM/DD/<folder><text>``; other paths give
the slug ``/<path without extension and /index>``. Frontmatter ``slug`` wins, ``date`` wins
(naive: UTC). URL = url + baseUrl + routeBasePath (default ``blog``) + slug, with a trailing
'/' only when ``trailingSlash: true``. ``draft``/``unlisted`` are not in feeds. Authors are
keys into ``authors.yml``. Files and folders starting with '_' are not posts.
"""

from __future__ import annotations

import re
from datetime import tzinfo
from pathlib import Path
from typing import Any

from publisher.lazy import lazy_pattern
from publisher.posts.sources import siteconfig, slugs
from publisher.posts.sources.base import (
    Resolved,
    Setup,
    Source,
    SourceRules,
    excerpt,
    first_heading,
    try_date,
)

CONFIG_NAMES = tuple(f"docusaurus.config.{ext}" for ext in ("ts", "js", "mjs", "cjs", "mts"))
_DATE_PATH = lazy_pattern(
    r"^(?P<folder>.*?)(?P<date>\d{4}[-/]\d{1,2}[-/]\d{1,2})[-/]?(?P<text>.*?)(?:/index)?$"
)


class DocusaurusSource(Source):
    name = "docusaurus"
    title = "Docusaurus"
    markers = CONFIG_NAMES
    extensions = (".md", ".mdx")

    def detect(self, site: Path) -> bool:
        return super().detect(site) or any(site.glob("docusaurus.config.*"))

    def read_config(self, site: Path, folder: Path | None) -> Setup:
        problems: list[str] = []
        notes: list[str] = []
        path = next((site / n for n in CONFIG_NAMES if (site / n).is_file()), None)
        if path is None:
            path = next(iter(sorted(site.glob("docusaurus.config.*"))), None)
        text = ""
        if path is None:
            notes.append("no docusaurus.config.* found; Docusaurus defaults assumed")
        else:
            try:
                text = siteconfig.strip_js_comments(siteconfig.read_text(path, path.name, site))
            except siteconfig.SiteConfigError as exc:
                problems.append(str(exc))
        site_url = siteconfig.js_string(text, "url")
        base_url = siteconfig.js_string(text, "baseUrl")
        if base_url is None:
            if siteconfig.js_mentions(text, "baseUrl"):
                notes.append(
                    "baseUrl is computed in the config; '/' assumed (set posts.url if not)"
                )
            base_url = "/"
        # The docs plugin has a path and a routeBasePath too: read the blog's options only.
        opening = re.search(r"\bblog\s*:\s*\{", text)
        blog_text = text[opening.end() :] if opening else ""
        route = siteconfig.js_string(blog_text, "routeBasePath")
        if route is None and siteconfig.js_mentions(blog_text, "routeBasePath"):
            notes.append(
                "routeBasePath is computed in the config; 'blog' assumed (set posts.url if not)"
            )
        blog_path = siteconfig.js_string(blog_text, "path") or "blog"
        # [ \t], not \s: from every line start, \s* would run over all the blank lines
        # after it, quadratic in a config of newlines.
        trailing = re.search(
            r"(?m)^[ \t]*trailingSlash[ \t]*:[ \t]*(true|false)[ \t]*,?[ \t]*$", text
        )
        if trailing is None and siteconfig.js_mentions(text, "trailingSlash"):
            notes.append(
                "trailingSlash is computed in the config; URLs without a trailing '/' assumed "
                "(the Docusaurus default); set posts.url if the site adds one"
            )
        base = "/".join(
            p
            for p in (base_url.strip("/"), (route if route is not None else "blog").strip("/"))
            if p
        )
        posts_folder = folder or (site / blog_path)
        authors: list[tuple[str, str, str]] = []
        authors_file = posts_folder / "authors.yml"
        if authors_file.is_file():
            try:
                table = siteconfig.load(authors_file, f"{blog_path}/authors.yml", site)
                for key, value in table.items():
                    if isinstance(value, dict) and value.get("name"):
                        authors.append((str(key), str(value["name"]), str(value.get("url") or "")))
            except siteconfig.SiteConfigError as exc:
                problems.append(str(exc))
        rules = SourceRules(
            generator=self.name,
            base=base,
            trailing_slash=bool(trailing and trailing.group(1) == "true"),
            timezone="UTC",
            authors=tuple(sorted(authors)),
        )
        return Setup(
            folder=posts_folder,
            rules=rules,
            site_url=site_url,
            problems=tuple(problems),
            notes=tuple(notes),
            rule=f"/{base}/YYYY/MM/DD/<name> from the file name, or /{base}/<path>, or frontmatter slug",
        )

    def find(self, folder: Path) -> list[Path]:
        return [p for p in super().find(folder) if ".test." not in p.name]

    def resolve(
        self, meta: dict[str, Any], body: str, post_id: str, rules: SourceRules, tz: tzinfo
    ) -> Resolved:
        out = dict(meta)
        match = _DATE_PATH.match(post_id)
        path_date = None
        if match:
            path_date = (
                try_date(match.group("date").replace("/", "-"), tz)
                if _valid(match.group("date"))
                else None
            )
        if match and path_date is not None:
            y, m, d = re.split(r"[-/]", match.group("date"))
            slug = f"/{y}/{m}/{d}/{match.group('folder')}{match.group('text')}"
        else:
            slug = "/" + post_id
        date = try_date(out.get("date"), tz) or path_date
        out["date"] = date.isoformat() if date else out.get("date")
        if isinstance(out.get("slug"), str) and out["slug"].strip():
            slug = "/" + out["slug"].strip().lstrip("/")
        if not (isinstance(out.get("title"), str) and out["title"].strip()):
            heading = first_heading(body)
            out["title"] = heading or post_id.rsplit("/", 1)[-1]
        if rules.url and date is not None:
            path = slugs.expand(
                rules.url,
                {**slugs.date_tokens(date), "slug": slug.strip("/"), "id": post_id},
                "brace",
            )
        else:
            path = f"/{rules.base}{slug}"
        out["path"] = slugs.tidy_path(path, rules.trailing_slash)
        out["authors"] = _authors(out.get("authors", out.get("author")), rules)
        tags = out.get("tags")
        if isinstance(tags, list):
            out["tags"] = [t.get("label") if isinstance(t, dict) else t for t in tags]
        image = out.get("image")
        if isinstance(image, str) and image.strip():
            value = image.strip()
            if "://" in value:
                out["ogImageUrl"] = value
            elif value.startswith("/"):
                out["ogImageSitePath"] = value
            else:
                out["ogImage"] = value
        if out.get("unlisted") is True:
            out["draft"] = True
        out["_excerpt"] = excerpt(body)  # the plugin's description: the first paragraph
        return Resolved(meta=out, body=body)


def _valid(text: str) -> bool:
    _, m, d = (int(p) for p in re.split(r"[-/]", text))
    return 1 <= m <= 12 and 1 <= d <= 31


def _authors(value: Any, rules: SourceRules) -> list[Any]:
    items = value if isinstance(value, list) else [value] if value not in (None, "") else []
    authors: list[Any] = []
    for item in items:
        if isinstance(item, str):
            authors.append(rules.author(item) or {"name": item})
        elif isinstance(item, dict):
            key = item.get("key")
            known = rules.author(str(key)) if key else None
            authors.append(
                {**(known or {}), **{k: v for k, v in item.items() if k in ("name", "url")}}
            )
    return authors
