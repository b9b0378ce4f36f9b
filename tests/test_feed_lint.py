"""`publish check`'s feed linter on broken feeds it never sees from our own builder: each
RSS, Atom and JSON Feed fault is named with where it is and how to fix it, and a clean
feed has no finding. Table-driven: one hand-written feed per fault."""

from __future__ import annotations

import json

import pytest

from publisher.feeds import lint_feed

URL = "https://blog.example.org/rss.xml"
ATOM_NS = 'xmlns="http://www.w3.org/2005/Atom"'
MEDIA_NS = 'xmlns:media="http://search.yahoo.com/mrss/"'
SELF = f'<atom:link xmlns:atom="http://www.w3.org/2005/Atom" rel="self" href="{URL}"/>'


def rss(items: str = "", channel: str = "", version: str = "2.0") -> bytes:
    """An RSS 2.0 feed that lints clean, with ``channel`` and ``items`` added."""
    return (
        f'<rss version="{version}" {MEDIA_NS}><channel><title>T</title>'
        "<link>https://blog.example.org/</link><description>D</description>"
        f"<language>en</language>{SELF}{channel}{items}</channel></rss>"
    ).encode()


def item(inner: str) -> str:
    return f"<item><title>A</title><guid>https://blog.example.org/a/</guid>{inner}</item>"


def atom(entries: str = "", head: str = "") -> bytes:
    """An Atom feed that lints clean, with ``head`` and ``entries`` added."""
    return (
        f'<feed {ATOM_NS} {MEDIA_NS} xml:lang="en"><id>tag:blog.example.org,2024:feed</id>'
        "<title>T</title><updated>2024-05-01T17:00:00Z</updated>"
        f'<author><name>A</name></author><link rel="self" href="{URL}"/>{head}{entries}</feed>'
    ).encode()


def entry(inner: str, *, id: str = "tag:blog.example.org,2024:a", link: bool = True) -> str:
    alternate = '<link href="https://blog.example.org/a/"/>' if link else ""
    return (
        f"<entry><id>{id}</id><title>A</title><updated>2024-05-01T17:00:00Z</updated>"
        f"{alternate}{inner}</entry>"
    )


def json_feed(**changes: object) -> bytes:
    feed: dict[str, object] = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "T",
        "feed_url": URL,
        "home_page_url": "https://blog.example.org/",
        "items": [{"id": "a", "url": "https://blog.example.org/a/", "content_html": "<p>x</p>"}],
    }
    feed.update(changes)
    return json.dumps(feed).encode()


def one_item(**fields: object) -> bytes:
    return json_feed(items=[{"id": "a", "content_text": "x", **fields}])


