"""Finished 16:9 title cards (a big headline set in a design tool) are not overprinted
(issue 14): the headline is found as display type and the card goes beside the title,
while photos, a face and a slide of small text keep the rule they had.

Every image is generated here: headlines are set in the bundled Inter at 100 px and more.
"""

from __future__ import annotations

import io
import random
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont
from test_cards import LATIN_ONLY, encoded, photo

from conftest import REPO
from publisher.cards.choose import carries_headline
from publisher.cards.layout import load_layouts
from publisher.cards.render import CardJob, Rendered, render_card

BOLD = REPO / "assets" / "fonts" / "Inter-Bold.otf"
REGULAR = REPO / "assets" / "fonts" / "Inter-Regular.otf"
SIZES = [(1200, 675), (1280, 720), (1920, 1080)]


def ground(size: tuple[int, int], top: tuple[int, ...], bottom: tuple[int, ...]) -> Image.Image:
    """A vertical gradient from ``top`` to ``bottom`` (equal for a flat colour)."""
    image = Image.new("RGB", size)
    draw = ImageDraw.Draw(image)
    for y in range(size[1]):
        t = y / size[1]
        draw.line(
            ((0, y), (size[0], y)),
            fill=tuple(round(a + (b - a) * t) for a, b in zip(top, bottom, strict=True)),
        )
    return image


def title_card(
    size: tuple[int, int], lines: list[str], *, dark: bool, gradient: bool, px: int
) -> Image.Image:
    """A headline of ``px`` letters, centred on a dark or light flat/gradient ground."""
    if dark:
        image = ground(size, (18, 22, 60), (60, 30, 120) if gradient else (18, 22, 60))
    else:
        image = ground(size, (255, 222, 160), (250, 190, 200) if gradient else (255, 222, 160))
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(str(BOLD), px)
    y = (size[1] - len(lines) * px * 1.2) / 2
    for line in lines:
        x = (size[0] - draw.textlength(line, font=font)) / 2
        draw.text((x, y), line, font=font, fill=(255, 255, 255) if dark else (24, 24, 36))
        y += px * 1.2
    return image


