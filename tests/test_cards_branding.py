"""Config-only branding and the cards: options (issues 14 and 15): the author pill and the
category chip are off by default and found by decoding the card when on; every option and
layout key is checked when the config loads, one line per problem with its fix.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageChops, ImageStat
from test_cards import LATIN_ONLY, build, card_image, encoded, light_pixels, make_post

from conftest import REPO
from publisher.cards import parse_card_options
from publisher.cards.layout import parse_layout
from publisher.errors import CardError

# --- config-only branding: author and category chip ---------------------------------------

ACCENT = (0x38, 0xBD, 0xF8)
AVATAR = (0, 200, 80)
# templates/cards/text.yaml: chip box [208, 69, 600, 40], author box [64, 572, 700, 44]
CHIP_BOX = (208, 69, 808, 109)
AUTHOR_BOX = (64, 572, 764, 616)


def near(
    card: Image.Image, box: tuple[int, int, int, int], colour: tuple[int, int, int]
) -> Image.Image:
    """A mask of the pixels in ``box`` within a few levels of ``colour`` (JPEG-proof)."""
    channels = ImageChops.difference(
        card.convert("RGB").crop(box), Image.new("RGB", (box[2] - box[0], box[3] - box[1]), colour)
    ).split()
    largest = ImageChops.lighter(ImageChops.lighter(channels[0], channels[1]), channels[2])
    return Image.eval(largest, lambda v: 255 if v < 24 else 0)


def branded(tmp_path: Path, post: Any, **options: Any) -> Image.Image:
    result, _ = build(tmp_path, [post], replace(LATIN_ONLY, layout="text", **options))
    return card_image(tmp_path, result).convert("RGB")


def test_author_and_category_chip_are_off_by_default(tmp_path: Path) -> None:
    card = branded(tmp_path, make_post(tmp_path))
    assert near(card, CHIP_BOX, ACCENT).getbbox() is None
    assert light_pixels(card, AUTHOR_BOX) == 0


def test_the_category_chip_shows_the_first_category_else_the_first_tag(tmp_path: Path) -> None:
    post = make_post(tmp_path)  # categories ("Engineering",), tags ("ebpf",)
    chip = near(branded(tmp_path / "a", post, chip=True), CHIP_BOX, ACCENT)
    box = chip.getbbox()
    assert box is not None and box[0] == 0  # the pill starts at the box's left (align start)
    # A pill with dark text in it: accent all round, not a solid block.
    assert 0.5 < ImageStat.Stat(chip.crop(box)).mean[0] / 255 < 0.97
    tag = near(
        branded(tmp_path / "b", replace(post, categories=()), chip=True), CHIP_BOX, ACCENT
    ).getbbox()
    none = near(
        branded(tmp_path / "c", replace(post, categories=(), tags=()), chip=True), CHIP_BOX, ACCENT
    ).getbbox()
    assert tag is not None and tag[2] - tag[0] < box[2] - box[0]  # "ebpf" < "Engineering"
    assert none is None  # nothing to say: no empty pill


def test_the_author_line_has_the_name_and_a_round_avatar(tmp_path: Path) -> None:
    avatar = tmp_path / "avatar.png"
    avatar.write_bytes(encoded(Image.new("RGB", (300, 200), AVATAR), "PNG"))
    post = make_post(tmp_path)  # authors: Ada Lovelace
    card = branded(tmp_path / "a", post, author_show=True, author_avatar=avatar)
    green = near(card, AUTHOR_BOX, AVATAR)
    box = green.getbbox()
    assert box is not None
    side = box[2] - box[0]
    assert 30 <= side <= 44 and abs((box[3] - box[1]) - side) <= 2  # a square's worth...
    share = ImageStat.Stat(green.crop(box)).mean[0] / 255
    assert abs(share - 3.1416 / 4) < 0.08, share  # ...cut to a circle
    name = light_pixels(card, (AUTHOR_BOX[0] + box[2] + 4, *AUTHOR_BOX[1:]))
    assert name > 150  # "Ada Lovelace" beside it
    # Without the avatar the name alone; without a name nothing.
    plain = branded(tmp_path / "b", post, author_show=True)
    assert near(plain, AUTHOR_BOX, AVATAR).getbbox() is None
    assert light_pixels(plain, AUTHOR_BOX) > 150
    nobody = branded(tmp_path / "c", replace(post, authors=()), author_show=True)
    assert light_pixels(nobody, AUTHOR_BOX) == 0


def test_branding_options_and_layout_keys_are_checked(tmp_path: Path) -> None:
    (tmp_path / "me.png").write_bytes(encoded(Image.new("RGB", (8, 8)), "PNG"))
    options, problems = parse_card_options(
        {"author": {"show": True, "avatar": "me.png"}, "chip": True}, root=tmp_path
    )
    assert problems == []
    assert (options.author_show, options.author_avatar, options.chip) == (
        True,
        (tmp_path / "me.png").resolve(),
        True,
    )
    _, problems = parse_card_options(
        {"author": {"shwo": True, "avatar": "none.png"}, "chip": "yes"}, root=tmp_path
    )
    assert any("cards.author.shwo: unknown key; did you mean 'show'?" in p for p in problems)
    assert any(
        p.startswith("cards.author.avatar: file 'none.png' does not exist") for p in problems
    )
    assert any(p.startswith("cards.chip: must be true or false") for p in problems)
    with pytest.raises(CardError, match=r"x.yaml: chip.box: must be \[x, y, width, height\]"):
        parse_layout(
            {"title": {"size": [40, 60]}, "text": {"box": [0, 0, 10, 10]}, "chip": {"box": [1]}},
            "x",
            Path("x.yaml"),
        )


# --- the cards: section on the shared option schema ------------------------------------------


@pytest.mark.parametrize(
    ("raw", "line"),
    [
        ({"width": 50}, "cards.width: must be a whole number of pixels from 200 to 4096; the usual card is 1200x630"),
        ({"quality": True}, "cards.quality: must be a whole number from 30 to 100; 88 is the default"),
        ({"min_contrast": 30}, "cards.min_contrast: must be a number from 1.0 to 21.0; the default is 4.5"),
        ({"remote": {"timeout": 0}}, "cards.remote.timeout: must be a number from 0.1 to 300.0; the default is 10"),
        ({"folder": "../og"}, "cards.folder: must be a folder inside the output folder; write it like og"),
        ({"max_bytes": "1 KB"}, "cards.max_bytes: must be at least 10000 bytes; write a number or a size like 600 KB"),
        ({"alt": "{nope}"}, "cards.alt: has an unknown placeholder 'nope'; use {title}, {summary} or {site}"),
        ({"layout_key": " "}, "cards.layout_key: must be non-empty text; write it in quotes if in doubt"),
        ({"remote": {"enabeld": False}}, "cards.remote.enabeld: unknown key; did you mean 'enabled'?"),
        ({"fonts": 3}, "cards.fonts: must be a mapping, not int"),
    ],
)  # fmt: skip
def test_each_bad_card_option_is_one_line_with_its_fix(
    tmp_path: Path, raw: dict[str, Any], line: str
) -> None:
    options, problems = parse_card_options(raw, root=tmp_path)
    assert problems == [line]
    assert options == parse_card_options({}, root=tmp_path)[0]  # the bad key keeps its default


def test_null_options_keep_their_defaults_and_enabled_is_read_elsewhere(tmp_path: Path) -> None:
    options, problems = parse_card_options(
        {"enabled": False, "width": None, "fonts": None, "remote": {"timeout": None}}, root=tmp_path
    )
    assert problems == [] and options == parse_card_options({}, root=tmp_path)[0]


def test_every_own_layout_is_checked_when_the_config_loads(tmp_path: Path) -> None:
    folder = tmp_path / "layouts"
    folder.mkdir()
    shipped = (REPO / "templates" / "cards" / "text.yaml").read_text("utf-8")
    (folder / "fine.yaml").write_text(shipped, "utf-8")
    # Used by no default, only by posts that say ogLayout: quote: still checked up front.
    (folder / "quote.yaml").write_text(shipped.replace("valign: center", "valign: middle"), "utf-8")
    _, problems = parse_card_options({"layouts_folder": "layouts"}, root=tmp_path)
    assert problems == [
        "cards.layouts_folder: quote.yaml: text.valign: 'middle' is not one of top, center, bottom"
    ]
    # The default layout's own problem is reported once, under cards.layout.
    _, problems = parse_card_options(
        {"layouts_folder": "layouts", "layout": "quote"}, root=tmp_path
    )
    assert problems == [
        "cards.layout: quote.yaml: text.valign: 'middle' is not one of top, center, bottom"
    ]
