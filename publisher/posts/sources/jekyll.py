"""Jekyll: ``_posts/YYYY-MM-DD-title.md``.

Documented rules (jekyllrb.com: posts, permalinks, configuration): only files named
``YYYY-MM-DD-title.EXT`` are posts; the name gives the date and ``:title``; frontmatter
``date`` overrides the date (naive: ``timezone`` of _config.yml). The URL is frontmatter
``permalink``, else ``_config.yml`` ``permalink`` (a style name: date, pretty, ordinal,
weekdate, none; or a pattern), else the ``date`` style
``/:categories/:year/:month/:day/:title:output_ext``; ``baseurl`` goes in front.
``published: false`` and ``_drafts/`` are not built. ``categories`` may be a list or a
space-separated string and are lower-cased in URLs.
"""

from __future__ import annotations

from datetime import tzinfo
from pathlib import Path
from typing import Any

from publisher.lazy import lazy_pattern
from publisher.posts.sources import siteconfig, slugs
from publisher.posts.sources.base import Resolved, Setup, Source, SourceRules, excerpt, try_date

STYLES = {
    "date": "/:categories/:year/:month/:day/:title:output_ext",
    "pretty": "/:categories/:year/:month/:day/:title/",
    "ordinal": "/:categories/:year/:y_day/:title:output_ext",
    "weekdate": "/:categories/:year/W:week/:short_day/:title:output_ext",
    "none": "/:categories/:title:output_ext",
}
_TOKENS = (
    "year",
    "month",
    "i_month",
    "day",
    "i_day",
    "short_year",
    "y_day",
    "hour",
    "minute",
    "second",
    "title",
    "slug",
    "categories",
    "output_ext",
    "path",
    "name",
    "week",
    "short_day",
)
_NAME = lazy_pattern(r"^(\d{4}-\d{1,2}-\d{1,2})-(.+)$")


