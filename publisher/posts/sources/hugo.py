"""Hugo: ``content/<section>/`` pages, leaf files and page bundles.

Documented rules (gohugo.io: content organization, URL management, permalinks, front
matter): ``_index.md`` is a section's list page, not a post; a folder with ``index.md`` is
one page (its other files are resources); frontmatter ``url`` replaces the path (tokens
expanded since 0.131), else the ``[permalinks]`` pattern of the section, else
``/<sections>/<slug or file name>/``. ``:slug`` falls back to the urlized title; date
tokens use the date in its own offset; naive dates are in ``timeZone``. Dates come from
the keys in ``[frontmatter] date`` (``:filename`` reads a ``YYYY-MM-DD-`` prefix, which
then also gives the slug). Keys are case-insensitive. Paths are lower-cased unless
``disablePathToLower``. ``draft: true`` and future dates (without ``buildFuture``) are
not built.
"""

from __future__ import annotations

import os
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

from publisher.lazy import lazy_pattern
from publisher.posts.files import read_regular
from publisher.posts.sources import siteconfig, slugs
from publisher.posts.sources.base import (
    Resolved,
    Setup,
    Source,
    SourceRules,
    excerpt,
    lower_keys,
    try_date,
)

CONFIG_NAMES = tuple(
    f"{stem}.{ext}" for stem in ("hugo", "config") for ext in ("toml", "yaml", "yml", "json")
)
_TOKENS = (
    "year",
    "month",
    "monthname",
    "day",
    "weekday",
    "weekdayname",
    "yearday",
    "section",
    "sections",
    "title",
    "slug",
    "filename",
    "slugorfilename",
    "contentbasename",
    "slugorcontentbasename",
)
_FILENAME_DATE = lazy_pattern(r"^(\d{4}-\d{2}-\d{2})[-_]?(.*)$")
_DEFAULT_DATE_KEYS = ("date", "publishdate", "pubdate", "published", "lastmod", "modified")


class HugoSource(Source):
    name = "hugo"
    title = "Hugo"
    markers = (*CONFIG_NAMES, *(f"config/_default/{n}" for n in CONFIG_NAMES))
    extensions = (".md", ".markdown", ".mdown", ".html")

    def read_config(self, site: Path, folder: Path | None) -> Setup:
        problems: list[str] = []
        notes: list[str] = []
        data: dict[str, Any] = {}
        for name in self.markers:
            path = site / name
            if path.is_file():
                try:
                    data = {**siteconfig.load(path, name, site), **data}
                except siteconfig.SiteConfigError as exc:
                    problems.append(str(exc))
        config = lower_keys(data)
        content = str(config.get("contentdir") or "content")
        default_language = str(config.get("defaultcontentlanguage") or "en")
        languages_raw = config.get("languages")
        languages = (
            {str(k): lower_keys(v) for k, v in languages_raw.items() if isinstance(v, dict)}
            if isinstance(languages_raw, dict)
            else {}
        )
        language = default_language
        if folder is not None:
            # posts.folder in another language's contentDir: that language's URLs.
            for code, settings in languages.items():
                own = settings.get("contentdir")
                if isinstance(own, str) and folder.resolve().is_relative_to((site / own).resolve()):
                    language, content = code, own
                    break
        if len(languages) > 1:
            notes.append(
                f"the site has {len(languages)} languages; this config reads '{language}' from "
                f"{content}: for feeds in another language, copy config.yaml and set "
                "posts.folder to its content folder and output.folder to a folder of its own"
            )
        in_subdir = bool(config.get("defaultcontentlanguageinsubdir"))
        prefix = (
            language if len(languages) > 1 and (in_subdir or language != default_language) else ""
        )
        content_dir = site / content
        if folder is None:
            folder = next(
                (
                    content_dir / s
                    for s in ("blog", "posts", "post", "news")
                    if (content_dir / s).is_dir()
                ),
                content_dir / "posts",
            )
        try:
            section = folder.resolve().relative_to(content_dir.resolve()).parts[0]
        except (ValueError, IndexError):
            section = folder.name
        pattern = _permalink(config, section, problems)
        front = (
            lower_keys(config.get("frontmatter") or {})
            if isinstance(config.get("frontmatter"), dict)
            else {}
        )
        date_keys = front.get("date")
        keys = (
            tuple(str(k).lower() for k in date_keys if k != ":default")
            + (_DEFAULT_DATE_KEYS if ":default" in date_keys else ())
            if isinstance(date_keys, list)
            else _DEFAULT_DATE_KEYS
        )
        for key in keys:
            if key.startswith(":") and key not in (":filename",):
                notes.append(
                    f"[frontmatter] date uses '{key}', which cannot be read from the files; skipped"
                )
        base = config.get("baseurl") if isinstance(config.get("baseurl"), str) else None
        rules = SourceRules(
            generator=self.name,
            permalink=pattern or None,
            base=section,
            timezone=str(config.get("timezone") or "UTC"),
            date_keys=tuple(k for k in keys if not k.startswith(":") or k == ":filename"),
            lowercase=not bool(config.get("disablepathtolower")),
            options=(("language_prefix", prefix),),
        )
        return Setup(
            folder=folder,
            rules=rules,
            site_url=base,
            problems=tuple(problems),
            notes=tuple(notes),
            rule=pattern or f"/{section}/:slugorfilename/ (Hugo's default)",
        )

    def find(self, folder: Path) -> list[Path]:
        found: list[Path] = []
        for top, dirs, files in os.walk(folder):
            dirs.sort()
            if "index.md" in files and Path(top) != folder:
                # A leaf bundle: one page; its other files and folders are resources.
                found.append(Path(top) / "index.md")
                dirs[:] = []
                continue
            dirs[:] = [d for d in dirs if not d.startswith(".")]
            for name in files:
                if name.endswith(self.extensions) and name not in ("_index.md", "index.md"):
                    if name.endswith(".html") and not _has_frontmatter(Path(top) / name):
                        continue
                    found.append(Path(top) / name)
        return sorted(found)

    def resolve(
        self, meta: dict[str, Any], body: str, post_id: str, rules: SourceRules, tz: tzinfo
    ) -> Resolved:
        out = lower_keys(meta)
        filename = post_id.rsplit("/", 1)[-1]
        date, file_slug = _date(out, filename, rules, tz)
        if date is None and out.get("draft") is True:
            return Resolved(meta=out, body=body, skip="a draft without a date")
        out["date"] = date.isoformat() if date else out.get("date")
        title = str(out.get("title") or "").strip()
        slug = str(out["slug"]).strip() if out.get("slug") not in (None, "") else None
        if date is not None:
            tokens = slugs.date_tokens(date)
            sections = post_id.split("/")[:-1]
            values = {
                **tokens,
                "section": rules.base,
                "sections": "/".join([rules.base, *[s for s in sections if not s.startswith("_")]]),
                "title": slugs.hugo(title, rules.lowercase),
                "slug": slugs.hugo(slug, rules.lowercase)
                if slug
                else slugs.hugo(title, rules.lowercase),
                "filename": file_slug or filename,
                "slugorfilename": slug or file_slug or filename,
                "contentbasename": filename,
                "slugorcontentbasename": slug or filename,
                "id": post_id,
            }
            url = out.get("url")
            if rules.url:
                path = slugs.expand(rules.url, values, "brace")
            elif isinstance(url, str) and url.strip():
                path = slugs.expand(url.strip(), values)
            elif rules.permalink:
                path = slugs.expand(rules.permalink, values)
            else:
                path = f"/{values['sections']}/{values['slugorfilename']}/"
            prefix = rules.option("language_prefix")
            if prefix and not rules.url and not isinstance(url, str):
                # Hugo puts a language's pages below /<code>/ (not the default's, unless
                # defaultContentLanguageInSubdir); a frontmatter url is taken as written.
                path = f"/{prefix}/{path.lstrip('/')}"
            out["path"] = slugs.tidy_path(
                path.lower() if rules.lowercase else path, not path.endswith(".html")
            )
        for key in ("summary", "description"):
            if isinstance(out.get(key), str) and out[key].strip():
                out["description"] = out[key]
                break
        images = out.get("images")
        if isinstance(images, list) and images and isinstance(images[0], str):
            _image(out, images[0])
        elif isinstance(out.get("image"), str):
            _image(out, out["image"])
        if isinstance(out.get("author"), str) and "authors" not in out:
            out["authors"] = [" ".join(out["author"].split())]
        # Hugo's .Summary: the text before <!--more-->, else about the first 70 words.
        out["_excerpt"] = excerpt(body, ("<!--more-->",), words=70)
        return Resolved(meta=out, body=body)


