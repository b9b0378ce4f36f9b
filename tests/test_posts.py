"""read_posts through a real config.yaml: fields, cross-post rules, diagnostics, cache, pool."""

from __future__ import annotations

import concurrent.futures
import os
import sqlite3
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import publisher.posts.collect
import publisher.posts.found
from conftest import BASE_CONFIG, Site
from publisher.config import load_config
from publisher.posts import Author, Post, ReadResult, forked, read_posts
from publisher.posts.cache import PostCache
from publisher.posts.folder import PlainPaths
from publisher.posts.reader import ReadContext, parse_post

GOOD = ("good", "title: Good\ndate: 2024-01-02")


def read(site: Site, **kwargs: Any) -> ReadResult:
    return read_posts(load_config(site.config_path), **kwargs)


def messages(result: ReadResult) -> list[str]:
    return [str(p) for p in result.problems]


def ids(result: ReadResult) -> list[str]:
    return [p.id for p in result.posts]


def only(result: ReadResult, post_id: str) -> Post:
    (post,) = [p for p in result.posts if p.id == post_id]
    return post


def with_site_keys(site: Site, extra: str) -> None:
    """The base config with more keys under ``site:``."""
    site.config_path.write_text(
        BASE_CONFIG.replace("  timezone: Europe/Berlin\n", "  timezone: Europe/Berlin\n" + extra),
        encoding="utf-8",
    )


# --- a whole post --------------------------------------------------------------------------


def test_own_post_fields(site: Site) -> None:
    site.post(
        "2022-11-04-kubecon",
        """
        path: '/blog/2022/11/04/kubecon-wrapup'
        date: '2022-11-04T17:00:00.000Z'
        updated: '2022-11-05T09:30:00Z'
        title: 'KubeCon   Wrap Up'
        isPopular: true
        isFeatured: false
        ogImage: ./stage.webp
        ogSummary: 'The buzz from KubeCon'
        categories:
          - Community
          - Community
        tags: Cilium, KubeCon
        """,
        """
        import authors from 'utils/author-data';

        _Author: Bill Mulligan, Isovalent_

        ![Stage](stage.webp)

        <BlogAuthor {...authors.BillMulligan} />
        """,
    )
    image = site.file("2022-11-04-kubecon/stage.webp", b"RIFF")
    result = read(site)
    assert result.problems == ()
    assert result.files == 1
    (post,) = result.posts
    assert post.id == "2022-11-04-kubecon"
    assert post.source == site.posts / "2022-11-04-kubecon" / "index.md"
    assert post.url == post.page_url == "https://blog.example.org/blog/2022/11/04/kubecon-wrapup"
    assert post.path == "/blog/2022/11/04/kubecon-wrapup"
    assert post.external_url is None
    assert not post.is_link_post
    assert post.title == "KubeCon Wrap Up"
    assert post.summary == "The buzz from KubeCon"
    assert post.date == datetime(2022, 11, 4, 17, tzinfo=UTC)
    assert post.updated == datetime(2022, 11, 5, 9, 30, tzinfo=UTC)
    assert post.og_image == image.resolve()
    assert post.og_image_url is None
    assert post.categories == ("Community",)
    assert post.tags == ("Cilium", "KubeCon")
    assert post.authors == (Author(name="Bill Mulligan", org="Isovalent"),)
    assert (post.is_popular, post.is_featured, post.draft) == (True, False, False)
    assert post.body_markdown.startswith("import authors from 'utils/author-data';")
    assert post.body_html == (
        "<p><em>Author: Bill Mulligan, Isovalent</em></p>\n"
        '<p><img src="https://blog.example.org/blog/2022/11/04/kubecon-wrapup/stage.webp"'
        ' alt="Stage"></p>\n'
    )
    assert post.frontmatter["isPopular"] is True


def test_link_post_fields(site: Site) -> None:
    site.post(
        "link",
        """
        date: '2024-08-08T17:20:05.000Z'
        title: Demystifying the CNI
        externalUrl: ' https://isovalent.com/blog/post/demystifying-cni/ '
        ogImageUrl: 'https://cdn.example.org/ä.png'
        description: From the description key
        """,
    )
    post = only(read(site), "link")
    assert post.is_link_post
    assert post.url == "https://isovalent.com/blog/post/demystifying-cni/"
    assert post.external_url == post.url
    assert post.page_url == "https://blog.example.org/link/"
    assert post.path is None
    assert post.og_image is None
    assert post.og_image_url == "https://cdn.example.org/%C3%A4.png"
    assert post.summary == "From the description key"
    assert post.body_markdown == post.body_html == ""


def test_crlf_and_utf8_bom_read_like_plain_utf8(site: Site) -> None:
    site.post("plain", "", raw=b"---\ntitle: Same\ndate: 2024-01-02\n---\nBody *text*.\n")
    site.post(
        "windows",
        "",
        raw=b"\xef\xbb\xbf---\r\ntitle: Same\r\ndate: 2024-01-02\r\n---\r\nBody *text*.\r\n",
    )
    result = read(site)
    assert result.problems == ()
    plain, windows = only(result, "plain"), only(result, "windows")
    assert (windows.title, windows.date, windows.body_markdown, windows.body_html) == (
        plain.title,
        plain.date,
        plain.body_markdown,
        plain.body_html,
    )