class JekyllSource(Source):
    name = "jekyll"
    title = "Jekyll"
    markers = ("_config.yml", "_config.yaml")
    extensions = (".md", ".markdown", ".mkd", ".mkdn", ".html")

    def detect(self, site: Path) -> bool:
        return super().detect(site) and ((site / "_posts").is_dir() or (site / "Gemfile").is_file())

    def read_config(self, site: Path, folder: Path | None) -> Setup:
        problems: list[str] = []
        data: dict[str, Any] = {}
        path = next((site / m for m in self.markers if (site / m).is_file()), None)
        if path is not None:
            try:
                data = siteconfig.load(path, path.name, site)
            except siteconfig.SiteConfigError as exc:
                problems.append(str(exc))
        permalink = _posts_permalink(data) or data.get("permalink") or "date"
        if not isinstance(permalink, str):
            problems.append(
                "_config.yml: permalink: must be a style name or a pattern such as /:year/:title/"
            )
            permalink = "date"
        pattern = STYLES.get(permalink, permalink)
        bad = slugs.unknown_tokens(pattern, _TOKENS)
        if bad:
            problems.append(
                f"_config.yml: permalink: unknown token ':{bad[0]}'; Jekyll knows :year, :month, "
                ":day, :title, :slug, :categories, :output_ext ...; correct it or set posts.url "
                "in config.yaml"
            )
        timezone = data.get("timezone") if isinstance(data.get("timezone"), str) else None
        url = data.get("url") if isinstance(data.get("url"), str) else None
        baseurl = str(data.get("baseurl") or "").strip("/")
        rules = SourceRules(
            generator=self.name,
            permalink=pattern,
            base=baseurl,
            timezone=timezone,
            options=(("excerpt_separator", str(data.get("excerpt_separator") or "\n\n")),),
        )
        return Setup(
            folder=folder or site / "_posts",
            rules=rules,
            site_url=(url.rstrip("/") + ("/" + baseurl if baseurl else "")) if url else None,
            problems=tuple(problems),
            rule=f"{pattern} (permalink: {permalink})",
        )

    def find(self, folder: Path) -> list[Path]:
        return [p for p in super().find(folder) if _NAME.match(p.stem)]

    def resolve(
        self, meta: dict[str, Any], body: str, post_id: str, rules: SourceRules, tz: tzinfo
    ) -> Resolved:
        out = dict(meta)
        if out.get("published") is False:
            return Resolved(meta=out, body=body, skip="published: false")
        name = _NAME.match(post_id.rsplit("/", 1)[-1])
        file_date = try_date(name.group(1), tz) if name else None
        file_slug = name.group(2) if name else post_id.rsplit("/", 1)[-1]
        date = try_date(out.get("date"), tz) or file_date
        out["date"] = date.isoformat() if date else out.get("date")
        if not (isinstance(out.get("title"), str) and out["title"].strip()):
            out["title"] = " ".join(w.capitalize() for w in file_slug.split("-"))
        categories = out.get("categories", out.get("category"))
        if isinstance(categories, str):
            categories = categories.split()
        categories = [str(c) for c in categories] if isinstance(categories, list) else []
        out["categories"] = categories
        if isinstance(out.get("tags"), str):
            out["tags"] = out["tags"].split()
        if date is not None:
            slug_raw = out.get("slug")
            title_token = slugs.jekyll(
                str(slug_raw) if slug_raw else file_slug, "pretty", cased=True
            )
            values = {
                **slugs.date_tokens(date),
                "title": title_token,
                "slug": slugs.jekyll(str(slug_raw) if slug_raw else file_slug),
                "categories": "/".join(dict.fromkeys(c.lower() for c in categories)),
                "output_ext": ".html",
                "name": file_slug,
                "path": "_posts/" + post_id,
                "week": f"{date.isocalendar()[1]:02d}",
                "short_day": date.strftime("%a"),
                "id": post_id,
            }
            own = out.get("permalink")
            if rules.url:
                path = slugs.expand(rules.url, values, "brace")
            elif isinstance(own, str) and own.strip():
                path = slugs.expand(own.strip(), values)
            else:
                path = slugs.expand(rules.permalink or STYLES["date"], values)
            ends_slash = path.endswith("/")
            path = slugs.tidy_path(path, trailing_slash=ends_slash)
            out["path"] = f"/{rules.base}{path}" if rules.base else path
        image = out.get("image")
        if isinstance(image, dict):
            image = image.get("path")
        if isinstance(image, str) and image.strip():
            value = image.strip()
            key = "ogImageUrl" if "://" in value else "ogImageSitePath"
            out[key] = value if "://" in value else "/" + value.lstrip("/")
        # Jekyll's excerpt: the content up to excerpt_separator (the first paragraph).
        if isinstance(out.get("excerpt"), str):
            out["_excerpt"] = out["excerpt"]
        else:
            sep = rules.option("excerpt_separator", "\n\n")
            out["_excerpt"] = excerpt(body, () if sep == "\n\n" else (sep,))
        return Resolved(meta=out, body=body)


def _posts_permalink(data: dict[str, Any]) -> Any:
    """The posts' own permalink: ``collections.posts.permalink``, else a front matter default
    scoped to posts (``defaults: [{scope: {type: posts}, values: {permalink: ...}}]``)."""
    collections = data.get("collections")
    if isinstance(collections, dict) and isinstance(collections.get("posts"), dict):
        own = collections["posts"].get("permalink")
        if own:
            return own
    defaults = data.get("defaults")
    for entry in defaults if isinstance(defaults, list) else []:
        if not isinstance(entry, dict):
            continue
        scope_raw, values_raw = entry.get("scope"), entry.get("values")
        scope: dict[str, Any] = scope_raw if isinstance(scope_raw, dict) else {}
        values: dict[str, Any] = values_raw if isinstance(values_raw, dict) else {}
        for_posts = (
            scope.get("type") == "posts" or str(scope.get("path", "-")).strip("/") == "_posts"
        )
        if for_posts and values.get("permalink"):
            return values["permalink"]
    return None