def _date(
    meta: dict[str, Any], filename: str, rules: SourceRules, tz: tzinfo
) -> tuple[datetime | None, str | None]:
    """(the post's date from the first of ``rules.date_keys`` that has one, the slug
    after a date in the file name)."""
    date_match = _FILENAME_DATE.match(filename)
    date = file_slug = None
    for key in rules.date_keys:
        if key == ":filename":
            if date_match:
                date = try_date(date_match.group(1), tz)
                file_slug = date_match.group(2) or None
        else:
            date = try_date(meta.get(key), tz)
        if date is not None:
            break
    return date, file_slug


def _permalink(config: dict[str, Any], section: str, problems: list[str]) -> str | None:
    """The ``permalinks`` pattern of ``section``, if the site sets a valid one."""
    permalinks = (
        lower_keys(config.get("permalinks") or {})
        if isinstance(config.get("permalinks"), dict)
        else {}
    )
    if isinstance(permalinks.get("page"), dict):
        permalinks = {**permalinks, **lower_keys(permalinks["page"])}
    pattern = permalinks.get(section.lower())
    if pattern is not None and not isinstance(pattern, str):
        problems.append(
            f"hugo config: permalinks.{section}: must be a text pattern such as '/:section/:year/:slug/'"
        )
        return None
    if pattern:
        bad = slugs.unknown_tokens(pattern, _TOKENS)
        if bad:
            problems.append(
                f"hugo config: permalinks.{section}: unknown token ':{bad[0]}'; Hugo knows "
                f":{', :'.join(_TOKENS[:12])} ...; correct it or set posts.url in config.yaml"
            )
    return pattern


def _image(out: dict[str, Any], value: str) -> None:
    """A page-bundle image stays a file; a site-root path becomes a URL on the site."""
    if "://" in value:
        out["ogImageUrl"] = value
    elif value.startswith("/"):
        out["ogImageSitePath"] = value
    else:
        out["ogImage"] = value


def _has_frontmatter(path: Path) -> bool:
    try:
        start = read_regular(path, 2)
    except OSError:
        return True  # the reader reports why it cannot be read
    return start is None or start[:3] in (b"---", b"+++")
