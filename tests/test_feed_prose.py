"""``feeds/prose.py`` against nh3 (``items.clean_html``), its general path (issue 12).

A post whose markdown has no raw HTML but comments skips the sanitizer when every tag of
its rendering is one nh3 keeps as written. On seeded random markdown (emphasis, code,
fences with odd info strings, lists, tables with alignment, links, images, entities, CJK,
control and invisible characters, ``>`` and ``&`` in text, MDX comments, HTML comments of
every shape) the shortcut, whenever it answers, must give nh3's bytes, and it must answer
for most prose (or it tests nothing);
the feed item of a body the reader made must equal the one of the same text in a body
it did not (which always goes through nh3).
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path

import pytest

from publisher.config import SiteConfig
from publisher.feeds.items import clean_html, feed_item, xml_text
from publisher.feeds.options import FeedOptions
from publisher.feeds.prose import prose, prose_html
from publisher.posts import body
from publisher.posts.model import Body, Post

PAGE = "https://blog.example.org/2024/post/"

WORDS = (
    *("mesh", "policy", "kernel", "latency", "eBPF", "naïve", "café", "日本語", "한국어"),
    *("emoji 🎉", "a > b", "x >= y", "1 & 2", '"quoted"', "it's", "AT&T", "R&D;", "&"),
    *("&amp;", "&copy;", "&nbsp;", "&quot;", "&#x27;", "&#0;", "&#xD;", "&lt;", "&gt;"),
    *("\u00a0", "\u200b", "\x01", "\x7f", "\x85", "\t", "\\*", "\\_", "{/* note */}", "`"),
    *("*em*", "**strong**", "~~gone~~", "~one~", "`code`", "`` a`b ``", "***both***"),
    *("[link](https://cilium.io/blog/)", "[rel](other/page)", "[frag](#top)", "[q](?a=1&b=2)"),
    *("[odd](https://Example.org:8080/a b)", "[mail](mailto:a@b.c)", "![img](cover.png)"),
    *("https://example.org/bare", "[ref][1]", "a  \nb", "a\\\nb", "'single'", "x*y*z"),
    *("![alt text](https://cdn.example.org/a.png)", "![](pic.png)", '![a "q"](b.png)'),
    *("![a & b](c.png)", "[q](https://a.org/?x=1&y=2)", "<!-- inline -->", "<!---->"),
    *("<!-- a -- b -->", "<!-->", "<!--->", "<!-- a- -->", "<!-- unclosed", "`<!-- x -->`"),
)
BLOCKS = (
    "# Heading {w}",
    "###### Six {w}",
    "Setext {w}\n===",
    "> quoted {w}\n> more {w}",
    "- one {w}\n- two {w}\n  - nested {w}",
    "1. first {w}\n2. second {w}",
    "3. starts at three {w}\n4. {w}",
    "1. [first](https://a.org/) {w}\n2.\n3. {w}",
    "- {w}\n-\n- {w}",
    "| a | b |\n|---|---|\n| | {w} |\n| {w} | |",
    "#\n\n{w}",
    "```\n```",
    "[](https://a.org/empty)",
    "- loose {w}\n\n- list {w}",
    "```\ncode {w} < & >\n```",
    "```python\nprint('{w}')\n```",
    "```c++ extra\n{w}\n```",
    '```"odd&lang"\n{w}\n```',
    "~~~\ntilde {w}\n~~~",
    "    indented code {w}",
    "| a | b |\n|---|---|\n| {w} | {w} |",
    "| left | right | mid |\n|:-----|------:|:---:|\n| {w} | {w} | {w} |",
    "***",
    "[1]: https://cilium.io/ref",
    "<!-- more -->",
    "<!--truncate-->",
    "<!-- more --> {w}",
    "<!--\n{w}\n-->",
    "- <!-- x --> {w}",
    "import X from './x'",
    "{w} {w} {w}",
)


def random_markdown(rng: random.Random) -> str:
    blocks = []
    for _ in range(rng.randint(1, 8)):
        block = rng.choice(BLOCKS)
        while "{w}" in block:
            text = " ".join(rng.choices(WORDS, k=rng.randint(1, 6)))
            block = block.replace("{w}", text, 1)
        blocks.append(block)
    return rng.choice(("\n\n", "\n")).join(blocks)


def rendered(markdown: str) -> str:
    """The body HTML the reader makes of ``markdown``."""
    return body.to_html_checked(markdown, PAGE)[0]


@pytest.mark.parametrize("seed", range(4))
def test_the_shortcut_gives_the_sanitizers_bytes_whenever_it_answers(seed: int) -> None:
    rng = random.Random(seed)
    answered = escaped = linked = commented = 0
    for _ in range(400):
        markdown = random_markdown(rng)
        if not prose(markdown):
            continue  # never asked: the reader's markdown had raw HTML
        html = rendered(markdown)
        fast = prose_html(xml_text(html), markdown)
        if fast is not None:
            answered += 1
            escaped += fast != html.strip()
            linked += "<a href" in fast or "<img" in fast
            commented += "<!--" in html
            assert fast == clean_html(html, PAGE), markdown
    # Taken for most prose, links and escapes nh3 writes otherwise (&quot;, U+00A0) included.
    assert answered >= 80 and escaped >= 20 and linked >= 20 and commented >= 10


def test_html_the_sanitizer_would_change_is_left_to_it() -> None:
    for html in (
        "<p>a</p><script>x</script>",
        '<p style="color: red">a</p>',
        '<th style="text-align: left">a</th>',
        '<a href="javascript:alert(1)">a</a>',
        '<img src="https://a.org/a.png" alt="a &amp; b">',
        "<p>a > b</p>",
        "<p>a &copy; b</p>",
        "<p>a\r\nb</p>",
        "<p>a <b",
        "<p><!-- a -- b --></p>",
        "<p><!--></p>",
        "<p><!-- a",
        "<ol>\n<li>a</li>\n<li>\n</ol>",
        "<table><tr><td>\n</tr></table>",
        '<img src="https://a.org/a.png" alt="a" title="t">',
    ):
        assert prose_html(xml_text(html), "<!-- via lxml -->") is None, html


def test_links_images_and_comments_come_out_as_nh3_writes_them() -> None:
    for html in (
        '<p><a href="https://a.org/?x=1&amp;y=2">a</a></p>',
        '<p><img src="https://a.org/a.png" alt="an image"> &quot;q&quot;\xa0x</p>',
        "<p>a</p>\n<!-- more -->\n<p>b</p>",
        "<p>a <!----> b <!-- c- --></p>",
    ):
        assert prose_html(xml_text(html), "<!-- via lxml -->") == clean_html(html, PAGE), html


def _post(markdown: str, made_by_reader: bool) -> Post:
    html = rendered(markdown)
    return Post(
        id="2024/post",
        source=Path("/site/posts/2024/post/index.md"),
        url=PAGE,
        page_url=PAGE,
        path=None,
        external_url=None,
        title="T",
        summary=None,
        date=datetime(2024, 5, 1, tzinfo=UTC),
        updated=None,
        og_image=None,
        og_image_url=None,
        categories=(),
        tags=(),
        authors=(),
        is_featured=False,
        is_popular=False,
        draft=False,
        body=Body(markdown, html, rendered=made_by_reader),
    )


def test_a_feed_item_is_the_same_with_and_without_the_shortcut() -> None:
    rng = random.Random(99)
    site = SiteConfig(
        title="Blog",
        url="https://blog.example.org",
        description="",
        language="en",
        timezone="UTC",
        author=None,
    )
    options = FeedOptions(content="full")
    for _ in range(150):
        markdown = random_markdown(rng)
        fast = feed_item(_post(markdown, True), site, options)
        slow = feed_item(_post(markdown, False), site, options)
        assert fast == slow, markdown
