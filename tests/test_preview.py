"""`publish preview`: truncation rules and the page's content.

The page in a real browser is in test_preview_browser.py, hostile posts in
test_preview_hostile.py.
"""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner

from conftest import REPO, Site
from publisher.cli.preview import preview_command
from publisher.config import Config, load_config
from publisher.preview import PLATFORMS, Cut, build_preview, crop, truncate
from publisher.preview.page import PER_PAGE
from publisher.preview.sections import excerpt
from publisher.preview.unfurl import Picture, read_meta, unfurl

NOW = datetime(2026, 6, 1, tzinfo=UTC)
PLATFORM = {p.key: p for p in PLATFORMS}


# --- truncation and crops -------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "cut", "expected", "was_cut"),
    [
        ("short", Cut(max=10), "short", False),
        ("exactly10!", Cut(max=10), "exactly10!", False),
        ("eleven chars", Cut(max=10), "eleven ch…", True),
        # Discord: 67 bytes kept, then "..." (70 in all), counted in UTF-8 bytes
        ("a" * 71, Cut(max=70, unit="bytes", ellipsis="..."), "a" * 67 + "...", True),
        ("a" * 70, Cut(max=70, unit="bytes", ellipsis="..."), "a" * 70, False),
        # "·" is two bytes: 35 of them are 70 bytes and fit; 36 do not
        ("·" * 35, Cut(max=70, unit="bytes", ellipsis="..."), "·" * 35, False),
        ("·" * 36, Cut(max=70, unit="bytes", ellipsis="..."), "·" * 33 + "...", True),
        # graphemes: a family emoji and an accented letter are never split
        ("👨‍👩‍👧" * 4, Cut(max=3), "👨‍👩‍👧" * 2 + "…", True),
        ("e\u0301" * 5, Cut(max=4), "e\u0301" * 3 + "…", True),
        ("anything", None, "anything", False),
    ],
)
def test_truncate(text: str, cut: Cut | None, expected: str, was_cut: bool) -> None:
    assert truncate(text, cut) == (expected, was_cut)


@pytest.mark.parametrize(
    ("size", "ratio", "lost"),
    [
        ((1200, 630), 2.0, (0, 15)),  # X: 2:1 takes 15 px off the top and the bottom
        ((1200, 630), 1200 / 627, (0, 1)),  # LinkedIn's 1200x627
        ((1200, 600), 1.91, (0, 0)),  # wider than 1.91: sides
        ((1000, 1000), 2.0, (0, 250)),
        ((2000, 500), 2.0, (500, 0)),
        ((1200, 630), None, (0, 0)),
    ],
)
def test_crop(size: tuple[int, int], ratio: float | None, lost: tuple[int, int]) -> None:
    result = crop(*size, ratio)
    if size == (1200, 600):
        assert result.lost_y == 0 and result.lost_x > 0
    else:
        assert (result.lost_x, result.lost_y) == lost


META = """\
<meta property="og:title" content="Cats &amp; Dogs: a very long title that goes on and on past seventy characters">
<meta property="og:description" content="{desc}">
<meta property="og:url" content="https://www.blog.example.org/cats/">
<meta property="og:site_name" content="Test Blog">
<meta property="og:image" content="https://blog.example.org/og/cats.abc.jpg">
<meta name="twitter:card" content="summary_large_image">
<meta name="twitter:title" content="Short X title">
"""


def picture(**changes: Any) -> Picture:
    values: dict[str, Any] = {
        "src": "og/cats.abc.jpg",
        "width": 1200,
        "height": 630,
        "bytes": 90_000,
        "mime": "image/jpeg",
        "alt": "Cats",
    }
    return Picture(**{**values, **changes})


def test_read_meta_decodes_entities_and_keeps_the_first_value() -> None:
    meta = read_meta(META.format(desc="d") + '<meta property="og:title" content="second">')
    assert meta["og:title"].startswith("Cats & Dogs")
    assert meta["twitter:title"] == "Short X title"


def test_each_platform_cuts_as_it_does() -> None:
    meta = read_meta(META.format(desc="word " * 100))
    discord = unfurl(meta, picture(), PLATFORM["discord"])
    assert discord.title.endswith("...") and len(discord.title.encode()) == 70
    assert discord.description_cut and len(discord.description.encode()) <= 350
    x = unfurl(meta, picture(), PLATFORM["x"])
    assert x.title == "Short X title"  # X reads twitter:title first
    assert x.description == ""  # and shows no description
    assert x.crop.lost_y == 15
    assert x.domain == "blog.example.org"
    linkedin = unfurl(meta, picture(), PLATFORM["linkedin"])
    assert linkedin.title.startswith("Cats & Dogs") and not linkedin.title_cut
    slack = unfurl(meta, picture(), PLATFORM["slack"])
    assert slack.description_cut and slack.image_mode == "large" and slack.crop.none


