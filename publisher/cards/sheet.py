"""A contact sheet: every post's card in one PNG, to review a blog's cards at a glance.

``publish cards --sheet FILE`` renders (or reuses from the render cache) every published
post's card into a scratch folder, never the site's output, and lays them out in a grid,
each captioned with the post id, the layout and the rule that chose it.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from publisher.cards.build import CardsResult, build_cards
from publisher.cards.options import CardOptions
from publisher.config import SiteConfig
from publisher.output import OutputWriter
from publisher.posts.model import Post

#: Tile width in px (cards are scaled to it), columns, and the caption strip under each.
TILE = 300
COLUMNS = 4
CAPTION = 22
GAP = 8


@dataclass(frozen=True, kw_only=True)
class Sheet:
    png: bytes
    width: int
    height: int
    result: CardsResult


def tile_box(index: int, tile: tuple[int, int]) -> tuple[int, int, int, int]:
    """Where card ``index`` is drawn on the sheet: ``(left, top, right, bottom)``."""
    column, row = index % COLUMNS, index // COLUMNS
    left = GAP + column * (tile[0] + GAP)
    top = GAP + row * (tile[1] + CAPTION + GAP)
    return left, top, left + tile[0], top + tile[1]


def contact_sheet(
    cards: Sequence[tuple[str, Image.Image]], *, font_path: Path, card_size: tuple[int, int]
) -> Image.Image:
    """Lay ``(caption, card image)`` pairs out in a grid of :data:`COLUMNS`."""
    tile = (TILE, max(1, round(TILE * card_size[1] / card_size[0])))
    rows = max(1, -(-len(cards) // COLUMNS))
    columns = min(COLUMNS, max(1, len(cards)))
    size = (GAP + columns * (tile[0] + GAP), GAP + rows * (tile[1] + CAPTION + GAP))
    sheet = Image.new("RGB", size, (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.truetype(str(font_path), 12)
    for index, (caption, card) in enumerate(cards):
        left, top, _, bottom = tile_box(index, tile)
        sheet.paste(card.convert("RGB").resize(tile, Image.Resampling.LANCZOS), (left, top))
        text = caption
        while text and draw.textlength(text, font=font) > tile[0]:
            text = text[:-2] + "…"
        draw.text((left, bottom + 4), text, font=font, fill=(30, 41, 59))
    return sheet


def render_sheet(
    site: SiteConfig,
    posts: Sequence[Post],
    options: CardOptions,
    *,
    cache_dir: Path,
    root: Path,
    jobs: int | None = None,
) -> Sheet:
    """Every post's card on one sheet. Cards come from the render cache when they can."""
    with tempfile.TemporaryDirectory(prefix="publisher-sheet-") as scratch:
        folder = Path(scratch)
        result = build_cards(
            site,
            posts,
            options,
            output=OutputWriter(folder),
            cache_dir=cache_dir,
            jobs=jobs,
            root=root,
            write_manifest=False,
        )
        tiles = []
        for card in result.cards:
            with Image.open(folder / card.path) as image:
                image.load()
                rule = "" if card.rule == "default" else f" ({card.rule})"
                tiles.append((f"{card.post_id} · {card.layout}{rule}", image.copy()))
    sheet = contact_sheet(
        tiles, font_path=options.regular_font, card_size=(options.width, options.height)
    )
    out = io.BytesIO()
    sheet.save(out, "PNG", optimize=True)
    return Sheet(png=out.getvalue(), width=sheet.width, height=sheet.height, result=result)
