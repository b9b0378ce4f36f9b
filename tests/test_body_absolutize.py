"""``body.absolutize`` against the lxml.html implementation it replaced (issue 12, cold CPU).

The reference below is that implementation, kept verbatim: the lean path (libxml2's HTML
parser without lxml.html's element classes, one serialization, XPath to find the URL
attributes) and the no-parse path for plain prose must give the same HTML and report the
same bad URLs on every body of the sample corpus (../shared/corpus, or PUBLISHER_CORPUS;
skipped when absent), on the project's own examples, and on seeded random fragments mixing
raw HTML (void elements, leading text, <body>/<html> tags, scripts, bad URLs, srcset) with
markdown.
"""

from __future__ import annotations

import contextlib
import os
import random
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import lxml.html
import pytest
from lxml import etree

from publisher.errors import PostError
from publisher.posts import body, fields, frontmatter, mdx

REPO = Path(__file__).resolve().parent.parent
CORPUS = Path(os.environ.get("PUBLISHER_CORPUS", REPO.parent / "shared" / "corpus"))
PAGES = ("https://blog.example.org/2024/post/", "https://blog.example.org/p?x=1#f", "https://h/a")


def reference(html: str, page_url: str, bad: list[str]) -> str:
    """``body.absolutize`` as it was: lxml.html's fragment parse, one element at a time."""
    if not html.strip():
        return ""
    base = page_url if page_url.endswith("/") else page_url + "/"
    root = lxml.html.fragment_fromstring(html, create_parent="div")
    body._unnest_void(root)
    for element in root.iter(etree.Element):
        for attribute in ("href", "src", "poster", "cite", "action", "data"):
            value = element.get(attribute)
            if value is not None:
                resolved = body._resolve(value, base, page_url, bad)
                if resolved is None:
                    del element.attrib[attribute]
                else:
                    element.set(attribute, resolved)
        srcset = element.get("srcset")
        if srcset is not None:
            kept = body._resolve_srcset(srcset, base, page_url, bad)
            if kept:
                element.set("srcset", kept)
            else:
                del element.attrib["srcset"]
    parts = [root.text or ""]
    parts.extend(lxml.html.tostring(child, encoding="unicode") for child in root)
    return "".join(parts)


def outcome(call: object, *args: object) -> tuple[str, object, list[str]]:
    """(kind, result or exception type, bad URLs) of one call: errors must match too."""
    bad: list[str] = []
    try:
        return "ok", call(*args, bad), bad  # type: ignore[operator]
    except Exception as exc:  # the kind of failure is compared too
        return "error", type(exc), bad


def same(html: str, page: str) -> None:
    assert outcome(body.absolutize, html, page) == outcome(reference, html, page), html


def markdown_bodies(root: Path) -> list[str]:
    found = []
    for path in sorted(root.rglob("*.md*")):
        if path.suffix not in (".md", ".mdx"):
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        try:
            found.append(frontmatter.split(text, path.name)[1])
        except PostError:
            found.append(text)
    return found


def rendered(markdown: str) -> str:
    return body.render(body.strip_mdx(mdx.expand(markdown, (), ()).markdown))


def test_corpus_bodies_absolutize_as_before() -> None:
    if not CORPUS.is_dir():
        pytest.skip(f"{CORPUS} is absent: the corpus half of this test needs it")
    bodies = markdown_bodies(CORPUS)
    assert len(bodies) > 100
    for markdown in bodies:
        html = rendered(markdown)
        for page in PAGES:
            same(html, page)


def test_example_bodies_absolutize_as_before() -> None:
    bodies = markdown_bodies(REPO / "examples")
    assert bodies
    for markdown in bodies:
        same(rendered(markdown), PAGES[0])


