"""Cards a designer would ship (issue 14): meta tags, the logo, finished images, typography.

Every source image is generated here with Pillow; nothing binary is committed. The crop
tests are in test_cards_crop.py, branding and the options schema in test_cards_branding.py.

Over 400 lines on purpose: its parts share the generated sources (finished cards, text
screenshots, diagrams) that the visual goldens at the end render. The typography part
(about 130 lines) belongs beside test_cards_typography.py, another engineer's file that was
changing while this one was split; moving it there brings this file under the limit.
"""

from __future__ import annotations

import io
import json
import os
import re
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from PIL import Image, ImageChops, ImageDraw, ImageStat
from test_cards import (
    LATIN_ONLY,
    NAVY,
    SITE,
    build,
    card_image,
    encoded,
    fallback_with,
    make_post,
    noise,
    photo,
    save_image,
)
from test_cards_crop import text_block_picture
from test_cli import publish

from conftest import REPO, Site
from publisher.build import build_site
from publisher.cards import fonts as card_fonts
from publisher.cards import parse_card_options, render_one, typeset
from publisher.cards.canvas import Canvas
from publisher.cards.choose import TEXT_HEAVY, text_coverage
from publisher.cards.layout import load_layout, parse_layout
from publisher.cards.meta import _locale, feed_links, meta_html
from publisher.cards.sheet import TILE, render_sheet, tile_box
from publisher.cards.text import Fitted, break_units, ellipsize, fit, graphemes, wrap
from publisher.cards.typeset import CardText, Placed, layout_text
from publisher.config import load_config
from publisher.errors import CardError
from publisher.feeds.options import FeedOptions
from publisher.output import OutputWriter

# --- meta tags ---------------------------------------------------------------------------


def test_image_urls_are_percent_encoded_in_meta_and_manifest(tmp_path: Path) -> None:
    post_id = "2024-05-17-café au lait"
    path = save_image(tmp_path, "hero.png", encoded(photo(1400, 800), "PNG"), post_id)
    result, _ = build(tmp_path, [make_post(tmp_path, post_id, image=path)])
    (card,) = result.cards
    assert card.url.startswith("https://blog.example.org/og/2024-05-17-caf%C3%A9%20au%20lait.")
    assert unquote(card.url) == f"https://blog.example.org/{card.path}"
    public = tmp_path / "public" / "og"
    html = (public / f"{post_id}.html").read_text(encoding="utf-8")
    for name in ('property="og:image"', 'name="twitter:image"'):
        (value,) = re.findall(rf'<meta {name} content="([^"]*)"', html)
        assert value == card.url
        assert value.isascii() and " " not in value
    manifest = json.loads((public / "manifest.json").read_text(encoding="utf-8"))
    assert manifest[post_id]["url"] == card.url


@pytest.mark.parametrize(
    ("language", "locale"),
    [
        ("en", "en_US"),
        ("en-US", "en_US"),
        ("en-gb", "en_GB"),
        ("de", "de_DE"),
        ("ja", "ja_JP"),
        ("pt", "pt_BR"),
        ("zh-Hant-TW", "zh_TW"),
        ("es-419", "es_419"),
        ("", "en_US"),
    ],
)
def test_og_locale_is_always_written(language: str, locale: str) -> None:
    assert _locale(language) == locale
    site = SITE.__class__(**{**SITE.__dict__, "language": language})
    html = meta_html(site, make_post(Path("/tmp")), title="T", description="", card=None)
    assert f'<meta property="og:locale" content="{locale}">' in html


def test_feed_discovery_links_follow_the_feed_options() -> None:
    post = make_post(Path("/tmp"))
    links = feed_links(SITE, FeedOptions())
    html = meta_html(SITE, post, title="T", description="", card=None, feeds=links)
    assert re.findall(r'<link rel="alternate"[^>]*>', html) == [
        '<link rel="alternate" type="application/rss+xml" title="Test Blog (RSS)" '
        'href="https://blog.example.org/rss.xml">',
        '<link rel="alternate" type="application/atom+xml" title="Test Blog (Atom)" '
        'href="https://blog.example.org/atom.xml">',
        '<link rel="alternate" type="application/feed+json" title="Test Blog (JSON Feed)" '
        'href="https://blog.example.org/feed.json">',
    ]
    only_atom = feed_links(SITE, FeedOptions(formats=("atom",), atom_path="feeds/all atom.xml"))
    html = meta_html(SITE, post, title="T", description="", card=None, feeds=only_atom)
    assert html.count('rel="alternate"') == 1
    assert 'href="https://blog.example.org/feeds/all%20atom.xml"' in html
    assert feed_links(SITE, None) == ()
    plain = meta_html(SITE, post, title="T", description="", card=None)
    assert "<link" not in plain and plain.endswith("\n") and not plain.endswith("\n\n\n")


