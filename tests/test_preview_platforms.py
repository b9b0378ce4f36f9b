"""The link-preview mock-ups: Teams, Telegram and Matrix, and a platform added as one entry."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any

import pytest

from conftest import Site
from publisher.config import load_config
from publisher.preview import PLATFORMS, build_preview, page, unfurl
from publisher.preview.platforms import Platform, Theme
from publisher.preview.unfurl import Picture, read_meta
from publisher.preview.unfurl import unfurl as draw

NOW = datetime(2026, 6, 1, tzinfo=UTC)
PLATFORM = {p.key: p for p in PLATFORMS}
META = read_meta(
    '<meta property="og:title" content="A title">'
    '<meta property="og:description" content="A description">'
    '<meta property="og:url" content="https://www.blog.example.org/a/">'
    '<meta property="og:site_name" content="Test Blog">'
    '<meta name="twitter:card" content="summary_large_image">'
)


def picture(**changes: Any) -> Picture:
    values: dict[str, Any] = {
        "src": "thumbs/a.w600.webp",
        "width": 1200,
        "height": 630,
        "bytes": 90_000,
        "mime": "image/jpeg",
        "alt": "A",
    }
    return Picture(**{**values, **changes})


def test_teams_telegram_and_matrix_are_drawn() -> None:
    assert {"teams", "telegram", "matrix"} <= set(PLATFORM)
    teams = draw(META, picture(), PLATFORM["teams"])
    assert teams.image_mode == "small" and teams.title == "A title"
    assert teams.description == "A description" and teams.domain == "blog.example.org"
    telegram = draw(META, picture(), PLATFORM["telegram"])
    assert telegram.image_mode == "large" and telegram.crop.none  # its own shape, below
    matrix = draw(META, picture(), PLATFORM["matrix"])
    assert matrix.image_mode == "small" and matrix.site == "Test Blog"
    # The homeserver downloads at most 10 MB (Synapse's max_spider_size default).
    heavy = draw(META, picture(bytes=11 * 1024 * 1024), PLATFORM["matrix"])
    assert heavy.picture is None and "10,485,760-byte" in heavy.image_notes[0]


class _Mockups(HTMLParser):
    """Each mock-up's classes in document order: where the picture sits among the lines."""

    def __init__(self) -> None:
        super().__init__()
        self.platform: str | None = None
        self.order: dict[str, list[str]] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "article" and values.get("data-platform"):
            self.platform = values["data-platform"]
            self.order[self.platform] = []
        elif self.platform and tag in ("div", "p"):
            classes = (values.get("class") or "").split()
            for name in ("frame", "t", "d", "site", "dom", "body", "note"):
                if name in classes:
                    self.order[self.platform].append(name)


def _layout(html: str) -> dict[str, list[str]]:
    reader = _Mockups()
    reader.feed(html)
    return reader.order


def test_the_page_draws_each_new_platform_in_its_own_shape(site: Site) -> None:
    site.post("2026-01-01-a", "title: A post\ndate: 2026-01-01\nogSummary: Its summary.", "x\n")
    result = build_preview(load_config(site.config_path), now=NOW, dry_run=True)
    layout = _layout(result.page.read_text(encoding="utf-8"))
    # Telegram: a bar on the left, site, title, description, then the large picture.
    assert layout["telegram"][:6] == ["body", "site", "t", "d", "frame", "note"]
    # Teams: the thumbnail beside title, description and domain.
    assert layout["teams"][:5] == ["body", "frame", "t", "d", "dom"]
    # Matrix (Element): thumbnail, site, title, description.
    assert layout["matrix"][:5] == ["body", "frame", "site", "t", "d"]
    # Cards with the picture on top keep it there.
    assert layout["bluesky"][:2] == ["frame", "body"]


