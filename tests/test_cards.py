"""Open Graph cards: every image the blog throws at us, every script, the cache, the budget.

Source images are generated here with Pillow; the only committed binary is the small
golden card under tests/golden/cards/ (regenerate with PUBLISHER_UPDATE_GOLDEN=1).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import random
import struct
import zlib
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageChops, ImageDraw, ImageStat, features

from conftest import REPO
from publisher.cards import (
    KNOWN_KEYS,
    CardOptions,
    CardsResult,
    build_cards,
    parse_card_options,
    render_one,
)
from publisher.cards import fonts as card_fonts
from publisher.cards.contrast import choose, ratio
from publisher.cards.crop import busiest_focus, crop_box, parse_focus
from publisher.cards.images import open_source
from publisher.cards.layout import load_layout, parse_layout
from publisher.cards.text import (
    break_units,
    clean_text,
    ellipsize,
    fit,
    graphemes,
    wrap,
)
from publisher.config import SiteConfig
from publisher.errors import CardError
from publisher.output import OutputWriter
from publisher.posts.model import Author, Post

SITE = SiteConfig(
    title="Test Blog",
    url="https://blog.example.org",
    description="Notes from the kernel",
    language="en-US",
    timezone="UTC",
    author=None,
)
GOLDEN = REPO / "tests" / "golden" / "cards"
NAVY = (0x0F, 0x17, 0x2A)
LATIN_ONLY = CardOptions(fallback_fonts=())


# --- helpers -----------------------------------------------------------------------------


def photo(width: int, height: int, seed: int = 1) -> Image.Image:
    """A deterministic picture with gradients and shapes (no randomness between runs)."""
    rng = random.Random(seed)
    image = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    image = ImageChops.multiply(image, Image.new("RGB", (width, height), (120, 190, 255)))
    draw = ImageDraw.Draw(image)
    for _ in range(12):
        x, y = rng.randrange(width), rng.randrange(height)
        r = rng.randrange(max(2, width // 20), max(3, width // 6))
        draw.ellipse((x - r, y - r, x + r, y + r), fill=tuple(rng.randrange(256) for _ in "rgb"))
    return image


def noise(width: int, height: int, seed: int = 7) -> Image.Image:
    return Image.frombytes(
        "RGB", (width, height), random.Random(seed).randbytes(width * height * 3)
    )


def encoded(image: Image.Image, fmt: str, **params: Any) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **params)
    return out.getvalue()


def make_post(
    root: Path,
    post_id: str = "2024-05-17-hello",
    *,
    title: str = "Hello, cards",
    summary: str | None = "A short summary of the post.",
    image: Path | None = None,
    image_url: str | None = None,
    frontmatter: dict[str, Any] | None = None,
) -> Post:
    source = root / "posts" / post_id / "index.md"
    source.parent.mkdir(parents=True, exist_ok=True)
    return Post(
        id=post_id,
        source=source,
        url=f"https://blog.example.org/{post_id}/",
        page_url=f"https://blog.example.org/{post_id}/",
        path=None,
        external_url=None,
        title=title,
        summary=summary,
        date=datetime(2024, 5, 17, 9, 30, tzinfo=UTC),
        updated=None,
        og_image=image,
        og_image_url=image_url,
        categories=("Engineering",),
        tags=("ebpf",),
        authors=(Author(name="Ada Lovelace"),),
        is_featured=False,
        is_popular=False,
        draft=False,
        body_markdown="",
        body_html="",
        frontmatter=frontmatter or {},
    )


def save_image(root: Path, name: str, data: bytes, post_id: str = "2024-05-17-hello") -> Path:
    path = root / "posts" / post_id / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def build(
    root: Path,
    posts: list[Post],
    options: CardOptions = LATIN_ONLY,
    **kwargs: Any,
) -> tuple[CardsResult, OutputWriter]:
    output = OutputWriter(root / "public", dry_run=kwargs.pop("dry_run", False))
    result = build_cards(
        SITE,
        posts,
        options,
        output=output,
        cache_dir=kwargs.pop("cache_dir", root / "state"),
        jobs=kwargs.pop("jobs", 1),
        dry_run=output.dry_run,
        root=root,
        **kwargs,
    )
    return result, output


def card_image(root: Path, result: CardsResult, index: int = 0) -> Image.Image:
    image = Image.open(root / "public" / result.cards[index].path)
    image.load()
    return image


def light_pixels(image: Image.Image, box: tuple[int, int, int, int]) -> int:
    """Pixels in ``box`` much brighter than the navy background: drawn text."""
    region = image.convert("L").crop(box)
    return sum(region.histogram()[128:])


def fallback_with(*codepoints: int) -> tuple[str, ...]:
    """Installed fallback fonts that draw every given character, or skip the test."""
    found = [
        p
        for p in card_fonts.existing(card_fonts.DEFAULT_FALLBACKS)
        if all(c in card_fonts.coverage(p) for c in codepoints)
    ]
    if not found:
        names = ", ".join(f"U+{c:04X}" for c in codepoints)
        pytest.skip(f"no installed font draws {names} (install fonts-noto-core or similar)")
    return (found[0],)


# --- options -----------------------------------------------------------------------------


def test_default_options_are_valid() -> None:
    options, problems = parse_card_options({})
    assert problems == []
    assert options == CardOptions()
    assert options.regular_font.is_file() and options.bold_font.is_file()


def test_option_problems_are_all_reported_with_a_fix(tmp_path: Path) -> None:
    options, problems = parse_card_options(
        {
            "layuot": "hero",
            "format": "webp",
            "width": 50,
            "max_bytes": "600 KB",
            "colors": {"accent": "blue", "backgrund": "#fff"},
            "fonts": {"regular": "missing.ttf"},
            "date_format": "{weekday}",
        },
        root=tmp_path,
    )
    text = "\n".join(problems)
    assert "cards.layuot: unknown key; did you mean 'layout'?" in text
    assert "cards.format: 'webp' is not allowed; use jpeg or png" in text
    assert "cards.width:" in text
    assert "cards.colors.accent: 'blue' is not a colour" in text
    assert "cards.colors.backgrund: unknown key; did you mean 'background'?" in text
    assert "cards.fonts.regular: file 'missing.ttf' does not exist" in text
    assert "cards.date_format: has an unknown placeholder" in text
    assert len(problems) == 7
    assert all(": " in p and ";" in p for p in problems)
    assert options.max_bytes == 600_000


def test_nested_options_and_paths(tmp_path: Path) -> None:
    (tmp_path / "logo.png").write_bytes(encoded(photo(80, 40), "PNG"))
    options, problems = parse_card_options(
        {
            "format": "png",
            "max_bytes": "1 MB",
            "logo": "logo.png",
            "colors": {"background": "#102030"},
            "fonts": {"fallbacks": ["/nonexistent/font.ttf"]},
            "remote": {"enabled": False, "timeout": 2},
        },
        root=tmp_path,
    )
    assert problems == []
    assert options.format == "png" and options.max_bytes == 1_000_000
    assert options.logo == tmp_path / "logo.png"
    assert options.background == "#102030"
    assert options.fallback_fonts == ("/nonexistent/font.ttf",)
    assert options.remote_images is False and options.remote_timeout == 2.0


# --- layouts -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["hero", "split", "text"])
def test_shipped_layouts_load(name: str) -> None:
    layout = load_layout(name, (REPO / "templates" / "cards",))
    assert layout.name == name and layout.title.size[0] <= layout.title.size[1]


def test_layout_errors_name_the_key(tmp_path: Path) -> None:
    data = {
        "text": {"box": [0, 0, -5, 10], "valign": "middle"},
        "title": {"size": [80, 40], "fnt": "bold"},
        "scrim": {"max_opacity": 3},
        "imagee": {},
    }
    with pytest.raises(CardError) as caught:
        parse_layout(data, "broken", tmp_path / "broken.yaml")
    message = str(caught.value)
    assert "broken.yaml: text.box: must be [x, y, width, height]" in message
    assert "text.valign: 'middle' is not one of top, center, bottom" in message
    assert "title.size: must be [smallest, largest]" in message
    assert "title.fnt: unknown key; did you mean 'font'?" in message
    assert "scrim.max_opacity: must be a number from 0 to 1" in message
    assert "imagee: unknown key; did you mean 'image'?" in message


def test_unknown_layout_suggests_a_name() -> None:
    with pytest.raises(CardError, match="did you mean 'hero'"):
        load_layout("heroo", (REPO / "templates" / "cards",))


# --- text --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("Cats &amp; Dogs", "Cats & Dogs"),
        ("AT&T & friends", "AT&T & friends"),
        ("<b>Bold</b> &lt;b&gt; stays text", "Bold <b> stays text"),
        (
            "**Strong** and _em_ and `code` and [a link](https://x.org/(y))",
            "Strong and em and code and a link",
        ),
        ("bpf_map_lookup_elem in ![diagram](d.png)", "bpf_map_lookup_elem in diagram"),
        ("x < y and y > z", "x < y and y > z"),
        (
            "&#8220;Quoted&#8221;&nbsp;text\u0007",
            "\u201cQuoted\u201d\u00a0text".replace("\u00a0", " "),
        ),
        (None, ""),
    ],
)
def test_clean_text(raw: str | None, clean: str) -> None:
    assert clean_text(raw) == clean


def test_graphemes_keep_emoji_flags_and_marks_whole() -> None:
    family = "👩\u200d👩\u200d👧"
    assert graphemes(f"a{family}b") == ["a", family, "b"]
    assert graphemes("🇩🇪🇫🇷") == ["🇩🇪", "🇫🇷"]
    assert graphemes("e\u0301x") == ["e\u0301", "x"]
    assert graphemes("👍🏽!") == ["👍🏽", "!"]


def test_cjk_breaks_between_ideographs_but_not_before_closing_punctuation() -> None:
    units = break_units("Hello 世界。「日本」ok")
    assert units[0] == "Hello "
    assert "界。" in units and "「日" in units and "本」" in units
    lines = wrap("漢字漢字漢字漢字漢字。", 4, len)
    assert all(len(line) <= 4 for line in lines)
    assert not any(line.startswith("。") for line in lines)


def test_wrap_splits_words_longer_than_the_line() -> None:
    lines = wrap("see https://example.org/a/very/long/path/without/spaces", 12, len)
    assert all(len(line) <= 12 for line in lines)
    assert (
        "".join(lines).replace(" ", "") == "seehttps://example.org/a/very/long/path/without/spaces"
    )


def test_ellipsis_never_splits_a_grapheme() -> None:
    family = "👩\u200d👩\u200d👧"
    line = "ab" + family * 3
    short = ellipsize(line, 5, len)
    assert short.endswith("…")
    assert all(cluster in ("a", "b", family, "…") for cluster in graphemes(short))


def test_fit_picks_the_largest_size_then_clamps_with_an_ellipsis() -> None:
    def measure_at(size: int) -> Any:
        return lambda s: len(s) * size * 0.5

    roomy = fit(
        "a few words",
        width=400,
        height=200,
        sizes=[20, 40, 60],
        max_lines=2,
        line_height=1.2,
        measure_at=measure_at,
    )
    assert roomy.size == 60 and not roomy.truncated
    long = fit(
        "word " * 200,
        width=400,
        height=200,
        sizes=[20, 40],
        max_lines=3,
        line_height=1.2,
        measure_at=measure_at,
    )
    assert long.size == 20 and long.truncated and len(long.lines) == 3
    assert long.lines[-1].endswith("…")


# --- images in ---------------------------------------------------------------------------

FORMATS: dict[str, dict[str, Any]] = {
    "PNG": {},
    "JPEG": {"quality": 90},
    "WEBP": {"quality": 80},
    "GIF": {},
    "AVIF": {"quality": 60},
}


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_every_format_renders_with_its_image(tmp_path: Path, fmt: str) -> None:
    if fmt == "AVIF" and not features.check("avif"):
        pytest.skip("this Pillow has no AVIF support")
    source = photo(1600, 900)
    params = dict(FORMATS[fmt])
    if fmt == "GIF":
        params.update(save_all=True, append_images=[noise(1600, 900)], duration=100)
    # Every file is named .png: the decoder must go by content.
    image_path = save_image(tmp_path, "hero.png", encoded(source, fmt, **params))
    result, _ = build(tmp_path, [make_post(tmp_path, image=image_path)])
    assert result.problems == ()
    assert result.cards[0].layout == "hero"
    card = card_image(tmp_path, result)
    assert (card.format, card.size) == ("JPEG", (1200, 630))
    # The top of a hero card is the photo, not the navy background.
    top = ImageStat.Stat(card.crop((0, 0, 1200, 120))).mean
    assert abs(top[0] - NAVY[0]) + abs(top[2] - NAVY[2]) > 60


def test_opened_by_content_and_cheaply(tmp_path: Path) -> None:
    big = encoded(photo(6000, 3200), "JPEG", quality=85)
    loaded = open_source(big, need=(1200, 630), max_pixels=100_000_000)
    assert loaded.format == "JPEG" and loaded.original_size == (6000, 3200)
    # Draft mode decodes at 1/4 scale: never below the need, far below the source.
    assert 1200 <= loaded.image.width <= 2400 and loaded.image.height >= 630
    png = encoded(photo(5000, 2600), "PNG")
    reduced = open_source(png, need=(1200, 630), max_pixels=100_000_000)
    assert reduced.image.width < 2500 and reduced.image.height >= 630


def test_exif_orientation_and_multi_picture_jpeg(tmp_path: Path) -> None:
    source = Image.new("RGB", (300, 200), (200, 30, 30))
    source.paste((30, 30, 200), (150, 0, 300, 200))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise on display
    loaded = open_source(encoded(source, "JPEG", exif=exif), need=(200, 300), max_pixels=10**8)
    assert loaded.image.size == (200, 300)
    top, bottom = loaded.image.getpixel((100, 20)), loaded.image.getpixel((100, 280))
    assert top[0] > top[2] and bottom[2] > bottom[0]  # red on top, blue below
    mpo = encoded(photo(800, 450), "MPO", save_all=True, append_images=[noise(800, 450)])
    assert open_source(mpo, need=(400, 200), max_pixels=10**8).format == "MPO"


def test_transparent_image_is_composited_on_the_matte(tmp_path: Path) -> None:
    # 1200x700, not 1200x630: a card-shaped image would be passed through as finished.
    source = Image.new("RGBA", (1200, 700), (0, 0, 0, 0))
    ImageDraw.Draw(source).rectangle((280, 0, 1199, 699), fill=(250, 200, 0, 255))
    image_path = save_image(tmp_path, "logo.png", encoded(source, "PNG"))
    post = make_post(
        tmp_path, image=image_path, summary=None, frontmatter={"ogImageFocus": [0.5, 0.5]}
    )
    result, _ = build(tmp_path, [post], replace(LATIN_ONLY, format="png"))
    assert result.cards[0].layout == "hero"
    card = card_image(tmp_path, result).convert("RGB")
    assert card.getpixel((100, 30)) == NAVY  # transparent -> layout background, not black
    assert card.getpixel((1100, 30)) == (250, 200, 0)


def test_palette_image_with_transparency(tmp_path: Path) -> None:
    source = photo(1400, 800).convert("P", palette=Image.Palette.ADAPTIVE)
    source.info["transparency"] = 0
    image_path = save_image(tmp_path, "p.png", encoded(source, "PNG", transparency=0))
    result, _ = build(tmp_path, [make_post(tmp_path, image=image_path)])
    assert result.problems == () and result.cards[0].layout == "hero"


def test_tiny_image_is_not_blown_up(tmp_path: Path) -> None:
    source = Image.new("RGB", (150, 90), (255, 0, 255))
    image_path = save_image(tmp_path, "tiny.jpg", encoded(source, "PNG"))
    result, _ = build(
        tmp_path, [make_post(tmp_path, image=image_path)], replace(LATIN_ONLY, format="png")
    )
    assert result.cards[0].layout == "split"
    card = card_image(tmp_path, result).convert("RGB")
    mask = Image.eval(
        ImageChops.difference(card, Image.new("RGB", card.size, (255, 0, 255))).convert("L"),
        lambda v: 255 if v < 20 else 0,
    )
    box = mask.getbbox()
    assert box is not None
    assert (box[2] - box[0], box[3] - box[1]) == (150, 90)


def test_decompression_bomb_is_an_error_for_that_post_only(tmp_path: Path) -> None:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", 50_000, 50_000, 8, 2, 0, 0, 0)
    bomb = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 100))
        + chunk(b"IEND", b"")
    )
    bomb_path = save_image(tmp_path, "bomb.png", bomb, "2024-05-18-bomb")
    good_path = save_image(tmp_path, "ok.png", encoded(photo(1300, 700), "PNG"))
    posts = [
        make_post(tmp_path, "2024-05-18-bomb", image=bomb_path),
        make_post(tmp_path, image=good_path),
    ]
    result, _ = build(tmp_path, posts)
    assert len(result.cards) == 2
    (problem,) = result.problems
    assert problem.severity == "error" and problem.field == "ogImage"
    assert problem.file == "posts/2024-05-18-bomb/index.md"
    assert "too large to decode safely" in problem.message and "bomb.png" in problem.message
    layouts = {c.post_id: c.layout for c in result.cards}
    assert layouts == {"2024-05-18-bomb": "text", "2024-05-17-hello": "hero"}


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        (
            "corrupt.jpg",
            b"\xff\xd8\xff\xe0" + b"\x00garbage" * 50,
            "damaged or truncated|not in a supported format",
        ),
        ("random.png", bytes(range(256)) * 4, "not in a supported format"),
        ("drawing.png", b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>', "SVG"),
        ("empty.png", b"", "empty file"),
    ],
)
def test_unreadable_images_warn_and_fall_back_to_text(
    tmp_path: Path, name: str, data: bytes, expected: str
) -> None:
    path = save_image(tmp_path, name, data)
    result, _ = build(tmp_path, [make_post(tmp_path, image=path)])
    assert result.cards[0].layout == "text"
    (problem,) = result.problems
    assert problem.severity == "warning" and problem.field == "ogImage" and name in problem.message
    assert any(word in problem.message for word in expected.split("|"))
    assert problem.fix and "no image" in problem.fix


def test_truncated_jpeg_still_renders_a_card(tmp_path: Path) -> None:
    data = encoded(photo(1600, 900), "JPEG", quality=90)
    path = save_image(tmp_path, "cut.jpg", data[: len(data) // 2])
    result, _ = build(tmp_path, [make_post(tmp_path, image=path)])
    assert len(result.cards) == 1
    assert all(p.field == "ogImage" for p in result.problems)


def test_missing_file_warns(tmp_path: Path) -> None:
    post = make_post(tmp_path, image=tmp_path / "posts" / "2024-05-17-hello" / "gone.png")
    result, _ = build(tmp_path, [post])
    assert result.cards[0].layout == "text"
    assert "gone.png' does not exist" in result.problems[0].message


# --- composition -------------------------------------------------------------------------


def test_focus_and_busiest_region() -> None:
    assert crop_box((2000, 1000), (1200, 630), (0.0, 0.5))[0] == 0
    right = crop_box((2000, 1000), (1200, 630), (1.0, 0.5))
    assert right[2] == pytest.approx(2000)
    busy = Image.new("RGB", (3000, 1000), (128, 128, 128))
    busy.paste(noise(600, 1000), (2300, 0))
    assert busiest_focus(busy, (1200, 630))[0] > 0.6
    plain = Image.new("RGB", (3000, 1000), (128, 128, 128))
    assert busiest_focus(plain, (1200, 630)) == (0.5, 0.5)
    assert parse_focus([0.3, 0.5]) == (0.3, 0.5)
    assert parse_focus("30% 50%") == (0.3, 0.5)
    assert parse_focus([2, "x"]) is None


def test_frontmatter_focus_moves_the_crop(tmp_path: Path) -> None:
    source = Image.new("RGB", (3000, 630), (100, 120, 140))
    source.paste((200, 0, 0), (0, 0, 600, 630))
    path = save_image(tmp_path, "wide.png", encoded(source, "PNG"))
    posts = [
        make_post(tmp_path, "a-left", image=path, frontmatter={"ogImageFocus": [0, 0.5]}),
        make_post(tmp_path, "b-right", image=path, frontmatter={"ogImageFocus": [1, 0.5]}),
    ]
    result, _ = build(tmp_path, posts, replace(LATIN_ONLY, format="png"))
    left, right = (
        card_image(tmp_path, result, 0).convert("RGB"),
        card_image(tmp_path, result, 1).convert("RGB"),
    )
    assert left.getpixel((20, 20)) == (200, 0, 0)
    assert right.getpixel((20, 20)) != (200, 0, 0)


def test_scrim_is_only_as_dark_as_needed() -> None:
    white, black = (255, 255, 255), (0, 0, 0)
    dark_region = Image.new("RGB", (200, 100), (10, 10, 10))
    assert choose(dark_region, [(white, black)], target=4.5, max_opacity=0.9).opacity == 0
    bright = Image.new("RGB", (200, 100), (240, 240, 240))
    choice = choose(bright, [(white, black)], target=4.5, max_opacity=0.9)
    assert 0.3 < choice.opacity < 0.9 and choice.contrast >= 4.5
    shade = round(240 * (1 - choice.opacity))
    assert ratio(white, (shade, shade, shade)) >= 4.5


def test_text_over_a_bright_photo_reaches_wcag_contrast(tmp_path: Path) -> None:
    path = save_image(
        tmp_path, "white.png", encoded(Image.new("RGB", (1400, 800), (235, 235, 230)), "PNG")
    )
    result, _ = build(
        tmp_path,
        [make_post(tmp_path, image=path, title="Readable on white")],
        replace(LATIN_ONLY, format="png"),
    )
    card = card_image(tmp_path, result).convert("RGB")
    text = card.crop((64, 420, 1136, 600))
    colours = sorted(text.getcolors(1_000_000) or [], reverse=True)
    background, ink = colours[0][1], next(c for _, c in colours if ratio(c, colours[0][1]) > 3)
    assert ratio(background, ink) >= 4.5


def test_text_pixels_are_drawn_in_the_text_box(tmp_path: Path) -> None:
    post = make_post(tmp_path, title="Plain title", summary="And a summary")
    result, _ = build(tmp_path, [post], replace(LATIN_ONLY, format="png", layout="text"))
    card = card_image(tmp_path, result).convert("RGB")
    assert light_pixels(card, (64, 130, 1136, 570)) > 3000  # text box of text.yaml
    assert light_pixels(card, (0, 590, 1200, 630)) == 0
    assert light_pixels(card, (0, 0, 1200, 80)) == 0
    assert light_pixels(card, (1140, 0, 1200, 630)) == 0


def test_over_long_summary_is_clamped_with_an_ellipsis(tmp_path: Path) -> None:
    post = make_post(tmp_path, title="Short", summary="Long sentence goes on. " * 80)
    options = replace(LATIN_ONLY, format="png", layout="text")
    result, _ = build(tmp_path, [post], options)
    card = card_image(tmp_path, result).convert("RGB")
    assert light_pixels(card, (0, 590, 1200, 630)) == 0  # nothing spills out of the box
    chain = (str(options.regular_font),)
    fitted = fit(
        clean_text(post.summary),
        width=1072,
        height=300,
        sizes=[26],
        max_lines=3,
        line_height=1.32,
        measure_at=lambda s: lambda t: card_fonts.measure(t, s, chain),
    )
    assert fitted.truncated and fitted.lines[-1].endswith("…") and len(fitted.lines) == 3


def test_title_with_ampersand_and_entities(tmp_path: Path) -> None:
    post = make_post(
        tmp_path, title="Cats &amp; Dogs <em>&</em> AT&T", summary='Say "hi" & <b>bye</b>'
    )
    result, _output = build(tmp_path, [post])
    card = result.cards[0]
    assert card.alt == "Cats & Dogs & AT&T"
    assert '<meta property="og:title" content="Cats &amp; Dogs &amp; AT&amp;T">' in card.meta_html
    assert 'content="Say &#34;hi&#34; &amp; bye"' in card.meta_html
    assert "&amp;amp;" not in card.meta_html and "<em>" not in card.meta_html


# --- scripts and fallback fonts ------------------------------------------------------------


def test_uncovered_characters_warn_naming_post_and_character(tmp_path: Path) -> None:
    post = make_post(tmp_path, title="Cilium 漢字 🚀 launch")
    result, _ = build(tmp_path, [post], replace(LATIN_ONLY, layout="text"))
    assert len(result.cards) == 1
    (message,) = [p for p in result.problems if p.field == "title"]
    assert message.file == "posts/2024-05-17-hello/index.md"
    assert message.message.startswith("has 3 characters that no configured font can draw")
    for code in ("U+6F22", "U+5B57", "U+1F680"):
        assert code in message.message
    assert message.fix.startswith("install Noto Sans CJK (fonts-noto-cjk); the default")


def test_cjk_title_wraps_inside_the_box(tmp_path: Path) -> None:
    fallbacks = fallback_with(0x6F22, 0x3002)
    title = "カーネルコミュニティがなぜ iptables を BPF に置き換えているのか、その理由と仕組みを解説します。"
    post = make_post(tmp_path, title=title, summary=None)
    result, _ = build(
        tmp_path, [post], replace(LATIN_ONLY, layout="text", format="png", fallback_fonts=fallbacks)
    )
    assert result.problems == ()
    card = card_image(tmp_path, result).convert("RGB")
    assert light_pixels(card, (64, 130, 1136, 570)) > 5000
    assert light_pixels(card, (1140, 0, 1200, 630)) == 0  # wrapped, not overflowing


@pytest.mark.skipif(not card_fonts.RAQM, reason="right-to-left shaping needs libraqm")
def test_rtl_title_is_right_aligned(tmp_path: Path) -> None:
    fallbacks = fallback_with(0x05E9, 0x05DC)
    post = make_post(tmp_path, title="שלום עולם", summary=None)
    options = replace(LATIN_ONLY, layout="text", format="png", fallback_fonts=fallbacks)
    result, _ = build(tmp_path, [post], options)
    assert result.problems == ()
    card = card_image(tmp_path, result).convert("L")
    text = Image.eval(card.crop((0, 130, 1200, 570)), lambda v: 255 if v > 128 else 0)
    first = text.getbbox()
    assert first is not None
    title = text.crop((0, first[1], 1200, first[1] + 60)).getbbox()  # the title's line
    assert title is not None and title[2] > 1100 and title[0] > 500  # hugs the right edge


def test_emoji_is_drawn_in_colour(tmp_path: Path) -> None:
    fallbacks = fallback_with(0x1F680)
    post = make_post(tmp_path, title="Launch 🚀", summary=None)
    result, _ = build(
        tmp_path, [post], replace(LATIN_ONLY, layout="text", format="png", fallback_fonts=fallbacks)
    )
    assert result.problems == ()
    card = card_image(tmp_path, result).convert("HSV")
    saturated = Image.eval(card.getchannel("S"), lambda v: 255 if v > 150 else 0)
    bright = Image.eval(card.getchannel("V"), lambda v: 255 if v > 150 else 0)
    colourful = ImageChops.multiply(saturated, bright).crop((64, 130, 1136, 570))
    assert sum(colourful.histogram()[255:]) > 200


# --- output ------------------------------------------------------------------------------


def test_output_files_manifest_and_meta_tags(tmp_path: Path) -> None:
    path = save_image(tmp_path, "hero.webp", encoded(photo(1400, 800), "WEBP"))
    posts = [make_post(tmp_path, image=path), make_post(tmp_path, "2024-01-01-text", summary=None)]
    result, _ = build(tmp_path, posts)
    public = tmp_path / "public"
    for card in result.cards:
        data = (public / card.path).read_bytes()
        assert hashlib.sha256(data).hexdigest()[:12] in card.path
        assert card.path.endswith(".jpg") and card.bytes == len(data) <= 600_000
        assert card.url == f"https://blog.example.org/{card.path}"
    manifest_text = (public / "og" / "manifest.json").read_text()
    manifest = json.loads(manifest_text)
    assert list(manifest) == sorted(manifest)
    assert (
        manifest_text == json.dumps(manifest, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    )
    entry = manifest["2024-05-17-hello"]
    assert entry["width"] == 1200 and entry["height"] == 630 and entry["type"] == "image/jpeg"
    assert entry["alt"] == "Hello, cards"
    html = (public / "og" / "2024-05-17-hello.html").read_text()
    for tag in (
        'property="og:image" content="https://blog.example.org/og/2024-05-17-hello.',
        'property="og:image:width" content="1200"',
        'property="og:image:height" content="630"',
        'property="og:image:type" content="image/jpeg"',
        'property="og:image:alt" content="Hello, cards"',
        'property="og:title" content="Hello, cards"',
        'property="og:description" content="A short summary of the post."',
        'property="og:url" content="https://blog.example.org/2024-05-17-hello/"',
        'property="og:type" content="article"',
        'property="article:published_time" content="2024-05-17T09:30:00+00:00"',
        'name="twitter:card" content="summary_large_image"',
    ):
        assert tag in html, tag
    other = (public / "og" / "2024-01-01-text.html").read_text()
    assert 'og:description" content="Notes from the kernel"' in other


def test_meta_without_card_is_a_summary_card() -> None:
    from publisher.cards.meta import meta_html

    html = meta_html(SITE, make_post(Path("/tmp")), title="T", description="", card=None)
    assert 'content="summary"' in html and "og:image" not in html and "og:description" not in html


@pytest.mark.parametrize(("fmt", "budget"), [("jpeg", 250_000), ("png", 700_000)])
def test_byte_budget_is_kept(tmp_path: Path, fmt: str, budget: int) -> None:
    # Soft noise: far over budget at the default quality / lossless, but it can be made to fit.
    busy = noise(400, 210).resize((1200, 630), Image.Resampling.BILINEAR)
    path = save_image(tmp_path, "noise.png", encoded(busy, "PNG"))
    options = replace(LATIN_ONLY, format=fmt, max_bytes=budget)  # type: ignore[arg-type]
    result, _ = build(tmp_path, [make_post(tmp_path, image=path)], options)
    card = card_image(tmp_path, result)
    assert card.format == fmt.upper() and card.size == (1200, 630)
    assert result.cards[0].bytes <= budget
    unlimited, _ = build(
        tmp_path / "free", [make_post(tmp_path, image=path)], replace(options, max_bytes=10**8)
    )
    assert unlimited.cards[0].bytes > budget  # the budget really did change the encoding


def test_impossible_budget_is_a_clear_error(tmp_path: Path) -> None:
    path = save_image(tmp_path, "noise.png", encoded(noise(1200, 630), "PNG"))
    result, _ = build(
        tmp_path,
        [make_post(tmp_path, image=path)],
        replace(LATIN_ONLY, format="png", max_bytes=10_000),
    )
    assert result.cards == ()
    (problem,) = result.problems
    assert (
        problem.severity == "error" and "cannot fit a PNG card in 10,000 bytes" in problem.message
    )


def test_configured_size(tmp_path: Path) -> None:
    result, _ = build(tmp_path, [make_post(tmp_path)], replace(LATIN_ONLY, width=800, height=418))
    assert card_image(tmp_path, result).size == (800, 418)
    assert result.cards[0].width == 800


# --- cache, dry run, parallelism ----------------------------------------------------------


def test_warm_build_renders_nothing_and_decodes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = save_image(tmp_path, "hero.jpg", encoded(photo(1600, 900), "JPEG"))
    posts = [make_post(tmp_path, image=path), make_post(tmp_path, "2024-01-01-text", title="Other")]
    cold, _ = build(tmp_path, posts)
    assert (cold.rendered, cold.reused) == (2, 0)

    def no_decoding(*args: object, **kwargs: object) -> None:
        raise AssertionError("a warm build decoded an image")

    monkeypatch.setattr("publisher.cards.render.open_source", no_decoding)
    monkeypatch.setattr("publisher.cards.render.render_card", no_decoding)
    warm, output = build(tmp_path, posts)
    assert (warm.rendered, warm.reused) == (0, 2)
    assert output.changed == []
    assert warm.cards == cold.cards


def test_dry_run_says_what_would_change_and_why(tmp_path: Path) -> None:
    path = save_image(tmp_path, "hero.jpg", encoded(photo(1600, 900), "JPEG"))
    post = make_post(tmp_path, image=path)
    other = make_post(tmp_path, "2024-01-01-other", title="Other")
    dry, _output = build(tmp_path, [post, other], dry_run=True)
    assert {p.reason for p in dry.planned} == {"new card"} and not (tmp_path / "public").exists()
    build(tmp_path, [post, other])
    path.write_bytes(encoded(photo(1600, 900, seed=2), "JPEG"))
    renamed = replace(other, title="Other, renamed")
    dry, _ = build(tmp_path, [post, renamed], dry_run=True)
    reasons = {p.post_id: p.reason for p in dry.planned}
    assert reasons == {
        "2024-05-17-hello": "the image changed",
        "2024-01-01-other": "the title, summary or meta line changed",
    }
    assert dry.rendered == 0 and dry.cards == ()
    new_options = replace(LATIN_ONLY, accent="#ff0000")
    dry, _ = build(tmp_path, [post, other], new_options, dry_run=True)
    assert all("card options changed" in p.reason for p in dry.planned)


def test_same_bytes_whatever_the_worker_count(tmp_path: Path) -> None:
    posts = []
    for index, fmt in enumerate(["PNG", "JPEG", "WEBP", "GIF"]):
        post_id = f"2024-0{index + 1}-01-p{index}"
        path = save_image(
            tmp_path,
            f"i.{fmt.lower()}",
            encoded(photo(1300 + 100 * index, 800, seed=index), fmt),
            post_id,
        )
        posts.append(make_post(tmp_path, post_id, image=path, title=f"Post number {index} & more"))
    serial, _ = build(tmp_path / "one", posts, jobs=1, cache_dir=tmp_path / "c1")
    parallel, _ = build(tmp_path / "two", posts, jobs=2, cache_dir=tmp_path / "c2")
    assert serial.cards == parallel.cards
    for card in serial.cards:
        assert (tmp_path / "one" / "public" / card.path).read_bytes() == (
            tmp_path / "two" / "public" / card.path
        ).read_bytes()


def test_render_one_ignores_the_cache_and_keeps_the_manifest(tmp_path: Path) -> None:
    posts = [make_post(tmp_path), make_post(tmp_path, "2024-01-01-other")]
    build(tmp_path, posts)
    output = OutputWriter(tmp_path / "public")
    result = render_one(
        SITE, posts[0], LATIN_ONLY, output=output, cache_dir=tmp_path / "state", layout="split"
    )
    assert result.rendered == 1 and result.cards[0].layout == "text"  # split without image -> text
    manifest = json.loads((tmp_path / "public" / "og" / "manifest.json").read_text())
    assert set(manifest) == {"2024-05-17-hello", "2024-01-01-other"}


def test_post_picks_a_layout_and_a_bad_choice_warns(tmp_path: Path) -> None:
    path = save_image(tmp_path, "d.png", encoded(photo(1600, 900), "PNG"))
    posts = [
        make_post(tmp_path, image=path, frontmatter={"ogLayout": "split"}),
        make_post(tmp_path, "2024-01-01-x", image=path, frontmatter={"ogLayout": "fancy"}),
    ]
    result, _ = build(tmp_path, posts)
    assert {c.post_id: c.layout for c in result.cards} == {
        "2024-05-17-hello": "split",
        "2024-01-01-x": "hero",
    }
    (problem,) = result.problems
    assert problem.field == "ogLayout" and "'fancy' does not exist" in problem.message


# --- golden image and the real corpus -----------------------------------------------------


def golden_card(tmp_path: Path) -> Image.Image:
    path = save_image(tmp_path, "golden.png", encoded(photo(1600, 900, seed=3), "PNG"))
    post = make_post(
        tmp_path,
        image=path,
        title="Why the kernel community is replacing iptables with BPF",
        summary="bpfilter moves packet filtering into BPF programs; a look at the design.",
    )
    options = replace(LATIN_ONLY, width=600, height=315, format="png")
    result, _ = build(tmp_path, [post], options)
    return card_image(tmp_path, result).convert("RGB")


def test_golden_default_layout(tmp_path: Path) -> None:
    card = golden_card(tmp_path)
    golden_path = GOLDEN / "hero.png"
    if os.environ.get("PUBLISHER_UPDATE_GOLDEN") == "1":
        golden_path.parent.mkdir(parents=True, exist_ok=True)
        card.quantize(colors=128, dither=Image.Dither.NONE).save(golden_path, optimize=True)
    golden = Image.open(golden_path).convert("RGB")
    assert golden.size == card.size
    diff = ImageChops.difference(card, golden).convert("L")
    mean = ImageStat.Stat(diff).mean[0]
    far = sum(diff.histogram()[64:])
    # Quantizing the golden costs a little; a moved or missing title costs far more.
    assert mean < 4.0, mean
    assert far < card.width * card.height * 0.01, far


def test_corpus_every_post_gets_a_card_or_a_warning(tmp_path: Path, corpus: Path) -> None:
    from publisher.config import parse_config
    from publisher.posts import read_posts

    config = parse_config(
        {
            "site": {"title": "Cilium", "url": "https://cilium.io/blog"},
            "posts": {"folder": str(corpus)},
        },
        tmp_path / "config.yaml",
    )
    posts = read_posts(config).posts
    result, _ = build(tmp_path, list(posts), CardOptions(remote_images=False), jobs=2)
    with_card = {c.post_id for c in result.cards}
    warned = {p.file for p in result.problems}
    for post in posts:
        assert post.id in with_card or any(post.id in f for f in warned), post.id
    assert len(with_card) >= len(posts) - 2
    assert all(c.bytes <= 600_000 for c in result.cards)


# --- docs ------------------------------------------------------------------------------------


def test_every_card_option_and_layout_is_documented() -> None:
    from publisher.cards.option_schema import _NESTED

    docs = (REPO / "docs" / "cards.md").read_text(encoding="utf-8")
    for key in KNOWN_KEYS:
        if key in _NESTED:
            for sub in _NESTED[key]:
                assert f"`cards.{key}.{sub}`" in docs, f"cards.{key}.{sub}"
        else:
            assert f"`cards.{key}`" in docs or f"`cards.{key}`," in docs, key
    for layout in sorted((REPO / "templates" / "cards").glob("*.yaml")):
        image = REPO / "docs" / "img" / f"card-{layout.stem}.jpg"
        assert f"img/card-{layout.stem}.jpg" in docs and image.is_file(), layout.stem
        assert image.stat().st_size < 100_000