SITE_CONFIG = """\
site:
  title: Lantern & Co
  url: https://blog.example.org/blog
posts:
  folder: posts
feeds:
  formats: [rss, json]
cards:
  fonts:
    fallbacks: []
"""


def write_site(root: Path, extra: str = "") -> Path:
    (root / "config.yaml").write_text(SITE_CONFIG + extra, encoding="utf-8")
    for name, frontmatter in (
        ("2024-05-01-missing", "ogImage: cover.png"),
        ("2024-05-02-fine", ""),
    ):
        folder = root / "posts" / name
        folder.mkdir(parents=True)
        (folder / "index.md").write_text(
            f"---\ntitle: {name}\ndate: 2024-05-01\n{frontmatter}\n---\nBody.\n", encoding="utf-8"
        )
    return root / "config.yaml"


def test_a_missing_og_image_is_a_warning_and_a_text_card(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    config = load_config(write_site(tmp_path))
    result = build_site(config, now=datetime(2025, 1, 1, tzinfo=UTC), jobs=1)
    assert [p.id for p in result.published] == ["2024-05-01-missing", "2024-05-02-fine"]
    problems = [p for p in result.read.problems if p.field == "ogImage"]
    assert [(p.severity, p.message) for p in problems] == [
        ("warning", "file 'cover.png' does not exist")
    ]
    assert result.cards is not None
    layouts = {c.post_id: c.layout for c in result.cards.cards}
    assert layouts == {"2024-05-01-missing": "text", "2024-05-02-fine": "text"}
    html = (tmp_path / "public" / "og" / "2024-05-01-missing.html").read_text(encoding="utf-8")
    assert re.findall(r'type="([^"]+)"[^>]*href="([^"]+)"', html) == [
        ("application/rss+xml", "https://blog.example.org/blog/rss.xml"),
        ("application/feed+json", "https://blog.example.org/blog/feed.json"),
    ]
    assert 'title="Lantern &amp; Co (RSS)"' in html


def test_no_feed_links_when_feeds_are_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    path = write_site(tmp_path)
    path.write_text(SITE_CONFIG.replace("feeds:\n", "feeds:\n  enabled: false\n"), "utf-8")
    config = load_config(path)
    build_site(config, now=datetime(2025, 1, 1, tzinfo=UTC), jobs=1)
    html = (tmp_path / "public" / "og" / "2024-05-02-fine.html").read_text(encoding="utf-8")
    assert "<link" not in html


# --- the logo ----------------------------------------------------------------------------


def logo_image(width: int, height: int) -> Image.Image:
    """A logo with hard edges and thin strokes: a smear shows as a large pixel difference."""
    image = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    stripe = max(2, width // 60)
    for x in range(0, width, stripe * 4):
        draw.rectangle((x, 0, x + stripe * 2 - 1, height - 1), fill=(220, 30, 60))
    draw.rectangle((width // 10, height // 4, width // 2, height * 3 // 4), fill=(20, 40, 200))
    draw.ellipse((width * 6 // 10, height // 8, width * 9 // 10, height * 7 // 8), fill=(0, 0, 0))
    return image


@pytest.mark.parametrize(
    ("size", "fmt"),
    [((240, 56), "PNG"), ((480, 112), "PNG"), ((1920, 448), "PNG"), ((1920, 448), "JPEG")],
    ids=["box-size", "2x", "8x", "8x-jpeg"],
)
def test_the_logo_is_drawn_crisp_at_its_box_size(
    tmp_path: Path, size: tuple[int, int], fmt: str
) -> None:
    source = logo_image(*size)
    (tmp_path / "logo").write_bytes(
        encoded(source, fmt, **({"quality": 95} if fmt == "JPEG" else {}))
    )
    options = replace(LATIN_ONLY, logo=tmp_path / "logo", layout="text")
    result, _ = build(tmp_path, [make_post(tmp_path, summary=None)], options)
    card = card_image(tmp_path, result)
    # text.yaml: logo.box [936, 60, 200, 56], align right; the logo is contained in it.
    x, y, w, h = 936, 60, 200, 56
    scale = min(w / size[0], h / size[1])
    drawn = (round(size[0] * scale), round(size[1] * scale))
    box = (x + w - drawn[0], y + (h - drawn[1]) // 2)
    reference = Image.open(io.BytesIO(encoded(source, fmt))).convert("RGB")
    reference = reference.resize(drawn, Image.Resampling.LANCZOS)
    got = card.convert("RGB").crop((*box, box[0] + drawn[0], box[1] + drawn[1]))
    diff = ImageStat.Stat(ImageChops.difference(got, reference)).mean
    # JPEG card encoding alone costs a few levels; the old smear was 40+ on this pattern.
    assert max(diff) < 8, diff


# --- finished images pass through ---------------------------------------------------------


def finished_card(width: int = 2400, height: int = 1260) -> Image.Image:
    """A social card made in a design tool: a colour field, its own headline, a logo."""
    image = photo(width, height, seed=5)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, width // 2, height), fill=(250, 250, 245))
    for line in range(3):
        top = height // 5 + line * height // 7
        draw.rectangle((width // 16, top, width * 7 // 16, top + height // 12), fill=(20, 20, 20))
    return image


def text_screenshot(width: int = 1600, height: int = 1000) -> Image.Image:
    """A terminal: rows of glyph-like marks on a dark background, with line gaps."""
    image = Image.new("RGB", (width, height), (30, 30, 36))
    draw = ImageDraw.Draw(image)
    for y in range(40, height - 40, 36):
        x = 40
        for word in range(((y * 7) % 9) + 6):
            glyphs = 3 + (word * y) % 6
            for _ in range(glyphs):
                draw.rectangle((x, y, x + 9, y + 18), outline=(200, 230, 200))
                draw.line((x + 2, y + 4, x + 7, y + 14), fill=(200, 230, 200), width=2)
                x += 14
            x += 16
            if x > width - 120:
                break
    return image


def rendered(tmp_path: Path, source: Image.Image, **frontmatter: object) -> tuple[Any, Image.Image]:
    path = save_image(tmp_path, "cover.png", encoded(source, "PNG"))
    post = make_post(tmp_path, image=path, frontmatter=dict(frontmatter))
    result, _ = build(tmp_path, [post])
    (card,) = result.cards
    return card, card_image(tmp_path, result).convert("RGB")


@pytest.mark.parametrize(
    "size",
    [(2400, 1260), (1200, 627), (1200, 630), (1600, 840), (1130, 592), (1024, 536), (1000, 525)],
)
def test_a_finished_image_is_used_as_it_is(tmp_path: Path, size: tuple[int, int]) -> None:
    source = finished_card(*size)
    card, image = rendered(tmp_path, source)
    assert (card.layout, card.rule) == ("image", "finished image")
    reference = source.resize(image.size, Image.Resampling.LANCZOS)
    diff = ImageStat.Stat(ImageChops.difference(image, reference)).mean
    assert max(diff) < 4, diff  # JPEG re-encoding only: no title, scrim or meta line drawn
    manifest = json.loads((tmp_path / "public" / "og" / "manifest.json").read_text("utf-8"))
    assert manifest[card.post_id]["rule"] == "finished image"


@pytest.mark.parametrize(
    "size",
    [(999, 524), (800, 420), (1300, 700), (2400, 1400)],
    ids=["too-narrow", "card-shaped-illustration", "2.5%-off", "16:9-ish"],
)
def test_other_shapes_and_sizes_get_a_title(tmp_path: Path, size: tuple[int, int]) -> None:
    card, _ = rendered(tmp_path, photo(*size))
    assert card.layout != "image"


def test_ogLayout_and_the_layout_option_force_a_layout(tmp_path: Path) -> None:
    card, _ = rendered(tmp_path, finished_card(), ogLayout="hero")
    assert (card.layout, card.rule) == ("hero", "chosen")
    card, _ = rendered(tmp_path, text_screenshot(), ogLayout="hero")
    assert (card.layout, card.rule) == ("hero", "chosen")
    card, _ = rendered(tmp_path, photo(1600, 1000), ogLayout="image")
    assert (card.layout, card.rule) == ("image", "chosen")
    path = save_image(tmp_path, "cover.png", encoded(finished_card(), "PNG"))
    result = render_one(
        SITE,
        make_post(tmp_path, image=path),
        LATIN_ONLY,
        output=OutputWriter(tmp_path / "public"),
        cache_dir=tmp_path / "state",
        root=tmp_path,
        layout="hero",
    )
    assert [(c.layout, c.rule) for c in result.cards] == [("hero", "chosen")]


def test_a_forced_layout_still_falls_back_when_there_is_no_image(tmp_path: Path) -> None:
    post = make_post(tmp_path, frontmatter={"ogLayout": "image"})
    result, _ = build(tmp_path, [post])
    assert [(c.layout, c.rule) for c in result.cards] == [("text", "no image")]


def test_an_image_that_mostly_holds_text_is_not_put_under_the_title(tmp_path: Path) -> None:
    assert text_coverage(text_screenshot()) >= TEXT_HEAVY
    card, _ = rendered(tmp_path, text_screenshot())
    assert (card.layout, card.rule) == ("split", "text-heavy image")


@pytest.mark.parametrize(
    "source",
    [photo(1600, 1000), noise(1600, 1000)],
    ids=["photo", "noise-like foliage"],
)
def test_photos_are_not_text_heavy(tmp_path: Path, source: Image.Image) -> None:
    assert text_coverage(source) < TEXT_HEAVY
    card, _ = rendered(tmp_path, source)
    assert (card.layout, card.rule) == ("hero", "default")


def test_text_coverage_costs_the_same_for_any_image_size() -> None:
    # One pass over a fixed-size thumbnail: the same screenshot at 4x scores the same.
    small = text_screenshot(800, 500)
    big = small.resize((3200, 2000), Image.Resampling.NEAREST)
    assert abs(text_coverage(small) - text_coverage(big)) < 0.05


def test_a_layout_without_text_needs_no_title_and_draw_text_is_checked() -> None:
    layout = parse_layout({"draw_text": False, "image": {"box": [0, 0, 1200, 630]}}, "x", Path())
    assert layout.draw_text is False
    with pytest.raises(CardError, match="draw_text: must be true or false"):
        parse_layout({"draw_text": "no", "title": {}, "text": {"box": [0, 0, 9, 9]}}, "x", Path())


# --- typography --------------------------------------------------------------------------


def mono(text: str) -> float:
    """A monospaced measure: every grapheme 10 px wide."""
    return 10.0 * len(graphemes(text))


def test_truncation_drops_whole_words() -> None:
    assert ellipsize("Transparent Encryption", 180, mono) == "Transparent…"
    assert ellipsize("Transparent", 60, mono) == "Trans…"  # one word too wide: cut it
    assert ellipsize("Hello 👩‍👩‍👧 family", 90, mono) == "Hello 👩‍👩‍👧…"
    title = "Cilium 1.10 brings Transparent Encryption with WireGuard to every cluster"
    for width in range(150, 700, 10):
        fitted = fit(
            title,
            width=width,
            height=30,
            sizes=[20],
            max_lines=1,
            line_height=1.2,
            measure_at=lambda _: mono,
        )
        (line,) = fitted.lines
        assert line.endswith("…") and mono(line) <= width
        kept = line.removesuffix("…")
        assert title.startswith(kept) and title[len(kept)] in " ", (width, line)


def test_no_space_after_a_hyphen_break_and_no_hyphen_fragment() -> None:
    text = "Running Cilium without kube-proxy on bare metal clusters"
    fitted = fit(
        text, width=300, height=30, sizes=[20], max_lines=1, line_height=1.2,
        measure_at=lambda _: mono,
    )  # fmt: skip
    (line,) = fitted.lines
    assert "- " not in line and not line.removesuffix("…").endswith(("kube", "-"))
    assert line == "Running Cilium without…"


def test_korean_words_are_kept_whole() -> None:
    assert break_units("쿠버네티스 네트워크 보안") == ["쿠버네티스 ", "네트워크 ", "보안"]
    assert wrap("쿠버네티스 네트워크 보안", 80, mono) == ["쿠버네티스", "네트워크 보안"]
    assert break_units("日本語") == ["日", "本", "語"]  # Chinese and Japanese still break anywhere


def test_no_lone_last_word_when_a_better_break_exists() -> None:
    text = "Cilium and eBPF at KubeCon Europe this year"
    greedy = wrap(text, 380, mono)
    assert len(greedy) == 2 and " " not in greedy[-1]  # "year" alone
    fitted = fit(
        text, width=380, height=200, sizes=[20], max_lines=3, line_height=1.2,
        measure_at=lambda _: mono,
    )  # fmt: skip
    assert len(fitted.lines) == 2 and " " in fitted.lines[-1]
    assert " ".join(fitted.lines) == text and all(mono(x) <= 380 for x in fitted.lines)
    one_word_lines = fit(
        "Supercalifragilistic Antidisestablishment", width=220, height=200, sizes=[20],
        max_lines=3, line_height=1.2, measure_at=lambda _: mono,
    )  # fmt: skip
    assert one_word_lines.lines == ("Supercalifragilistic", "Antidisestablishment")


def test_the_summary_is_dropped_before_the_title_is_cut() -> None:
    # A short text box, so the summary's room decides whether the title fits.
    layout = parse_layout(
        {
            "text": {"box": [64, 100, 1072, 200], "order": ["title", "summary"]},
            "title": {"font": "bold", "size": [40, 40], "max_lines": 4, "line_height": 1.1},
            "summary": {"size": [24, 24], "max_lines": 2},
        },
        "short",
        Path("short.yaml"),
    )
    canvas = Canvas(layout, LATIN_ONLY)
    words = ["Cilium", "eBPF", "networking", "observability", "security", "Kubernetes", "clusters"]
    outcomes = set()
    for count in range(4, 40):
        title = " ".join(words[i % len(words)] for i in range(count))
        text = CardText(
            title=title, summary="A summary that takes a line or two of room under the title.",
            fields=(),
        )  # fmt: skip
        parts = {p.part: p.fitted for p in layout_text(text, layout, canvas, LATIN_ONLY, [])}
        alone = {
            p.part: p.fitted
            for p in layout_text(replace(text, summary=""), layout, canvas, LATIN_ONLY, [])
        }
        if not alone["title"].truncated:
            assert not parts["title"].truncated, count  # never cut while a summary is shown
        outcomes.add(("summary" in parts, parts["title"].truncated))
    # Short titles keep the summary, middle ones drop it, very long ones are cut anyway.
    assert outcomes == {(True, False), (False, False), (False, True)}


def test_the_whole_title_has_one_direction() -> None:
    layout = load_layout("text", (REPO / "templates" / "cards",))
    canvas = Canvas(layout, LATIN_ONLY)
    lines = ("مرحبا بكم في المدونة", "Cilium هو مشروع مفتوح المصدر")
    placed = Placed(
        "title", layout.title, (str(LATIN_ONLY.bold_font),),
        Fitted(size=40, lines=lines, truncated=False), 100.0, 100.0,
    )  # fmt: skip
    directions = [item[5] for item in typeset.lines([placed], layout, canvas)]
    assert directions == ["rtl", "rtl"]  # the second line starts with a Latin word


def test_bold_text_uses_the_bold_face_of_a_fallback_family(tmp_path: Path) -> None:
    regular, bold = tmp_path / "Fallback-Regular.ttf", tmp_path / "Fallback-Bold.ttf"
    plain = tmp_path / "Other.ttf"
    for path in (regular, bold, plain):
        path.write_bytes(b"")
    fallbacks = (str(regular), str(plain))
    assert card_fonts.chain_for("P.ttf", fallbacks, "bold") == ("P.ttf", str(bold), str(plain))
    assert card_fonts.chain_for("P.ttf", fallbacks, "regular") == ("P.ttf", *fallbacks)
    both = (str(regular), str(bold))
    assert card_fonts.chain_for("P.ttf", both, "regular") == ("P.ttf", str(regular))
    assert card_fonts.chain_for("P.ttf", both, "bold") == ("P.ttf", str(bold))


def test_a_space_after_an_emoji_is_a_text_space() -> None:
    (emoji_font,) = fallback_with(0x2602)
    chain = (str(LATIN_ONLY.regular_font), emoji_font)
    pieces = card_fonts.runs("☂ Rainy day", chain)
    assert pieces[0] == (1, "☂") and pieces[1] == (0, " Rainy day")


# --- layout rules ------------------------------------------------------------------------


@pytest.mark.parametrize("size", [(1180, 640), (1100, 600), (1600, 1000)])
def test_near_card_shaped_photos_go_hero(tmp_path: Path, size: tuple[int, int]) -> None:
    card, image = rendered(tmp_path, photo(*size))
    assert (card.layout, card.rule) == ("hero", "default")
    # Full bleed: the right edge is the photo, not the background colour.
    assert image.getpixel((1195, 600)) != NAVY


def test_a_clearly_small_photo_still_goes_to_split(tmp_path: Path) -> None:
    card, _ = rendered(tmp_path, photo(900, 500))
    assert (card.layout, card.rule) == ("split", "small image")


def test_a_small_source_gets_a_blurred_fill_not_a_stamp(tmp_path: Path) -> None:
    source = Image.new("RGB", (300, 200), (200, 40, 40))
    ImageDraw.Draw(source).ellipse((100, 50, 200, 150), fill=(250, 220, 0))
    card, image = rendered(tmp_path, source)
    assert card.layout == "split"
    corner = image.getpixel((640, 20))  # inside the image panel, far outside the picture
    assert corner[0] > corner[2] + 60, corner  # the photo's red, not the grey panel
    centre = image.getpixel((910, 315))
    assert centre[0] > 200 and centre[1] > 180  # the picture itself, sharp, on top


def test_white_artwork_on_the_light_panel_gets_a_frame(tmp_path: Path) -> None:
    source = Image.new("RGB", (700, 900), (255, 255, 255))
    ImageDraw.Draw(source).line((100, 100, 600, 800), fill=(0, 0, 0), width=6)
    card, image = rendered(tmp_path, source)
    assert card.layout == "split"
    panel = (0xF1, 0xF5, 0xF9)
    # The picture is contained in the panel's padded box (splits's image.padding 36).
    row = [image.getpixel((x, 315)) for x in range(620, 1200)]
    darker = [x for x, px in enumerate(row) if sum(px) < sum(panel) - 60]
    assert darker, "no frame drawn around white artwork"
    coloured = rendered(tmp_path / "b", photo(700, 900))[1]
    row = [coloured.getpixel((x, 315)) for x in range(622, 680)]  # left of the picture
    assert max(abs(a - b) for px in row for a, b in zip(px, panel, strict=True)) < 12


# --- contact sheet -----------------------------------------------------------------------


def test_the_contact_sheet_shows_every_card(tmp_path: Path) -> None:
    posts = []
    for index, (post_id, source) in enumerate(
        [("a-photo", photo(1600, 1000)), ("b-finished", finished_card()), ("c-text", None)]
    ):
        path = None
        if source is not None:
            path = save_image(tmp_path, "cover.png", encoded(source, "PNG"), post_id)
        posts.append(make_post(tmp_path, post_id, image=path, title=f"Post {index}"))
    sheet = render_sheet(SITE, posts, LATIN_ONLY, cache_dir=tmp_path / "state", root=tmp_path)
    image = Image.open(io.BytesIO(sheet.png))
    assert image.format == "PNG" and image.size == (sheet.width, sheet.height)
    assert not (tmp_path / "public").exists()  # the site's output is left alone
    assert [(c.post_id, c.layout) for c in sheet.result.cards] == [
        ("a-photo", "hero"),
        ("b-finished", "image"),
        ("c-text", "text"),
    ]
    cards, _ = build(tmp_path / "again", posts)
    tile = (TILE, round(TILE * 630 / 1200))
    for index, card in enumerate(cards.cards):
        expected = card_image(tmp_path / "again", cards, index).convert("RGB").resize(tile)
        box = tile_box(index, tile)
        got = image.convert("RGB").crop(box)
        diff = ImageStat.Stat(ImageChops.difference(got, expected)).mean
        assert max(diff) < 6, (card.post_id, diff)


def test_publish_cards_sheet_command(site: Site) -> None:
    site.post("a", "title: A card\ndate: 2024-01-02")
    site.post("b", "title: B\ndate: 2024-01-03")
    result = publish("cards", "--sheet", "sheet.png", cwd=site.root)
    assert result.returncode == 0, result.stderr
    assert "wrote sheet.png (2 cards" in result.stdout
    with Image.open(site.root / "sheet.png") as image:
        assert image.format == "PNG" and image.width == 2 * (TILE + 8) + 8
    both = publish("cards", cwd=site.root)
    assert both.returncode == 2 and "--post ID" in both.stderr


# --- visual goldens ----------------------------------------------------------------------


def diagram(width: int = 1400, height: int = 900) -> Image.Image:
    image = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    for i in range(4):
        left = 80 + i * (width - 160) // 4
        draw.rectangle(
            (left, height // 3, left + 200, height // 3 + 160), outline=(40, 80, 200), width=6
        )
        draw.line(
            (left + 200, height // 3 + 80, left + 300, height // 3 + 80), fill=(0, 0, 0), width=4
        )
    return image


GOLDEN_CASES = {
    "split-diagram": lambda: diagram(),
    "image-finished": lambda: finished_card(),
    "split-text-heavy": lambda: text_screenshot(),
    "split-small-fill": lambda: photo(120, 90, seed=9),
    "text-no-image": lambda: None,
    "image-finished-1130": lambda: finished_card(1130, 592),
    "hero-text-block": lambda: text_block_picture(
        (1600, 1400), (300, 24, 1300, 280), (250, 244, 228)
    ),
}


@pytest.mark.parametrize("name", sorted(GOLDEN_CASES))
def test_golden_cards(tmp_path: Path, name: str) -> None:
    """Each layout and rule against a reviewed image (PUBLISHER_UPDATE_GOLDEN=1 rewrites)."""
    source = GOLDEN_CASES[name]()
    path = None
    if source is not None:
        path = save_image(tmp_path, "cover.png", encoded(source, "PNG"))
    post = make_post(
        tmp_path,
        image=path,
        title="Why the kernel community is replacing iptables with BPF",
        summary="bpfilter moves packet filtering into BPF programs; a look at the design.",
    )
    result, _ = build(tmp_path, [post], replace(LATIN_ONLY, width=600, height=315, format="png"))
    assert result.cards[0].layout == name.split("-")[0]
    card = card_image(tmp_path, result).convert("RGB")
    golden_path = REPO / "tests" / "golden" / "cards" / f"{name}.png"
    if os.environ.get("PUBLISHER_UPDATE_GOLDEN") == "1":
        card.quantize(colors=128, dither=Image.Dither.NONE).save(golden_path, optimize=True)
    golden = Image.open(golden_path).convert("RGB")
    assert golden.size == card.size
    diff = ImageChops.difference(card, golden).convert("L")
    # Quantizing the golden costs a little; a moved title or a lost image costs far more.
    assert ImageStat.Stat(diff).mean[0] < 4.0
    assert sum(diff.histogram()[64:]) < card.width * card.height * 0.01


def test_bold_fallbacks_can_be_listed(tmp_path: Path) -> None:
    for name in ("CJK-Regular.ttf", "CJK-Heavy.ttf"):
        (tmp_path / name).write_bytes(b"")
    options, problems = parse_card_options(
        {"fonts": {"fallbacks": ["CJK-Regular.ttf"], "fallbacks_bold": ["CJK-Heavy.ttf"]}},
        root=tmp_path,
    )
    assert problems == []
    heavy = str(tmp_path / "CJK-Heavy.ttf")
    assert options.fallback_fonts_bold == (heavy,)
    bold = card_fonts.chain_for(
        "P.ttf", options.fallback_fonts, "bold", options.fallback_fonts_bold
    )
    assert bold == ("P.ttf", heavy)
    regular = card_fonts.chain_for(
        "P.ttf", options.fallback_fonts, "regular", options.fallback_fonts_bold
    )
    assert regular == ("P.ttf", str(tmp_path / "CJK-Regular.ttf"))
    _, problems = parse_card_options({"fonts": {"fallbacks_bold": 3}}, root=tmp_path)
    assert problems and "cards.fonts.fallbacks_bold" in problems[0]


def test_the_default_pixel_limit_is_pillows_own() -> None:
    """cards/options.py writes Pillow's default out so loading config does not import Pillow."""
    from PIL import Image

    from publisher.cards.options import CardOptions

    assert CardOptions.max_pixels == Image.MAX_IMAGE_PIXELS
