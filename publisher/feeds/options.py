"""The ``feeds:`` section of config.yaml: :class:`FeedOptions` and its validator.

``parse_feed_options`` never raises for bad input: it returns the options it could read
(defaults where a value was wrong) and every problem as
``feeds.key: what is wrong; how to fix it``, so the config loader can report all of them
at once with the rest of the file.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from pathlib import PurePosixPath
from typing import Any, Literal
from urllib.parse import urlsplit

Content = Literal["full", "summary"]
Format = Literal["rss", "atom", "json"]
FORMATS: tuple[Format, ...] = ("rss", "atom", "json")
_TAG_DATE = re.compile(r"\d{4}(-\d{2}(-\d{2})?)?")


@dataclass(frozen=True, kw_only=True)
class FeedOptions:
    """How feeds are built. Every field has a default, so ``FeedOptions()`` is the default config."""

    formats: tuple[Format, ...] = FORMATS
    rss_path: str = "rss.xml"
    atom_path: str = "atom.xml"
    json_path: str = "feed.json"
    limit: int | None = 20
    content: Content = "full"
    categories: bool = False
    category_path: str = "categories/{slug}/"
    category_limit: int | None = 20
    tags: bool = False
    tag_path: str = "tags/{slug}/"
    tag_limit: int | None = 20
    featured: bool = False
    featured_path: str = "featured/"
    popular: bool = False
    popular_path: str = "popular/"
    #: One feed per author (opt-in), like categories and tags.
    authors: bool = False
    author_path: str = "authors/{slug}/"
    author_limit: int | None = 20
    #: Off by default: Chromium is removing XSLT and shows a banner over styled feeds.
    stylesheet: bool = False
    stylesheet_path: str = "feed.xsl"
    hub: str | None = None
    tag_uri_date: str = "2000"
    #: Square image (Atom <icon>, JSON Feed icon/favicon): a URL or a path on the site.
    icon: str | None = None
    #: Wide image, 2:1 (Atom <logo>, RSS <image>): a URL or a path on the site.
    logo: str | None = None
    #: Copyright notice (Atom <rights>, RSS <copyright>), e.g. "© 2026 The Lantern authors".
    rights: str | None = None


#: Keys the config loader itself reads from the ``feeds:`` section.
_LOADER_KEYS = ("enabled",)
_DEFAULTS = FeedOptions()


def parse_feed_options(raw: Mapping[str, Any]) -> tuple[FeedOptions, list[str]]:
    """Validate the ``feeds:`` mapping of config.yaml; return the options and every problem."""
    problems: list[str] = []
    values: dict[str, Any] = {}
    if not isinstance(raw, Mapping):
        return _DEFAULTS, [f"feeds: must be a mapping of options, not {type(raw).__name__}"]

    def error(key: str, message: str) -> None:
        problems.append(f"feeds.{key}: {message}")

    def read(key: str, check: Callable[[str, Any], Any]) -> None:
        if key in raw and raw[key] is not None:
            value = check(key, raw[key])
            if value is not _INVALID:
                values[key] = value
        elif key in raw and key in _NULLABLE:
            values[key] = None

    def flag(key: str, value: Any) -> Any:
        if isinstance(value, bool):
            return value
        error(key, f"must be true or false, not {value!r}")
        return _INVALID

    def limit(key: str, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
            return value
        error(key, f"must be a whole number of at least 1 (or null for no limit), not {value!r}")
        return _INVALID

    def path(key: str, value: Any, *, folder: bool = False) -> Any:
        if not isinstance(value, str) or not value.strip():
            error(key, f"must be a path inside the output folder, not {value!r}")
            return _INVALID
        text = value.strip()
        pure = PurePosixPath(text.replace("\\", "/"))
        if pure.is_absolute() or any(part == ".." for part in pure.parts) or "://" in text:
            error(key, f"'{text}' leaves the output folder; write a relative path like rss.xml")
            return _INVALID
        if key.startswith(("category", "tag", "author")) and "{slug}" not in text:
            error(key, f"'{text}' has no {{slug}}; write it like {_default(key)}")
            return _INVALID
        if folder and not text.endswith("/"):
            text += "/"
        if not folder and text.endswith("/"):
            error(key, f"'{text}' is a folder; name the file, like {_default(key)}")
            return _INVALID
        return text.removeprefix("./")

    def folder(key: str, value: Any) -> Any:
        return path(key, value, folder=True)

    def content(key: str, value: Any) -> Any:
        if value in ("full", "summary"):
            return value
        error(key, f"must be 'full' or 'summary', not {value!r}")
        return _INVALID

    def formats(key: str, value: Any) -> Any:
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not all(isinstance(v, str) for v in items):
            error(key, "must be a list such as [rss, atom, json]")
            return _INVALID
        wrong = [v for v in items if v not in FORMATS]
        if wrong:
            error(key, f"unknown format {wrong[0]!r}; use any of rss, atom, json")
            return _INVALID
        if not items:
            error(key, "is empty; list at least one of rss, atom, json or set feeds.enabled: false")
            return _INVALID
        return tuple(f for f in FORMATS if f in items)

    def hub(key: str, value: Any) -> Any:
        parts = urlsplit(value) if isinstance(value, str) else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
            error(
                key,
                f"{value!r} is not an absolute http(s) URL; e.g. https://pubsubhubbub.appspot.com/",
            )
            return _INVALID
        return value.strip()

    def image(key: str, value: Any) -> Any:
        text = value.strip() if isinstance(value, str) else ""
        parts = urlsplit(text)
        absolute = parts.scheme in ("http", "https") and bool(parts.netloc)
        if not text or not (absolute or (not parts.scheme and not parts.netloc)):
            error(
                key,
                f"{value!r} is not an image URL; write https://... or a path on the site "
                "such as /img/icon.png",
            )
            return _INVALID
        return text

    def notice(key: str, value: Any) -> Any:
        if isinstance(value, str | int) and not isinstance(value, bool) and str(value).strip():
            return " ".join(str(value).split())
        error(key, f"must be a line of text such as '© 2026 The Team', not {value!r}")
        return _INVALID

    def tag_date(key: str, value: Any) -> Any:
        text = value.isoformat() if hasattr(value, "isoformat") else str(value)
        if _TAG_DATE.fullmatch(text):
            return text
        error(key, f"{value!r} is not a date; write a year such as '2019' or a date '2019-05-01'")
        return _INVALID

    checks: dict[str, Callable[[str, Any], Any]] = {
        "formats": formats,
        "rss_path": path,
        "atom_path": path,
        "json_path": path,
        "limit": limit,
        "content": content,
        "categories": flag,
        "category_path": folder,
        "category_limit": limit,
        "tags": flag,
        "tag_path": folder,
        "tag_limit": limit,
        "featured": flag,
        "featured_path": folder,
        "popular": flag,
        "popular_path": folder,
        "authors": flag,
        "author_path": folder,
        "author_limit": limit,
        "stylesheet": flag,
        "stylesheet_path": path,
        "hub": hub,
        "tag_uri_date": tag_date,
        "icon": image,
        "logo": image,
        "rights": notice,
    }
    assert set(checks) == {f.name for f in fields(FeedOptions)}
    for key, check in checks.items():
        read(key, check)

    known = sorted([*checks, *_LOADER_KEYS])
    for key in raw:
        if key not in known:
            hint = difflib.get_close_matches(str(key), known, n=1)
            fix = f"did you mean '{hint[0]}'?" if hint else f"known keys: {', '.join(known)}"
            error(str(key), f"unknown key; {fix}")

    options = FeedOptions(**values)
    problems.extend(_collisions(options))
    return options, problems


def _collisions(options: FeedOptions) -> list[str]:
    """Two outputs at one path would overwrite each other silently."""
    problems: list[str] = []
    files = {
        "rss_path": options.rss_path,
        "atom_path": options.atom_path,
        "json_path": options.json_path,
        "stylesheet_path": options.stylesheet_path,
    }
    seen: dict[str, str] = {}
    for key, value in files.items():
        if value in seen:
            problems.append(
                f"feeds.{key}: '{value}' is also feeds.{seen[value]}; give each file its own name"
            )
        seen.setdefault(value, key)
    return problems


def _default(key: str) -> str:
    return str(getattr(_DEFAULTS, key))


class _Invalid:
    pass


_INVALID = _Invalid()
_NULLABLE = frozenset(
    {"limit", "category_limit", "tag_limit", "author_limit", "hub", "icon", "logo", "rights"}
)
