"""Counting as the platforms count, and budgets that cut the summary, never the link."""

from __future__ import annotations

import pytest
from fakes.posts import make_post

from publisher.announce.adapters.bluesky import BlueskyAnnouncer, link_facets, tid
from publisher.announce.adapters.mastodon import MastodonAnnouncer
from publisher.announce.adapters.slack import SlackAnnouncer
from publisher.announce.contract import TextLimit
from publisher.announce.render import hashtag, render_message
from publisher.announce.text import count, graphemes, shorten


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("abc", 3),
        ("e\u0301", 1),  # e + combining acute
        ("👍🏽", 1),  # skin tone modifier
        ("👨‍👩‍👧", 1),  # ZWJ family
        ("🇩🇪🇫🇷", 2),  # two flags
        ("🇩🇪🇫", 2),  # a flag and a lone regional indicator
        ("한국어", 3),
        ("\u1100\u1161\u11a8", 1),  # conjoining jamo L V T
        ("a\r\nb", 3),
        ("❤️", 1),  # heart + variation selector
        ("각", 1),  # precomposed Hangul syllable
        ("\u1100\uac00", 1),  # leading jamo + syllable (GB6; the old card splitter said 2)
        ("क्षि", 1),  # Devanagari conjunct (GB9c; both old splitters said 2)
        ("ค่ำ", 1),  # Thai consonant, tone mark, sara am (GB9a; both old splitters said 2)
        ("1\ufe0f\u20e3", 1),  # keycap sequence
    ],
)
def test_graphemes(text: str, expected: int) -> None:
    assert len(list(graphemes(text))) == expected
    assert "".join(graphemes(text)) == text


def test_cards_and_messages_count_graphemes_the_same_way() -> None:
    # One implementation: the two hand-written splitters disagreed on 4 of 8 samples.
    from publisher import unicode
    from publisher.cards import text as card_text

    samples = ["각", "\u1100\uac00", "👩‍👩‍👧", "🇩🇪🇫", "e\u0301", "क्षि", "ค่ำ", "a\r\nb", "❤️"]
    for sample in samples:
        assert graphemes(sample) == card_text.graphemes(sample) == unicode.graphemes(sample)


def test_units() -> None:
    text = "Grüße 👍🏽"
    assert count(text, "chars") == 8
    assert count(text, "graphemes") == 7
    assert count(text, "bytes") == len(text.encode())
    assert count(text, "utf16") == 10


def test_mastodon_counts_every_url_as_23() -> None:
    url = "https://blog.example.org/" + "x" * 200
    assert count(f"see {url} now", "graphemes", url_length=23) == len("see  now") + 23


def test_shorten_cuts_at_a_word_with_an_ellipsis() -> None:
    assert shorten("the quick brown fox jumps", 12) == "the quick…"
    assert shorten("short", 10) == "short"
    assert shorten("anything", 0) == ""


def test_hashtags() -> None:
    assert hashtag("eBPF") == "#eBPF"
    assert hashtag("service mesh") == "#ServiceMesh"
    assert hashtag("2024") == ""
    assert hashtag("c++") == "#c"


def test_budget_shortens_the_summary_and_keeps_the_whole_link() -> None:
    long_url = "https://blog.example.org/" + "very-long-path/" * 8
    post = make_post(1, summary="word " * 400, external_url=long_url)
    announcer = BlueskyAnnouncer("bsky", {"handle": "x", "app_password": None})
    rendered = render_message(announcer, post, announcer.limit)
    assert long_url in rendered.text
    assert count(rendered.text, "graphemes") <= 300
    assert rendered.shortened and rendered.summary.endswith("…")


def test_mastodon_budget_uses_23_per_url_so_a_long_link_does_not_eat_the_summary() -> None:
    post = make_post(1, summary="s" * 440, external_url="https://blog.example.org/" + "p" * 300)
    announcer = MastodonAnnouncer("m", {"instance": "https://x", "token": None})
    rendered = render_message(announcer, post, TextLimit(500, "graphemes", url_length=23))
    assert not rendered.shortened
    assert count(rendered.text, "graphemes", url_length=23) <= 500


def test_title_is_cut_when_the_summary_alone_is_not_enough() -> None:
    post = make_post(1, title="T" * 400, summary="s" * 100)
    announcer = BlueskyAnnouncer("bsky", {"handle": "x", "app_password": None})
    rendered = render_message(announcer, post, announcer.limit)
    assert post.url in rendered.text
    assert rendered.summary == ""
    assert rendered.title.endswith("…")


def test_a_link_longer_than_the_limit_is_an_error_not_a_cut_link() -> None:
    from publisher.errors import AnnounceError

    post = make_post(1, external_url="https://blog.example.org/" + "p" * 400)
    announcer = BlueskyAnnouncer("bsky", {"handle": "x", "app_password": None})
    with pytest.raises(AnnounceError, match="cannot fit"):
        render_message(announcer, post, announcer.limit)


def test_slack_escapes_markup_in_titles() -> None:
    post = make_post(1, title="<!channel> & friends")
    announcer = SlackAnnouncer("slack", {"url": None})
    rendered = render_message(announcer, post, announcer.limit)
    assert "<!channel>" not in rendered.text
    assert "&lt;!channel&gt; &amp; friends" in rendered.text


def test_template_override(tmp_path) -> None:  # type: ignore[no-untyped-def]
    template = tmp_path / "mine.j2"
    template.write_text("NEW: {{ title }} -> {{ url }} {{ hashtags }}", encoding="utf-8")
    post = make_post(1, tags=("eBPF", "service mesh"))
    announcer = SlackAnnouncer("slack", {"url": None})
    rendered = render_message(announcer, post, announcer.limit, template=str(template))
    assert rendered.text == f"NEW: Post number 1 -> {post.url} #eBPF #ServiceMesh"


def test_facets_use_utf8_byte_offsets() -> None:
    text = "Grüße 👍🏽 https://blog.example.org/ü/ more"
    (facet,) = link_facets(text)
    data = text.encode()
    start, end = facet["index"]["byteStart"], facet["index"]["byteEnd"]
    assert data[start:end].decode() == "https://blog.example.org/ü/"
    assert facet["features"][0]["uri"] == "https://blog.example.org/ü/"


def test_tid_is_13_sortable_characters() -> None:
    earlier, later = tid(1_700_000_000_000_000, 5), tid(1_700_000_000_000_001, 5)
    assert len(earlier) == 13 and earlier < later
    assert earlier[0] in "234567abcdefghij"