def test_posts_are_newest_first_then_by_id(site: Site) -> None:
    site.post("b", "title: B\ndate: 2024-01-02")
    site.post("a", "title: A\ndate: 2024-01-02")
    site.post("c", "title: C\ndate: 2024-03-01")
    site.post("old", "title: Old\ndate: 2020-01-01")
    assert ids(read(site)) == ["c", "a", "b", "old"]


# --- dates ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        pytest.param("'2024-05-01T17:00:00Z'", "2024-05-01T17:00:00+00:00", id="quoted-z"),
        pytest.param("'2022-11-04T17:00:00.000Z'", "2022-11-04T17:00:00+00:00", id="millis"),
        pytest.param("'2024-05-01T17:00:00+02:00'", "2024-05-01T17:00:00+02:00", id="offset"),
        pytest.param("2022-11-04T17:00:00.000Z", "2022-11-04T17:00:00+00:00", id="yaml-timestamp"),
        pytest.param("2024-05-01 17:00:00", "2024-05-01T17:00:00+02:00", id="yaml-naive"),
        pytest.param("'2024-05-01'", "2024-05-01T00:00:00+02:00", id="date-quoted"),
        pytest.param("2024-05-01", "2024-05-01T00:00:00+02:00", id="date-unquoted"),
        pytest.param("2024-12-24", "2024-12-24T00:00:00+01:00", id="date-winter"),
        pytest.param("'2024-05-01T17:00:00'", "2024-05-01T17:00:00+02:00", id="naive"),
        pytest.param("'Wed, 01 May 2024 17:00:00 GMT'", "2024-05-01T17:00:00+00:00", id="rfc822"),
        pytest.param(
            "Wed, 01 May 2024 17:00:00 -0700", "2024-05-01T17:00:00-07:00", id="rfc822-offset"
        ),
        pytest.param(
            "Wed, 01 May 2024 17:00:00 PDT", "2024-05-01T17:00:00-07:00", id="rfc822-zone"
        ),
    ],
)
def test_date_shapes(site: Site, written: str, expected: str) -> None:
    site.post("p", f"title: T\ndate: {written}")
    result = read(site)
    assert result.problems == ()
    assert only(result, "p").date.isoformat() == expected


def test_naive_dates_use_the_configured_zone(site: Site) -> None:
    site.config_path.write_text(
        BASE_CONFIG.replace("Europe/Berlin", "America/New_York"), encoding="utf-8"
    )
    site.post("p", "title: T\ndate: 2024-05-01")
    assert only(read(site), "p").date.isoformat() == "2024-05-01T00:00:00-04:00"


ISO_FIX = "use ISO 8601, e.g. '2024-05-01T17:00:00Z' or '2024-05-01'"
MISSING_DATE_FIX = "add a line like date: '2024-05-01T17:00:00Z'"


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        pytest.param("next tuesday", f"date 'next tuesday' is not a date; {ISO_FIX}", id="words"),
        pytest.param("'5'", f"date '5' is not a date; {ISO_FIX}", id="quoted-5"),
        pytest.param("5", f"date 5 is not a date; {ISO_FIX}", id="number"),
        pytest.param("20240501", f"date 20240501 is not a date; {ISO_FIX}", id="yyyymmdd"),
        pytest.param("1.5", f"date 1.5 is not a date; {ISO_FIX}", id="float"),
        pytest.param("''", f"date is missing; {MISSING_DATE_FIX}", id="empty-quoted"),
        pytest.param("", f"date is missing; {MISSING_DATE_FIX}", id="empty"),
        pytest.param(
            "'Wed, 01 May 2024 17:00:00 CET'",
            "date 'Wed, 01 May 2024 17:00:00 CET' has an unknown time zone 'CET'; "
            "write the UTC offset instead of the name, e.g. '+0100', or use ISO 8601",
            id="unknown-zone",
        ),
    ],
)
def test_bad_dates(site: Site, written: str, expected: str) -> None:
    site.post(*GOOD)
    site.post("p", f"title: T\ndate: {written}")
    result = read(site)
    assert messages(result) == [f"posts/p/index.md:3: {expected}"]
    assert result.errors == result.problems
    assert ids(result) == ["good"]


def test_bad_updated_is_a_warning_and_ignored(site: Site) -> None:
    site.post("p", "title: T\ndate: 2024-01-02\nupdated: soon")
    result = read(site)
    assert messages(result) == [
        f"posts/p/index.md:4: updated 'soon' is not a date; ignored; {ISO_FIX}"
    ]
    assert result.errors == ()
    assert only(result, "p").updated is None


# --- authors -------------------------------------------------------------------------------

BODY_AUTHOR = "\n_Author: Body Person, Body Org_\n\nText.\n"