def test_picture_rules() -> None:
    meta = read_meta(META.format(desc="d"))
    webp = unfurl(meta, picture(mime="image/webp"), PLATFORM["linkedin"])
    assert webp.picture is None and "does not show image/webp" in webp.image_notes[0]
    heavy = unfurl(meta, picture(bytes=1_200_000), PLATFORM["bluesky"])
    assert heavy.picture is None and "1,000,000-byte" in heavy.image_notes[0]
    assert unfurl(meta, picture(bytes=1_200_000), PLATFORM["x"]).picture is not None
    small = unfurl(meta, picture(width=500, height=262), PLATFORM["facebook"])
    assert small.image_mode == "small" and "600x315" in small.image_notes[0]
    assert unfurl(meta, None, PLATFORM["facebook"]).image_mode == "none"


def test_excerpt() -> None:
    html = "<p>One <b>two</b></p><pre>three</pre>" + "<p>w</p>" * 80
    assert excerpt(html, 3) == "One two three …"
    assert excerpt("<p>a b</p>", 3) == "a b"
    assert excerpt(None) == ""


# --- the page ---------------------------------------------------------------------------


def example_config(root: Path) -> Config:
    """The shipped example site, writing into ``root``."""
    config = load_config(REPO / "config.yaml")
    return dataclasses.replace(config, output=root / "public", state=root / "state")


@pytest.fixture(scope="module")
def example_preview(tmp_path_factory: pytest.TempPathFactory) -> tuple[Config, Any]:
    root = tmp_path_factory.mktemp("example")
    config = example_config(root)
    return config, build_preview(config, now=NOW, dry_run=True)


def test_dry_run_writes_the_preview_folder_and_nothing_else(
    example_preview: tuple[Config, Any],
) -> None:
    config, result = example_preview
    assert result.page == config.output / "preview" / "index.html"
    assert sorted(p.name for p in config.output.iterdir()) == ["preview"]
    assert not config.state.exists()
    assert all(w.path == "index.html" or w.path.startswith("thumbs/") for w in result.writes)


def test_every_post_has_a_section_newest_first(example_preview: tuple[Config, Any]) -> None:
    config, result = example_preview
    html = result.page.read_text(encoding="utf-8")
    ids = re.findall(r'<section class="post" id="post-([^"]+)"', html)
    posts = sorted(config.posts.folder.glob("*/index.md"))
    assert sorted(ids) == sorted(p.parent.name for p in posts)
    dates = [s.post.date for s in result.sections]
    assert dates == sorted(dates, reverse=True)
    assert ids[0] == "2027-06-01-lantern-2-0-preview"


def test_cards_are_copied_beside_the_page_and_linked_relatively(
    example_preview: tuple[Config, Any],
) -> None:
    _config, result = example_preview
    html = result.page.read_text(encoding="utf-8")
    sources = set(re.findall(r'<img src="([^"]+)"', html))
    assert sources
    for src in sources:
        assert not urlsplit(src).scheme and not src.startswith("/"), src
        assert (result.folder / src).is_file(), src
    for section in result.sections:
        assert section.card is not None, section.post.id
        attached = sum(a.picture for a in section.announcements)  # messages carrying the card
        assert html.count(f'src="{section.card.picture.src}"') == 1 + len(PLATFORMS) + attached


def test_no_external_reference_in_the_page(example_preview: tuple[Config, Any]) -> None:
    _, result = example_preview
    html = result.page.read_text(encoding="utf-8")
    assert not re.search(r'\b(src|href)="(https?:)?//', html)
    assert "@import" not in html and "url(" not in html


def test_the_warnings_of_each_stage(example_preview: tuple[Config, Any]) -> None:
    _, result = example_preview
    by_id = {s.post.id: s for s in result.sections}
    scheduled = by_id["2027-06-01-lantern-2-0-preview"]
    assert scheduled.status == "scheduled"
    assert any(
        "goes out on the first run at or after 2027-06-01" in n.message for n in scheduled.notices
    )
    assert by_id["2026-04-14-roadmap-draft"].status == "draft"
    small = by_id["2025-09-16-lantern-on-the-wire-podcast"]
    assert any("150 px wide" in n.message for n in small.notices)
    mojibake = by_id["2025-10-28-community-cafe-night"]
    assert any(n.stage == "post" and "mojibake" in n.message for n in mojibake.notices)
    html = result.page.read_text(encoding="utf-8")
    assert "150 px wide, smaller than 600 px" in html


