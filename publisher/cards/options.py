"""The ``cards:`` section of config.yaml: :class:`CardOptions`, what every card stage reads.

Its validator, ``parse_card_options``, is in option_schema.py: a build handed the config
the last one loaded (config/stored.py) makes CardOptions without the schema.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from publisher.cards.fallbacks import DEFAULT_FALLBACKS
from publisher.dataclass import dataclass
from publisher.resources import assets, templates

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (issue 12)

if TYPE_CHECKING:
    from typing import Literal


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
    #: Pillow's own default limit (``PIL.Image.MAX_IMAGE_PIXELS``), written out so loading
    #: config does not import Pillow; tests/test_cards_design.py holds the two equal.
    max_pixels: int = 89_478_485
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


def layout_folders(options: CardOptions) -> tuple[Path, ...]:
    """Where layouts are looked up: the site's own folder first, then the shipped ones."""
    shipped = templates() / "cards"
    if options.layouts_folder is not None:
        return (options.layouts_folder, shipped)
    return (shipped,)


def own_layout_problems(options: CardOptions, checked: Iterable[str] = ()) -> list[str]:
    """Problems in the site's own layout files that ``cards.layout`` does not lead to: a
    post may pick any of them with ``ogLayout``, so they are checked before any work too."""
    if options.layouts_folder is None:
        return []
    from publisher.cards.layout import load_layouts

    names = sorted(p.stem for p in options.layouts_folder.glob("*.yaml"))
    _, problems = load_layouts(tuple(n for n in names if n not in checked), layout_folders(options))
    return problems
