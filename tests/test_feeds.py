"""Feeds: golden files, every trap from the feeds issue, the lint and the options."""

from __future__ import annotations

import concurrent.futures
import html
import io
import json
import os
import random
import re
import sqlite3
import tempfile
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import feedparser
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree
from lxml import html as lxml_html
from PIL import Image, features

from conftest import REPO, Site
from publisher import resources
from publisher.config import SiteAuthor, SiteConfig, load_config
from publisher.feeds import (
    FeedOptions,
    build_feeds,
    generate,
    jsonfeed,
    lint_feed,
    parse_feed_options,
    ping_hub,
    rss_atom,
)
from publisher.feeds import cache as feeds_cache
from publisher.feeds.items import feed_item, newest_first, xml_text
from publisher.feeds.media import sniff_image
from publisher.feeds.rss_atom import FeedHead
from publisher.output import OutputWriter
from publisher.posts import read_posts
from publisher.posts.model import Author, Post

GOLDEN = Path(__file__).parent / "golden" / "feeds"
UPDATE = os.environ.get("PUBLISHER_UPDATE_GOLDEN") == "1"
ATOM = "{http://www.w3.org/2005/Atom}"
SITE = SiteConfig(
    title="Golden Blog",
    url="https://blog.example.org",
    description="Posts for the golden feed files.",
    language="en",
    timezone="Europe/Berlin",
    author=SiteAuthor(name="The Team", email="team@blog.example.org"),
)
BERLIN = timezone(timedelta(hours=2))
FAKE_PNG = b"\x89PNG\r\n\x1a\n" + bytes(92)
FAKE_AVIF = b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf" + bytes(72)


def make_post(root: Path, post_id: str, **fields: Any) -> Post:
    folder = root / "posts" / post_id
    page = f"https://blog.example.org/blog/{post_id}"
    values: dict[str, Any] = {
        "id": post_id,
        "source": folder / "index.md",
        "url": page,
        "page_url": page,
        "path": f"/blog/{post_id}",
        "external_url": None,
        "title": f"Post {post_id}",
        "summary": f"Summary of {post_id}",
        "date": datetime(2024, 5, 1, 12, 0, tzinfo=UTC),
        "updated": None,
        "og_image": None,
        "og_image_url": None,
        "categories": (),
        "tags": (),
        "authors": (Author(name="Ada Lovelace"),),
        "is_featured": False,
        "is_popular": False,
        "draft": False,
        "body_markdown": "Hello",
        "body_html": "<p>Hello</p>",
        "frontmatter": {},
    }
    values.update(fields)
    if values["external_url"]:
        values["url"] = values["external_url"]
    return Post(**values)


def image(root: Path, post_id: str, name: str, data: bytes) -> Path:
    path = root / "posts" / post_id / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def golden_posts(root: Path) -> list[Post]:
    return [
        make_post(
            root,
            "2024-05-01-release",
            title="Release 1.0 & friends",
            summary="Everything in 1.0 <in one post>",
            date=datetime(2024, 5, 1, 17, 0, tzinfo=BERLIN),
            categories=("Release", "Technology"),
            tags=("eBPF", "Service Mesh"),
            authors=(
                Author(name="The Team"),
                Author(name="Grace Hopper", email="grace@example.org"),
            ),
            og_image=image(root, "2024-05-01-release", "card.png", FAKE_PNG),
            body_html='<p>Read <a href="https://blog.example.org/docs/">the docs</a>.</p>\n'
            '<img src="https://blog.example.org/blog/2024-05-01-release/hero.jpg" alt="Hero">',
            is_featured=True,
        ),
        make_post(
            root,
            "2024-04-10-talk",
            title="Talk recording",
            summary="A talk about flows",
            date=datetime(2024, 4, 10, 8, 15, tzinfo=UTC),
            external_url="https://videos.example.net/talks/flows",
            og_image_url="https://images.example.net/card.jpg",
            categories=("Community",),
            tags=("Talks",),
            body_markdown="",
            body_html="",
        ),
        make_post(
            root,
            "2024-03-01-tokyo",
            title="東京ミートアップ",
            summary="東京で初めてのミートアップ",
            date=datetime(2024, 3, 1, 9, 0, tzinfo=timezone(timedelta(hours=9))),
            updated=datetime(2024, 3, 5, 10, 0, tzinfo=timezone(timedelta(hours=9))),
            og_image=image(root, "2024-03-01-tokyo", "cover.png", FAKE_AVIF),
            authors=(Author(name="山田 太郎"), Author(name="Alex Chen", org="Example")),
            categories=("Community",),
            tags=("Meetup", "Japan"),
            is_popular=True,
        ),
        make_post(
            root,
            "2024-03-01-aaa-same-moment",
            title="Same moment as Tokyo",
            summary=None,
            date=datetime(2024, 3, 1, 0, 0, tzinfo=UTC),
        ),
    ]


def build(posts: list[Post], site: SiteConfig = SITE, **options: Any) -> dict[str, bytes]:
    return build_feeds(site, posts, FeedOptions(**options))


def public(path: str, site: SiteConfig = SITE) -> str:
    return f"{site.url}/{path}"


def assert_valid(files: dict[str, bytes], site: SiteConfig = SITE) -> None:
    """Every feed parses in feedparser without bozo and in lxml, and the lint finds nothing."""
    for path, data in files.items():
        if path.endswith(".xml"):
            parsed = feedparser.parse(data)
            assert not parsed.bozo, (path, parsed.get("bozo_exception"))
            etree.fromstring(data)
        elif path.endswith(".json"):
            assert json.loads(data)["version"] == "https://jsonfeed.org/version/1.1"
        assert lint_feed(path, data, public(path, site)) == [], path


def xml(data: bytes) -> Any:
    return etree.fromstring(data)


# golden files ---------------------------------------------------------------------------


def compare_golden(folder: Path, files: dict[str, bytes]) -> None:
    if UPDATE:
        for path, data in files.items():
            target = folder / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
    expected = {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }
    assert sorted(files) == sorted(expected), (
        "set PUBLISHER_UPDATE_GOLDEN=1 to regenerate, then review"
    )
    for path, data in files.items():
        assert data.decode() == expected[path].decode(), path


def test_golden_posts(tmp_path: Path) -> None:
    files = build(golden_posts(tmp_path), stylesheet=False, categories=True)
    assert_valid(files)
    compare_golden(GOLDEN / "posts", files)


