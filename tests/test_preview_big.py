"""The preview of a big blog: small lazy-loaded card copies, pages, the overview, --json.

The problem measured on a 468-post blog was a 5.3 MB page with 3,744 eager images and a
51 MB folder (every full card copied beside the page). These tests pin the fixes at a
small scale: growth is compared across sizes, never timed.
"""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner
from PIL import Image

from conftest import Site
from publisher.cli.preview import preview_command
from publisher.config import load_config
from publisher.errors import Problem
from publisher.preview import build as preview_build
from publisher.preview import build_preview
from publisher.preview.page import render_pages
from publisher.preview.thumbs import WIDTH, thumbnail

NOW = datetime(2026, 6, 1, tzinfo=UTC)

SITE = """\
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
  enabled: {cards}
"""


def blog(site: Site, count: int, *, cards: bool = True) -> Path:
    site.config(SITE.format(cards="true" if cards else "false"))
    for n in range(count):
        day = f"2026-01-{n + 1:02d}"
        site.post(
            f"{day}-post-{n}",
            f"title: Post number {n}\ndate: {day}\nogSummary: The summary of post {n}.",
            f"Body of post {n}.\n",
        )
    return site.config_path


def test_the_page_shows_small_copies_of_the_cards_lazily(site: Site) -> None:
    result = build_preview(load_config(blog(site, 2)), now=NOW, dry_run=True)
    written = sorted(w.path for w in result.writes)
    assert written[0] == "index.html" and len(written) == 3
    assert all(re.fullmatch(r"thumbs/[^/]+\.w600\.webp", p) for p in written[1:]), written
    assert not (result.folder / "og").exists()  # no full card is copied any more
    html = result.page.read_text(encoding="utf-8")
    images = re.findall(r"<img [^>]*>", html)
    assert images and all('loading="lazy"' in i for i in images)
    for section in result.sections:
        assert section.card is not None
        served = section.card.picture
        thumb = result.folder / served.src
        with Image.open(thumb) as image:
            assert image.format == "WEBP" and image.width == WIDTH
            # the served card's facts are kept: the mock-ups and limits use them
            assert (served.width, served.mime) == (1200, "image/jpeg")
            assert abs(image.height / image.width - served.height / served.width) < 0.01
        assert thumb.stat().st_size < served.bytes / 2


def test_a_second_run_reuses_the_small_copies(site: Site) -> None:
    config = load_config(blog(site, 2))
    first = build_preview(config, now=NOW)
    second = build_preview(config, now=NOW)
    assert {w.status for w in first.writes} == {"created"}
    assert {w.status for w in second.writes} == {"unchanged"}


def test_thumbnail_never_enlarges_and_keeps_transparency() -> None:
    out = io.BytesIO()
    Image.new("RGBA", (300, 158), (255, 0, 0, 0)).save(out, "PNG")
    with Image.open(io.BytesIO(thumbnail(out.getvalue()))) as image:
        assert image.size == (300, 158)
        assert image.mode == "RGBA" and image.getpixel((5, 5))[3] == 0  # type: ignore[index]


def _sections(html: str) -> list[str]:
    return re.findall(r'<section class="post" id="post-([^"]+)"', html)


def test_big_blogs_are_paged_and_the_first_page_lists_every_post(site: Site) -> None:
    config = load_config(blog(site, 7, cards=False))
    result = build_preview(config, now=NOW, dry_run=True, per_page=3)
    names = [p.name for p in result.pages]
    assert names == ["index.html", "page-2.html", "page-3.html"]
    pages = {p.name: p.read_text(encoding="utf-8") for p in result.pages}
    on_page = {name: _sections(html) for name, html in pages.items()}
    assert [len(ids) for ids in on_page.values()] == [3, 3, 1]
    everywhere = [i for ids in on_page.values() for i in ids]
    assert everywhere == [s.post.id for s in result.sections]  # each once, newest first

    # The overview on the first page: one row per post, linking to its section's page.
    rows = re.findall(
        r'<tr data-search="[^"]*"[^>]*>.*?<a href="([^"]+)">', pages["index.html"], re.S
    )
    assert len(rows) == 7
    for href in rows:
        page, _, anchor = href.partition("#")
        assert anchor.removeprefix("post-") in on_page[page or "index.html"], href
        assert not urlsplit(href).scheme
    assert "<tr data-search" not in pages["page-2.html"]
    # Every page links to every other page.
    for name, html in pages.items():
        for other in names:
            if other != name:
                assert f'href="{other}"' in html, (name, other)
    assert "page 2 of 3: posts 4 to 6" in pages["page-2.html"]


