"""MkDocs Material's ``blog`` plugin (``docs/blog/posts``).

Documented rules (material/plugins/blog): the URL is ``blog_dir`` + ``post_url_format``
(default ``{date}/{slug}``, date as ``yyyy/MM/dd``) + '/'; the slug is frontmatter ``slug``,
else the title slugified, the title being frontmatter ``title``, else the body's first
``# `` heading, else the file name. ``date`` is a date or ``{created, updated}``; naive
dates are UTC. ``draft: true`` is not built. Authors are keys into ``.authors.yml``.
The file name plays no part in the URL.
"""

from __future__ import annotations

from datetime import tzinfo
from pathlib import Path
from typing import Any

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

_DATE_FORMATS = {"yyyy": "year", "MM": "month", "dd": "day"}


class MkDocsSource(Source):
    name = "mkdocs"
    title = "MkDocs Material blog"
    markers = ("mkdocs.yml", "mkdocs.yaml")

    def read_config(self, site: Path, folder: Path | None) -> Setup:
        config_file = next((site / m for m in self.markers if (site / m).is_file()), None)
        problems: list[str] = []
        notes: list[str] = []
        data: dict[str, Any] = {}
        if config_file is None:
            problems.append(
                f"{site.name}/mkdocs.yml: not found; point posts.site at the folder holding mkdocs.yml"
            )
        else:
            try:
                data = siteconfig.load(config_file, config_file.name, site)
            except siteconfig.SiteConfigError as exc:
                problems.append(str(exc))
        found_blog, options = _blog_plugin(data.get("plugins"))
        if config_file is not None and not found_blog and not problems:
            notes.append("mkdocs.yml has no 'blog' plugin; the blog plugin's defaults are assumed")
        docs_dir = str(data.get("docs_dir") or "docs")
        blog_dir = str(options.get("blog_dir") or "blog").strip("/")
        blog_dir = "" if blog_dir == "." else blog_dir
        post_dir = str(options.get("post_dir") or "{blog}/posts").replace("{blog}", blog_dir)
        url_format = str(options.get("post_url_format") or "{date}/{slug}")
        date_format = str(options.get("post_url_date_format") or "yyyy/MM/dd")
        separator = str(options.get("post_slugify_separator") or "-")
        bad = slugs.unknown_tokens(url_format, ("date", "slug", "file", "categories"), "brace")
        if bad:
            problems.append(
                f"mkdocs.yml: plugins.blog.post_url_format: unknown token '{{{bad[0]}}}'; the "
                "blog plugin knows {date}, {slug}, {file}, {categories}; correct it or set "
                "posts.url in config.yaml"
            )
        authors_file = str(options.get("authors_file") or "{blog}/.authors.yml").replace(
            "{blog}", blog_dir
        )
        authors = _authors(site, f"{docs_dir}/{authors_file}", problems)
        directory_urls = data.get("use_directory_urls", True) is not False
        site_url = data.get("site_url") if isinstance(data.get("site_url"), str) else None
        rules = SourceRules(
            generator=self.name,
            permalink=url_format,
            base=blog_dir,
            trailing_slash=directory_urls,
            timezone="UTC",
            authors=tuple(sorted(authors)),
            options=tuple(
                sorted(
                    {
                        "date_format": date_format,
                        "separator": separator,
                        "draft_if_future_date": str(bool(options.get("draft_if_future_date"))),
                    }.items()
                )
            ),
        )
        return Setup(
            folder=folder or (site / docs_dir / post_dir),
            rules=rules,
            site_url=site_url,
            problems=tuple(problems),
            notes=tuple(notes),
            rule=f"/{blog_dir + '/' if blog_dir else ''}{url_format}/ with {{date}} as {date_format}",
        )

    def resolve(
        self, meta: dict[str, Any], body: str, post_id: str, rules: SourceRules, tz: tzinfo
    ) -> Resolved:
        out = dict(meta)
        notes: list[Any] = []
        raw_date = meta.get("date")
        updated = None
        if isinstance(raw_date, dict):
            updated = raw_date.get("updated")
            raw_date = raw_date.get("created")
        date = try_date(raw_date, tz)
        out["date"] = date.isoformat() if date else raw_date
        if updated not in (None, ""):
            out["updated"] = updated
        title = (
            meta.get("title")
            if isinstance(meta.get("title"), str) and meta["title"].strip()
            else None
        )
        heading = first_heading(body)
        if title is None:
            title = heading or post_id.rsplit("/", 1)[-1].replace("-", " ").replace("_", " ")
            out["title"] = _plain_heading(title)
        slug_raw = meta.get("slug")
        slug = (
            str(slug_raw)
            if slug_raw not in (None, "")
            else slugs.pymdownx(title, rules.option("separator", "-"))
        )
        categories_raw = meta.get("categories")
        categories: list[Any] = categories_raw if isinstance(categories_raw, list) else []
        if date is not None:
            tokens = slugs.date_tokens(date)
            fmt = rules.option("date_format", "yyyy/MM/dd")
            for pattern, token in _DATE_FORMATS.items():
                fmt = fmt.replace(pattern, tokens[token])
            values = {
                "date": fmt,
                "slug": slug,
                "file": post_id.rsplit("/", 1)[-1],
                "categories": "/".join(slugs.pymdownx(str(c)) for c in categories),
            }
            path = rules.url and slugs.expand(
                rules.url, {**tokens, "slug": slug, "id": post_id}, "brace"
            )
            if not path:
                path = (
                    "/"
                    + rules.base
                    + "/"
                    + slugs.expand(rules.permalink or "{date}/{slug}", values, "brace")
                )
            out["path"] = slugs.tidy_path(path, rules.trailing_slash)
        authors = meta.get("authors")
        if isinstance(authors, list | str):
            keys = authors if isinstance(authors, list) else [authors]
            out["authors"] = [rules.author(str(k)) or {"name": str(k)} for k in keys]
        if heading and body.lstrip().startswith("# "):
            body = _drop_heading(body)
        # The plugin's excerpt: the text before <!-- more -->.
        out["_excerpt"] = excerpt(body, ("<!-- more -->",))
        return Resolved(meta=out, body=body, notes=notes)