PIECES = (
    "<p>",
    "</p>",
    "text & more",
    " ",
    "\n",
    "<br>",
    "<br />",
    "<hr/>",
    "<img src='a b.png' alt=\"x\">",
    '<img src="https://[::1/x">',
    "<img srcset='a.png 1x, b.png 2x, https://[::1 3x'>",
    "<img srcset=','>",
    '<a href="#top">',
    "<a HREF=../up>",
    "<a href>",
    "</a>",
    "<embed src=x.swf>",
    "<source src=v.webm>",
    "<track src=t.vtt>",
    "<wbr>",
    "<video poster=p.jpg src=v.mp4>",
    "</video>",
    "<blockquote cite=q.html>",
    "</blockquote>",
    "<form action=/post>",
    "<object data=o.bin>",
    "<script>if (a < b && c) {}</script>",
    "<style>p > a { color: red }</style>",
    "<!-- comment <a href=x> -->",
    "<body class=hijack>",
    "</body>",
    "<html>",
    "</html>",
    "<head><title>t</title></head>",
    "<div>",
    "</div>",
    "<table><tr><td>",
    "</table>",
    "<iframe src=//youtube.com/embed/x></iframe>",
    "<a href='mailto:me@example.org'>",
    "<a href='javascript:alert(1)'>",
    "&amp;&lt;&gt;&quot;&#39;&nbsp;&copy;",
    "é 😀 \u200e \xa0",
    "\x01\x0c",
    "<p title='a &quot; b'>",
    "<svg><a xlink:href=x href=y></a></svg>",
    "<meta charset=utf-8>",
    "<link href=style.css>",
    "<!DOCTYPE html>",
    "<pre>\nx</pre>",
    "<textarea>\n<a href=x></textarea>",
)