RSS_FAULTS = {
    "version": (rss(version="0.91"), 'should be version="2.0"'),
    "no channel": (b'<rss version="2.0"/>', "has no <channel>"),
    "relative channel link": (
        rss().replace(b"https://blog.example.org/</link>", b"/blog/</link>"),
        "channel <link> '/blog/' is a relative reference",
    ),
    "no language": (rss().replace(b"<language>en</language>", b""), "set site.language"),
    "no self link": (rss().replace(SELF.encode(), b""), 'no atom:link rel="self"'),
    "bad build date": (
        rss(channel="<lastBuildDate>yesterday</lastBuildDate>"),
        "channel <lastBuildDate> 'yesterday' is not an RFC 822 date",
    ),
    "image without title": (
        rss(
            channel="<image><url>https://blog.example.org/i.png</url>"
            "<link>https://blog.example.org/</link></image>"
        ),
        "channel <image> has no <title>",
    ),
    "image link differs": (
        rss(
            channel="<image><url>https://blog.example.org/i.png</url><title>T</title>"
            "<link>https://other.example.org/</link></image>"
        ),
        "<image> <link> is not the channel's <link>",
    ),
    "empty item": (rss(items="<item><guid>x</guid></item>"), "has neither <title> nor"),
    "no guid": (rss(items="<item><title>A</title></item>"), "item 1 has no <guid>"),
    "empty opaque guid": (
        rss(items='<item><title>A</title><guid isPermaLink="false"> </guid></item>'),
        "item 1 <guid> is empty",
    ),
    "relative permalink guid": (
        rss(items="<item><title>A</title><guid>/a/</guid></item>"),
        "item 1 <guid> (isPermaLink) '/a/' is a relative reference",
    ),
    "unencoded link": (
        rss(items=item("<link>https://blog.example.org/a b/</link>")),
        "is not percent-encoded",
    ),
    "empty link": (rss(items=item("<link> </link>")), "item 1 <link> is empty"),
    "author name": (rss(items=item("<author>Ada</author>")), "is not an email address"),
    "bad pubDate": (
        rss(items=item("<pubDate>2024-05-01</pubDate>")),
        "item 1 <pubDate> '2024-05-01' is not an RFC 822 date",
    ),
    "two enclosures": (
        rss(items=item('<enclosure url="https://x.org/a.mp3" length="1" type="audio/mpeg"/>' * 2)),
        "has 2 enclosures; RSS allows one",
    ),
    "enclosure fields": (
        rss(items=item('<enclosure url="https://x.org/a.mp3" length="big"/>')),
        "<enclosure> has no type",
    ),
    "enclosure length": (
        rss(items=item('<enclosure url="https://x.org/a.mp3" length="big" type="audio/mpeg"/>')),
        "<enclosure length> must be a number of bytes",
    ),
    "relative in description": (
        rss(items=item("<description>&lt;img src=&quot;pic.png&quot;&gt;</description>")),
        "item 1 <description> has relative references (pic.png)",
    ),
    "relative srcset": (
        rss(items=item('<description>&lt;img srcset="a.png 1x, b.png 2x"&gt;</description>')),
        "relative references (a.png, b.png)",
    ),
    "duplicate guid": (rss(items=item("") + item("")), "is used by more than one item"),
    "media group of one": (
        rss(items=item('<media:group><media:content url="https://x.org/a.png"/></media:group>')),
        "<media:group> holds 1 media:content",
    ),
    "media content without url": (
        rss(items=item("<media:content/>")),
        "<media:content> has no url",
    ),
    "media size and medium": (
        rss(
            items=item(
                '<media:content url="https://x.org/a.png" fileSize="1 MB" medium="picture"/>'
            )
        ),
        "<media:content fileSize> must be a number of bytes",
    ),
    "media thumbnail": (
        rss(items=item('<media:thumbnail url="thumb.png"/>')),
        "<media:thumbnail url> 'thumb.png' is a relative reference",
    ),
}

ATOM_FAULTS = {
    "no id": (atom().replace(b"<id>tag:blog.example.org,2024:feed</id>", b""), "feed has no <id>"),
    "bad updated": (
        atom().replace(b"2024-05-01T17:00:00Z", b"2024-13-01T17:00:00Z"),
        "feed <updated> '2024-13-01T17:00:00Z' is not an RFC 3339 date",
    ),
    "no lang": (atom().replace(b' xml:lang="en"', b""), "feed has no xml:lang"),
    "wrong self": (
        atom().replace(URL.encode(), b"https://old.example.org/atom.xml"),
        "is not the feed's public URL",
    ),
    "relative icon": (atom(head="<icon>/favicon.ico</icon>"), "feed <icon> '/favicon.ico'"),
    "entry without id": (atom(entries=entry("", id="")), "entry 1 has no <id>"),
    "entry id not an IRI": (atom(entries=entry("", id="post-1")), "'post-1' is not an IRI"),
    "entry without updated": (
        atom(
            entries="<entry><id>tag:x.org,2024:a</id><title>A</title>"
            '<link href="https://x.org/a/"/></entry>'
        ),
        "entry 1 has no <updated>",
    ),
    "entry without title": (
        atom(entries=entry("").replace("<title>A</title>", "")),
        "entry 1 has no <title>",
    ),
    "bad published": (
        atom(entries=entry("<published>May 1st</published>")),
        "entry 1 <published> 'May 1st' is not an RFC 3339 date",
    ),
    "no author anywhere": (
        atom(entries=entry("")).replace(b"<author><name>A</name></author>", b""),
        "entry 1 has no <author> and the feed has none",
    ),
    "two alternates": (
        atom(entries=entry('<link href="https://blog.example.org/b/"/>')),
        'has 2 rel="alternate" links',
    ),
    "no content and no link": (
        atom(entries=entry("", link=False)),
        'entry 1 has neither content nor a rel="alternate" link',
    ),
    "enclosure link": (
        atom(entries=entry('<link rel="enclosure" href="https://x.org/a.mp3"/>')),
        "enclosure link has no length or type",
    ),
    "content type": (
        atom(entries=entry('<content type="markdown">x</content>')),
        '<content type="markdown"> is not allowed',
    ),
    "relative in html content": (
        atom(entries=entry('<content type="html">&lt;a href="../b/"&gt;b&lt;/a&gt;</content>')),
        "entry 1 <content> has relative references (../b/)",
    ),
    "duplicate ids": (atom(entries=entry("") + entry("")), "is used by more than one entry"),
    "media in an entry": (
        atom(entries=entry('<media:content url="https://x.org/a.png" medium="picture"/>')),
        '<media:content medium="picture"> is not one of image',
    ),
}