def _plain_heading(text: str) -> str:
    return text.replace("`", "")


def _drop_heading(body: str) -> str:
    """The body without its '# ' title line: feeds and cards show the title already."""
    lines = body.lstrip("\n").split("\n", 1)
    return lines[1] if len(lines) > 1 else ""


def _blog_plugin(plugins: Any) -> tuple[bool, dict[str, Any]]:
    """(whether ``plugins`` lists the blog plugin, its options)."""
    options: dict[str, Any] = {}
    entries = (
        plugins if isinstance(plugins, list) else [plugins] if isinstance(plugins, dict) else []
    )
    found_blog = False
    for entry in entries:
        if isinstance(entry, str) and entry.split("/")[-1] == "blog":
            found_blog = True
        elif isinstance(entry, dict):
            for key, value in entry.items():
                if str(key).split("/")[-1] == "blog":
                    found_blog = True
                    options = value if isinstance(value, dict) else {}
    if isinstance(plugins, dict):
        for key, value in plugins.items():
            if str(key).split("/")[-1] == "blog":
                found_blog = True
                options = value if isinstance(value, dict) else {}
    return found_blog, options


def _authors(site: Path, name: str, problems: list[str]) -> list[tuple[str, str, str]]:
    """(key, name, url) of each author in the blog's ``.authors.yml`` (``name``, below
    ``site``), if there is one."""
    authors: list[tuple[str, str, str]] = []
    authors_path = site / name
    if authors_path.is_file():
        try:
            loaded = siteconfig.load(authors_path, name, site)
            table = loaded.get("authors", loaded)
            if isinstance(table, dict):
                for key, value in table.items():
                    if isinstance(value, dict) and value.get("name"):
                        authors.append((str(key), str(value["name"]), str(value.get("url") or "")))
        except siteconfig.SiteConfigError as exc:
            problems.append(str(exc))
    return authors