@pytest.mark.parametrize(
    ("frontmatter", "expected"),
    [
        pytest.param(
            "authors:\n  - Jane Doe\n  - Sam Lee",
            (Author(name="Jane Doe"), Author(name="Sam Lee")),
            id="list",
        ),
        pytest.param("authors: Jane Doe", (Author(name="Jane Doe"),), id="str"),
        pytest.param("author: Jane Doe", (Author(name="Jane Doe"),), id="author-key"),
        pytest.param(
            "authors:\n  - name: Jane Doe\n    org: Acme\n    email: jane@example.org",
            (Author(name="Jane Doe", org="Acme", email="jane@example.org"),),
            id="dicts",
        ),
        pytest.param("authors: []", (Author(name="Body Person", org="Body Org"),), id="empty"),
        pytest.param("tags: [x]", (Author(name="Body Person", org="Body Org"),), id="absent"),
    ],
)
def test_frontmatter_authors_win_over_the_body(
    site: Site, frontmatter: str, expected: tuple[Author, ...]
) -> None:
    site.post("p", f"title: T\ndate: 2024-01-02\n{frontmatter}", BODY_AUTHOR)
    assert only(read(site), "p").authors == expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("*Author: Jane Doe, Acme*\n", (Author(name="Jane Doe", org="Acme"),)),
        ("_Author: Jane Doe, Acme_\n", (Author(name="Jane Doe", org="Acme"),)),
        ("**_Author: Jane Doe, Acme_**\n", (Author(name="Jane Doe", org="Acme"),)),
        ("**Author: Jane Doe, Acme**\n", (Author(name="Jane Doe", org="Acme"),)),
        ("##### Author: Jane Doe, Acme\n", (Author(name="Jane Doe", org="Acme"),)),
        ("_Written by: Jane Doe, Acme_\n", (Author(name="Jane Doe", org="Acme"),)),
        ("Written by Jane Doe\n\nMore text.\n", (Author(name="Jane Doe"),)),
        ("_Author: A & B, Org_\n", (Author(name="A", org="Org"), Author(name="B", org="Org"))),
        # Not author lines: the site's default author applies.
        ("We use a tool written by Jane Doe, Acme.\n", (Author(name="Site Team"),)),
        (
            "It is a small tool that was\nwritten by Jane Doe and friends in 2019.\n",
            (Author(name="Site Team"),),
        ),
        ("No author anywhere.\n", (Author(name="Site Team"),)),
    ],
)
def test_body_author_lines_and_site_default(
    site: Site, body: str, expected: tuple[Author, ...]
) -> None:
    with_site_keys(site, "  author: Site Team\n")
    site.post("p", "title: T\ndate: 2024-01-02", body)
    assert only(read(site), "p").authors == expected


def test_site_author_mapping_is_the_default(site: Site) -> None:
    with_site_keys(site, "  author:\n    name: Site Team\n    email: team@example.org\n")
    site.post("p", "title: T\ndate: 2024-01-02", "Text.\n")
    assert only(read(site), "p").authors == (Author(name="Site Team", email="team@example.org"),)


def test_no_author_and_no_site_default(site: Site) -> None:
    site.post("p", "title: T\ndate: 2024-01-02", "Text.\n")
    assert only(read(site), "p").authors == ()


# --- MDX and references in a read post -----------------------------------------------------


def test_body_is_stripped_of_mdx_and_absolute(site: Site) -> None:
    site.post(
        "p",
        "title: T\ndate: 2024-01-02\npath: /blog/p",
        """
        import authors from 'utils/author-data';
        import {
          Tabs,
        } from '@theme/Tabs';

        <div style={{ textAlign: 'center' }} className="center">
        <img src="diagram ä.png" srcset="diagram.png 1x, ../shared/d@2x.png 2x" />
        </div>

        See [the intro](#intro), [another post](../other/), [mail](mailto:me@example.org)
        and [a CDN file](//cdn.example.org/f.js). `<BlogAuthor />` stays in code.

        {/* editor note */}
        <BlogAuthor {...authors.x} />
        """,
    )
    result = read(site)
    # No author data for authors.x: the component is dropped with a warning (test_embeds).
    assert [(p.field, p.severity) for p in result.problems] == [("body", "warning")]
    assert only(result, "p").body_html == (
        '<div class="center">\n'
        '<img src="https://blog.example.org/blog/p/diagram%20%C3%A4.png" '
        'srcset="https://blog.example.org/blog/p/diagram.png 1x, '
        'https://blog.example.org/blog/shared/d@2x.png 2x">\n'
        "</div>\n"
        '<p>See <a href="https://blog.example.org/blog/p#intro">the intro</a>, '
        '<a href="https://blog.example.org/blog/other/">another post</a>, '
        '<a href="mailto:me@example.org">mail</a>\n'
        'and <a href="https://cdn.example.org/f.js">a CDN file</a>. '
        "<code>&lt;BlogAuthor /&gt;</code> stays in code.</p>\n"
    )


def test_site_under_a_folder_resolves_against_the_page(site: Site) -> None:
    site.config_path.write_text(
        BASE_CONFIG.replace("https://blog.example.org", "https://example.org/blog/"),
        encoding="utf-8",
    )
    site.post("p", "title: T\ndate: 2024-01-02\npath: /2024/p/", "![x](x.png) [up](../)\n")
    post = only(read(site), "p")
    assert post.url == "https://example.org/blog/2024/p/"
    assert post.body_html == (
        '<p><img src="https://example.org/blog/2024/p/x.png" alt="x"> '
        '<a href="https://example.org/blog/2024/">up</a></p>\n'
    )


# --- text clean-up -------------------------------------------------------------------------

REPAIR_FIX = "save the text as UTF-8 to silence this"