def test_golden_example_site() -> None:
    config = load_config(REPO / "config.yaml")
    posts = read_posts(config).published(datetime(2026, 6, 1, tzinfo=UTC))
    files = build_feeds(config.site, posts, FeedOptions())
    assert "feed.xsl" not in files  # the stylesheet is opt-in (Chromium is removing XSLT)
    assert_valid(files, config.site)
    compare_golden(GOLDEN / "example", files)


# the traps ------------------------------------------------------------------------------


def test_control_characters_and_cdata_end_are_safe(tmp_path: Path) -> None:
    nasty = make_post(
        tmp_path,
        "nasty",
        title="Bell\x07 and \x0cform feed ]]> end",
        summary="Escape\x1b[31m red\x00",
        body_html="<p>A ]]> inside, \x08backspace, \ufffe and <![CDATA[ text ]]></p>",
        categories=("Cat\x01",),
        authors=(Author(name="Null\x00 Name"),),
    )
    files = build([nasty])
    assert_valid(files)
    for path, data in files.items():
        if path == "feed.xsl":
            continue
        text = data.decode()
        assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe]", text), path
        assert "\x1b" not in text and "Bell and" in text
    rss = xml(files["rss.xml"])
    assert rss.findtext("channel/item/title") == "Bell and form feed ]]> end"
    encoded = rss.findtext("channel/item/{http://purl.org/rss/1.0/modules/content/}encoded")
    assert "]]&gt;" in encoded or "]]>" in encoded
    assert b"]]>" not in files["rss.xml"].split(b"<item>")[1]  # escaped, not raw CDATA


def test_relative_references_in_bodies_become_absolute(tmp_path: Path) -> None:
    post = make_post(
        tmp_path,
        "rel",
        body_html=(
            '<p><a href="other/page.html">a</a> <a href="/root">b</a> <a href="#frag">c</a></p>'
            '<img src="pic one.png" srcset="small.png 1x, ../big.png 2x">'
            '<a href="javascript:alert(1)">x</a><script>alert(1)</script>'
        ),
    )
    files = build([post])
    assert_valid(files)
    content = json.loads(files["feed.json"])["items"][0]["content_html"]
    base = "https://blog.example.org/blog/rel/"
    assert f'href="{base}other/page.html"' in content
    assert 'href="https://blog.example.org/root"' in content
    assert f'href="{base}#frag"' in content
    assert f'src="{base}pic%20one.png"' in content
    assert f'srcset="{base}small.png 1x, https://blog.example.org/blog/big.png 2x"' in content
    assert "javascript:" not in content and "<script" not in content


def test_lint_reports_relative_references() -> None:
    atom = (
        b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en">'
        b"<id>https://x.org/atom.xml</id><title>t</title><updated>2024-01-01T00:00:00Z</updated>"
        b'<author><name>a</name></author><link rel="self" href="https://x.org/atom.xml"/>'
        b"<entry><id>tag:x.org,2000:a</id><title>a</title><updated>2024-01-01T00:00:00Z</updated>"
        b'<link rel="alternate" href="https://x.org/a"/>'
        b'<content type="html">&lt;img src="pic.png"&gt;</content></entry></feed>'
    )
    problems = lint_feed("atom.xml", atom, "https://x.org/atom.xml")
    assert len(problems) == 1 and "relative references (pic.png)" in problems[0]


def test_date_only_and_naive_dates_get_the_site_time_zone(site: Site) -> None:
    site.post("date-only", "title: Date only\ndate: 2024-07-01")
    site.post("naive", "title: Naive\ndate: '2024-07-02 10:30:00'")
    site.post("aware", "title: Aware\ndate: '2024-07-03T10:30:00Z'")
    config = load_config(site.config_path)
    posts = read_posts(config).posts
    files = build_feeds(config.site, posts, FeedOptions())
    assert_valid(files, config.site)
    atom = xml(files["atom.xml"])
    published = {
        e.findtext(f"{ATOM}title"): e.findtext(f"{ATOM}published")
        for e in atom.iter(f"{ATOM}entry")
    }
    assert published == {
        "Date only": "2024-07-01T00:00:00+02:00",
        "Naive": "2024-07-02T10:30:00+02:00",
        "Aware": "2024-07-03T10:30:00+00:00",
    }
    dates = [i.findtext("pubDate") for i in xml(files["rss.xml"]).iter("item")]
    assert dates == [
        "Wed, 03 Jul 2024 10:30:00 +0000",
        "Tue, 02 Jul 2024 10:30:00 +0200",
        "Mon, 01 Jul 2024 00:00:00 +0200",
    ]


def test_a_naive_datetime_built_by_hand_is_read_in_the_site_zone(tmp_path: Path) -> None:
    post = make_post(tmp_path, "naive", date=datetime(2024, 1, 15, 9, 0))
    files = build([post])
    assert xml(files["atom.xml"]).findtext(f"{ATOM}entry/{ATOM}published") == (
        "2024-01-15T09:00:00+01:00"
    )


def test_name_only_authors_are_dc_creators_and_emails_are_rss_authors(tmp_path: Path) -> None:
    post = make_post(
        tmp_path,
        "authors",
        authors=(
            Author(name="Name Only"),
            Author(name="With Mail", email="mail@example.org"),
            Author(name="The Team"),  # the site author: gets the site's email
        ),
    )
    files = build([post])
    assert_valid(files)
    item = xml(files["rss.xml"]).find("channel/item")
    assert [a.text for a in item.findall("author")] == [
        "mail@example.org (With Mail)",
        "team@blog.example.org (The Team)",
    ]
    assert [c.text for c in item.findall("{http://purl.org/dc/elements/1.1/}creator")] == [
        "Name Only"
    ]
    entry = xml(files["atom.xml"]).find(f"{ATOM}entry")
    names = [a.findtext(f"{ATOM}name") for a in entry.findall(f"{ATOM}author")]
    assert names == ["Name Only", "With Mail", "The Team"]
    assert json.loads(files["feed.json"])["items"][0]["authors"][0] == {"name": "Name Only"}


def test_link_posts_link_out_and_are_never_empty(tmp_path: Path) -> None:
    post = make_post(
        tmp_path,
        "link",
        external_url="https://news.example.net/a b",
        summary=None,
        body_markdown="",
        body_html="",
    )
    files = build([post])
    assert_valid(files)
    url = "https://news.example.net/a%20b"
    item = xml(files["rss.xml"]).find("channel/item")
    assert item.findtext("link") == url
    entry = xml(files["atom.xml"]).find(f"{ATOM}entry")
    links = entry.findall(f"{ATOM}link")
    assert [(link.get("rel"), link.get("href")) for link in links] == [("alternate", url)]
    content = entry.findtext(f"{ATOM}content")
    assert content == f'<p><a href="{url}">Read it on news.example.net</a></p>'
    item_json = json.loads(files["feed.json"])["items"][0]
    assert item_json["external_url"] == url and item_json["content_html"] == content


