"""The ``cards:`` section of config.yaml, validated into :class:`CardOptions`.

Every problem is returned at once as ``cards.key: what is wrong; how to fix``; an unknown
key gets a "did you mean". Paths are resolved against the config file's folder.
"""

from __future__ import annotations

import difflib
import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Literal

from PIL import Image

from publisher.cards.addresses import EVERY_NETWORK
from publisher.cards.fonts import DEFAULT_FALLBACKS
from publisher.cards.layout import load_layouts
from publisher.resources import assets, templates

_HEX = re.compile(r"^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(b|kb|kib|mb|mib)?\s*$", re.IGNORECASE)
_UNITS = {None: 1, "b": 1, "kb": 1000, "kib": 1024, "mb": 1000_000, "mib": 1024 * 1024}


def bundled_font(weight: str) -> Path:
    return assets() / "fonts" / f"Inter-{weight.capitalize()}.otf"


@dataclass(frozen=True, kw_only=True)
class CardOptions:
    """Everything that shapes a card besides the post and the layout file."""

    layout: str = "hero"
    layout_key: str = "ogLayout"
    focus_key: str = "ogImageFocus"
    layouts_folder: Path | None = None
    folder: str = "og"
    width: int = 1200
    height: int = 630
    format: Literal["jpeg", "png"] = "jpeg"
    max_bytes: int = 600_000
    quality: int = 88
    font_regular: Path | None = None
    font_bold: Path | None = None
    fallback_fonts: tuple[str, ...] = DEFAULT_FALLBACKS
    #: Fallbacks for bold text; None: the bold files beside ``fallback_fonts``, by name.
    fallback_fonts_bold: tuple[str, ...] | None = None
    background: str = "#0f172a"
    accent: str = "#38bdf8"
    light: str = "#ffffff"
    dark: str = "#0f172a"
    logo: Path | None = None
    #: The author's name (and ``author_avatar``, if set) in the layout's ``author`` box.
    author_show: bool = False
    author_avatar: Path | None = None
    #: The post's first category (else its first tag) as a chip in the layout's ``chip`` box.
    chip: bool = False
    min_contrast: float = 4.5
    max_upscale: float = 1.0
    date_format: str = "{month_name} {day}, {year}"
    alt: str = "{title}"
    max_pixels: int = Image.MAX_IMAGE_PIXELS or 89_478_485
    remote_images: bool = True
    remote_timeout: float = 10.0
    remote_max_bytes: int = 15_000_000
    #: Networks (CIDR) a remote image may come from besides the public internet.
    remote_allow_networks: tuple[str, ...] = ()
    #: Largest local image file read (checked with stat before reading).
    max_image_bytes: int = 30_000_000

    @property
    def regular_font(self) -> Path:
        return self.font_regular or bundled_font("regular")

    @property
    def bold_font(self) -> Path:
        return self.font_bold or bundled_font("bold")

    @property
    def extension(self) -> str:
        return "jpg" if self.format == "jpeg" else "png"

    @property
    def mime(self) -> str:
        return f"image/{self.format}"

    def colors(self) -> dict[str, str]:
        return {
            "background": self.background,
            "accent": self.accent,
            "light": self.light,
            "dark": self.dark,
        }


#: Nested spellings accepted in config.yaml, mapped to the flat field names.
_NESTED = {
    "fonts": {
        "regular": "font_regular",
        "bold": "font_bold",
        "fallbacks": "fallback_fonts",
        "fallbacks_bold": "fallback_fonts_bold",
    },
    "author": {"show": "author_show", "avatar": "author_avatar"},
    "colors": {"background": "background", "accent": "accent", "light": "light", "dark": "dark"},
    "remote": {
        "enabled": "remote_images",
        "timeout": "remote_timeout",
        "max_bytes": "remote_max_bytes",
        "allow_private_networks": "remote_allow_networks",
    },
}
_FLAT_KEYS = (
    "layout",
    "layout_key",
    "focus_key",
    "layouts_folder",
    "folder",
    "width",
    "height",
    "format",
    "max_bytes",
    "quality",
    "logo",
    "chip",
    "min_contrast",
    "max_upscale",
    "date_format",
    "alt",
    "max_pixels",
    "max_image_bytes",
)
#: Every key the section accepts, for the docs test and "did you mean" hints.
KNOWN_KEYS: tuple[str, ...] = (*_FLAT_KEYS, *_NESTED, "enabled")