def natural(size: tuple[int, int], seed: int) -> Image.Image:
    """A natural-looking photo: sky-to-ground gradient, soft shapes and sensor noise."""
    rng = random.Random(seed)
    image = ground(size, tuple(rng.randrange(60, 200) for _ in "rgb"), (40, 60, 30))
    draw = ImageDraw.Draw(image)
    for _ in range(25):
        x, y, r = rng.randrange(size[0]), rng.randrange(size[1]), rng.randrange(20, size[0] // 5)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=tuple(rng.randrange(256) for _ in "rgb"))
    image = image.filter(ImageFilter.GaussianBlur(3))
    grain = Image.effect_noise(size, 40).convert("RGB")
    return Image.blend(image, grain, 0.15)


def face_photo(size: tuple[int, int]) -> Image.Image:
    """A portrait-like photo: a lit face with eyes and mouth before a blurred room."""
    image = natural(size, 5)
    draw = ImageDraw.Draw(image)
    cx, cy, r = size[0] // 2, size[1] // 2, size[1] // 4
    draw.ellipse((cx - r, cy - int(r * 1.3), cx + r, cy + int(r * 1.3)), fill=(224, 172, 140))
    for dx in (-r // 2.5, r // 2.5):
        ex = cx + int(dx)
        draw.ellipse(
            (ex - r // 7, cy - r // 3 - r // 10, ex + r // 7, cy - r // 3 + r // 10),
            fill=(40, 30, 30),
        )
    draw.arc(
        (cx - r // 2, cy, cx + r // 2, cy + r // 1.6), 20, 160, fill=(150, 60, 60), width=r // 12
    )
    draw.ellipse((cx - r * 2, cy + r, cx + r * 2, size[1] + r * 3), fill=(50, 60, 90))
    return image


def slide(size: tuple[int, int]) -> Image.Image:
    """A talk slide: a heading and fourteen bullets of small body text on a dark ground."""
    image = ground(size, (20, 24, 40), (20, 24, 40))
    draw = ImageDraw.Draw(image)
    body = ImageFont.truetype(str(REGULAR), size[1] // 30)
    draw.text((60, 30), "Agenda", font=ImageFont.truetype(str(BOLD), size[1] // 14), fill="white")
    for index in range(14):
        line = f"- item {index}: policy enforcement across the datapath, the agents and the API"
        draw.text((60, 110 + index * size[1] // 24), line, font=body, fill=(220, 220, 230))
    return image


def skyline(size: tuple[int, int], seed: int, share: float) -> Image.Image:
    """A city at dusk: a clear sky over ``share`` of the height of buildings with lit
    windows, a grid of bright marks as regular as letters."""
    rng = random.Random(seed)
    image = ground(size, (90, 140, 220), (200, 210, 235))
    draw = ImageDraw.Draw(image)
    base, x = int(size[1] * (1 - share)), 0
    while x < size[0]:
        wide, top = rng.randrange(size[0] // 30, size[0] // 10), base + rng.randrange(-60, 60)
        draw.rectangle(
            (x, top, x + wide, size[1]), fill=tuple(rng.randrange(40, 120) for _ in "rgb")
        )
        for y in range(top + 10, size[1], 24):
            for left in range(x + 6, x + wide - 8, 16):
                draw.rectangle((left, y, left + 7, y + 10), fill=(230, 220, 150))
        x += wide + rng.randrange(20)
    return image


def designed_card(size: tuple[int, int]) -> Image.Image:
    """A card as a design tool exports it: a logo mark, a 120 px headline, a subtitle."""
    image = title_card(size, ["Cilium 1.16 is out"], dark=True, gradient=True, px=size[1] // 6)
    draw = ImageDraw.Draw(image)
    unit = size[1] // 20
    draw.ellipse((unit * 2, unit * 2, unit * 4, unit * 4), fill=(250, 180, 40))
    small = ImageFont.truetype(str(REGULAR), size[1] // 24)
    draw.text((unit * 5, unit * 2), "cilium.io", font=small, fill=(220, 220, 240))
    draw.text(
        (unit * 2, size[1] - unit * 4), "Release notes, by the team", font=small, fill="white"
    )
    return image


def dark_diagram(size: tuple[int, int]) -> Image.Image:
    """A labelled architecture diagram on a dark ground: rows of boxes joined by lines."""
    image = ground(size, (24, 28, 36), (24, 28, 36))
    draw = ImageDraw.Draw(image)
    label = ImageFont.truetype(str(BOLD), size[1] // 30)
    unit_w, unit_h = size[0] // 5, size[1] // 8
    for row in range(4):
        for column in range(4):
            x, y = unit_w // 2 + column * unit_w, unit_h + row * unit_h * 3 // 2
            draw.rectangle(
                (x, y, x + unit_w * 3 // 4, y + unit_h), outline=(120, 200, 255), width=3
            )
            draw.text((x + 12, y + unit_h // 3), f"svc-{row}{column}", font=label, fill="white")
            if column:
                draw.line(
                    (x - unit_w // 4, y + unit_h // 2, x, y + unit_h // 2), fill="white", width=3
                )
    return image


def dark_ui(size: tuple[int, int]) -> Image.Image:
    """A dark-theme app screenshot: a sidebar of menu items and a table of small rows."""
    image = ground(size, (30, 30, 34), (30, 30, 34))
    draw = ImageDraw.Draw(image)
    small = ImageFont.truetype(str(REGULAR), size[1] // 45)
    draw.rectangle((0, 0, size[0] // 6, size[1]), fill=(44, 44, 52))
    for index in range(12):
        draw.text((20, 80 + index * 40), f"Menu item {index}", font=small, fill=(200, 200, 210))
    for index in range(20):
        y = 100 + index * (size[1] - 140) // 20
        draw.text(
            (size[0] // 5, y),
            f"pod-{index}  default  Running  10.0.0.{index}  3d",
            font=small,
            fill="white",
        )
        draw.line((size[0] // 5, y - 6, size[0] - 40, y - 6), fill=(60, 60, 70))
    return image


def render_hero(tmp_path: Path, source: Image.Image) -> tuple[Rendered, Image.Image]:
    path = tmp_path / "picture.png"
    path.write_bytes(encoded(source, "PNG"))
    layouts, problems = load_layouts(("hero",), (REPO / "templates" / "cards",))
    assert problems == []
    job = CardJob(
        post_id="p", layout="hero", layouts=layouts, title="A title of a few words",
        summary="A short summary.", fields=(("site", "Blog"),), image_path=str(path),
        image_label="picture.png", image_field="ogImage", focus=None,
        options=replace(LATIN_ONLY, format="png", max_bytes=5_000_000),
    )  # fmt: skip
    result = render_card(job)
    return result, Image.open(io.BytesIO(result.data)).convert("RGB")


CARDS = [
    pytest.param(size, dark, gradient, id=f"{size[0]}x{size[1]}-{tone}-{kind}")
    for size in SIZES
    for dark, tone in ((True, "dark"), (False, "light"))
    for gradient, kind in ((True, "gradient"), (False, "flat"))
]


@pytest.mark.parametrize(("size", "dark", "gradient"), CARDS)
def test_a_16_9_title_card_goes_beside_the_title_not_under_it(
    tmp_path: Path, size: tuple[int, int], dark: bool, gradient: bool
) -> None:
    px = max(100, size[1] * 110 // 720)
    source = title_card(size, ["Shipping eBPF", "at scale"], dark=dark, gradient=gradient, px=px)
    result, card = render_hero(tmp_path, source)
    assert (result.layout, result.rule) == ("split", "headline image")
    # The whole card is drawn beside the text, not cropped and printed over: the right
    # panel holds the headline's colour, the left (the title's column) the split panel's.
    assert card.size == (1200, 630)
    headline = (255, 255, 255) if dark else (24, 24, 36)
    panel = card.crop((620, 0, 1200, 630))
    nearest = ImageChops.difference(panel, Image.new("RGB", panel.size, headline)).convert("L")
    assert nearest.getextrema()[0] < 30


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_one_word_of_200_px_is_a_headline(size: tuple[int, int]) -> None:
    source = title_card(size, ["Cilium 1.15"], dark=True, gradient=True, px=size[1] * 200 // 1080)
    assert carries_headline(source, source.size)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_16_9_photos_keep_the_title(tmp_path: Path, size: tuple[int, int], seed: int) -> None:
    assert not carries_headline(natural(size, seed), size)
    assert not carries_headline(photo(*size, seed=seed), size)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("share", [0.2, 0.3, 0.4])
def test_a_skyline_photo_keeps_the_title(share: float, seed: int) -> None:
    assert not carries_headline(skyline((1920, 1080), seed, share), (1920, 1080))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_a_designed_card_with_logo_and_subtitle_carries_a_headline(size: tuple[int, int]) -> None:
    source = designed_card(size)
    assert carries_headline(source, source.size)


@pytest.mark.parametrize("draw", [dark_diagram, dark_ui], ids=["diagram", "ui-screenshot"])
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_dark_diagrams_and_screenshots_are_not_headlines(
    draw: Callable[[tuple[int, int]], Image.Image], size: tuple[int, int]
) -> None:
    assert not carries_headline(draw(size), size)


def test_a_16_9_photo_renders_as_hero(tmp_path: Path) -> None:
    result, _ = render_hero(tmp_path, natural((1920, 1080), 3))
    assert (result.layout, result.rule) == ("hero", "default")


def test_a_face_photo_renders_as_hero(tmp_path: Path) -> None:
    source = face_photo((1280, 720))
    assert not carries_headline(source, source.size)
    result, _ = render_hero(tmp_path, source)
    assert (result.layout, result.rule) == ("hero", "default")


def test_a_slide_of_small_bullets_stays_text_heavy(tmp_path: Path) -> None:
    result, _ = render_hero(tmp_path, slide((1280, 720)))
    assert (result.layout, result.rule) == ("split", "text-heavy image")


def test_small_or_tall_images_are_not_tried() -> None:
    # A title card is made at card size: a 16:9 thumbnail or a portrait poster keeps its rule.
    small = title_card((800, 450), ["Shipping eBPF"], dark=True, gradient=False, px=100)
    tall = title_card((1080, 1350), ["Shipping", "eBPF"], dark=True, gradient=False, px=160)
    assert not carries_headline(small, small.size)
    assert not carries_headline(tall, tall.size)
