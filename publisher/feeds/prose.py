"""Sanitized HTML of prose without asking the sanitizer (issue 12: nh3 was a tenth of a
cold build's CPU per post).

A post whose markdown holds no raw HTML but comments (``<!-- more -->``) is rendered by
cmark-gfm into markup nh3 never rearranges: well nested, every tag one it allows. Given
such a rendering (the reader's, ``Body.rendered``), :func:`prose_html` gives nh3's bytes
when every tag is one nh3 writes back as it is (bare tags, a link or an image to a URL the
feed's URL rules keep, a code block's language, a list's start): the comments dropped,
``&quot;`` written as ``"`` and U+00A0 as ``&nbsp;``, as html5ever writes them. Anything
else (another tag or attribute, a bare ``>``, another entity, a comment of another shape)
answers None and goes to nh3. ``tests/test_feed_prose.py`` holds it to nh3 on random
markdown.
"""

from __future__ import annotations

from collections import Counter

from publisher.lazy import lazy_pattern


def prose(markdown: str) -> bool:
    """Whether ``markdown`` holds no raw HTML but comments: its rendering is then only
    cmark's own markup (and those comments)."""
    if "<" not in markdown:
        return True
    return "<!--" in markdown and markdown.count("<") == markdown.count("<!--")


#: Each "<" of an HTML text starts one of these (one not closed runs to the end).
_TAG_TOKEN = lazy_pattern(r"<[^>]*>?")
#: The tags cmark-gfm writes for markdown (tables, strikethrough) that nh3 keeps as they are.
_PLAIN_TAGS = frozenset(
    f"<{slash}{name}>"
    for name in (
        *("p", "em", "strong", "del", "code", "pre", "blockquote", "ul", "ol", "li"),
        *("h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td"),
    )
    for slash in ("", "/")
) | {"<br>", "<hr>", "</a>"}
#: An absolute http(s) URL the feed's attribute rewrite (``items._attribute``) keeps as it
#: is, as lxml writes it (``&`` as ``&amp;``; no quote, no '<', no other entity).
_URL = r"https?://[a-z0-9.\-]+(?::\d+)?(?:/(?:[A-Za-z0-9\-._~:/?#\[\]@!$()*+,;=%]|&amp;)*)?"
#: The few tags with attributes that nh3 keeps as written: a link or an image (with its
#: text, no character html5ever escapes otherwise) to such a URL, a code block's
#: language, a list's start.
_KEPT_TAG = lazy_pattern(
    f'<a href="{_URL}">|<img src="{_URL}" alt="[^"&<>]*">'
    r'|<code class="language-[A-Za-z0-9_+\-.#]+">|<ol start="\d{1,9}">'
)
#: A comment html5ever reads as cmark-gfm does (no '--' inside, not '<!-->'): dropped.
_COMMENT = lazy_pattern(r"<!--(?:[^<>!-]|-(?!-))*-->")
#: The entities a rendering's text may hold; html5ever writes back all but &quot; ('"').
_ENTITIES = ("&amp;", "&lt;", "&gt;", "&quot;", "&nbsp;")


def prose_html(html: str, markdown: str) -> str | None:
    """What ``items.clean_html`` makes of ``html`` (already through ``xml_text``), the
    reader's rendering of ``markdown`` (of which :func:`prose` is true), when every tag
    is one nh3 writes back as it is; None otherwise."""
    if "\r" in html:
        return None  # a carriage return html5ever would turn into a newline
    # '!' first: a one-character scan (memchr), where a search for "<!--" reads a
    # post's HTML a character at a time (3 us of a post's 6 KB, issue 12).
    if "!" in html and "<!--" in html:
        html = _COMMENT.sub("", html)
    tags = _TAG_TOKEN.findall(html)
    if html.count(">") != len(tags):
        return None  # a bare '>' in text: html5ever writes it as &gt;
    for tag in set(tags):
        if tag not in _PLAIN_TAGS and not _KEPT_TAG.fullmatch(tag):
            return None
    # cmark-gfm's own markup is well nested; the reader made it absolute through lxml
    # when it had a link, an image or a comment, and libxml2 writes some empty elements
    # (an <li>) without their end tag, which html5ever puts back. With no '<' in the
    # markdown and no '"' left (no attribute: lxml drops only a bad URL, and a bare <a>
    # is refused above), the reader kept cmark's markup as it was.
    if ("<" in markdown or '"' in html) and not _closed(Counter(tags)):
        return None
    if "&" in html:
        if html.count("&") != sum(html.count(entity) for entity in _ENTITIES):
            return None
        html = html.replace("&quot;", '"')
    if "\xa0" in html:
        html = html.replace("\xa0", "&nbsp;")
    return html.strip()


#: Tags with no end tag.
_VOID = ("<br>", "<hr>", "<img ")


def _closed(kinds: Counter[str]) -> bool:
    """Whether each element of the tags counted in ``kinds`` has as many end tags as
    start tags (libxml2 leaves out the end tag of some empty elements)."""
    balance: Counter[str] = Counter()
    for tag, count in kinds.items():
        if tag.startswith("</"):
            balance[tag[2:-1]] -= count
        elif not tag.startswith(_VOID):
            balance[tag[1:].split(" ", 1)[0].rstrip(">")] += count
    return not any(balance.values())