def _did_you_mean(key: str, known: tuple[str, ...] | list[str]) -> str:
    hint = difflib.get_close_matches(key, sorted(known), n=1)
    return f"did you mean '{hint[0]}'?" if hint else f"known keys: {', '.join(sorted(known))}"


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
    problems: list[str] = []
    base = root or Path.cwd()
    flat: dict[str, tuple[str, Any]] = {}
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        return CardOptions(), ["cards: must be a mapping of card options; see docs/cards.md"]
    for key, value in raw.items():
        key = str(key)
        if key in _NESTED:
            if not isinstance(value, Mapping):
                problems.append(
                    f"cards.{key}: must be a mapping with {', '.join(_NESTED[key])}; indent them under it"
                )
                continue
            for sub, subvalue in value.items():
                if str(sub) not in _NESTED[key]:
                    problems.append(
                        f"cards.{key}.{sub}: unknown key; {_did_you_mean(str(sub), list(_NESTED[key]))}"
                    )
                    continue
                flat[_NESTED[key][str(sub)]] = (f"cards.{key}.{sub}", subvalue)
        elif key in _FLAT_KEYS:
            flat[key] = (f"cards.{key}", value)
        elif key != "enabled":
            problems.append(f"cards.{key}: unknown key; {_did_you_mean(key, KNOWN_KEYS)}")

    values: dict[str, Any] = {}
    defaults = CardOptions()

    def bad(name: str, message: str) -> None:
        problems.append(f"{flat[name][0]}: {message}")

    for name, (_, value) in flat.items():
        if value is None:
            continue
        default = getattr(defaults, name)
        if name in ("layout", "layout_key", "focus_key", "date_format", "alt"):
            if not isinstance(value, str) or not value.strip():
                bad(name, "must be non-empty text")
            else:
                values[name] = value.strip()
        elif name == "folder":
            parts = str(value).strip("/").split("/")
            if not isinstance(value, str) or any(p in ("", ".", "..") for p in parts):
                bad(name, "must be a folder inside the output folder, like og")
            else:
                values[name] = "/".join(parts)
        elif name in ("width", "height"):
            if not isinstance(value, int) or isinstance(value, bool) or not 200 <= value <= 4096:
                bad(
                    name,
                    "must be a whole number of pixels from 200 to 4096; the usual card is 1200x630",
                )
            else:
                values[name] = value
        elif name == "format":
            text = str(value).lower()
            text = "jpeg" if text == "jpg" else text
            if text not in ("jpeg", "png"):
                bad(
                    name,
                    f"'{value}' is not allowed; use jpeg or png (LinkedIn and Telegram refuse WebP and AVIF cards)",
                )
            else:
                values[name] = text
        elif name in ("max_bytes", "remote_max_bytes", "max_pixels", "max_image_bytes"):
            size = _byte_size(value)
            if size is None or size < 10_000:
                bad(name, "must be at least 10000, as a number or like 600 KB")
            else:
                values[name] = size
        elif name == "quality":
            if not isinstance(value, int) or isinstance(value, bool) or not 30 <= value <= 100:
                bad(name, "must be a whole number from 30 to 100")
            else:
                values[name] = value
        elif name in ("min_contrast", "max_upscale", "remote_timeout"):
            limits = {
                "min_contrast": (1.0, 21.0),
                "max_upscale": (0.1, 8.0),
                "remote_timeout": (0.1, 300.0),
            }[name]
            if (
                not isinstance(value, int | float)
                or isinstance(value, bool)
                or not limits[0] <= value <= limits[1]
            ):
                bad(name, f"must be a number from {limits[0]} to {limits[1]}")
            else:
                values[name] = float(value)
        elif name in ("remote_images", "author_show", "chip"):
            if not isinstance(value, bool):
                bad(name, "must be true or false")
            else:
                values[name] = value
        elif name == "remote_allow_networks":
            networks = _networks(value)
            if networks is None:
                bad(
                    name,
                    "must be true, false, or a list of networks like [10.0.0.0/8, fd00::/8]",
                )
            else:
                values[name] = networks
        elif name in ("background", "accent", "light", "dark"):
            if not isinstance(value, str) or not _HEX.match(value.strip()):
                bad(name, f"{value!r} is not a colour; write it as #rrggbb")
            else:
                values[name] = value.strip()
        elif name in ("font_regular", "font_bold", "logo", "author_avatar", "layouts_folder"):
            if not isinstance(value, str) or not value.strip():
                bad(name, "must be a path relative to config.yaml")
                continue
            path = (base / value.strip()).resolve()
            wanted_dir = name == "layouts_folder"
            written = Path(os.path.normpath(base / value.strip()))
            if written.is_relative_to(base) and not path.is_relative_to(base.resolve()):
                # A link planted by a pull request must not put a file of the runner's
                # (a private picture, say) on every card.
                bad(
                    name,
                    f"'{value}' is a symbolic link (or inside one) leading outside the folder "
                    "of config.yaml; replace the link with the file itself",
                )
            elif (wanted_dir and not path.is_dir()) or (not wanted_dir and not path.is_file()):
                kind = "folder" if wanted_dir else "file"
                bad(name, f"{kind} '{value}' does not exist; give a path relative to config.yaml")
            else:
                values[name] = path
        elif name in ("fallback_fonts", "fallback_fonts_bold"):
            items = [value] if isinstance(value, str) else value
            if not isinstance(items, list) or not all(isinstance(v, str) for v in items):
                bad(name, "must be a list of font file paths")
            else:
                # Missing fallbacks are allowed: CI and a laptop have different fonts.
                values[name] = tuple(
                    str((base / v).resolve()) if not Path(v).is_absolute() else v for v in items
                )
        else:  # pragma: no cover - every field above is handled
            values[name] = default

    if "date_format" in values:
        try:
            values["date_format"].format(**_date_fields_example())
        except (KeyError, IndexError, ValueError) as exc:
            bad(
                "date_format",
                f"has an unknown placeholder {exc}; use {{year}} {{month}} {{month_name}} {{month_abbr}} {{day}}",
            )
            del values["date_format"]
    if "alt" in values:
        try:
            values["alt"].format(title="", summary="", site="")
        except (KeyError, IndexError, ValueError) as exc:
            bad("alt", f"has an unknown placeholder {exc}; use {{title}}, {{summary}} or {{site}}")
            del values["alt"]
    known_fields = {f.name for f in fields(CardOptions)}
    assert set(values) <= known_fields
    options = CardOptions(**values)
    problems.extend(f"cards.layout: {p}" for p in layout_problems(options))
    return options, problems


def layout_folders(options: CardOptions) -> tuple[Path, ...]:
    """Where layouts are looked up: the site's own folder first, then the shipped ones."""
    shipped = templates() / "cards"
    if options.layouts_folder is not None:
        return (options.layouts_folder, shipped)
    return (shipped,)


def layout_problems(options: CardOptions) -> list[str]:
    """Problems with the default layout and every layout it falls back to, found at load
    time so a typo in ``cards.layout`` or a bad key in a layout file stops ``check`` too."""
    _, problems = load_layouts((options.layout,), layout_folders(options))
    return problems


def _date_fields_example() -> dict[str, Any]:
    return {"year": 2024, "month": "01", "month_name": "January", "month_abbr": "Jan", "day": 1}