def test_google_chat_mattermost_zulip_and_threads_are_drawn(site: Site) -> None:
    """The new announcement kinds each have a link-preview mock-up (issue 17)."""
    assert {"googlechat", "mattermost", "zulip", "threads"} <= set(PLATFORM)
    chat = draw(META, picture(), PLATFORM["googlechat"])
    assert chat.image_mode == "large" and chat.title == "A title"
    assert chat.domain == "blog.example.org"
    zulip = draw(META, picture(), PLATFORM["zulip"])
    assert zulip.image_mode == "small" and zulip.description == "A description"
    threads = draw(META, picture(width=1200, height=1200), PLATFORM["threads"])
    assert not threads.crop.none  # cropped to about 1.91:1
    site.post("2026-01-01-a", "title: A post\ndate: 2026-01-01\nogSummary: Its summary.", "x\n")
    result = build_preview(load_config(site.config_path), now=NOW, dry_run=True)
    layout = _layout(result.page.read_text(encoding="utf-8"))
    # Mattermost: a bar on the left, site, title, description, then the large picture.
    assert layout["mattermost"][:6] == ["body", "site", "t", "d", "frame", "note"]
    assert layout["zulip"][:4] == ["body", "frame", "t", "d"]
    assert layout["googlechat"][:2] == ["frame", "body"]
    assert layout["threads"][:2] == ["frame", "body"]


def test_one_platform_entry_adds_a_mock_up(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    # What another platform needs: one Platform entry, no template.
    chat = Platform(
        key="example-chat",
        name="Example Chat",
        description_lines=2,
        small_picture=True,
        note="observed",
        parts=("title", "description"),
        theme=Theme(background="#fafafa", title="#2d7aa4", border="#c5c5c5"),
    )
    extended = (*PLATFORMS, chat)
    monkeypatch.setattr(unfurl, "PLATFORMS", extended)
    monkeypatch.setattr(page, "PLATFORMS", extended)
    site.post("2026-01-01-a", "title: A post\ndate: 2026-01-01\nogSummary: Its summary.", "x\n")
    result = build_preview(load_config(site.config_path), now=NOW, dry_run=True)
    html = result.page.read_text(encoding="utf-8")
    assert _layout(html)["example-chat"][:4] == ["body", "frame", "t", "d"]
    assert re.search(r"\.u-example-chat \.t \{ color: #2d7aa4; \}", html)
    assert "<td>Example Chat</td>" in html  # and the table of how mock-ups are drawn lists it
    (section,) = result.sections
    assert section.unfurls[-1].platform.key == "example-chat"


ANNOUNCING = """\
site:
  title: Test Blog
  url: https://blog.example.org
posts:
  folder: posts
output:
  folder: public
state:
  folder: state
announce:
  targets:
    - kind: teams
      url: ${TEAMS_URL}
    - kind: teams
      name: teams-text
      url: ${TEAMS_URL}
      image: false
    - kind: telegram
      token: ${TG_TOKEN}
      chat_id: "@blog"
    - kind: matrix
      homeserver: https://matrix.example.org
      room_id: "!room:example.org"
      token: ${MATRIX_TOKEN}
    - kind: bluesky
      handle: blog.example.org
      app_password: ${MATRIX_TOKEN}
"""


def test_each_announcement_is_drawn_with_the_picture_it_carries(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("TEAMS_URL", "TG_TOKEN", "MATRIX_TOKEN"):
        monkeypatch.setenv(name, "s3cret-value-for-tests")
    site.config(ANNOUNCING)
    site.post("2026-01-01-a", "title: A post\ndate: 2026-01-01\nogSummary: Its summary.", "x\n")
    result = build_preview(load_config(site.config_path), now=NOW, dry_run=True)
    (section,) = result.sections
    assert section.card is not None
    views = {a.target: a for a in section.announcements}
    assert set(views) == {"teams", "teams-text", "telegram", "matrix", "bluesky"}, set(views)
    # Teams' Adaptive Card and Telegram's sendPhoto carry the card's URL, Bluesky uploads
    # it as the embed's thumbnail; Teams with `image: false` sends none.
    assert views["teams"].picture and views["telegram"].picture and views["bluesky"].picture
    assert not views["teams-text"].picture
    html = result.page.read_text(encoding="utf-8")
    said = re.findall(r'<div class="said u-(\w+)">(.*?)</div></div>', html, re.S)
    assert [kind for kind, _ in said] == [a.kind for a in section.announcements]
    for (_, mock), view in zip(said, section.announcements, strict=True):
        assert ("<img " in mock) == view.picture, view.target
    assert "s3cret-value-for-tests" not in html
