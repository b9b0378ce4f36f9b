"""RSS and Atom heads written directly (``feeds/xml_heads.py``) are feedgen's bytes.

The reference is ``rss_atom._serialize``: feedgen's document for a head and no entries.
Seeded random heads turn every optional field on and off (author email, icon, logo,
rights, hub, stylesheet; empty description, language and author name) and fill the text
with awkward characters: markup characters, ``]]>``, quotes, tabs, carriage returns and
newlines, whitespace at the ends, C1 controls (lxml keeps them), non-BMP characters and
emoji, right-to-left text and marks, combining characters, U+2028, very long text. Dates
are in UTC, +05:30, -08:00 and odd zones (seconds in the offset, a zone with no offset),
with microseconds, in years 1 to 9999, or absent (an empty feed). A head lxml or feedgen
refuses is left to feedgen, which raises as before.
"""

from __future__ import annotations

import random
import textwrap
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone, tzinfo

import pytest
from test_feed_items_xml import ALPHABET as ITEM_ALPHABET

from conftest import fresh_probe
from publisher.dataclass import replace
from publisher.feeds import rss_atom, xml_heads
from publisher.feeds.rss_atom import FeedHead

#: The items' characters (``xml_text`` cleaned those), and what only a head keeps: C1
#: controls and DEL, '?' (``?>`` ends the stylesheet's instruction), BOM, U+FFFD, the last
#: plane's last character, runs of spaces.
ALPHABET = (*ITEM_ALPHABET, "\x7f", "\x9f", "\x85", "?", "?>", "\ufeff", "\ufffd", "\U0010fffd")
ALPHABET += ("   ", "%22", "/x.xsl", "https://h.example/")


class _Floating(tzinfo):
    """A zone that says nothing of its offset: feedgen takes it (it has a tzinfo)."""

    def utcoffset(self, dt: datetime | None) -> None:
        return None

    def dst(self, dt: datetime | None) -> None:
        return None


ZONES: tuple[tzinfo, ...] = (
    UTC,
    timezone(timedelta(hours=5, minutes=30)),
    timezone(-timedelta(hours=8)),
    timezone(timedelta(hours=14)),
    timezone(-timedelta(minutes=1)),
    timezone(timedelta(minutes=53, seconds=28)),
    _Floating(),
)
YEARS = (1, 2, 999, 1000, 1970, 2024, 9999)
URLS = ("https://blog.example.org/", "https://h.example/a?b=1&c=2", "https://h.example/ü/é")


def text(rng: random.Random, empty: bool = True) -> str:
    size = rng.choice((rng.randint(0 if empty else 1, 12), 2000)) if rng.random() < 0.05 else None
    value = "".join(rng.choices(ALPHABET, k=size or rng.randint(0 if empty else 1, 12)))
    if rng.random() < 0.2:
        value = rng.choice((" ", "\n", "\t", " \r\n ")) + value + rng.choice((" ", "\n  "))
    return value


def maybe(rng: random.Random, value: str) -> str | None:
    return value if rng.random() < 0.6 else None


def random_head(rng: random.Random) -> FeedHead:
    return FeedHead(
        title=text(rng, empty=False),
        description=rng.choice(("", "About things", text(rng))),
        site_url=rng.choice((*URLS, text(rng, empty=False))),
        language=rng.choice(("en", "ja", "pt-BR", "", text(rng))),
        author_name=rng.choice(("Ed", "", text(rng))),
        author_email=maybe(rng, rng.choice(("ed@h.example", "", text(rng)))),
        self_url=rng.choice((*URLS, text(rng, empty=False))),
        stylesheet_href=maybe(rng, rng.choice(("/feed.xsl", '/a "b".xsl', "", text(rng)))),
        hub=maybe(rng, rng.choice(("https://hub.example/", "", text(rng)))),
        category_scheme="https://h.example/categories",
        tag_scheme=rng.choice(("", "https://h.example/tags")),
        icon=maybe(rng, rng.choice(("https://h.example/icon.png", "", text(rng)))),
        logo=maybe(rng, rng.choice(("https://h.example/logo.png", "", text(rng)))),
        rights=maybe(rng, rng.choice(("© Ed", "", text(rng)))),
    )


def random_date(rng: random.Random) -> datetime | None:
    if rng.random() < 0.15:
        return None  # an empty feed
    moment = datetime(
        rng.choice((*YEARS, rng.randint(1, 9999))),
        rng.randint(1, 12),
        rng.randint(1, 28),
        rng.randint(0, 23),
        rng.randint(0, 59),
        rng.randint(0, 59),
        rng.choice((0, rng.randint(0, 999_999))),
    )
    return moment.replace(tzinfo=rng.choice(ZONES))