def needs_codec(fmt: str) -> None:
    if fmt in ("AVIF", "WEBP") and not features.check(fmt.lower()):
        pytest.skip(f"this Pillow has no {fmt} encoder (wheels from Pillow 11.3 on do)")


@pytest.mark.parametrize(
    ("fmt", "mime"),
    [
        ("PNG", "image/png"),
        ("JPEG", "image/jpeg"),
        ("WEBP", "image/webp"),
        ("GIF", "image/gif"),
        ("AVIF", "image/avif"),
    ],
)
def test_image_types_are_sniffed_from_bytes(fmt: str, mime: str) -> None:
    needs_codec(fmt)
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buffer, format=fmt)
    assert sniff_image(buffer.getvalue()[:64]) == mime


def test_sniff_rejects_what_is_not_an_image() -> None:
    assert sniff_image(b"<html><body>") is None
    assert sniff_image(b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom") is None
    assert sniff_image(b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg">') == (
        "image/svg+xml"
    )


def test_an_image_whose_extension_lies_is_typed_by_its_bytes(tmp_path: Path) -> None:
    needs_codec("AVIF")
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), (10, 120, 200)).save(buffer, format="AVIF")
    path = image(tmp_path, "lies", "og.png", buffer.getvalue())
    files = build([make_post(tmp_path, "lies", og_image=path)])
    assert_valid(files)
    url = "https://blog.example.org/blog/lies/og.png"
    size = str(path.stat().st_size)
    enclosure = xml(files["rss.xml"]).find("channel/item/enclosure")
    assert enclosure.attrib == {"url": url, "length": size, "type": "image/avif"}
    entry = xml(files["atom.xml"]).find(f"{ATOM}entry")
    enclosures = [link.attrib for link in entry.findall(f"{ATOM}link[@rel='enclosure']")]
    assert enclosures == [{"rel": "enclosure", "type": "image/avif", "length": size, "href": url}]
    media = entry.find("{http://search.yahoo.com/mrss/}content")  # no one-child media:group
    assert media.get("type") == "image/avif" and media.get("fileSize") == size
    assert json.loads(files["feed.json"])["items"][0]["image"] == url


def test_an_empty_blog_gives_valid_deterministic_feeds() -> None:
    files = build([])
    assert files == build([])
    assert_valid(files)
    atom = xml(files["atom.xml"])
    # Not 1970 and not the build time: feeds.tag_uri_date, a date from the config.
    assert atom.findtext(f"{ATOM}updated") == "2000-01-01T00:00:00+00:00"
    rss = xml(files["rss.xml"])
    assert rss.findtext("channel/lastBuildDate") == "Sat, 01 Jan 2000 00:00:00 +0000"
    assert json.loads(files["feed.json"])["items"] == []
    dated = build([], tag_uri_date="2019-05-01")
    assert xml(dated["atom.xml"]).findtext(f"{ATOM}updated") == "2019-05-01T00:00:00+00:00"


def test_an_empty_feed_beside_posts_is_dated_by_the_newest_post(tmp_path: Path) -> None:
    """The featured feed before anything is featured: the site's newest post dates it."""
    posts = [
        make_post(tmp_path, "old", date=datetime(2024, 1, 2, tzinfo=UTC)),
        make_post(tmp_path, "new", date=datetime(2024, 3, 4, 5, 6, tzinfo=UTC)),
    ]
    files = build(posts, featured=True)
    featured = xml(files["featured/atom.xml"])
    assert featured.find(f"{ATOM}entry") is None
    assert featured.findtext(f"{ATOM}updated") == "2024-03-04T05:06:00+00:00"
    assert files == build(posts, featured=True)


