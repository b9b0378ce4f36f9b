"""The ``cards:`` section of config.yaml, validated into :class:`~publisher.cards.options.CardOptions`.

Every problem is returned at once as ``cards.key: what is wrong; how to fix``; an unknown
key gets a "did you mean". Paths are resolved against the config file's folder.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from publisher.cards.option_files import file_path, font_files, picture
from publisher.cards.options import CardOptions, layout_folders, own_layout_problems
from publisher.resources import templates
from publisher.schema import (
    Convert,
    Field,
    Invalid,
    Schema,
    Where,
    flag,
    integer,
    number,
    section,
)

_HEX = re.compile(r"^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(b|kb|kib|mb|mib)?\s*$", re.IGNORECASE)
_UNITS = {None: 1, "b": 1, "kb": 1000, "kib": 1024, "mb": 1000_000, "mib": 1024 * 1024}


def _words(value: Any, where: Where) -> str:
    if not isinstance(value, str) or not value.strip():
        raise Invalid("must be non-empty text; write it in quotes if in doubt")
    return value.strip()


def _placeholders(example: Mapping[str, Any], fix: str) -> Convert:
    """Text whose ``{placeholders}`` are all among ``example``'s keys."""

    def convert(value: Any, where: Where) -> str:
        written = _words(value, where)
        try:
            written.format(**example)
        except (KeyError, IndexError, ValueError) as exc:
            raise Invalid(f"has an unknown placeholder {exc}; use {fix}") from None
        return written

    return convert


def _output_folder(value: Any, where: Where) -> str:
    parts = str(value).strip("/").split("/")
    if not isinstance(value, str) or any(p in ("", ".", "..") for p in parts):
        raise Invalid("must be a folder inside the output folder; write it like og")
    return "/".join(parts)


def _card_format(value: Any, where: Where) -> str:
    written = str(value).lower()
    written = "jpeg" if written == "jpg" else written
    if written not in ("jpeg", "png"):
        raise Invalid(
            f"'{value}' is not allowed; use jpeg or png (LinkedIn and Telegram refuse WebP and AVIF cards)"
        )
    return written


def _bytes(value: Any, where: Where) -> int:
    size = _byte_size(value)
    if size is None or size < 10_000:
        raise Invalid("must be at least 10000 bytes; write a number or a size like 600 KB")
    return size


def _colour(value: Any, where: Where) -> str:
    if not isinstance(value, str) or not _HEX.match(value.strip()):
        raise Invalid(f"{value!r} is not a colour; write it as #rrggbb")
    return value.strip()


def _allowed_networks(value: Any, where: Where) -> tuple[str, ...]:
    networks = _networks(value)
    if networks is None:
        raise Invalid("must be true, false, or a list of networks like [10.0.0.0/8, fd00::/8]")
    return networks


_TRUE_OR_FALSE = flag(message="must be true or false; write true or false without quotes")


def _between(low: float, high: float, usual: float) -> Convert:
    return number(
        low, high, message=f"must be a number from {low} to {high}; the default is {usual}"
    )


def _nested(base: Path) -> dict[str, Schema]:
    """Nested spellings accepted in config.yaml, each key read into a flat field."""
    return {
        "fonts": Schema(
            {
                "regular": Field(file_path(base), to="font_regular"),
                "bold": Field(file_path(base), to="font_bold"),
                "fallbacks": Field(font_files(base), to="fallback_fonts"),
                "fallbacks_bold": Field(font_files(base), to="fallback_fonts_bold"),
            }
        ),
        "colors": Schema(
            {name: Field(_colour) for name in ("background", "accent", "light", "dark")}
        ),
        "remote": Schema(
            {
                "enabled": Field(_TRUE_OR_FALSE, to="remote_images"),
                "timeout": Field(_between(0.1, 300.0, 10), to="remote_timeout"),
                "max_bytes": Field(_bytes, to="remote_max_bytes"),
                "allow_private_networks": Field(_allowed_networks, to="remote_allow_networks"),
            }
        ),
        "author": Schema(
            {
                "show": Field(_TRUE_OR_FALSE, to="author_show"),
                "avatar": Field(picture(base), to="author_avatar"),
            }
        ),
    }


