"""Raw frontmatter and body values into typed fields: dates, URLs, authors, tags, text."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from publisher.posts.fields import (
    FieldProblem,
    author_from_body,
    authors_from_frontmatter,
    join_site_path,
    normalize_url,
    parse_author_text,
    parse_date,
    tag_key,
    text_list,
    truthy,
)
from publisher.posts.model import Author
from publisher.posts.text import clean_line, repair_mojibake, strip_invisible

BERLIN = ZoneInfo("Europe/Berlin")
DATE_FIX = "use ISO 8601, e.g. '2024-05-01T17:00:00Z' or '2024-05-01'"


# --- dates -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-05-01T17:00:00Z", "2024-05-01T17:00:00+00:00"),
        ("2022-11-04T17:00:00.000Z", "2022-11-04T17:00:00+00:00"),
        ("2024-05-01T17:00:00.250Z", "2024-05-01T17:00:00.250000+00:00"),
        ("2024-05-01T17:00:00+02:00", "2024-05-01T17:00:00+02:00"),
        ("2024-05-01T17:00:00-07:00", "2024-05-01T17:00:00-07:00"),
        # Naive values are in the site's zone, with its summer and winter offsets.
        ("2024-05-01", "2024-05-01T00:00:00+02:00"),
        ("2024-01-15", "2024-01-15T00:00:00+01:00"),
        ("2024-05-01T17:00:00", "2024-05-01T17:00:00+02:00"),
        ("2024-05-01 17:00:00", "2024-05-01T17:00:00+02:00"),
        ("  2024-05-01T17:00:00Z \n", "2024-05-01T17:00:00+00:00"),
        # RFC 822, as feeds and mail write dates.
        ("Wed, 01 May 2024 17:00:00 GMT", "2024-05-01T17:00:00+00:00"),
        ("Wed, 01 May 2024 17:00:00 UT", "2024-05-01T17:00:00+00:00"),
        ("Wed, 01 May 2024 17:00:00 +0200", "2024-05-01T17:00:00+02:00"),
        ("Wed, 01 May 2024 17:00:00 -0000", "2024-05-01T17:00:00+00:00"),
        ("Wed, 01 May 2024 17:00:00 PST", "2024-05-01T17:00:00-08:00"),
        ("Wed, 01 May 2024 17:00:00 EDT", "2024-05-01T17:00:00-04:00"),
        ("Wed, 01 May 2024 17:00:00", "2024-05-01T17:00:00+02:00"),
        ("1 May 2024", "2024-05-01T00:00:00+02:00"),
        # Values a YAML loader or a caller may already have typed.
        (datetime(2024, 5, 1, 17, tzinfo=UTC), "2024-05-01T17:00:00+00:00"),
        (datetime(2024, 5, 1, 17), "2024-05-01T17:00:00+02:00"),
        (date(2024, 5, 1), "2024-05-01T00:00:00+02:00"),
    ],
)
def test_parse_date_shapes(value: Any, expected: str) -> None:
    parsed = parse_date(value, BERLIN)
    assert parsed.tzinfo is not None
    assert parsed.isoformat() == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("next tuesday", "'next tuesday' is not a date"),
        ("next tuesday 2024", "'next tuesday 2024' is not a date"),
        ("5", "'5' is not a date"),
        ("2024-13-01", "'2024-13-01' is not a date"),
        ("", "'' is not a date"),
        ("   ", "'   ' is not a date"),
        (5, "5 is not a date"),
        (20240501, "20240501 is not a date"),
        (1.5, "1.5 is not a date"),
        (True, "True is not a date"),
        (None, "None is not a date"),
    ],
)
def test_parse_date_refuses(value: Any, message: str) -> None:
    with pytest.raises(FieldProblem) as caught:
        parse_date(value, BERLIN)
    assert caught.value.message == message
    assert caught.value.fix == DATE_FIX


@pytest.mark.parametrize("zone", ["CET", "IST", "BST"])
def test_parse_date_refuses_zone_names_it_cannot_place(zone: str) -> None:
    # Before: the name was dropped with a Python warning and the time read in the site's zone.
    text = f"Wed, 01 May 2024 17:00:00 {zone}"
    with pytest.raises(FieldProblem) as caught:
        parse_date(text, BERLIN)
    assert caught.value.message == f"'{text}' has an unknown time zone '{zone}'"
    assert caught.value.fix == (
        "write the UTC offset instead of the name, e.g. '+0100', or use ISO 8601"
    )


def test_parse_date_does_not_fill_a_missing_year_from_today() -> None:
    with pytest.raises(FieldProblem, match="'May 1' is not a date"):
        parse_date("May 1", BERLIN)


# --- URLs --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://example.org/a", "https://example.org/a"),
        ("  https://example.org/a  ", "https://example.org/a"),
        ("HTTPS://example.org/a", "https://example.org/a"),
        ("https://example.org/a b", "https://example.org/a%20b"),
        ("https://example.org/a%20b", "https://example.org/a%20b"),
        ("https://example.org/ä?q=ü#ß", "https://example.org/%C3%A4?q=%C3%BC#%C3%9F"),
        ("https://bücher.example/x", "https://xn--bcher-kva.example/x"),
        (
            "https://example.org/p/?utm_source=a&x=1,2;y=(z)",
            "https://example.org/p/?utm_source=a&x=1,2;y=(z)",
        ),
    ],
)
def test_normalize_url(url: str, expected: str) -> None:
    assert normalize_url(url) == expected


@pytest.mark.parametrize(
    "url",
    [
        "hhttps://isovalent.com/blog/",
        "//cdn.example.org/a.png",
        "/blog/x",
        "x.png",
        "mailto:me@example.org",
        "ftp://example.org/f",
        "https://",
    ],
)
def test_normalize_url_refuses_what_is_not_absolute_http(url: str) -> None:
    with pytest.raises(FieldProblem) as caught:
        normalize_url(url)
    assert caught.value.message == f"'{url}' is not an absolute http(s) URL"
    assert caught.value.fix == "write it as https://host/path"


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("https://[::1/x", "is not a valid URL (Invalid IPv6 URL)"),
        ("https://[zzz]/", "is not a valid URL"),
        ("https://podcasts|a|b/x", "has a host with a character no host name has"),
        ("https://exa mple.org/", "has a host with a character"),
        ("https://ex\x00ample.org/", "has a host with a character"),
        ("https://example.org:99999/", "has a port that is not a number from 0 to 65535"),
        ("https://example.org:x/", "has a port that is not a number"),
    ],
)
def test_normalize_url_refuses_malformed_hosts(url: str, words: str) -> None:
    with pytest.raises(FieldProblem) as caught:
        normalize_url(url)
    assert words in caught.value.message
    assert caught.value.fix


def test_a_long_bad_url_is_shortened_in_the_message() -> None:
    with pytest.raises(FieldProblem) as caught:
        normalize_url("ftp://" + "x" * 10_000)
    assert len(caught.value.message) < 120


@pytest.mark.parametrize(
    ("site", "path", "expected"),
    [
        ("https://blog.example.org", "/2024/05/01/x", "https://blog.example.org/2024/05/01/x"),
        ("https://blog.example.org/", "2024/x/", "https://blog.example.org/2024/x/"),
        ("https://example.org/blog", "/2024/x", "https://example.org/blog/2024/x"),
        ("https://example.org/blog/", " /über uns/ ", "https://example.org/blog/%C3%BCber%20uns/"),
    ],
)
def test_join_site_path(site: str, path: str, expected: str) -> None:
    assert join_site_path(site, path) == expected


# --- tags, lists, flags ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tag", "key"),
    [
        ("Service Mesh", "service-mesh"),
        ("service-mesh", "service-mesh"),
        ("service mesh", "service-mesh"),
        ("service_mesh", "service-mesh"),
        ("  Service  -  Mesh ", "service-mesh"),
        ("eBPF", "ebpf"),
        ("C++", "c++"),
        ("Straße", "strasse"),
    ],
)
def test_tag_key(tag: str, key: str) -> None:
    assert tag_key(tag) == key


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, []),
        ("a, b,, c ", ["a", "b", "c"]),
        (["a", " ", None, 3], ["a", "3"]),
        (("x",), ["x"]),
        (5, ["5"]),
    ],
)
def test_text_list(value: Any, expected: list[str]) -> None:
    assert text_list(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, True),
        ("true", True),
        (" Yes ", True),
        ("on", True),
        ("1", True),
        (1, True),
        (False, False),
        ("false", False),
        ("no", False),
        ("", False),
        (None, False),
        (0, False),
    ],
)
def test_truthy(value: Any, expected: bool) -> None:
    assert truthy(value) is expected


# --- authors -----------------------------------------------------------------------------

JANE = (Author(name="Jane Doe", org="Acme"),)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("*Author: Jane Doe, Acme*\n\nText.\n", JANE),
        ("_Author: Jane Doe, Acme_\n\nText.\n", JANE),
        ("**_Author: Jane Doe, Acme_**\n\nText.\n", JANE),
        ("**Author: Jane Doe, Acme**\n\nText.\n", JANE),
        ("##### Author: Jane Doe, Acme\n\nText.\n", JANE),
        ("_Written by: Jane Doe, Acme_\n\nText.\n", JANE),
        ("*Authors: Jane Doe, Acme*\n", JANE),
        ("_Author: [Jane Doe](https://example.org/jane), Acme_\n", JANE),
        ("Written by Jane Doe\n\nText.\n", (Author(name="Jane Doe"),)),
        ("Posted by Jane Doe\n", (Author(name="Jane Doe"),)),
        # The corpus shape: a date line ending in a hard break, then the author line.
        (
            "_November 4th, 2022_  \n_Author: Bill Mulligan, Isovalent_\n\nText.\n",
            (Author(name="Bill Mulligan", org="Isovalent"),),
        ),
        ("_Author: Jane Doe, Acme_\\\nText right below.\n", JANE),
        (
            "_Author: Leonard Cohnen & Moritz Eckert, Edgeless Systems_\n",
            (
                Author(name="Leonard Cohnen", org="Edgeless Systems"),
                Author(name="Moritz Eckert", org="Edgeless Systems"),
            ),
        ),
        # Near the bottom counts too.
        ("\n\n".join(["Paragraph."] * 30) + "\n\n_Author: Jane Doe, Acme_\n", JANE),
    ],
)
def test_author_line_styles(body: str, expected: tuple[Author, ...]) -> None:
    assert author_from_body(body) == expected


@pytest.mark.parametrize(
    "body",
    [
        "We use a tool written by Jane Doe, Acme.\n",
        # A wrapped paragraph can start a line with "written by" mid-sentence.
        "We use a small tool that was\nwritten by Jane Doe and friends in 2019. It works.\n",
        "*written by* the team that built it.\n",
        "```yaml\nauthor: ci-bot\n```\n\nText.\n",
        "> Author Note: this is a post by a long-time kernel developer.\n",
        # In the middle of a long body, neither near the top nor the bottom.
        "\n\n".join(["Paragraph."] * 20)
        + "\n\n_Author: Jane Doe_\n\n"
        + "\n\n".join(["Paragraph."] * 20),
        "",
    ],
)
def test_not_author_lines(body: str) -> None:
    assert author_from_body(body) == ()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Jane Doe", (Author(name="Jane Doe"),)),
        ("Jane Doe, Acme", JANE),
        ("A & B, Org", (Author(name="A", org="Org"), Author(name="B", org="Org"))),
        ("A and B", (Author(name="A"), Author(name="B"))),
        ("A, B & C, Org", tuple(Author(name=n, org="Org") for n in "ABC")),
        ("", ()),
        ("[Jane Doe](https://x.org/jane), Acme", JANE),
        ("[A](a) and [B](b)", (Author(name="A"), Author(name="B"))),
        ("[not a link] B", (Author(name="[not a link] B"),)),
        ("[x [Jane Doe](l), Acme", (Author(name="x [Jane Doe", org="Acme"),)),
        ("Jane   Doe  &  Bo", (Author(name="Jane Doe"), Author(name="Bo"))),
        ("Grand and", (Author(name="Grand and"),)),
        ("Ann andersen", (Author(name="Ann andersen"),)),
    ],
)
def test_parse_author_text(text: str, expected: tuple[Author, ...]) -> None:
    assert parse_author_text(text) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Jane Doe", (Author(name="Jane Doe"),)),
        (["Jane Doe", "Sam Lee"], (Author(name="Jane Doe"), Author(name="Sam Lee"))),
        (
            [{"name": "Jane Doe", "org": "Acme", "email": "jane@example.org"}],
            (Author(name="Jane Doe", org="Acme", email="jane@example.org"),),
        ),
        ([{"name": "Jane Doe", "organization": "Acme"}], JANE),
        ([{"name": "Jane Doe", "company": "Acme"}], JANE),
        ([{"email": "nobody@example.org"}, "", None, " Sam "], (Author(name="Sam"),)),
        (None, ()),
        ([], ()),
    ],
)
def test_authors_from_frontmatter(value: Any, expected: tuple[Author, ...]) -> None:
    assert authors_from_frontmatter(value) == expected


# --- text clean-up -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("\u200bHello\u200b World\ufeff", "Hello World"),
        ("\ufeffTitle", "Title"),
        ("co\u00adop\u2060eration", "cooperation"),
        ("\u200dEdge\u200c", "Edge"),
        # Inside text a zero-width joiner is meaningful: it builds the emoji.
        ("Dev life \U0001f469\u200d\U0001f4bb", "Dev life \U0001f469\u200d\U0001f4bb"),
        ("  plain  ", "plain"),
    ],
)
def test_strip_invisible(text: str, expected: str) -> None:
    assert strip_invisible(text) == expected


@pytest.mark.parametrize(
    ("text", "fixed", "repair"),
    [
        ("havenâ€™t", "haven’t", "'havenâ€™t' -> 'haven’t'"),
        ("donâ€™t and canâ€™t", "don’t and can’t", "2 words, e.g. 'donâ€™t' -> 'don’t'"),
        ("CrÃ¨me brÃ»lÃ©e", "Crème brûlée", "2 words, e.g. 'CrÃ¨me' -> 'Crème'"),
    ],
)
def test_repair_mojibake(text: str, fixed: str, repair: str) -> None:
    assert repair_mojibake(text) == (fixed, repair)


@pytest.mark.parametrize(
    "text",
    ["plain ascii", "Crème brûlée", "Äpfel und Öl", "Ñandú", "Cilium’s “quotes”", "日本語"],
)
def test_repair_mojibake_leaves_good_text_alone(text: str) -> None:
    assert repair_mojibake(text) == (text, None)


def test_clean_line_collapses_whitespace_and_repairs() -> None:
    assert clean_line("  A \n  B\u200b ") == ("A B", None)
    assert clean_line("\u200bCiliumâ€™s  way ") == ("Cilium’s way", "'Ciliumâ€™s' -> 'Cilium’s'")


def test_a_plain_day_reads_as_isoparse_reads_it() -> None:
    """``YYYY-MM-DD`` skips dateutil's parser (issue 12): the same datetime, and every
    day that does not exist still goes to it (and to its errors)."""
    from dateutil.parser import isoparse

    from publisher.posts.fields import _day

    for year in (1, 999, 1000, 1970, 2024, 9999):
        for month in range(14):
            for day in range(33):
                text = f"{year:04d}-{month:02d}-{day:02d}"
                try:
                    expected = isoparse(text)
                except ValueError:
                    assert _day(text) is None, text
                    continue
                assert _day(text) == expected and type(_day(text)) is type(expected), text
    assert _day("٢٠٢٤-٠٥-٠١") is None and _day("2024-05-01 ") is None


def test_the_author_line_prefilter_never_hides_an_author_line() -> None:
    """``author_from_body`` looks at the lines only when ``_may_name_author`` says a
    word of an author line starts one (issue 12: one search instead of three): on random
    bodies of author lines in every style, line breaks of every kind, fences and marks,
    it finds what the line walk alone finds, and says no to most prose."""
    import random
    import time

    from publisher.posts.fields import _author_line, _may_name_author, author_from_body

    pieces = (
        *("Author: Jane Doe", "_Author: Bill, Org_", "**_Author: X, Y_**", "##### Author: Q"),
        *("Written by Sam Lee", "_Written by: X_", "posted by: Z", "Authors: A & B, Org"),
        *("AUTHOR: Up", "wRiTtEn by Mixed", "the author: no", "co-author: no", "\\Author: a"),
        *("İ", "ſ", "naïve", "mesh policy", "an author wrote", "```", "~~~", "    code"),
    )
    breaks = ("\n", "\n\n", "\r\n", "\r", "\x0b", "\x0c", "\x1c", "\x85", "\u2028", "  \n")
    marks = ("", "", "#", "# ", "\t", " ", "*", "_", "~", "`", "\x1f", "\\")
    rng = random.Random(8)
    said_no = 0
    for _ in range(6000):
        body = "".join(
            rng.choice(marks) + rng.choice(pieces) + rng.choice(breaks)
            for _ in range(rng.randint(1, 8))
        )
        found = _author_line(body)
        assert author_from_body(body) == found, repr(body)
        if found:
            assert _may_name_author(body), repr(body)
        said_no += not _may_name_author(body)
    assert said_no > 200
    # Prose that names an author mid-sentence needs no line walk.
    assert not _may_name_author("Mesh policy by the author, written and posted here.\n\nMore.")

    # Linear on hostile bodies (no search restarts inside a run of marks): four times the
    # text costs about four times the CPU, not sixteen.
    def cost(size: int) -> float:
        started = time.process_time()
        for body in ("\n" + " " * size + "x", ("\n" + "*" * 50) * (size // 51)):
            assert not _may_name_author(body)
        return time.process_time() - started

    small = min(cost(50_000) for _ in range(3))
    assert min(cost(200_000) for _ in range(3)) < 10 * max(small, 1e-4)
