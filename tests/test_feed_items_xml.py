"""RSS items and Atom entries written directly (``feeds/xml_items.py``) are feedgen's bytes.

The reference is ``rss_atom.render_fragments``: feedgen's document for the same entries
(``make_entry``), items cut back out. Seeded random items cover every optional field
(summary, content, authors with and without email, categories, tags, an image with and
without type and length, an empty image URL) and awkward text: markup characters, ``]]>``,
quotes, tabs, carriage returns and newlines, non-BMP characters, right-to-left text and
marks, combining characters, U+2028, and dates in zones with odd offsets. Each item is
checked alone and in the middle of a document of several, as the build renders them.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone

import pytest

from publisher.feeds import rss_atom, xml_items
from publisher.feeds.items import FeedItem, ItemAuthor, ItemImage, xml_text

HEADS = (
    rss_atom.FeedHead(
        title="Blog",
        description="About things",
        site_url="https://blog.example.org/",
        language="en",
        author_name="Blog",
        author_email=None,
        self_url="https://blog.example.org/rss.xml",
        stylesheet_href=None,
        hub=None,
        category_scheme="https://blog.example.org/categories",
        tag_scheme="https://blog.example.org/tags",
    ),
    rss_atom.FeedHead(
        title='A "quoted" & <odd> blog',
        description="",
        site_url="https://h.example/sub/",
        language="ja",
        author_name="Ed",
        author_email="ed@h.example",
        self_url="https://h.example/sub/tags/x/atom.xml",
        stylesheet_href="/sub/feed.xsl",
        hub="https://hub.example/",
        category_scheme="https://h.example/sub/categories?a=1&b=2",
        tag_scheme="",
        icon="https://h.example/icon.png",
        logo="https://h.example/logo.png",
        rights="© Ed",
    ),
)

ALPHABET = (
    "a",
    "Z",
    " ",
    "&",
    "<",
    ">",
    '"',
    "'",
    "]]>",
    "\t",
    "\n",
    "\r",
    "\r\n",
    "é",
    "\u65e5\u672c",
    "\U0001f600",
    "\U00010348",
    "\u05e9\u05dc\u05d5\u05dd",
    "\u0645\u0631\u062d\u0628\u0627",
    "\u200f",
    "\u202e",
    "e\u0301",
    "\u2028",
    "\x85",
    "\xa0",
    "&amp;",
    "<p>x</p>",
    "<![CDATA[",
    "--",
)
ZONES = (UTC, timezone(timedelta(hours=2)), timezone(-timedelta(hours=9, minutes=30)))
ZONES += (timezone(timedelta(minutes=53, seconds=28)),)


def text(rng: random.Random, empty: bool = True) -> str:
    value = xml_text("".join(rng.choices(ALPHABET, k=rng.randint(0 if empty else 1, 12))))
    return value if value or empty else "x"


def maybe(rng: random.Random, value: str) -> str | None:
    return value if rng.random() < 0.7 else None


def random_item(rng: random.Random, index: int) -> FeedItem:
    zone = rng.choice(ZONES)
    published = datetime(2001 + index % 20, 1 + index % 12, 1 + index % 28, 9, 5, 7, tzinfo=zone)
    authors = tuple(
        ItemAuthor(name=text(rng, empty=False), email=maybe(rng, text(rng, empty=False)))
        for _ in range(rng.randint(0, 3))
    )
    image = None
    if rng.random() < 0.7:
        image = ItemImage(
            url=rng.choice(("https://h.example/p/c.png", "", text(rng))),
            mime=maybe(rng, rng.choice(("image/png", "image/svg+xml", text(rng)))),
            length=rng.choice((None, 0, 66, 123456)),
        )
    return FeedItem(
        post_id=f"p{index}",
        id=rng.choice((f"tag:h.example,2024:p{index}", "tag:h,2024:" + text(rng, empty=False))),
        link=rng.choice(("https://h.example/p/", "https://h.example/a?b=1&c=2", text(rng))),
        external_url=None,
        title=text(rng, empty=False),
        summary=maybe(rng, text(rng, empty=False)),
        content_html=maybe(rng, text(rng, empty=False)),
        published=published,
        updated=published + timedelta(days=rng.randint(0, 3)),
        authors=authors,
        categories=tuple(text(rng, empty=False) for _ in range(rng.randint(0, 2))),
        tags=tuple(text(rng, empty=False) for _ in range(rng.randint(0, 3))),
        image=image,
        is_featured=False,
        is_popular=False,
    )


def feedgen_fragments(kind: rss_atom.Kind, head: rss_atom.FeedHead, items: list[FeedItem]):
    return rss_atom.render_fragments(kind, head, [rss_atom.make_entry(i, head) for i in items])


@pytest.mark.parametrize("kind", ["rss", "atom"])
@pytest.mark.parametrize("seed", range(4))
def test_items_are_the_bytes_feedgen_writes(kind: rss_atom.Kind, seed: int) -> None:
    rng = random.Random(seed)
    head = HEADS[seed % 2]
    items = [random_item(rng, i) for i in range(150)]
    written = rss_atom.render_items([kind], items, head)[kind]
    assert written == feedgen_fragments(kind, head, items)
    both = rss_atom.render_items(["rss", "atom"], items, head)  # as a build asks for them
    assert both[kind] == written
    for item in items[:40]:  # alone as well: nothing depends on the neighbours
        assert [xml_items.WRITERS[kind](item, head.category_scheme, head.tag_scheme)] == (
            feedgen_fragments(kind, head, [item])
        )


@pytest.mark.parametrize("kind", ["rss", "atom"])
def test_a_bare_item_and_a_full_one(kind: rss_atom.Kind) -> None:
    when = datetime(2024, 5, 1, 17, 0, tzinfo=UTC)
    bare = FeedItem(
        post_id="b",
        id="tag:h,2024:b",
        link="https://h/b/",
        external_url=None,
        title="B",
        summary=None,
        content_html=None,
        published=when,
        updated=when,
        authors=(),
        categories=(),
        tags=(),
        image=None,
        is_featured=False,
        is_popular=False,
    )
    full = FeedItem(
        post_id="f",
        id="tag:h,2024:f",
        link="https://h/f/",
        external_url="https://elsewhere.example/f",
        title="F & <G>",
        summary='Sum "q" <x> & ]]>',
        content_html="<p>Hi &amp; bye</p>\n<p>\U0001f600</p>",
        published=when,
        updated=when + timedelta(hours=1),
        authors=(ItemAuthor(name="Jo", email="jo@h"), ItemAuthor(name="Al")),
        categories=("C",),
        tags=("t1", "t2"),
        image=ItemImage(url="https://h/f/c.png", mime="image/png", length=66),
        is_featured=True,
        is_popular=True,
    )
    for head in HEADS:
        written = rss_atom.render_items([kind], [bare, full], head)[kind]
        assert written == feedgen_fragments(kind, head, [bare, full])
    assert b"<content" not in written[0] and b"enclosure" in written[1]


def test_rfc2822_dates_are_feedgens_in_any_zone() -> None:
    from feedgen.util import formatRFC2822

    start = datetime(1970, 1, 1, tzinfo=UTC)
    rng = random.Random(5)
    for _ in range(2000):
        moment = (start + timedelta(seconds=rng.randint(0, 4_000_000_000))).astimezone(
            rng.choice(ZONES)
        )
        assert xml_items.rfc2822(moment) == formatRFC2822(moment)
    # strftime's own cases: naive, an offset with seconds, negative offsets, odd years.
    for moment in (
        datetime(2024, 5, 1, 7, 8, 9),
        datetime(2024, 5, 1, tzinfo=timezone(timedelta(hours=5, minutes=30, seconds=7))),
        datetime(2024, 5, 1, tzinfo=timezone(-timedelta(hours=3, minutes=30))),
        datetime(2024, 5, 1, tzinfo=timezone(-timedelta(minutes=1))),
        datetime(999, 5, 1, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=14))),
    ):
        assert xml_items.rfc2822(moment) == formatRFC2822(moment)


def test_json_items_are_the_bytes_json_dumps_writes() -> None:
    import json

    from publisher.feeds import jsonfeed

    rng = random.Random(9)
    for index in range(300):
        item = random_item(rng, index)
        text = json.dumps(jsonfeed._item(item), ensure_ascii=False, indent=2, sort_keys=True)
        expected = jsonfeed._ITEM_INDENT + text.replace("\n", "\n" + jsonfeed._ITEM_INDENT)
        assert jsonfeed.render_fragment(item) == expected.encode("utf-8")