def test_mojibake_is_repaired_with_a_warning(site: Site) -> None:
    site.post(
        "p",
        "title: Ciliumâ€™s way\ndate: 2024-01-02\nogSummary: We havenâ€™t\n",
        "\nWe donâ€™t and canâ€™t.\n",
    )
    result = read(site)
    assert messages(result) == [
        f"posts/p/index.md:2: title had mojibake, repaired ('Ciliumâ€™s' -> 'Cilium’s'); {REPAIR_FIX}",
        f"posts/p/index.md:4: ogSummary had mojibake, repaired ('havenâ€™t' -> 'haven’t'); {REPAIR_FIX}",
        f"posts/p/index.md:6: body had mojibake, repaired (2 words, e.g. 'donâ€™t' -> 'don’t'); {REPAIR_FIX}",
    ]
    assert {p.severity for p in result.problems} == {"warning"}
    post = only(result, "p")
    assert post.title == "Cilium’s way"
    assert post.summary == "We haven’t"
    assert post.body_markdown == "We don’t and can’t."
    assert post.body_html == "<p>We don’t and can’t.</p>\n"


def test_good_non_ascii_text_is_not_reported(site: Site) -> None:
    site.post("p", "title: Äpfel, Öl und Crème brûlée\ndate: 2024-01-02", "Ñandú 日本語\n")
    result = read(site)
    assert result.problems == ()
    assert only(result, "p").title == "Äpfel, Öl und Crème brûlée"


def test_invisible_characters_leave_titles(site: Site) -> None:
    site.post("zw", 'title: "\u200bHello\ufeff World\u200b"\ndate: 2024-01-02', "A\u200bB\n")
    site.post("emoji", "title: Dev life \U0001f469\u200d\U0001f4bb\ndate: 2024-01-02")
    result = read(site)
    assert result.problems == ()
    assert only(result, "zw").title == "Hello World"
    assert only(result, "zw").body_markdown == "AB"
    assert only(result, "emoji").title == "Dev life \U0001f469\u200d\U0001f4bb"


# --- tags ----------------------------------------------------------------------------------


def test_tag_spellings_group_under_the_most_common(site: Site) -> None:
    site.post("a", "title: A\ndate: 2024-01-01\ntags: [service-mesh, eBPF]")
    site.post("b", "title: B\ndate: 2024-01-02\ntags: [service-mesh]")
    site.post("c", "title: C\ndate: 2024-01-03\ntags: [Service Mesh, service mesh, Cilium]")
    site.post("d", "title: D\ndate: 2024-01-04\ntags: [service_mesh, SERVICE MESH, ebpf]")
    result = read(site)
    tags = {p.id: p.tags for p in result.posts}
    assert tags == {
        "a": ("service-mesh", "eBPF"),
        "b": ("service-mesh",),
        "c": ("service-mesh", "Cilium"),
        "d": ("service-mesh", "eBPF"),
    }


@pytest.mark.parametrize(
    "order", [("Service Mesh", "service mesh"), ("service mesh", "Service Mesh")]
)
def test_tag_tie_break_does_not_depend_on_which_post_comes_first(
    site: Site, order: tuple[str, str]
) -> None:
    site.post("a", f"title: A\ndate: 2024-01-01\ntags: [{order[0]}, service-mesh]")
    site.post("b", f"title: B\ndate: 2024-01-02\ntags: [{order[1]}, service-mesh]")
    site.post("c", "title: C\ndate: 2024-01-03\ntags: [Service Mesh, service mesh]")
    # Two of each spelling: the tie goes to the spelling that sorts first.
    result = read(site)
    assert {p.id: p.tags for p in result.posts} == {
        "a": ("Service Mesh",),
        "b": ("Service Mesh",),
        "c": ("Service Mesh",),
    }


def test_a_post_lists_a_tag_once(site: Site) -> None:
    site.post("p", "title: P\ndate: 2024-01-01\ntags: [eBPF, ebpf, EBPF, Cilium, eBPF]")
    assert only(read(site), "p").tags == ("eBPF", "Cilium")


# --- drafts and scheduled posts ------------------------------------------------------------


@pytest.mark.parametrize(
    ("draft", "is_draft"),
    [("true", True), ("'yes'", True), ("1", True), ("false", False), ("'no'", False)],
)
def test_draft_values(site: Site, draft: str, is_draft: bool) -> None:
    site.post("p", f"title: P\ndate: 2024-01-01\ndraft: {draft}")
    assert only(read(site), "p").draft is is_draft


def test_published_excludes_drafts_and_future_posts(site: Site) -> None:
    site.post("past", "title: Past\ndate: '2024-01-01T00:00:00Z'")
    site.post("past-draft", "title: Draft\ndate: '2024-01-01T00:00:00Z'\ndraft: true")
    site.post("future", "title: Future\ndate: '2030-01-01T09:00:00Z'")
    site.post("future-draft", "title: FD\ndate: '2030-01-01T09:00:00Z'\ndraft: true")
    result = read(site)
    assert sorted(ids(result)) == ["future", "future-draft", "past", "past-draft"]

    def published(now: datetime) -> list[str]:
        return [p.id for p in result.published(now)]

    assert published(datetime(2029, 12, 31, tzinfo=UTC)) == ["past"]
    assert published(datetime(2030, 1, 1, 8, 59, 59, tzinfo=UTC)) == ["past"]
    assert published(datetime(2030, 1, 1, 9, tzinfo=UTC)) == ["future", "past"]
    assert published(datetime(2099, 1, 1, tzinfo=UTC)) == ["future", "past"]
    assert published(datetime(2023, 12, 31, tzinfo=UTC)) == []