@pytest.mark.parametrize("kind", ["rss", "atom"])
@pytest.mark.parametrize("seed", range(3))
def test_heads_are_the_bytes_feedgen_writes(kind: rss_atom.Kind, seed: int) -> None:
    rng = random.Random(seed)
    direct = 0
    for _ in range(150):
        head, updated = random_head(rng), random_date(rng)
        written = xml_heads.render(kind, head, updated)
        if written is None:  # lxml refuses the instruction: feedgen raises
            assert head.stylesheet_href is not None and "?>" in head.stylesheet_href
            continue
        direct += 1
        expected = rss_atom._serialize(kind, head, updated)
        assert written == expected, (head, updated)
        assert rss_atom.render_head(kind, head, updated) == expected
    assert direct > 130


@pytest.mark.parametrize("kind", ["rss", "atom"])
def test_a_bare_head_and_a_full_one(kind: rss_atom.Kind) -> None:
    bare = FeedHead(
        title="B",
        description="",
        site_url="https://h/",
        language="",
        author_name="",
        author_email=None,
        self_url="https://h/rss.xml",
        stylesheet_href=None,
        hub=None,
        category_scheme="",
        tag_scheme="",
    )
    full = FeedHead(
        title=" T & <t> \"q\" 'a' ]]> ",
        description="D\tE\r\nF",
        site_url="https://h/a?b=1&c=2",
        language="en-GB",
        author_name="Ed \u05e9\u05dc\u05d5\u05dd",
        author_email="ed@h",
        self_url='https://h/"x"\t&.xml',
        stylesheet_href='/s "x" & <y>.xsl',
        hub="https://hub.example/?a&b",
        category_scheme="c",
        tag_scheme="t",
        icon="https://h/i.png",
        logo="https://h/\U0001f600.png",
        rights="© 2024 Ed & co.",
    )
    for head in (bare, full):
        for updated in (None, datetime(2024, 5, 1, 17, 0, 0, 1, tzinfo=UTC)):
            written = xml_heads.render(kind, head, updated)
            assert written is not None
            assert written == rss_atom._serialize(kind, head, updated)


def _outcome(render: Callable[[], bytes]) -> bytes | tuple[str, str]:
    try:
        return render()
    except (ValueError, UnicodeError) as exc:
        return type(exc).__name__, str(exc)


@pytest.mark.parametrize("kind", ["rss", "atom"])
def test_what_lxml_or_feedgen_refuses_is_left_to_feedgen(kind: rss_atom.Kind) -> None:
    base = random_head(random.Random(1))
    when = datetime(2024, 5, 1, tzinfo=UTC)
    cases = [
        (replace(base, title="a\x01b"), when),
        (replace(base, rights="\ufffe"), when),
        (replace(base, description="\ud800"), when),
        (replace(base, hub="x\x1f"), when),
        (replace(base, stylesheet_href="/a?>.xsl"), when),
        (replace(base, title=""), when),
        (replace(base, self_url=""), when),
        (replace(base, site_url=""), None),
        (base, datetime(2024, 5, 1)),  # no zone
    ]
    for head, updated in cases:
        assert xml_heads.render(kind, head, updated) is None, head
        through = _outcome(lambda: rss_atom.render_head(kind, head, updated))  # noqa: B023
        assert through == _outcome(lambda: rss_atom._serialize(kind, head, updated))  # noqa: B023


def test_a_head_is_written_without_feedgen_or_dateutil() -> None:
    probe = textwrap.dedent(
        """
        import json, sys
        from datetime import datetime, timezone
        from publisher.feeds import rss_atom
        head = rss_atom.FeedHead(
            title="Blog", description="", site_url="https://h/", language="en",
            author_name="Ed", author_email="ed@h", self_url="https://h/rss.xml",
            stylesheet_href="/feed.xsl", hub="https://hub/", category_scheme="c",
            tag_scheme="t", icon="https://h/i.png", logo="https://h/l.png", rights="R",
        )
        when = datetime(2024, 5, 1, 17, tzinfo=timezone.utc)
        for kind in ("rss", "atom"):
            rss_atom.render_head(kind, head, when)
            rss_atom.render_head(kind, head, None)
        direct = sorted(m for m in sys.modules if m.split(".")[0] in ("feedgen", "dateutil", "lxml"))
        try:  # the fallback, in an interpreter that has not imported lxml.etree
            rss_atom.render_head("rss", head, datetime(2024, 5, 1))
        except ValueError as exc:
            refused = str(exc)
        print(json.dumps([direct, refused, "feedgen.feed" in sys.modules]))
        """
    )
    direct, refused, fell_back = fresh_probe(probe)
    assert direct == []
    assert refused == "Datetime object has no timezone info" and fell_back
