"""Cards a designer would ship (issue 14): meta tags, the logo, finished images, typography.

Every source image is generated here with Pillow; nothing binary is committed.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote

import pytest
from PIL import Image, ImageChops, ImageDraw, ImageStat
from test_cards import (
    LATIN_ONLY,
    SITE,
    build,
    card_image,
    encoded,
    make_post,
    photo,
    save_image,
)

from publisher.build import build_site
from publisher.cards.meta import _locale, feed_links, meta_html
from publisher.config import load_config
from publisher.feeds.options import FeedOptions

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