# --- identity and URLs ---------------------------------------------------------------------


def test_id_survives_edits_to_title_date_summary_and_path(site: Site) -> None:
    site.post("2024-05-01-hello", "title: Hello\ndate: 2024-05-01\nogSummary: One")
    first = only(read(site), "2024-05-01-hello")
    assert first.url == "https://blog.example.org/2024-05-01-hello/"
    site.post(
        "2024-05-01-hello",
        "title: Hello, again\ndate: 2024-06-01\nogSummary: Two\npath: /blog/hello",
    )
    (second,) = read(site).posts
    assert second.id == first.id == "2024-05-01-hello"
    assert (second.title, second.summary) == ("Hello, again", "Two")
    assert second.url == "https://blog.example.org/blog/hello"
    assert second.date != first.date


def test_default_path_from_config(site: Site) -> None:
    site.config_path.write_text(
        BASE_CONFIG.replace("  folder: posts\n", "  folder: posts\n  default_path: /blog/{id}/\n"),
        encoding="utf-8",
    )
    site.post("p", "title: P\ndate: 2024-01-01")
    assert only(read(site), "p").url == "https://blog.example.org/blog/p/"


def test_invalid_external_url_is_a_warning_and_the_post_keeps_its_own_page(site: Site) -> None:
    site.post(
        "grad",
        "title: Graduation\ndate: 2024-01-01\nexternalUrl: 'hhttps://isovalent.com/blog/post/x/'",
    )
    result = read(site)
    assert messages(result) == [
        "posts/grad/index.md:4: externalUrl 'hhttps://isovalent.com/blog/post/x/' is not an "
        "absolute http(s) URL; write it as https://host/path; "
        "until then the post links to https://blog.example.org/grad/"
    ]
    assert result.errors == ()
    post = only(result, "grad")
    assert post.id == "grad"
    assert post.external_url is None
    assert post.url == post.page_url == "https://blog.example.org/grad/"


# --- bad input -----------------------------------------------------------------------------

Setup = Callable[[Site], object]
YAML_FIX = "quote values that contain ': ' or start with a special character"


def raw(data: bytes) -> Setup:
    return lambda site: site.post("bad", "", raw=data)


def frontmatter(text: str, *files: str) -> Setup:
    def setup(site: Site) -> None:
        site.post("bad", text)
        for name in files:
            site.file(f"bad/{name}")

    return setup


