"""Cards a designer would ship (issue 14): meta tags, the logo, finished images, typography.

Every source image is generated here with Pillow; nothing binary is committed.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote

import pytest
from test_cards import SITE, build, encoded, make_post, photo, save_image

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
