"""The ``feeds:`` section of config.yaml checked into :class:`~publisher.feeds.options.FeedOptions`.

``parse_feed_options`` never raises for bad input: it returns the options it could read
(defaults where a value was wrong) and every problem as
``feeds.key: what is wrong; how to fix it``, so the config loader can report all of them
at once with the rest of the file. The keys are one :data:`SCHEMA` of
:mod:`publisher.schema`; the checks particular to feeds (paths inside the output folder,
``{slug}`` in per-category paths, format names) are its converters here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from publisher.dataclass import fields
from publisher.feeds import formats as registry
from publisher.feeds.options import FORMATS, FeedOptions, Format
from publisher.schema import Field, Invalid, Schema, Where, choice, flag, integer

_TAG_DATE = re.compile(r"\d{4}(-\d{2}(-\d{2})?)?")

#: Keys the config loader itself reads from the ``feeds:`` section.
_LOADER_KEYS = ("enabled",)
_DEFAULTS = FeedOptions()


def parse_feed_options(raw: Mapping[str, Any]) -> tuple[FeedOptions, list[str]]:
    """Validate the ``feeds:`` mapping of config.yaml; return the options and every problem."""
    if not isinstance(raw, Mapping):
        return _DEFAULTS, [f"feeds: must be a mapping of options, not {type(raw).__name__}"]
    where = Where("feeds")
    options = FeedOptions(**SCHEMA.read(raw, where))
    return options, [*where.problems, *_collisions(options)]


def _path(value: Any, where: Where, *, folder: bool = False) -> str:
    """A file (or with ``folder``, a folder) inside the output folder."""
    key = where.name
    if not isinstance(value, str) or not value.strip():
        raise Invalid(f"must be a path inside the output folder, not {value!r}")
    text = value.strip()
    pure = PurePosixPath(text.replace("\\", "/"))
    if pure.is_absolute() or any(part == ".." for part in pure.parts) or "://" in text:
        raise Invalid(f"'{text}' leaves the output folder; write a relative path like rss.xml")
    if key.startswith(("category", "tag", "author")) and "{slug}" not in text:
        raise Invalid(f"'{text}' has no {{slug}}; write it like {_default(key)}")
    if folder and not text.endswith("/"):
        text += "/"
    if not folder and text.endswith("/"):
        raise Invalid(f"'{text}' is a folder; name the file, like {_default(key)}")
    return text.removeprefix("./")


def _folder(value: Any, where: Where) -> str:
    return _path(value, where, folder=True)


def _formats(value: Any, where: Where) -> tuple[Format, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(v, str) for v in items):
        raise Invalid("must be a list such as [rss, atom, json]")
    known = registry.names()  # read now: a format registered after import counts
    wrong = [v for v in items if v not in known]
    if wrong:
        raise Invalid(f"unknown format {wrong[0]!r}; use any of {', '.join(known)}")
    if not items:
        raise Invalid(
            f"is empty; list at least one of {', '.join(known)} or set feeds.enabled: false"
        )
    return tuple(f for f in known if f in items)


def _hub(value: Any, where: Where) -> str:
    parts = urlsplit(value) if isinstance(value, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
        raise Invalid(
            f"{value!r} is not an absolute http(s) URL; e.g. https://pubsubhubbub.appspot.com/"
        )
    return str(value).strip()


def _image(value: Any, where: Where) -> str:
    text = value.strip() if isinstance(value, str) else ""
    parts = urlsplit(text)
    absolute = parts.scheme in ("http", "https") and bool(parts.netloc)
    if not text or not (absolute or (not parts.scheme and not parts.netloc)):
        raise Invalid(
            f"{value!r} is not an image URL; write https://... or a path on the site "
            "such as /img/icon.png"
        )
    return text


def _notice(value: Any, where: Where) -> str:
    if isinstance(value, str | int) and not isinstance(value, bool) and str(value).strip():
        return " ".join(str(value).split())
    raise Invalid(f"must be a line of text such as '© 2026 The Team', not {value!r}")


def _tag_date(value: Any, where: Where) -> str:
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    if _TAG_DATE.fullmatch(text):
        return text
    raise Invalid(f"{value!r} is not a date; write a year such as '2019' or a date '2019-05-01'")


_FLAG = Field(flag())
# An invalid or absent value is left out (MISSING), so FeedOptions keeps its default;
# null is kept where it means "none" (no limit, no hub, no icon).
_LIMIT = Field(
    integer(
        1,
        message=lambda v: f"must be a whole number of at least 1 (or null for no limit), not {v!r}",
    ),
    null=True,
)
_FILE = Field(_path)
_FOLDER = Field(_folder)

SCHEMA = Schema(
    {
        "formats": Field(_formats),
        **{f"{name}_path": _FILE for name in FORMATS},
        "limit": _LIMIT,
        "content": Field(
            choice("full", "summary", message=lambda v: f"must be 'full' or 'summary', not {v!r}")
        ),
        "categories": _FLAG,
        "category_path": _FOLDER,
        "category_limit": _LIMIT,
        "tags": _FLAG,
        "tag_path": _FOLDER,
        "tag_limit": _LIMIT,
        "featured": _FLAG,
        "featured_path": _FOLDER,
        "popular": _FLAG,
        "popular_path": _FOLDER,
        "authors": _FLAG,
        "author_path": _FOLDER,
        "author_limit": _LIMIT,
        "stylesheet": _FLAG,
        "stylesheet_path": _FILE,
        "hub": Field(_hub, null=True),
        "tag_uri_date": Field(_tag_date),
        "icon": Field(_image, null=True),
        "logo": Field(_image, null=True),
        "rights": Field(_notice, null=True),
    },
    also=_LOADER_KEYS,
)
assert set(SCHEMA.fields) == {f.name for f in fields(FeedOptions)}


def _collisions(options: FeedOptions) -> list[str]:
    """Two outputs at one path would overwrite each other silently."""
    problems: list[str] = []
    files = {f"{name}_path": registry.path_of(options, name) for name in registry.names()}
    files["stylesheet_path"] = options.stylesheet_path
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