BAD = [
    pytest.param(
        raw(b"# Just markdown\n\nNo frontmatter here.\n"),
        "posts/bad/index.md:1: frontmatter is missing: the file must start with a '---' line; "
        "add YAML frontmatter between two '---' lines at the top",
        id="no-frontmatter",
    ),
    pytest.param(
        raw(b""),
        "posts/bad/index.md:1: frontmatter is missing: the file must start with a '---' line; "
        "add YAML frontmatter between two '---' lines at the top",
        id="empty-file",
    ),
    pytest.param(
        raw(b"---\ntitle: T\ndate: 2024-01-02\n\nBody.\n"),
        "posts/bad/index.md:1: frontmatter is not closed; "
        "add a '---' line after the last frontmatter key (opened on line 1)",
        id="unclosed",
    ),
    pytest.param(
        frontmatter("title: T\ndate: 2024-01-02\nogSummary: Note: this breaks"),
        "posts/bad/index.md:4: frontmatter is not valid YAML "
        f"(mapping values are not allowed in this context); {YAML_FIX}",
        id="invalid-yaml",
    ),
    pytest.param(
        frontmatter("title: T\n\tdate: 2024-01-02"),
        "posts/bad/index.md:3: frontmatter is not valid YAML "
        f"(found a tab character that violates indentation); {YAML_FIX}",
        id="invalid-yaml-tab",
    ),
    pytest.param(
        raw(b"\n\n---\ntitle: T\ndate: 2024-01-02\nogSummary: Note: this breaks\n---\n"),
        "posts/bad/index.md:6: frontmatter is not valid YAML "
        f"(mapping values are not allowed in this context); {YAML_FIX}",
        id="invalid-yaml-after-blank-lines",
    ),
    pytest.param(
        frontmatter("- title\n- date"),
        "posts/bad/index.md:2: frontmatter must be a mapping of keys to values, not list; "
        "write it as 'key: value' lines",
        id="frontmatter-list",
    ),
    pytest.param(
        frontmatter("title: T"),
        f"posts/bad/index.md: date is missing; {MISSING_DATE_FIX}",
        id="missing-date",
    ),
    pytest.param(
        frontmatter("title: T\ndate: next tuesday"),
        f"posts/bad/index.md:3: date 'next tuesday' is not a date; {ISO_FIX}",
        id="unparsable-date",
    ),
    pytest.param(
        frontmatter("date: 2024-01-02"),
        "posts/bad/index.md: title is missing; add a line like title: 'What this post is about'",
        id="missing-title",
    ),
    pytest.param(
        frontmatter("title: '\u200b '\ndate: 2024-01-02"),
        "posts/bad/index.md:2: title is missing; add a line like title: 'What this post is about'",
        id="invisible-title",
    ),
    pytest.param(
        frontmatter("title: T\ndate: 2024-01-02\nogImage: ../../../etc/passwd"),
        "posts/bad/index.md:4: ogImage '../../../etc/passwd' points outside the site; "
        "put the image in the post's folder",
        id="og-image-outside",
    ),
    pytest.param(
        frontmatter("title: T\ndate: 2024-01-02\nogImage: /img/cover.png"),
        "posts/bad/index.md:4: ogImage '/img/cover.png' is a site-root path; "
        "write the file name relative to the post folder",
        id="og-image-site-root",
    ),
    pytest.param(
        raw("---\ntitle: Café\ndate: 2024-01-02\n---\n".encode("latin-1")),
        "posts/bad/index.md:2: is not UTF-8 text (byte 0xE9 on line 2); save the file as UTF-8",
        id="latin-1",
    ),
    pytest.param(
        raw("---\ntitle: T\ndate: 2024-01-02\n---\n".encode("utf-16")),
        "posts/bad/index.md: is UTF-16 text; save the file as UTF-8",
        id="utf-16-bom",
    ),
    pytest.param(
        raw(b"\xfe\xff" + "---\ntitle: T\ndate: 2024-01-02\n---\n".encode("utf-16-be")),
        "posts/bad/index.md: is UTF-16 text; save the file as UTF-8",
        id="utf-16-be-bom",
    ),
    pytest.param(
        raw("---\ntitle: T\ndate: 2024-01-02\n---\n".encode("utf-16-le")),
        "posts/bad/index.md: is UTF-16 text; save the file as UTF-8",
        id="utf-16-no-bom",
    ),
    pytest.param(
        frontmatter(
            "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
            "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
            "title: T\ndate: 2024-01-02"
        ),
        "posts/bad/index.md:2: frontmatter holds more than 10,000 values once YAML aliases are "
        "expanded; remove the anchors (&) and aliases (*): frontmatter is a few keys",
        id="billion-laughs",
    ),
    pytest.param(
        frontmatter("title: !!python/object:os.system echo\ndate: 2024-01-02"),
        "posts/bad/index.md:2: frontmatter is not valid YAML (could not determine a constructor "
        "for the tag 'tag:yaml.org,2002:python/object:os.system'); remove the '!' tag: "
        "frontmatter takes plain values",
        id="python-tag",
    ),
    pytest.param(
        frontmatter("title: [a, b]\ndate: 2024-01-02"),
        "posts/bad/index.md:2: title must be text, not list; quote the title",
        id="title-list",
    ),
    pytest.param(
        frontmatter("title: T\ndate: 2024-01-02\npath: https://elsewhere.example.org/x"),
        "posts/bad/index.md:4: path 'https://elsewhere.example.org/x' is a full URL outside the "
        "site https://blog.example.org; write only the path, e.g. /blog/2024/05/01/slug; for a "
        "post that lives elsewhere use externalUrl",
        id="path-full-url-elsewhere",
    ),
]


def test_tags_as_a_mapping_are_a_warning(site: Site) -> None:
    site.post("p", "title: T\ndate: 2024-01-02\ntags: {a: 1}")
    result = read(site)
    assert messages(result) == [
        "posts/p/index.md:4: tags must be a list, not a mapping; ignored; write it as tags: [a, b]"
    ]
    assert only(result, "p").tags == ()


def test_path_written_as_a_full_url_of_the_site_is_its_path(site: Site) -> None:
    site.post("p", "title: T\ndate: 2024-01-02\npath: https://blog.example.org/blog/x/")
    result = read(site)
    assert messages(result) == []
    assert only(result, "p").url == "https://blog.example.org/blog/x/"


@pytest.mark.parametrize(("setup", "expected"), BAD)
def test_bad_input_is_one_exact_error_and_other_posts_are_read(
    site: Site, setup: Setup, expected: str
) -> None:
    site.post(*GOOD)
    setup(site)
    result = read(site)
    assert messages(result) == [expected]
    assert [p.severity for p in result.problems] == ["error"]
    assert ids(result) == ["good"]
    assert result.files == 2


def test_two_errors_in_one_post_are_both_reported(site: Site) -> None:
    site.post("bad", "ogSummary: only a summary")
    assert messages(read(site)) == [
        f"posts/bad/index.md: date is missing; {MISSING_DATE_FIX}",
        "posts/bad/index.md: title is missing; add a line like title: 'What this post is about'",
    ]


def test_og_image_inside_the_site_but_outside_the_post_folder_is_fine(site: Site) -> None:
    shared = site.file("shared/cover.png", b"png")
    site.post("p", "title: P\ndate: 2024-01-02\nogImage: ../shared/cover.png")
    result = read(site)
    assert result.problems == ()
    assert only(result, "p").og_image == shared.resolve()


def test_same_url_keeps_the_first_post_by_id(site: Site) -> None:
    site.post("zeta", "title: Zeta\ndate: 2020-01-01\npath: /same/")
    site.post("alpha", "title: Alpha\ndate: 2024-01-01\npath: /same/")
    site.post(*GOOD)
    result = read(site)
    assert messages(result) == [
        "posts/zeta/index.md:4: path URL https://blog.example.org/same/ is also the URL of "
        "post 'alpha'; give each post its own path; this post is skipped"
    ]
    assert sorted(ids(result)) == ["alpha", "good"]