@pytest.mark.parametrize("seed", range(6))
def test_random_fragments_absolutize_as_before(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(400):
        html = "".join(rng.choices(PIECES, k=rng.randint(1, 14)))
        same(html, rng.choice(PAGES))


MARKDOWN_PIECES = (
    "# Title\n\n",
    'Some *emphasis* and **strong** text & "quotes".\n\n',
    'A [link](../other/) and ![image](pic.png "t").\n\n',
    "[ref]: https://example.org/a?b=1&c=2\n\nSee [ref].\n\n",
    "<div class=note>raw <b>html</b></div>\n\n",
    "Inline <span>html</span> and <https://example.org/auto>.\n\n",
    "```py\nx < 1 and y > 2\n```\n\n",
    "| a | b |\n|:--|--:|\n| 1 | 2 |\n\n",
    "- item\n- item with `code & <x>`\n\n",
    "line  \nbreak\\\nagain\n\n",
    "---\n\n",
    "~~gone~~ and ~one~\n\n",
    "> quote with [link](#frag)\n\n",
    "1. one\n2. two\n\n",
    "Entity &copy; &#x1F600; &nbsp; &amp;\n\n",
    "\u00e9t\u00e9 \u65e5\u672c \u0645\u0631\u062d\u0628\u0627\n\n",
)


@pytest.mark.parametrize("seed", range(4))
def test_random_markdown_absolutizes_as_before(seed: int) -> None:
    rng = random.Random(1000 + seed)
    for _ in range(300):
        markdown = "".join(rng.choices(MARKDOWN_PIECES, k=rng.randint(1, 8)))
        same(body.render(markdown), rng.choice(PAGES))


def slow_normalize_url(url: str) -> str:
    """``fields.normalize_url`` without its shortcut for clean URLs (as it was)."""
    url = url.strip()
    shown = url if len(url) <= 80 else url[:60] + "..."
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise fields.FieldProblem(f"'{shown}' is not a valid URL ({exc})", "") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise fields.FieldProblem(f"'{shown}' is not an absolute http(s) URL", "")
    if fields._NOT_IN_HOST.search(parts.netloc):
        raise fields.FieldProblem(f"'{shown}' has a host with a character no host name has", "")
    try:
        parts.port  # noqa: B018
    except ValueError:
        raise fields.FieldProblem(
            f"'{shown}' has a port that is not a number from 0 to 65535", ""
        ) from None
    host = parts.netloc
    with contextlib.suppress(UnicodeError):
        host = host.encode("idna").decode("ascii") if not host.isascii() else host
    safe = fields._URL_SAFE
    return urlunsplit(
        (
            parts.scheme.lower(),
            host,
            quote(parts.path, safe=safe),
            quote(parts.query, safe=safe),
            quote(parts.fragment, safe=safe),
        )
    )


def normalized(normalize: Callable[[str], str], url: str) -> tuple[str, str]:
    try:
        return "ok", normalize(url)
    except fields.FieldProblem as exc:
        return "problem", exc.message


def slow_resolve(value: str, base: str, page_url: str, bad: list[str]) -> str | None:
    """``body._resolve`` without its shortcut for clean absolute URLs."""
    value = value.strip()
    if value.startswith(("mailto:", "tel:", "data:", "javascript:")):
        return value
    try:
        url = body.urljoin(page_url if value.startswith("#") else base, value)
    except ValueError:
        bad.append(value)
        return None
    if body.urlsplit(url).scheme in ("http", "https"):
        try:
            return slow_normalize_url(url)
        except fields.FieldProblem:
            return url
    return url


URL_PARTS = (
    "http",
    "https",
    "HTTP",
    "://",
    "/",
    "a",
    "b.c",
    "-",
    "..",
    ".",
    ":80",
    ":99999",
    "?",
    "#",
    ";p",
    "q=1&r=2",
    "%20",
    "%zz",
    " ",
    "é",
    "~",
    "@",
    "[",
    "]",
    "'",
    "(",
    "*",
    "+",
    ",",
    "=",
    "!",
    "$",
    "\\",
    "\t",
    "javascript:",
    "mailto:",
    "//",
    "<",
    "|",
)


@pytest.mark.parametrize("seed", range(3))
def test_clean_urls_resolve_as_urljoin_and_normalize_url_do(seed: int) -> None:
    rng = random.Random(seed)
    checked = 0
    for _ in range(6000):
        value = "".join(rng.choices(URL_PARTS, k=rng.randint(1, 10)))
        if rng.random() < 0.6:
            value = rng.choice(("http://", "https://")) + rng.choice(("h.org", "x-1.io/")) + value
        for page in PAGES:
            base = page if page.endswith("/") else page + "/"
            fast_bad: list[str] = []
            slow_bad: list[str] = []
            fast = body._resolve(value, base, page, fast_bad)
            assert (fast, fast_bad) == (slow_resolve(value, base, page, slow_bad), slow_bad)
            joined = value
            with contextlib.suppress(ValueError):  # an IPv6 host urljoin cannot read
                joined = body.urljoin(base, value)
            for url in (value, joined):
                assert normalized(fields.normalize_url, url) == normalized(slow_normalize_url, url)
            checked += fields.CLEAN_ABSOLUTE(value.strip()) is not None
    assert checked > 1000  # the shortcut was taken often enough to mean something


PROSE_PIECES = (
    *(piece for piece in MARKDOWN_PIECES if "<" not in piece),
    '```a&b "c"\ncode\n```\n\n',
    '``` "quoted" info\nx\n```\n\n',
    'He said "hi" & left.\n\n',
    "***\n\n",
    "Hard  \nbreak\n\n",
    "[not a link] and [x]: y\n\n",
    '| "h" | b |\n|---|---|\n| & | " |\n\n',
    "3. starts at three\n\n",
    "\\<escaped\n\n",
)


@pytest.mark.parametrize("seed", range(4))
def test_prose_without_html_skips_the_parse_with_the_same_result(seed: int) -> None:
    rng = random.Random(2000 + seed)
    shortcut = 0
    for _ in range(400):
        markdown = "".join(rng.choices(PROSE_PIECES, k=rng.randint(0, 8)))
        for page in PAGES[:2]:
            full = (body.absolutize(body.render(markdown), page, []), [])
            assert body.to_html_checked(markdown, page) == full, markdown
        shortcut += body._as_absolutized(body.render(markdown)) is not None
    assert shortcut > 50


def test_every_character_in_prose_skips_the_parse_with_the_same_result() -> None:
    points = [*range(0x3000), *range(0xD7F0, 0xD800), *range(0xE000, 0xE010)]
    points += [*range(0xFDC0, 0xFE10), *range(0xFFF0, 0x10000), 0x1F600, 0x10FFFD, 0x10FFFF]
    for point in points:
        markdown = f'a{chr(point)}b "q" & x  \nz\n\n---\n'
        if "<" in markdown:
            continue
        html = body.render(markdown)
        assert body._as_absolutized(html) == body.absolutize(html, PAGES[0]), hex(point)
