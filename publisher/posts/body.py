"""Post bodies: strip MDX (``jsx.py``), render CommonMark to HTML, make every reference
absolute."""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

import lxml.html
from cmarkgfm.cmark import Options  # type: ignore[import-untyped]
from lxml import etree

from publisher.posts import cmark as gfm
from publisher.posts import mdx
from publisher.posts.fields import FieldProblem, normalize_url
from publisher.posts.jsx import strip_mdx

_URL_ATTRIBUTES = ("href", "src", "poster", "cite", "action", "data")
#: HTML5 void elements: they never have content.
_VOID = (
    "area",
    "base",
    "br",
    "col",
    "embed",
    "hr",
    "img",
    "input",
    "link",
    "meta",
    "param",
    "source",
    "track",
    "wbr",
)

#: GitHub's cmark-gfm (C): the CommonMark reference parser, linear on any input, with the
#: GFM table and strikethrough extensions. Raw HTML passes through (UNSAFE, as markdown-it
#: did with html=True): the sanitizer downstream (nh3, in the feeds) decides what of it
#: survives. The other two options keep the HTML markdown-it-py wrote (alignment as a
#: style, strikethrough only with ``~~``); tests/test_body_parity.py lists what differs.
_OPTIONS: int = (
    Options.CMARK_OPT_UNSAFE
    | Options.CMARK_OPT_TABLE_PREFER_STYLE_ATTRIBUTES
    | Options.CMARK_OPT_STRIKETHROUGH_DOUBLE_TILDE
)
_EXTENSIONS = ("table", "strikethrough")


def render(markdown: str) -> str:
    """CommonMark (with GFM tables and strikethrough) to HTML."""
    try:
        html = gfm.to_html(markdown, _OPTIONS, _EXTENSIONS)  # frees what cmarkgfm leaks
    except UnicodeEncodeError:
        # A lone surrogate cannot cross into C as UTF-8: render it as U+FFFD, as cmark
        # does any invalid byte.
        html = render(markdown.encode("utf-16", "surrogatepass").decode("utf-16", "replace"))
    return html


def absolutize(html: str, page_url: str, bad: list[str] | None = None) -> str:
    """Resolve every relative ``href``/``src``/``srcset`` in ``html`` against the post's page.

    Relative files resolve against the page as a folder (``page/diagram.png``: images sit
    beside the post); ``#fragment`` links resolve against the page URL itself. A value
    that is not a URL at all (``https://[::1/x``) is removed, so no later stage trips over
    it, and appended to ``bad``.
    """
    if not html.strip():
        return ""
    if bad is None:
        bad = []
    base = page_url if page_url.endswith("/") else page_url + "/"
    root = lxml.html.fragment_fromstring(html, create_parent="div")
    _unnest_void(root)
    for element in root.iter(etree.Element):
        for attribute in _URL_ATTRIBUTES:
            value = element.get(attribute)
            if value is not None:
                resolved = _resolve(value, base, page_url, bad)
                if resolved is None:
                    del element.attrib[attribute]
                else:
                    element.set(attribute, resolved)
        srcset = element.get("srcset")
        if srcset is not None:
            kept = _resolve_srcset(srcset, base, page_url, bad)
            if kept:
                element.set("srcset", kept)
            else:
                del element.attrib["srcset"]
    parts = [root.text or ""]
    parts.extend(lxml.html.tostring(child, encoding="unicode") for child in root)
    return "".join(parts)


def _unnest_void(root: lxml.html.HtmlElement) -> None:
    """Move content out of void elements, where libxml2 puts it.

    libxml2 knows HTML 4 only, so ``<source>``, ``<track>``, ``<wbr>`` and ``<embed>``
    swallow what follows them (``<embed src=x><p>rest of the post</p></embed>``); anything
    that later drops such an element would drop the rest of the post with it.
    """
    for element in list(root.iter(*_VOID)):
        children = list(element)
        if not children and not element.text:
            continue
        parent = element.getparent()
        if parent is None:
            continue
        after, element.text = element.text, None
        if children:
            children[-1].tail = (children[-1].tail or "") + (element.tail or "")
            element.tail = after
        else:
            element.tail = (after or "") + (element.tail or "")
        position = parent.index(element)
        for offset, child in enumerate(children, start=1):
            parent.insert(position + offset, child)


def _resolve(value: str, base: str, page_url: str, bad: list[str]) -> str | None:
    value = value.strip()
    if value.startswith(("mailto:", "tel:", "data:", "javascript:")):
        return value
    try:
        url = urljoin(page_url if value.startswith("#") else base, value)
    except ValueError:  # 'Invalid IPv6 URL': an unclosed '[' in the host
        bad.append(value)
        return None
    if urlsplit(url).scheme in ("http", "https"):
        try:
            return normalize_url(url)
        except FieldProblem:
            return url
    return url


def _resolve_srcset(srcset: str, base: str, page_url: str, bad: list[str]) -> str:
    candidates = []
    for candidate in srcset.split(","):
        words = candidate.split()
        resolved = _resolve(words[0], base, page_url, bad) if words else None
        if resolved is not None:
            candidates.append(" ".join([resolved, *words[1:]]))
    return ", ".join(candidates)


def to_html(markdown: str, page_url: str) -> str:
    """The full body pipeline: MDX stripped, rendered, references made absolute."""
    return to_html_checked(markdown, page_url)[0]


def to_html_checked(
    markdown: str,
    page_url: str,
    *,
    authors: mdx.Authors = (),
    names: tuple[str, ...] = (),
    notes: list[tuple[str, str]] | None = None,
) -> tuple[str, list[str]]:
    """:func:`to_html`, and the link and image values that are not URLs at all.

    Embeds and author components are kept as links, images and bylines first
    (:mod:`publisher.posts.mdx`); what had to be dropped is added to ``notes``.
    """
    bad: list[str] = []
    expanded = mdx.expand(markdown, authors, names)
    if notes is not None:
        notes.extend(expanded.notes)
    html = absolutize(render(strip_mdx(expanded.markdown)), page_url, bad)
    return html, bad