def test_announcements_as_they_would_be_sent(example_preview: tuple[Config, Any]) -> None:
    _, result = example_preview
    section = result.sections[1]
    (outbox,) = section.announcements
    assert outbox.target == "outbox" and outbox.text and section.post.url in outbox.text
    assert outbox.length is not None and outbox.limit == 5000
    payload = json.loads(outbox.payload or "{}")
    assert payload["post_id"] == section.post.id
    # The message carries the card (its URL is in the payload), so its mock-up shows it.
    assert section.card is not None and outbox.picture
    assert section.card.url in (outbox.payload or "")


def test_feed_reader_view(example_preview: tuple[Config, Any]) -> None:
    _, result = example_preview
    feed = result.sections[1].feed
    assert feed is not None and feed.title == result.sections[1].post.title
    assert feed.excerpt and feed.note.startswith("in rss.xml")
    assert feed.enclosure is not None and feed.enclosure.url.startswith("https://")


def test_a_real_build_then_nothing_changes(tmp_path: Path) -> None:
    config = example_config(tmp_path)
    first = build_preview(config, now=NOW)
    assert (config.output / "rss.xml").is_file() and (config.output / "og").is_dir()
    second = build_preview(config, now=NOW)
    assert {w.status for w in second.writes} == {"unchanged"}
    assert first.page.read_bytes() == second.page.read_bytes()


def test_cut_summaries_and_missing_alt_text_are_warned(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BSKY_PASSWORD", raising=False)
    site.config(
        """\
        site:
          title: Test Blog
          url: https://blog.example.org
        posts:
          folder: posts
        output:
          folder: public
        state:
          folder: state
        cards:
          alt: "{summary}"
        announce:
          targets:
            - kind: bluesky
              handle: blog.example.org
              app_password: ${BSKY_PASSWORD}
        """
    )
    site.post(
        "2026-01-01-long",
        f"title: A post\ndate: 2026-01-01\nogSummary: '{'many words here ' * 40}'",
        "Body text.\n",
    )
    site.post("2025-01-01-bare", "title: No summary\ndate: 2025-01-01", "Body.\n")
    config = load_config(site.config_path)
    result = build_preview(config, now=NOW, dry_run=True)
    section, bare = result.sections
    messages = [n.message for n in section.notices]
    assert any("bluesky: summary cut to fit 300" in m for m in messages), messages
    bare_messages = [n.message for n in bare.notices]
    assert any("no alt text" in m for m in bare_messages), bare_messages
    assert any("no summary" in m for m in bare_messages), bare_messages
    (view,) = section.announcements
    assert view.length is not None and view.length <= 300 and view.shortened
    assert "https://blog.example.org/2026-01-01-long/" in (view.text or "")


def test_the_command(tmp_path: Path) -> None:
    config_text = (REPO / "config.yaml").read_text(encoding="utf-8")
    config_text = config_text.replace(
        "folder: examples/blog/posts", f"folder: {REPO}/examples/blog/posts"
    )
    (tmp_path / "config.yaml").write_text(config_text, encoding="utf-8")
    result = CliRunner().invoke(
        preview_command(),
        ["--config", str(tmp_path / "config.yaml"), "--dry-run", "--json", "--now", "2026-06-01"],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert Path(report["page"]).is_file()
    assert len(report["posts"]) == 11
    assert not (tmp_path / ".publisher").exists()


def test_the_cilium_sample_previews_without_a_traceback(corpus: Path, tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text(
        f"""\
site:
  title: Cilium
  url: https://cilium.io
posts:
  folder: {corpus}
output:
  folder: public
state:
  folder: state
cards:
  remote:
    enabled: false
announce:
  targets:
    - kind: mastodon
      instance: https://fosstodon.org
      token: ${{MASTODON_TOKEN}}
    - kind: bluesky
      handle: cilium.io
      app_password: ${{BSKY_PASSWORD}}
""",
        encoding="utf-8",
    )
    config = load_config(tmp_path / "config.yaml")
    result = build_preview(config, now=NOW, dry_run=True)
    assert len(result.sections) > 10
    html = "".join(page.read_text(encoding="utf-8") for page in result.pages)
    assert html.count('<section class="post"') == len(result.sections)
    assert len(result.pages) == -(-len(result.sections) // PER_PAGE)
