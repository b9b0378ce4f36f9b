"""Astro content collections (``src/content/blog``).

Documented rules (docs.astro.build: content collections, glob loader, routing): a post's
id is frontmatter ``slug``, else its path below the collection folder without the
extension, each segment slugified (github-slugger) and a trailing ``/index`` removed. The
URL is decided by the page route that lists the collection: ``src/pages/blog/[...slug].astro``
gives ``/blog/<id>/``. That route is code, so it is found by its file name only; when
none is found, ``posts.url`` must say it. Dates (``pubDate``) without a zone are read as
midnight in the site's time zone (Astro uses the build machine's zone).
"""

from __future__ import annotations

from datetime import tzinfo
from pathlib import Path
from typing import Any

from publisher.posts.sources import siteconfig, slugs
from publisher.posts.sources.base import Resolved, Setup, Source, SourceRules, try_date

CONFIG_NAMES = tuple(f"astro.config.{ext}" for ext in ("mjs", "ts", "js", "mts", "cjs"))
_ROUTES = ("[...slug].astro", "[slug].astro", "[...id].astro", "[id].astro")


class AstroSource(Source):
    name = "astro"
    title = "Astro"
    markers = CONFIG_NAMES
    extensions = (".md", ".mdx", ".markdoc")

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
        site_url = siteconfig.js_string(text, "site")
        base_path = siteconfig.js_string(text, "base") or ""
        trailing = siteconfig.js_string(text, "trailingSlash")
        content = site / "src" / "content"
        if folder is None:
            folder = next(
                (content / n for n in ("blog", "posts", "post") if (content / n).is_dir()),
                content / "blog",
            )
        collection = folder.name
        pages = site / "src" / "pages"
        route = None
        for candidate in (collection, "blog", "posts", "post", ""):
            for name in _ROUTES:
                if (pages / candidate / name).is_file():
                    route = candidate
                    break
            if route is not None:
                break
        if route is None:
            notes.append(
                f"no route such as src/pages/{collection}/[...slug].astro was found; "
                f"/{collection}/<id>/ assumed: set posts.url in config.yaml if the site differs"
            )
            route = collection
        base = "/".join(p for p in (base_path.strip("/"), route.strip("/")) if p)
        rules = SourceRules(
            generator=self.name,
            base=base,
            trailing_slash=trailing != "never",
            date_keys=("pubdate", "date", "publishdate", "published"),
        )
        return Setup(
            folder=folder,
            rules=rules,
            site_url=site_url,
            problems=tuple(problems),
            notes=tuple(notes),
            rule=f"/{base}/<id>/ (route src/pages/{route}/[...slug].astro)",
        )

    def resolve(
        self, meta: dict[str, Any], body: str, post_id: str, rules: SourceRules, tz: tzinfo
    ) -> Resolved:
        out = dict(meta)
        lowered = {str(k).lower(): v for k, v in meta.items()}
        date = None
        for key in rules.date_keys:
            date = try_date(lowered.get(key), tz)
            if date is not None:
                break
        out["date"] = date.isoformat() if date else lowered.get("pubdate", out.get("date"))
        if lowered.get("updateddate") not in (None, ""):
            out["updated"] = lowered["updateddate"]
        slug_raw = out.get("slug")
        ident = (
            str(slug_raw).strip("/")
            if slug_raw not in (None, "")
            else "/".join(slugs.github(part) for part in post_id.split("/"))
        )
        if rules.url and date is not None:
            path = slugs.expand(
                rules.url, {**slugs.date_tokens(date), "slug": ident, "id": ident}, "brace"
            )
        else:
            path = f"/{rules.base}/{ident}/"
        out["path"] = slugs.tidy_path(path, rules.trailing_slash)
        for key in ("heroImage", "image", "cover", "ogImage"):
            value = out.get(key)
            if isinstance(value, dict):
                value = value.get("src") or value.get("url")
            if isinstance(value, str) and value.strip():
                value = value.strip()
                if "://" in value:
                    out["ogImageUrl"] = value
                elif value.startswith("/"):
                    out["ogImageSitePath"] = value
                else:
                    out["ogImage"] = value
                break
        return Resolved(meta=out, body=body)