def test_same_url_of_a_default_path_names_path(site: Site) -> None:
    site.post("a", "title: A\ndate: 2024-01-01\npath: /b/")
    site.post("b", "title: B\ndate: 2024-01-01")
    assert messages(read(site)) == [
        "posts/b/index.md: path URL https://blog.example.org/b/ is also the URL of post 'a'; "
        "give each post its own path; this post is skipped"
    ]


def test_same_external_url_names_external_url(site: Site) -> None:
    site.post("a", "title: A\ndate: 2024-01-01\nexternalUrl: https://x.org/a")
    site.post("b", "title: B\ndate: 2024-01-01\npath: /b/\nexternalUrl: https://x.org/a")
    assert messages(read(site)) == [
        "posts/b/index.md:5: externalUrl URL https://x.org/a is also the URL of post 'a'; "
        "give each post its own path; this post is skipped"
    ]


def test_duplicate_keys_are_a_warning_and_the_last_wins(site: Site) -> None:
    site.post("p", "title: First\ndate: 2024-01-02\ntitle: Second")
    result = read(site)
    assert messages(result) == [
        "posts/p/index.md:4: title is set twice; the last value wins; remove one of them"
    ]
    assert result.errors == ()
    assert only(result, "p").title == "Second"


# --- the cache -----------------------------------------------------------------------------


@pytest.fixture
def cache_path(site: Site) -> Path:
    return site.root / "state" / "cache.sqlite"


def cached_read(site: Site, path: Path) -> ReadResult:
    cache = PostCache(path)
    try:
        return read(site, cache=cache, jobs=1)
    finally:
        cache.close()