def test_two_builds_with_different_clocks_are_byte_identical(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import feedgen.entry
    import feedgen.feed

    posts = golden_posts(tmp_path)

    class Clock(type):
        # Real datetimes must still pass feedgen's isinstance(value, datetime) checks.
        def __instancecheck__(cls, value: object) -> bool:
            return isinstance(value, datetime)

    def clock(moment: datetime) -> type[datetime]:
        class Frozen(datetime, metaclass=Clock):
            @classmethod
            def now(cls, tz: Any = None) -> datetime:  # type: ignore[override]
                return datetime.fromtimestamp(moment.timestamp(), tz)

        return Frozen

    builds = []
    for moment in (datetime(2030, 1, 1, tzinfo=UTC), datetime(2031, 6, 6, tzinfo=UTC)):
        monkeypatch.setattr(feedgen.feed, "datetime", clock(moment))
        monkeypatch.setattr(feedgen.entry, "datetime", clock(moment))
        builds.append(build(posts, categories=True, tags=True))
    assert builds[0] == builds[1]
    assert b"2030" not in b"".join(builds[0].values())
    newest = "2024-05-01T17:00:00+02:00"
    assert xml(builds[0]["atom.xml"]).findtext(f"{ATOM}updated") == newest
    assert xml(builds[0]["rss.xml"]).findtext("channel/lastBuildDate") == (
        "Wed, 01 May 2024 17:00:00 +0200"
    )


def test_link_order_trap_channel_link_is_the_site(tmp_path: Path) -> None:
    files = build(golden_posts(tmp_path), hub="https://hub.example.net/")
    assert_valid(files)
    channel = xml(files["rss.xml"]).find("channel")
    assert channel.findtext("link") == "https://blog.example.org/"
    links = {(a.get("rel"), a.get("href")) for a in channel.findall(f"{ATOM}link")}
    assert links == {
        ("self", "https://blog.example.org/rss.xml"),
        ("hub", "https://hub.example.net/"),
    }
    atom = xml(files["atom.xml"])
    feed_links = {(a.get("rel"), a.get("href")) for a in atom.findall(f"{ATOM}link")}
    assert feed_links == {
        ("self", "https://blog.example.org/atom.xml"),
        ("hub", "https://hub.example.net/"),
        ("alternate", "https://blog.example.org/"),
    }
    for entry in atom.iter(f"{ATOM}entry"):
        rels = [link.get("rel") for link in entry.findall(f"{ATOM}link")]
        assert rels.count("alternate") == 1 and None not in rels
    assert json.loads(files["feed.json"])["hubs"] == [
        {"type": "WebSub", "url": "https://hub.example.net/"}
    ]


def test_entry_order_trap_newest_first_with_a_stable_tie_break(tmp_path: Path) -> None:
    posts = golden_posts(tmp_path)
    expected = [
        "2024-05-01-release",
        "2024-04-10-talk",
        "2024-03-01-aaa-same-moment",  # same instant as tokyo: folder name decides
        "2024-03-01-tokyo",
    ]
    reference = build(posts)
    for seed in range(3):
        shuffled = posts[:]
        random.Random(seed).shuffle(shuffled)
        assert build(shuffled) == reference
    ids = [i["id"].rsplit(":", 1)[1] for i in json.loads(reference["feed.json"])["items"]]
    assert ids == expected
    guids = [g.text.rsplit(":", 1)[1] for g in xml(reference["rss.xml"]).iter("guid")]
    assert guids == expected


def test_ids_survive_edits_to_title_date_and_path(tmp_path: Path) -> None:
    post = make_post(tmp_path, "2024-01-01-first")
    edited = replace(
        post,
        title="A new title",
        date=post.date + timedelta(days=3),
        path="/blog/renamed",
        url="https://blog.example.org/blog/renamed",
        page_url="https://blog.example.org/blog/renamed",
    )
    first, second = (xml(build([p])["rss.xml"]).find("channel/item/guid") for p in (post, edited))
    assert first.text == second.text == "tag:blog.example.org,2000:2024-01-01-first"
    assert first.get("isPermaLink") == "false"


def test_optional_feeds_have_their_own_self_links_limits_and_safe_slugs(tmp_path: Path) -> None:
    posts = [
        make_post(
            tmp_path,
            f"p{n}",
            date=datetime(2024, 1, 1 + n, tzinfo=UTC),
            categories=("C", "C++") if n % 2 else ("C",),
            tags=("Service Mesh",),
            is_featured=n == 1,
            is_popular=n == 2,
        )
        for n in range(5)
    ]
    files = build(posts, categories=True, category_limit=2, tags=True, featured=True, popular=True)
    assert_valid(files)
    folders = sorted({p.rsplit("/", 1)[0] for p in files if "/" in p})
    assert folders == [
        "categories/c",
        "categories/c-fc2b42",
        "featured",
        "popular",
        "tags/service-mesh",
    ]
    for path in ("categories/c/rss.xml", "categories/c-fc2b42/atom.xml"):
        assert len(feedparser.parse(files[path]).entries) == 2
    assert len(feedparser.parse(files["tags/service-mesh/rss.xml"]).entries) == 5
    assert [e.title for e in feedparser.parse(files["featured/atom.xml"]).entries] == ["Post p1"]
    assert json.loads(files["popular/feed.json"])["feed_url"] == (
        "https://blog.example.org/popular/feed.json"
    )
    assert json.loads(files["categories/c-fc2b42/feed.json"])["title"] == "Golden Blog: C++"
    assert not any(p.startswith(("categories", "tags")) for p in build(posts))


def test_categories_and_tags_have_distinct_schemes(tmp_path: Path) -> None:
    files = build([make_post(tmp_path, "p", categories=("Same",), tags=("Same",))])
    cats = xml(files["rss.xml"]).findall("channel/item/category")
    assert [(c.text, c.get("domain")) for c in cats] == [
        ("Same", "https://blog.example.org/categories"),
        ("Same", "https://blog.example.org/tags"),
    ]


def test_summary_only_content(tmp_path: Path) -> None:
    files = build([make_post(tmp_path, "p", body_html="<p>Full body</p>")], content="summary")
    assert_valid(files)
    assert b"Full body" not in b"".join(files.values())
    assert xml(files["rss.xml"]).findtext("channel/item/description") == "Summary of p"


def test_limit_keeps_the_newest(tmp_path: Path) -> None:
    posts = [
        make_post(tmp_path, f"p{n}", date=datetime(2024, 1, 1 + n, tzinfo=UTC)) for n in range(5)
    ]
    files = build(posts, limit=2, formats=("json",))
    assert sorted(files) == ["feed.json"]  # no XML format, so no stylesheet either
    assert [i["title"] for i in json.loads(files["feed.json"])["items"]] == ["Post p4", "Post p3"]


def test_stylesheet_is_linked_written_and_renders_both_formats(tmp_path: Path) -> None:
    site = replace(SITE, url="https://example.org/blog")
    files = build(golden_posts(tmp_path), site=site, stylesheet=True)
    pi = '<?xml-stylesheet type="text/xsl" href="/blog/feed.xsl"?>'
    assert pi in files["rss.xml"].decode() and pi in files["atom.xml"].decode()
    assert files["feed.xsl"] == (resources.templates() / "feeds" / "feed.xsl").read_bytes()
    transform = etree.XSLT(etree.fromstring(files["feed.xsl"]))
    for path in ("rss.xml", "atom.xml"):
        page = str(transform(etree.fromstring(files[path])))
        assert "Release 1.0 &amp; friends" in page and "東京ミートアップ" in page
        assert f"https://example.org/blog/{path}" in page
    plain = build(golden_posts(tmp_path), stylesheet=False)
    assert "feed.xsl" not in plain and b"xml-stylesheet" not in plain["rss.xml"]


def test_corpus_feeds_build_parse_and_lint_clean(corpus: Path, tmp_path: Path) -> None:
    config_path = tmp_path / "config.yaml"
    config_path.write_text(
        f"site:\n  title: Cilium\n  url: https://cilium.io\n  author: Cilium\n"
        f"posts:\n  folder: {corpus}\n  default_path: /blog/{{id}}/\n",
        encoding="utf-8",
    )
    config = load_config(config_path)
    posts = read_posts(config).published(datetime(2100, 1, 1, tzinfo=UTC))
    assert len(posts) > 20
    files = build_feeds(config.site, posts, FeedOptions(limit=None, categories=True, tags=True))
    assert {"rss.xml", "atom.xml", "feed.json"} <= set(files)
    assert_valid({k: v for k, v in files.items() if k != "feed.xsl"}, config.site)
    assert len(json.loads(files["feed.json"])["items"]) == len(posts)
    # Every RSS description is valid, inert HTML: real summaries hold "ATT&CK", "Q&A"; a
    # post without one gets its sanitized content.
    for path, data in files.items():
        if path.endswith("rss.xml"):
            for description in xml(data).iter("description"):
                text = description.text or ""
                assert re.search(r"&(?![a-z]+;|#\d+;)", text) is None, (path, text)
                parsed = lxml_html.fragment_fromstring(text, create_parent="div")
                assert not [e for e in parsed.iter() if e.tag == "script"], (path, text)
                assert not [a for e in parsed.iter() for a in e.attrib if a.startswith("on")]


# the cache ------------------------------------------------------------------------------

ALL_FEEDS: dict[str, Any] = {
    "limit": None,
    "categories": True,
    "tags": True,
    "featured": True,
    "popular": True,
    "hub": "https://hub.example.net/",
}


class Renders:
    """Which posts had their items rendered and how many feed heads were, in one build."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.posts: list[str] = []
        self.heads = 0
        real_item = generate.feed_item

        def item(post: Post, *args: Any) -> Any:
            self.posts.append(post.id)
            return real_item(post, *args)

        monkeypatch.setattr(generate, "feed_item", item)
        for module in (rss_atom, jsonfeed):
            monkeypatch.setattr(module, "render_head", self._counting(module.render_head))

    def _counting(self, render: Any) -> Any:
        def head(*args: Any) -> bytes:
            self.heads += 1
            result: bytes = render(*args)
            return result

        return head

    def reset(self) -> None:
        self.posts.clear()
        self.heads = 0


def cached(posts: list[Post], state: Path, *, readonly: bool = False, **options: Any) -> Any:
    return build_feeds(SITE, posts, FeedOptions(**options), cache_dir=state, readonly=readonly)


def state_files(state: Path) -> dict[str, tuple[int, bytes]]:
    return {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in state.iterdir()}


def test_assembled_documents_are_the_bytes_of_one_feedgen_pass(tmp_path: Path) -> None:
    nasty = make_post(tmp_path, "nasty", title="]]> \x07 <b>", body_html="<p>]]></item></p>")
    items = [feed_item(p, SITE, FeedOptions()) for p in [*golden_posts(tmp_path), nasty]]
    head = FeedHead(
        title="T & <t>",
        description="D",
        site_url="https://blog.example.org/",
        language="en",
        author_name="The Team",
        author_email="team@blog.example.org",
        self_url="https://blog.example.org/x/rss.xml",
        stylesheet_href="/feed.xsl",
        hub="https://hub.example.net/",
        category_scheme="https://blog.example.org/categories",
        tag_scheme="https://blog.example.org/tags",
    )
    entries = [rss_atom.make_entry(item, head) for item in items]
    for kind in ("rss", "atom"):
        fragments = rss_atom.render_fragments(kind, head, entries)
        for chosen in ([0, 1, 2, 3, 4], [4, 0], [2], []):
            newest = max((items[n].updated for n in chosen), default=None)
            shell = rss_atom.render_head(kind, head, newest)
            assembled = rss_atom.render_document(kind, shell, [fragments[n] for n in chosen])
            one_pass = rss_atom._serialize(kind, head, newest, [entries[n] for n in chosen])
            assert assembled == one_pass, (kind, chosen)
    for chosen in ([0, 1, 2, 3, 4], [3], []):
        document = jsonfeed.render_document(
            jsonfeed.render_head(head), [jsonfeed.render_fragment(items[n]) for n in chosen]
        )
        feed = json.loads(document)
        assert feed["items"] == [jsonfeed._item(items[n]) for n in chosen]
        expected = json.dumps(feed, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
        assert document == expected.encode()


@pytest.mark.parametrize(
    "options",
    [
        ALL_FEEDS,
        {},
        {"content": "summary", "formats": ("json",), "tags": True},
        {"formats": ("atom", "rss"), "stylesheet": False, "limit": 2},
    ],
)
def test_cached_builds_are_byte_identical_to_uncached_ones(
    tmp_path: Path, options: dict[str, Any]
) -> None:
    posts = golden_posts(tmp_path)
    state = tmp_path / "state"
    cold = build(posts, **options)
    assert cached(posts, state, **options) == cold  # cold cache
    assert cached(posts, state, **options) == cold  # warm cache
    edited = [replace(posts[0], title="Release 1.1", categories=("Release",)), *posts[1:]]
    assert cached(edited, state, **options) == build(edited, **options)
    assert cached(posts[1:], state, **options) == build(posts[1:], **options)
    assert cached([], state, **options) == build([], **options)


def test_a_warm_rebuild_renders_only_what_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    posts = golden_posts(tmp_path)
    state = tmp_path / "state"
    renders = Renders(monkeypatch)
    cached(posts, state, **ALL_FEEDS)
    assert sorted(renders.posts) == sorted(p.id for p in posts) and renders.heads > 0

    renders.reset()
    cached(posts, state, **ALL_FEEDS)
    assert renders.posts == [] and renders.heads == 0

    edited = [posts[0], replace(posts[1], summary="A new summary"), *posts[2:]]
    expected = build(edited, **ALL_FEEDS)
    renders.reset()
    assert cached(edited, state, **ALL_FEEDS) == expected
    assert renders.posts == [posts[1].id] and renders.heads == 0  # same feed dates

    renders.reset()
    newer = replace(posts[3], updated=datetime(2025, 1, 1, tzinfo=UTC))
    cached([*edited[:3], newer], state, **ALL_FEEDS)
    assert renders.posts == [newer.id] and renders.heads > 0  # the main feed's date moved


def test_a_changed_og_image_or_option_renders_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    posts = golden_posts(tmp_path)
    state = tmp_path / "state"
    renders = Renders(monkeypatch)
    cached(posts, state)
    assert posts[0].og_image is not None
    posts[0].og_image.write_bytes(FAKE_PNG + bytes(50))  # same name, new length
    expected = build(posts)
    renders.reset()
    assert cached(posts, state) == expected
    assert renders.posts == [posts[0].id] and b'length="150"' in expected["rss.xml"]
    expected = build(posts, content="summary")
    renders.reset()
    assert cached(posts, state, content="summary") == expected
    assert len(renders.posts) == len(posts)


def test_a_dry_run_reads_the_cache_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    posts = golden_posts(tmp_path)
    state = tmp_path / "state"
    assert cached(posts, state, readonly=True) == build(posts)
    assert not state.exists()  # a read-only build creates no folder, file or journal

    cached(posts, state)
    before = state_files(state)
    assert sorted(before) == ["feeds.sqlite"]
    edited = [replace(posts[0], title="Dry edit"), *posts[1:]]
    expected = build(edited)
    renders = Renders(monkeypatch)
    assert cached(edited, state, readonly=True) == expected
    assert renders.posts == [posts[0].id]  # the others came from the cache
    assert state_files(state) == before


@pytest.mark.parametrize(
    "damage",
    [
        b"this is not a database",
        b"SQLite format 3\x00" + bytes(200),
        "schema",
        "row",
    ],
)
def test_a_broken_cache_is_rebuilt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage: bytes | str
) -> None:
    posts = golden_posts(tmp_path)
    state = tmp_path / "state"
    cache_file = state / "feeds.sqlite"
    cold = build(posts, **ALL_FEEDS)
    cached(posts, state, **ALL_FEEDS)
    if isinstance(damage, bytes):
        cache_file.write_bytes(damage)
    else:
        with sqlite3.connect(cache_file) as db:
            if damage == "schema":
                db.execute("DROP TABLE items")
                db.execute("CREATE TABLE items (id TEXT PRIMARY KEY, stuff TEXT)")
            else:
                db.execute("UPDATE items SET rss = 'text, not bytes'")
        db.close()
    broken = state_files(state)
    assert cached(posts, state, readonly=True, **ALL_FEEDS) == cold
    assert state_files(state) == broken  # a dry run leaves even a broken cache alone

    renders = Renders(monkeypatch)
    assert cached(posts, state, **ALL_FEEDS) == cold
    assert sorted(renders.posts) == sorted(p.id for p in posts)
    renders.reset()
    assert cached(posts, state, **ALL_FEEDS) == cold
    assert renders.posts == []  # rebuilt: the next build renders nothing


def test_a_cache_another_build_holds_is_left_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    posts = golden_posts(tmp_path)
    state = tmp_path / "state"
    cached(posts, state)
    monkeypatch.setattr(feeds_cache, "LOCK_TIMEOUT", 0.05)
    holder = sqlite3.connect(state / "feeds.sqlite", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        before = state_files(state)
        assert cached(posts, state) == build(posts)
        assert cached(posts, state, readonly=True) == build(posts)
        assert state_files(state) == before
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    renders = Renders(monkeypatch)
    cached(posts, state)
    assert renders.posts == []  # the cache survived


def test_the_cache_keeps_only_the_posts_in_feeds(tmp_path: Path) -> None:
    posts = golden_posts(tmp_path)
    state = tmp_path / "state"
    cached(posts, state, limit=2)
    with sqlite3.connect(state / "feeds.sqlite") as db:
        stored = sorted(row[0] for row in db.execute("SELECT id FROM items"))
    db.close()
    assert stored == sorted(p.id for p in newest_first(posts, SITE)[:2])


# options --------------------------------------------------------------------------------


def test_default_options() -> None:
    assert parse_feed_options({}) == (FeedOptions(), [])
    options = FeedOptions()
    assert (options.rss_path, options.atom_path, options.json_path) == (
        "rss.xml",
        "atom.xml",
        "feed.json",
    )
    assert not (options.categories or options.tags or options.featured or options.popular)
    # The XSL stylesheet is opt-in: Chromium is removing XSLT and shows a banner over it.
    assert not options.stylesheet and options.hub is None
    assert not options.authors and options.icon is None and options.rights is None


def test_options_are_read() -> None:
    options, problems = parse_feed_options(
        {
            "enabled": True,
            "formats": ["json", "rss"],
            "limit": None,
            "content": "summary",
            "tags": True,
            "tag_path": "topics/{slug}",
            "hub": "https://hub.example.net/",
            "tag_uri_date": 2019,
        }
    )
    assert problems == []
    assert options == FeedOptions(
        formats=("rss", "json"),
        limit=None,
        content="summary",
        tags=True,
        tag_path="topics/{slug}/",
        hub="https://hub.example.net/",
        tag_uri_date="2019",
    )


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ({"limt": 5}, "feeds.limt: unknown key; did you mean 'limit'?"),
        ({"limit": 0}, "feeds.limit: must be a whole number of at least 1"),
        ({"limit": True}, "feeds.limit: must be a whole number"),
        ({"content": "excerpt"}, "feeds.content: must be 'full' or 'summary', not 'excerpt'"),
        ({"categories": "yes"}, "feeds.categories: must be true or false, not 'yes'"),
        ({"formats": ["rss", "rdf"]}, "feeds.formats: unknown format 'rdf'"),
        ({"formats": []}, "feeds.formats: is empty"),
        ({"rss_path": "../rss.xml"}, "feeds.rss_path: '../rss.xml' leaves the output folder"),
        ({"atom_path": "/atom.xml"}, "feeds.atom_path: '/atom.xml' leaves the output folder"),
        ({"json_path": "feeds/"}, "feeds.json_path: 'feeds/' is a folder"),
        ({"tag_path": "tags/"}, "feeds.tag_path: 'tags/' has no {slug}"),
        ({"hub": "hub.example.net"}, "feeds.hub: 'hub.example.net' is not an absolute http(s) URL"),
        ({"tag_uri_date": "May 2019"}, "feeds.tag_uri_date: 'May 2019' is not a date"),
        ({"atom_path": "rss.xml"}, "feeds.atom_path: 'rss.xml' is also feeds.rss_path"),
    ],
)
def test_bad_options_are_reported(raw: dict[str, Any], problem: str) -> None:
    options, problems = parse_feed_options(raw)
    assert len(problems) == 1 and problems[0].startswith(problem), problems
    assert isinstance(options, FeedOptions)


def test_every_problem_is_reported_at_once() -> None:
    _, problems = parse_feed_options({"limit": -1, "content": 3, "stylsheet": False})
    assert [p.split(":")[0] for p in problems] == [
        "feeds.limit",
        "feeds.content",
        "feeds.stylsheet",
    ]
    assert "did you mean 'stylesheet'?" in problems[2]


# lint -----------------------------------------------------------------------------------

RSS_OK = """<?xml version="1.0"?>
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel>
<title>t</title><link>https://x.org/</link><description>d</description><language>en</language>
<atom:link rel="self" href="https://x.org/rss.xml"/>
<item><title>a</title><link>https://x.org/a</link>{guid}
<pubDate>Wed, 01 May 2024 17:00:00 +0000</pubDate>{extra}</item>
</channel></rss>"""


GUID = '<guid isPermaLink="false">tag:x.org,2000:a</guid>'


@pytest.mark.parametrize(
    ("extra", "problem"),
    [
        ("", None),
        ('<enclosure url="https://x.org/i.png" type="image/png"/>', "<enclosure> has no length"),
        ("<author>Ada</author>", "<author> 'Ada' is not an email address"),
        ("<guid>a</guid>", "<guid> (isPermaLink) 'a' is a relative reference"),
        ("<media:content/>", "not well-formed XML"),
    ],
)
def test_lint_rss_items(extra: str, problem: str | None) -> None:
    guid = "" if "<guid>" in extra else GUID
    data = RSS_OK.format(extra=extra, guid=guid).encode()
    problems = lint_feed("rss.xml", data, "https://x.org/rss.xml")
    if problem is None:
        assert problems == []
    else:
        assert any(problem in p for p in problems), problems
        assert all(p.startswith("rss.xml: ") for p in problems)


def test_lint_finds_feed_level_mistakes() -> None:
    bad = RSS_OK.format(extra="", guid=GUID).replace("Wed, 01 May 2024", "2024-05-01")
    bad = bad.replace("</item>", "</item>" + bad[bad.index("<item>") : bad.index("</item>") + 7])
    problems = lint_feed("rss.xml", bad.encode(), "https://x.org/feeds/rss.xml")
    assert any("is not the feed's public URL" in p for p in problems)
    assert any("is not an RFC 822 date" in p for p in problems)
    assert any("used by more than one item" in p for p in problems)


def test_lint_atom_and_json(tmp_path: Path) -> None:
    files = build(golden_posts(tmp_path))
    atom = files["atom.xml"].replace(b"+02:00</published>", b"</published>", 1)
    assert any("not an RFC 3339 date" in p for p in lint_feed("atom.xml", atom, public("atom.xml")))
    feed = json.loads(files["feed.json"])
    feed["items"][1]["id"] = feed["items"][0]["id"]
    feed["items"][0]["url"] = "/relative"
    problems = lint_feed("feed.json", json.dumps(feed).encode(), public("feed.json"))
    assert any("used by more than one item" in p for p in problems)
    assert any("item 1 url '/relative' is a relative reference" in p for p in problems)


# websub and docs ------------------------------------------------------------------------


class FakeSession:
    def __init__(self, status: int) -> None:
        self.status = status
        self.calls: list[tuple[str, Any]] = []

    def post(self, url: str, *, data: Any, timeout: float) -> Any:
        self.calls.append((url, data))
        return type("Response", (), {"status_code": self.status, "text": "nope"})()


def test_websub_ping() -> None:
    session = FakeSession(204)
    ping_hub(session, "https://hub.example.net/", ["https://x.org/rss.xml", "https://x.org/a.xml"])
    assert session.calls == [
        (
            "https://hub.example.net/",
            [
                ("hub.mode", "publish"),
                ("hub.url", "https://x.org/a.xml"),
                ("hub.url", "https://x.org/rss.xml"),
            ],
        )
    ]
    ping_hub(session, "https://hub.example.net/", [])
    assert len(session.calls) == 1
    from publisher.errors import AnnounceError

    with pytest.raises(AnnounceError, match="HTTP 400"):
        ping_hub(FakeSession(400), "https://hub.example.net/", ["https://x.org/rss.xml"])


def test_every_feed_option_is_documented() -> None:
    docs = (REPO / "docs" / "feeds.md").read_text(encoding="utf-8")
    for name in FeedOptions.__dataclass_fields__:
        assert f"`{name}`" in docs, name


# untrusted summaries and tags ------------------------------------------------------------

HOSTILE_SUMMARY = (
    '<script>alert(1)</script> <img src=x onerror="alert(2)"> ATT&CK, Q&A & <b>bold</b>'
)


def test_rss_description_is_the_summary_as_text_never_markup(tmp_path: Path) -> None:
    post = make_post(tmp_path, "2024-01-01-x", title="X", summary=HOSTILE_SUMMARY)
    files = build([post])
    assert_valid(files)
    description = xml(files["rss.xml"]).find("channel/item/description").text
    # Readers take the description as HTML: parsed so, it is one text with no elements.
    fragment = lxml_html.fragment_fromstring(description, create_parent="div")
    assert [e.tag for e in fragment.iter()] == ["div"]
    assert fragment.text_content() == HOSTILE_SUMMARY
    assert re.search(r"&(?!amp;|lt;|gt;)", description) is None  # ATT&CK is valid HTML
    # What a feed reader shows is the text the author wrote, with nothing to run.
    shown = feedparser.parse(files["rss.xml"]).entries[0].summary
    assert html.unescape(shown) == HOSTILE_SUMMARY
    assert "<script" not in shown and "<img" not in shown


def test_atom_and_json_summaries_stay_plain_text(tmp_path: Path) -> None:
    post = make_post(tmp_path, "2024-01-01-x", title="X", summary=HOSTILE_SUMMARY)
    files = build([post])
    summary = xml(files["atom.xml"]).find(f"{ATOM}entry/{ATOM}summary")
    assert summary.get("type") in (None, "text")
    assert summary.text == HOSTILE_SUMMARY
    assert json.loads(files["feed.json"])["items"][0]["summary"] == HOSTILE_SUMMARY


def test_an_over_long_tag_gets_a_short_distinct_folder(tmp_path: Path) -> None:
    long_a, long_b = "x" * 300, "x" * 299 + "y"
    posts = [
        make_post(tmp_path, "2024-01-01-a", title="A", tags=(long_a,)),
        make_post(tmp_path, "2024-01-02-b", title="B", tags=(long_b, "ebpf")),
    ]
    files = build(posts, tags=True)
    assert_valid(files)
    folders = {path.split("/")[1] for path in files if path.startswith("tags/")}
    assert len(folders) == 3 and "ebpf" in folders
    assert all(len(folder.encode()) <= 255 for folder in folders)
    output = OutputWriter(tmp_path / "public")
    for path, data in files.items():
        output.write_bytes(path, data)  # the file system takes every name


SUMMARY_TOKENS = st.sampled_from(
    ["<script>", "</b>", "<img src=x onerror=alert(1)>", "&amp;", "&", "&lt;", "<", ">", '"', " "]
)


@settings(max_examples=60, derandomize=True, deadline=None)
@given(summary=st.lists(st.one_of(SUMMARY_TOKENS, st.text(max_size=3)), max_size=12).map("".join))
def test_any_summary_reads_back_as_the_same_text_from_rss(summary: str) -> None:
    with tempfile.TemporaryDirectory() as temp:
        post = make_post(Path(temp), "2024-01-01-x", title="X", summary=summary)
        files = build([post])
    expected = " ".join(xml_text(summary).split())
    description = xml(files["rss.xml"]).find("channel/item/description")
    if not expected:
        return  # no summary: the description is the sanitized body, tested elsewhere
    fragment = lxml_html.fragment_fromstring(description.text, create_parent="div")
    assert [e.tag for e in fragment.iter()] == ["div"]
    assert fragment.text_content() == expected


# ecosystem: author feeds, icon/logo/rights, the W3C media rules ---------------------


def test_author_feeds_are_opt_in_and_hold_each_authors_posts(tmp_path: Path) -> None:
    posts = golden_posts(tmp_path)
    assert not any(p.startswith("authors/") for p in build(posts))
    files = build(posts, authors=True, author_limit=1)
    assert_valid({k: v for k, v in files.items() if k.isascii()})
    for path, data in files.items():  # the lint with the percent-encoded public URL
        assert lint_feed(path, data, generate.feed_url(SITE, path)) == [], path
    folders = sorted({p.rsplit("/", 1)[0] for p in files if p.startswith("authors/")})
    assert folders == [
        "authors/ada-lovelace",
        "authors/alex-chen",
        "authors/grace-hopper",
        "authors/the-team",
        "authors/山田-太郎",
    ]
    hopper = xml(files["authors/grace-hopper/atom.xml"])
    assert hopper.findtext(f"{ATOM}title") == "Golden Blog: posts by Grace Hopper"
    assert [e.findtext(f"{ATOM}title") for e in hopper.findall(f"{ATOM}entry")] == [
        "Release 1.0 & friends"
    ]
    assert json.loads(files["authors/grace-hopper/feed.json"])["feed_url"] == public(
        "authors/grace-hopper/feed.json"
    )
    assert files == build(posts, authors=True, author_limit=1)


def test_icon_logo_and_rights_reach_every_format(tmp_path: Path) -> None:
    files = build(
        golden_posts(tmp_path),
        icon="/img/icon.png",
        logo="https://cdn.example.org/logo.png",
        rights="© 2026 The Team",
    )
    assert_valid(files)
    atom = xml(files["atom.xml"])
    assert atom.findtext(f"{ATOM}icon") == "https://blog.example.org/img/icon.png"
    assert atom.findtext(f"{ATOM}logo") == "https://cdn.example.org/logo.png"
    assert atom.findtext(f"{ATOM}rights") == "© 2026 The Team"
    channel = xml(files["rss.xml"]).find("channel")
    assert channel.findtext("copyright") == "© 2026 The Team"
    assert channel.findtext("image/url") == "https://cdn.example.org/logo.png"
    assert channel.findtext("image/link") == channel.findtext("link")
    assert channel.findtext("image/title") == channel.findtext("title")
    feed = json.loads(files["feed.json"])
    assert feed["icon"] == feed["favicon"] == "https://blog.example.org/img/icon.png"
    parsed = feedparser.parse(files["atom.xml"])
    assert parsed.feed.rights == "© 2026 The Team"


def test_feed_image_and_rights_options_are_validated() -> None:
    options, problems = parse_feed_options(
        {"icon": "javascript:alert(1)", "logo": "", "rights": ["x"], "author_path": "people/"}
    )
    assert options.icon is None and options.logo is None and options.rights is None
    assert len(problems) == 4
    assert problems[0].startswith("feeds.author_path: 'people/' has no {slug}")
    assert any(
        p.startswith("feeds.icon: 'javascript:alert(1)' is not an image URL") for p in problems
    )
    assert any(p.startswith("feeds.rights: must be a line of text") for p in problems)


def test_media_content_is_not_wrapped_in_a_one_child_group(tmp_path: Path) -> None:
    files = build(golden_posts(tmp_path))
    for path in ("rss.xml", "atom.xml"):
        assert b"media:group" not in files[path], path
        assert b"<media:content url=" in files[path]


MEDIA_GROUP_RSS = b"""<?xml version='1.0' encoding='UTF-8'?>
<rss xmlns:atom="http://www.w3.org/2005/Atom" xmlns:media="http://search.yahoo.com/mrss/" version="2.0">
  <channel>
    <title>T</title><link>https://blog.example.org/</link><description>D</description>
    <language>en</language>
    <atom:link href="https://blog.example.org/rss.xml" rel="self"/>
    <image><url>logo.png</url><title>T</title><link>https://elsewhere.example.org/</link></image>
    <item>
      <title>A</title><guid isPermaLink="false">a</guid>
      <media:group>
        <media:content url="https://blog.example.org/a.png" medium="image" fileSize="12 KB"/>
        <media:thumbnail url="a.png"/>
      </media:group>
    </item>
  </channel>
</rss>
"""


def test_lint_reports_the_w3c_media_and_image_rules() -> None:
    """What the W3C validator says of feedgen's default media:group, and of a bad <image>."""
    problems = lint_feed("rss.xml", MEDIA_GROUP_RSS, "https://blog.example.org/rss.xml")
    text = "\n".join(problems)
    assert "item 1 <media:group> holds 1 media:content" in text
    assert "put a single media:content straight in the item" in text
    assert "<media:content fileSize> must be a number of bytes" in text
    assert "<media:thumbnail url> 'a.png' is a relative reference" in text
    assert "channel <image> <url> 'logo.png' is a relative reference" in text
    assert "channel <image> <link> is not the channel's <link>" in text
    assert all(p.startswith("rss.xml: ") for p in problems)
    fixed = MEDIA_GROUP_RSS.replace(b"<media:group>", b"").replace(b"</media:group>", b"")
    fixed = fixed.replace(b'"12 KB"', b'"12"').replace(b'url="a.png"', b'url="https://x.org/a.png"')
    fixed = fixed.replace(b"<url>logo.png", b"<url>https://x.org/logo.png")
    fixed = fixed.replace(b"https://elsewhere.example.org/", b"https://blog.example.org/")
    assert lint_feed("rss.xml", fixed, "https://blog.example.org/rss.xml") == []


def test_many_new_items_are_rendered_by_a_pool_into_the_same_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    golden = golden_posts(tmp_path)
    posts = [
        replace(post, id=f"{post.id}-{n}", url=f"{post.url}{n}/")
        for n in range(5)
        for post in golden
    ]
    options = FeedOptions(**ALL_FEEDS)
    serial = build_feeds(SITE, posts, options, jobs=1)
    pools: list[int] = []

    class CountingPool(ProcessPoolExecutor):
        def __init__(self, max_workers: int | None = None, **kwargs: Any) -> None:
            pools.append(max_workers or 0)
            super().__init__(max_workers, **kwargs)

    monkeypatch.setattr(
        concurrent.futures, "ProcessPoolExecutor", CountingPool
    )  # imported when used
    monkeypatch.setattr(generate, "PARALLEL_THRESHOLD", 4)
    monkeypatch.setattr(generate, "RENDER_CHUNK", 3)  # 7 chunks for 2 workers
    assert build_feeds(SITE, posts, options, jobs=2) == serial
    assert pools == [2]
    pools.clear()
    assert build_feeds(SITE, posts[:3], options, jobs=2) == build_feeds(
        SITE, posts[:3], options, jobs=1
    )
    assert pools == []  # too few to be worth a pool
