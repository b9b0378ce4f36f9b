"""Post bodies: strip MDX (``jsx.py``), render CommonMark to HTML, make every reference
absolute."""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

from cmarkgfm.cmark import Options  # type: ignore[import-untyped]

from publisher.lazy import LazyModule, lazy_pattern
from publisher.posts import cmark as gfm
from publisher.posts.fields import CLEAN_ABSOLUTE, FieldProblem, normalize_url
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

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (issue 12)

if TYPE_CHECKING:
    from lxml import etree

    from publisher.posts import mdx
else:
    # Imported on first use: most prose posts are never parsed (_as_absolutized), and
    # lxml.etree with the inspect it loads is 12 to 16 ms of a one-post build (issue 12).
    etree = LazyModule("lxml.etree")

#: What lxml.html.fragments_fromstring parses as a whole document, not a fragment.
_FULL_DOCUMENT = lazy_pattern(r"^\s*<(?:html|!doctype)", re.IGNORECASE)
#: An ``&`` inside a tag of cmark's output: an attribute value lxml would write otherwise.
_AMP_IN_TAG = lazy_pattern(r"<[^>&]*&")
#: Either void element :func:`_as_absolutized` rewrites: a search from each '<', where
#: ``" />" in html`` reads every character (half the time, issue 12).
_SLASHED_VOID = lazy_pattern(r"<(?:br|hr) />")
#: libxml2's HTML parser as lxml.html configures it (minus lxml.html's element classes)
#: and the XPath of the elements that have an attribute :func:`absolutize` rewrites, in
#: document order: made with the first parse.
_PARSING: list[tuple[etree.HTMLParser, etree.XPath]] = []


def lxml_parsing() -> tuple[etree.HTMLParser, etree.XPath]:
    """lxml's parser and XPath for :func:`absolutize`, made on the first call (a read
    pool calls this before it forks, so that its workers share lxml.etree)."""
    if not _PARSING:
        _PARSING.append(
            (
                etree.HTMLParser(),
                etree.XPath(
                    "descendant::*[@href or @src or @poster or @cite or @action or @data"
                    " or @srcset]"
                ),
            )
        )
    return _PARSING[0]


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
    if _FULL_DOCUMENT.match(html):
        return _absolutize_fragment(html, base, page_url, bad)
    # The parse lxml.html's fragment_fromstring does, without its element classes (a
    # Python lookup per element) or its move of every node into a new document: the body
    # is the fragment's parent, and it is serialized once, not child by child.
    document = etree.fromstring(f"<html><body>{html}</body></html>", lxml_parsing()[0])
    bodies = [] if document is None else [e for e in document if e.tag == "body"]
    if len(bodies) != 1 or (bodies[0].text or "").strip():
        # Text before the first element (which lxml.html keeps unescaped, or refuses), or
        # a document shape never seen: lxml.html's own path decides what it gives.
        return _absolutize_fragment(html, base, page_url, bad)
    root = bodies[0]
    root.text = None  # blank: lxml.html drops it
    _rewrite(root, base, page_url, bad)
    inner = etree.tostring(root, method="html", encoding="unicode", with_tail=False)
    if not (inner.startswith("<body>") and inner.endswith("</body>")):
        # A <body> tag in the post gave the body attributes: serialize child by child.
        return "".join(etree.tostring(child, method="html", encoding="unicode") for child in root)
    return inner[6:-7]


def _absolutize_fragment(html: str, base: str, page_url: str, bad: list[str]) -> str:
    """:func:`absolutize` through lxml.html, for what the lean path does not expect."""
    import lxml.html  # only here: the lean path needs lxml.etree alone

    root = lxml.html.fragment_fromstring(html, create_parent="div")
    _rewrite(root, base, page_url, bad)
    parts = [root.text or ""]
    parts.extend(lxml.html.tostring(child, encoding="unicode") for child in root)
    return "".join(parts)


def _rewrite(root: etree._Element, base: str, page_url: str, bad: list[str]) -> None:
    """Void elements emptied, then every URL attribute resolved, in document order."""
    _unnest_void(root)
    # The XPath selects elements only: its result is a list of them.
    elements: list[etree._Element] = lxml_parsing()[1](root)  # type: ignore[assignment]
    for element in elements:
        # Its attribute names once, then only those it has (a call into lxml for each
        # of seven names was most of this loop), still in _URL_ATTRIBUTES' order.
        names = element.keys()
        for attribute in _URL_ATTRIBUTES:
            if attribute not in names:
                continue
            value = element.get(attribute)
            if value is not None:
                resolved = _resolve(value, base, page_url, bad)
                if resolved is None:
                    del element.attrib[attribute]
                else:
                    element.set(attribute, resolved)
        srcset = element.get("srcset") if "srcset" in names else None
        if srcset is not None:
            kept = _resolve_srcset(srcset, base, page_url, bad)
            if kept:
                element.set("srcset", kept)
            else:
                del element.attrib["srcset"]


def _unnest_void(root: etree._Element) -> None:
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
    if CLEAN_ABSOLUTE(value):
        return value  # what urljoin and normalize_url would give back: the usual link
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
    if "<" in markdown:
        # Without a tag mdx.expand gives the text back as it is: its module (and the
        # components it writes) is imported only for a text with one (issue 12).
        from publisher.posts import mdx

        expanded = mdx.expand(markdown, authors, names)
        if notes is not None:
            notes.extend(expanded.notes)
        markdown = expanded.markdown
    markdown = strip_mdx(markdown)
    rendered = render(markdown)
    html = _as_absolutized(rendered) if "<" not in markdown else None
    if html is None:
        html = absolutize(rendered, page_url, bad)
    return html, bad


def _as_absolutized(html: str) -> str | None:
    """What :func:`absolutize` makes of ``html``, cmark's rendering of markdown with no
    ``<`` (so no raw HTML), when it has no link or image: only libxml2's serializer
    differs (void elements without the slash, quotes in text unescaped); None otherwise.

    Most prose posts take this path, with no HTML parse at all (issue 12);
    tests/test_body_absolutize.py holds it to the parse.
    """
    # cmark writes '"' in text as &quot;: with none, no tag has an attribute (a C scan,
    # where each search for a longer string reads the whole text).
    if '"' in html and (
        ' href="' in html or ' src="' in html or ("&" in html and _AMP_IN_TAG.search(html))
    ):
        return None
    if not html.strip():
        return ""
    if _SLASHED_VOID.search(html):  # cmark's void elements: <br />, <hr /> (an <img /> has a src)
        html = html.replace("<br />", "<br>").replace("<hr />", "<hr>")
    return html.replace("&quot;", '"') if "&" in html else html