def spy_on_parsing(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record the id of every post parsed (the cache misses), in order."""
    parsed: list[str] = []

    def counting(data: bytes, post_id: str, file: str, ctx: ReadContext) -> Any:
        parsed.append(post_id)
        return parse_post(data, post_id, file, ctx)

    monkeypatch.setattr(publisher.posts.collect, "parse_post", counting)
    return parsed


def three_posts(site: Site) -> None:
    site.post("a", "title: A\ndate: 2024-01-01\ntags: [x]\ntitle: A2", "_Author: Jane, Acme_\n")
    site.post("b", "title: B\ndate: 2024-01-02\nogImage: cover.png", "![x](x.png)\n")
    site.file("b/cover.png", b"png")
    site.post("c", "title: C\ndate: next tuesday")


def spy_on_reading(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record the name of every post file opened."""
    opened: list[str] = []
    real = publisher.posts.found.read_regular

    def counting(path: Path, limit: int) -> bytes | None:
        opened.append(path.parent.name)
        return real(path, limit)

    monkeypatch.setattr(publisher.posts.found, "read_regular", counting)
    return opened


def test_an_unchanged_file_is_not_even_opened_but_an_edit_is_seen(
    site: Site, cache_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A stat is trusted at once here: the files' ctimes are all from a moment ago.
    monkeypatch.setattr(publisher.posts.collect, "RECENT_NS", 0)
    three_posts(site)
    first = cached_read(site, cache_path)
    opened = spy_on_reading(monkeypatch)
    assert cached_read(site, cache_path).posts == first.posts
    assert opened == []  # known by their stat: size, mtime, inode and ctime
    # Same size, same mtime, new bytes: the ctime still moves.
    path = site.posts / "a" / "index.md"
    st = path.stat()
    path.write_bytes(path.read_bytes().replace(b"Jane", b"Joan"))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    changed = cached_read(site, cache_path)
    assert opened == ["a"]
    assert [a.name for a in only(changed, "a").authors] == ["Joan"]
    opened.clear()
    assert cached_read(site, cache_path).posts == changed.posts  # remembered again
    assert opened == []


def test_a_file_changed_in_the_last_seconds_is_always_read(
    site: Site, cache_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    three_posts(site)  # just written: a coarse clock could give an edit the same mtime
    cached_read(site, cache_path)
    opened = spy_on_reading(monkeypatch)
    cached_read(site, cache_path)
    assert sorted(opened) == ["a", "b", "c"]


def test_a_stat_the_cache_knows_whose_entry_is_gone_is_read_again(
    site: Site, cache_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(publisher.posts.collect, "RECENT_NS", 0)
    three_posts(site)
    first = cached_read(site, cache_path)
    db = sqlite3.connect(cache_path)
    with db:
        db.execute("DELETE FROM posts")
    db.close()
    opened = spy_on_reading(monkeypatch)
    again = cached_read(site, cache_path)
    assert sorted(opened) == ["a", "b", "c"]
    assert again.posts == first.posts and again.problems == first.problems


def test_second_read_comes_from_the_cache_and_is_identical(
    site: Site, cache_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    three_posts(site)
    uncached = read(site)
    first = cached_read(site, cache_path)
    parsed = spy_on_parsing(monkeypatch)
    second = cached_read(site, cache_path)
    assert parsed == []
    assert (first.cache_hits, second.cache_hits) == (0, 3)
    assert second.posts == first.posts == uncached.posts
    assert second.problems == first.problems == uncached.problems
    assert len(second.problems) == 2  # the duplicate-key warning and the date error
    assert [dict(p.frontmatter) for p in second.posts] == [
        dict(p.frontmatter) for p in uncached.posts
    ]


def test_changing_one_file_reparses_only_that_file(
    site: Site, cache_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    three_posts(site)
    cached_read(site, cache_path)
    site.post("b", "title: B edited\ndate: 2024-01-02\nogImage: cover.png")
    parsed = spy_on_parsing(monkeypatch)
    result = cached_read(site, cache_path)
    assert parsed == ["b"]
    assert result.cache_hits == 2
    assert only(result, "b").title == "B edited"


def test_deleting_an_og_image_after_a_cached_read_still_errors(
    site: Site, cache_path: Path
) -> None:
    three_posts(site)
    assert only(cached_read(site, cache_path), "b").og_image is not None
    (site.posts / "b" / "cover.png").unlink()
    result = cached_read(site, cache_path)
    assert result.cache_hits == 3
    assert "posts/b/index.md:4: ogImage file 'cover.png' does not exist; " in "\n".join(
        messages(result)
    )
    assert sorted(ids(result)) == ["a", "b"]  # published with a text card (a warning)


def test_a_changed_config_does_not_reuse_entries(site: Site, cache_path: Path) -> None:
    site.post("p", "title: P\ndate: 2024-05-01")
    assert cached_read(site, cache_path).posts[0].date.isoformat() == "2024-05-01T00:00:00+02:00"
    site.config_path.write_text(BASE_CONFIG.replace("Europe/Berlin", "UTC"), encoding="utf-8")
    result = cached_read(site, cache_path)
    assert result.cache_hits == 0
    assert result.posts[0].date.isoformat() == "2024-05-01T00:00:00+00:00"


def test_a_corrupt_cache_file_is_not_fatal(site: Site, cache_path: Path) -> None:
    site.post(*GOOD)
    cache_path.parent.mkdir(parents=True)
    cache_path.write_bytes(b"this is not sqlite")
    result = cached_read(site, cache_path)
    assert ids(result) == ["good"]
    assert result.problems == ()
    # Rebuilt (publisher/statecache.py), so the next read is served from it.
    assert cached_read(site, cache_path).cache_hits == 1


# --- parallel reading ----------------------------------------------------------------------


def many_posts(site: Site, count: int) -> None:
    spellings = ["Service Mesh", "service-mesh", "service mesh"]
    for n in range(count):
        if n % 50 == 7:
            site.post(f"post-{n:03}", f"title: Broken {n}\ndate: someday")
            continue
        site.post(
            f"post-{n:03}",
            f"title: Post {n}\ndate: '2024-01-01T00:{n % 60:02}:00Z'\n"
            f"tags: [{spellings[n % 3]}, t{n % 5}]",
            f"_Author: Person {n % 7}, Org_\n\nBody {n} with ![img](i{n}.png).\n",
        )


def counted_pools(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The worker count of each read pool started from now on: forked (posts/forked.py,
    Linux) or a ProcessPoolExecutor (elsewhere)."""
    pools: list[int] = []

    class CountingPool(ProcessPoolExecutor):
        def __init__(self, max_workers: int | None = None, **how: Any) -> None:
            pools.append(max_workers or 0)
            super().__init__(max_workers=max_workers, **how)

    class CountingForked(forked.ForkedPool):
        def __init__(self, workers: int, *how: Any) -> None:
            pools.append(workers)
            super().__init__(workers, *how)

    monkeypatch.setattr(
        concurrent.futures, "ProcessPoolExecutor", CountingPool
    )  # imported when used
    monkeypatch.setattr(forked, "ForkedPool", CountingForked)
    return pools


def test_parallel_read_equals_serial_read(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    pools = counted_pools(monkeypatch)
    many_posts(site, 205)
    serial = read(site, jobs=1)
    assert pools == []
    ticks: list[int] = []
    parallel = read(site, jobs=2, progress=ticks.append)
    assert pools == [2]
    assert parallel == serial
    assert sum(ticks) == parallel.files == 205
    assert len(serial.posts) == 205 - 4
    assert len(serial.errors) == 4  # post-007, -057, -107, -157


def test_parallel_threshold_applies(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    pools = counted_pools(monkeypatch)
    many_posts(site, 12)
    below = read(site, jobs=2)
    assert pools == []
    monkeypatch.setattr(publisher.posts.collect, "PARALLEL_THRESHOLD", 10)
    above = read(site, jobs=2)
    assert pools == [2]
    assert above == below


def test_plain_paths_are_found_without_resolving_and_links_are_not(tmp_path: Path) -> None:
    root = tmp_path / "posts"
    (root / "a").mkdir(parents=True)
    (root / "a" / "index.md").write_text("x")
    (root / "b").symlink_to(root / "a")
    (root / "a" / "link.png").symlink_to(root / "a" / "index.md")
    plain = PlainPaths(str(root))
    found = plain.stat(f"{root}/a/index.md")
    assert found is not None and found.st_size == 1
    assert plain.stat(f"{root}/a/index.md") is not None  # the folder is remembered
    assert plain.stat(f"{root}/b/index.md") is None  # through a link: resolve() decides
    assert plain.stat(f"{root}/a/link.png") is None  # the file itself is a link
    assert plain.stat(f"{root}/a/../a/index.md") is None
    assert plain.stat(f"{root}/a/missing.png") is None
    assert plain.stat(f"{tmp_path}/elsewhere") is None