JSON_FAULTS = {
    "not json": (b"{not json", "not valid JSON"),
    "not an object": (b"[]", "a JSON Feed must be an object"),
    "no version": (json_feed(version="1.1"), "no JSON Feed version"),
    "no title": (json_feed(title=""), "feed has no title"),
    "feed_url": (json_feed(feed_url="https://x.org/f.json"), "is not the feed's public URL"),
    "relative home page": (json_feed(home_page_url="/"), "home_page_url '/' is a relative"),
    "no items": (json_feed(items=None), "feed has no items list"),
    "item not an object": (json_feed(items=["a"]), "item 1 is not an object"),
    "item without id": (one_item(id=7), "item 1 has no string id"),
    "item without content": (json_feed(items=[{"id": "a"}]), "has neither content_html nor"),
    "relative image": (one_item(image="card.png"), "item 1 image 'card.png'"),
    "bad date": (one_item(date_published="01/05/2024"), "item 1 date_published '01/05/2024'"),
    "relative in content_html": (
        one_item(content_html='<a href="x/">x</a>'),
        "item 1 content_html has relative references (x/)",
    ),
    "duplicate ids": (
        json_feed(items=[{"id": "a", "content_text": "x"}, {"id": "a", "content_text": "y"}]),
        "id 'a' is used by more than one item",
    ),
}


def test_the_hand_written_feeds_are_clean_before_a_fault_is_added() -> None:
    """Each fault below is the only problem in its feed: these bases lint clean."""
    assert lint_feed("rss.xml", rss(items=item("")), URL) == []
    assert lint_feed("atom.xml", atom(entries=entry("")), URL) == []
    assert lint_feed("feed.json", json_feed(), URL) == []


@pytest.mark.parametrize(("data", "expected"), RSS_FAULTS.values(), ids=RSS_FAULTS.keys())
def test_each_rss_fault_is_named(data: bytes, expected: str) -> None:
    problems = lint_feed("rss.xml", data, URL)
    assert any(expected in p for p in problems), problems
    assert all(p.startswith("rss.xml: ") for p in problems)


@pytest.mark.parametrize(("data", "expected"), ATOM_FAULTS.values(), ids=ATOM_FAULTS.keys())
def test_each_atom_fault_is_named(data: bytes, expected: str) -> None:
    problems = lint_feed("atom.xml", data, URL)
    assert any(expected in p for p in problems), problems


@pytest.mark.parametrize(("data", "expected"), JSON_FAULTS.values(), ids=JSON_FAULTS.keys())
def test_each_json_feed_fault_is_named(data: bytes, expected: str) -> None:
    problems = lint_feed("feed.json", data, URL)
    assert any(expected in p for p in problems), problems


def test_a_file_that_is_no_feed_is_a_finding_not_a_crash() -> None:
    assert lint_feed("x.xml", b"<html/>", URL) == [
        "x.xml: root element <html> is neither RSS 2.0 <rss> nor Atom <feed>"
    ]
    (broken,) = lint_feed("x.xml", b"<rss>\n<channel>", URL)
    assert broken.startswith("x.xml: not well-formed XML at line ")
    # The browser-view stylesheet sits beside the feeds and is not one.
    xslt = b'<xsl:stylesheet xmlns:xsl="http://www.w3.org/1999/XSL/Transform" version="1.0"/>'
    assert lint_feed("feed.xsl", xslt, URL) == []