def test_per_page_zero_puts_every_post_on_one_page(site: Site) -> None:
    result = build_preview(load_config(blog(site, 4, cards=False)), now=NOW, per_page=0)
    assert [p.name for p in result.pages] == ["index.html"]
    assert len(_sections(result.page.read_text(encoding="utf-8"))) == 4


def test_the_first_page_grows_by_a_short_row_per_post_not_by_a_section(site: Site) -> None:
    sizes: dict[int, int] = {}
    for count in (3, 6, 12, 24):
        for n in range(count):
            day = f"2025-{n // 28 + 1:02d}-{n % 28 + 1:02d}"
            site.post(f"{day}-post-{n}", f"title: Post {n}\ndate: {day}\nogSummary: Summary {n}.")
        site.config(SITE.format(cards="false"))
        result = build_preview(load_config(site.config_path), now=NOW, dry_run=True, per_page=3)
        html = result.page.read_text(encoding="utf-8")
        assert len(_sections(html)) == 3 and len(result.sections) == count
        sizes[count] = len(html.encode())
    one_section = len(re.search(r"<section class=.*?</section>", html, re.S).group().encode())  # type: ignore[union-attr]
    per_post = (sizes[24] - sizes[3]) / 21
    # A post beyond the first page adds one overview row (~0.5 KB), not its section (~5 KB).
    assert per_post < one_section / 4, (sizes, one_section)
    # Linear: doubling the posts adds about the same per post each time.
    assert (sizes[24] - sizes[12]) / 12 < 1.5 * (sizes[12] - sizes[6]) / 6, sizes


def test_a_site_wide_fix_is_shown_once(site: Site) -> None:
    config = load_config(blog(site, 1, cards=False))
    problem = Problem(
        file="config.yaml",
        field="site.logo",
        message="'logo.png' is not there",
        fix="put the file beside config.yaml",
        severity="warning",
    )
    (html,) = render_pages(config, (), (problem,), dry_run=True).values()
    assert html.count("put the file beside config.yaml") == 1
    assert "config.yaml: site.logo &#39;logo.png&#39; is not there" in html


def test_json_report_keeps_every_line_whole(site: Site) -> None:
    # An output folder whose name holds a line separator and a bidi control: the page's
    # path is in the report, and a line reader must still see one value per line.
    site.config(SITE.format(cards="false").replace("folder: public", 'folder: "out\\u2028\\u202e"'))
    site.post("2026-01-01-a", "title: A\ndate: 2026-01-01\nogSummary: s", "x\n")
    result = CliRunner().invoke(
        preview_command(),
        ["--config", str(site.config_path), "--dry-run", "--json", "--now", "2026-06-01"],
    )
    assert result.exit_code == 0, result.output
    assert "\u2028" not in result.stdout and "\u202e" not in result.stdout
    assert "out\\u2028\\u202e" in result.stdout
    report = json.loads(result.stdout)
    assert Path(report["page"]).parent.parent.name == "out\u2028\u202e"
    assert [Path(p).name for p in report["pages"]] == ["index.html"]
    assert report["problems"] == []


def test_a_card_that_cannot_be_scaled_is_shown_whole(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As when Pillow lacks the plugin for the card's format: one post, not the page, pays.
    def cannot(data: bytes) -> bytes:
        raise OSError("cannot identify image file")

    monkeypatch.setattr(preview_build, "thumbnail", cannot)
    result = build_preview(load_config(blog(site, 1)), now=NOW, dry_run=True)
    (section,) = result.sections
    assert section.card is not None
    src = section.card.picture.src
    assert re.fullmatch(r"thumbs/[^/]+\.jpg", src), src
    assert (result.folder / src).stat().st_size == section.card.picture.bytes
    assert f'src="{src}"' in result.page.read_text(encoding="utf-8")