def _schema(base: Path) -> Schema:
    """The ``cards:`` section: every key, its check and the field it fills."""
    pixels = integer(
        200,
        4096,
        message="must be a whole number of pixels from 200 to 4096; the usual card is 1200x630",
    )
    fields: dict[str, Field] = {
        "layout": Field(_words),
        "layout_key": Field(_words),
        "focus_key": Field(_words),
        "layouts_folder": Field(file_path(base, folder=True)),
        "folder": Field(_output_folder),
        "width": Field(pixels),
        "height": Field(pixels),
        "format": Field(_card_format),
        "max_bytes": Field(_bytes),
        "quality": Field(
            integer(30, 100, message="must be a whole number from 30 to 100; 88 is the default")
        ),
        "logo": Field(picture(base)),
        "chip": Field(_TRUE_OR_FALSE),
        "min_contrast": Field(_between(1.0, 21.0, 4.5)),
        "max_upscale": Field(_between(0.1, 8.0, 1.0)),
        "date_format": Field(_placeholders(_DATE_EXAMPLE, _DATE_FIX)),
        "alt": Field(_placeholders(_ALT_EXAMPLE, "{title}, {summary} or {site}")),
        "max_pixels": Field(_bytes),
        "max_image_bytes": Field(_bytes),
    }
    for name, nested in _nested(base).items():
        fields[name] = Field(section(nested), merge=True)
    return Schema(fields, also=("enabled",))


_DATE_EXAMPLE = {
    "year": 2024,
    "month": "01",
    "month_name": "January",
    "month_abbr": "Jan",
    "day": 1,
}
_DATE_FIX = "{year} {month} {month_name} {month_abbr} {day}"
_ALT_EXAMPLE = {"title": "", "summary": "", "site": ""}

#: Nested sections and their keys, for the docs test.
_NESTED: dict[str, tuple[str, ...]] = {
    name: tuple(nested.fields) for name, nested in _nested(Path()).items()
}
#: Every key the section accepts, for the docs test and "did you mean" hints.
KNOWN_KEYS: tuple[str, ...] = _schema(Path()).known


def _byte_size(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        match = _SIZE.match(value)
        if match:
            unit = match.group(2).lower() if match.group(2) else None
            return int(float(match.group(1)) * _UNITS[unit])
    return None


def _networks(value: Any) -> tuple[str, ...] | None:
    """``true`` (every network), ``false`` (none) or a list of CIDR networks, normalised."""
    if value is True:
        # Imported here: it loads socket and ipaddress, which loading a config rarely needs.
        from publisher.cards.addresses import EVERY_NETWORK

        return EVERY_NETWORK
    if value is False:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        return None
    try:
        return tuple(str(ipaddress.ip_network(v.strip(), strict=False)) for v in value)
    except ValueError:
        return None


def parse_card_options(
    raw: Mapping[str, Any] | None, *, root: Path | None = None
) -> tuple[CardOptions, list[str]]:
    """Validate the ``cards:`` mapping; return the options and every problem found.

    On problems the returned options use the defaults for the bad keys, so a caller may
    still list them all before stopping.
    """
    if raw is not None and not isinstance(raw, Mapping):
        return CardOptions(), ["cards: must be a mapping of card options; see docs/cards.md"]
    where = Where("cards")
    values = _schema(root or Path.cwd()).read(raw, where)
    problems = where.problems
    options = CardOptions(**values)
    if options.layouts_folder is None and _shipped(options.layout):
        # A shipped layout is valid (tests/test_lazy_imports.py loads each one): not read
        # again at every config load, and the layout loader (YAML, schema) not imported.
        return options, problems
    from publisher.cards.layout import load_layouts

    layouts, broken = load_layouts((options.layout,), layout_folders(options))
    problems.extend(f"cards.layout: {p}" for p in broken)
    problems.extend(
        f"cards.layouts_folder: {p}"
        for p in own_layout_problems(options, layouts)
        if p not in broken  # a broken default that another layout falls back to: once
    )
    return options, problems


def _shipped(name: str) -> bool:
    """``name`` is a layout shipped with publisher (layout.layout_file's name rule)."""
    if not re.fullmatch(r"[A-Za-z0-9_-]+", name):
        return False
    return (templates() / "cards" / f"{name}.yaml").is_file()
