"""Post bodies: strip MDX, render CommonMark to HTML, make every reference absolute.

MDX is removed without touching code: fenced code blocks and inline code spans are
copied verbatim. ``import``/``export`` statements go; JSX components (capitalised tags)
go but their children stay; JSX attributes (``style={{...}}``) are dropped from HTML tags
and ``className`` becomes ``class``; ``{/* comments */}`` go.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

import lxml.html
from cmarkgfm.cmark import Options  # type: ignore[import-untyped]
from lxml import etree

from publisher.posts import cmark as gfm
from publisher.posts import mdx
from publisher.posts.fields import FieldProblem, normalize_url

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
# ESM as MDX reads it: `import x from`, `import {`, `import * as`, `import './x'`,
# `export const|default|function ...`; not prose such as "import the dashboard".
_STATEMENT = re.compile(
    r"^(?:import\s+(?:[{*'\"]|[\w$]+\s*(?:,|from\b))"
    r"|export\s+(?:[{*]|(?:const|let|var|function|class|default|async)\b))"
)
_TAG_NAME = re.compile(r"[A-Za-z][\w.:-]*")
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


def strip_mdx(markdown: str) -> str:
    """Remove MDX syntax from markdown, leaving plain CommonMark with HTML."""
    out: list[str] = []
    prose: list[str] = []
    fence: str | None = None
    statement_depth: int | None = None  # open braces of a multi-line import/export

    def flush() -> None:
        if prose:
            out.append(_strip_jsx("\n".join(prose)))
            prose.clear()

    block_start = True  # MDX only reads import/export where a block can start
    for line in markdown.split("\n"):
        at_block_start, block_start = block_start, not line.strip()
        if fence is not None:
            out.append(line)
            closing = _FENCE.match(line)
            if (
                closing
                and closing.group(1)[0] == fence[0]
                and len(closing.group(1)) >= len(fence)
                and not line.strip().strip(fence[0])
            ):
                fence = None
            continue
        if statement_depth is not None:
            statement_depth += _brace_delta(line)
            if statement_depth <= 0 and not line.rstrip().endswith(","):
                statement_depth = None
            block_start = True
            continue
        opening = _FENCE.match(line)
        if opening:
            flush()
            fence = opening.group(1)
            out.append(line)
            continue
        if at_block_start and _STATEMENT.match(line):
            depth = _brace_delta(line)
            if depth > 0 or (line.rstrip().endswith(("{", "(", "[", ",")) and depth >= 0):
                statement_depth = max(depth, 1)
            block_start = True
            continue
        prose.append(line)
    flush()
    return "\n".join(out)


def _brace_delta(line: str) -> int:
    return sum(line.count(c) for c in "{([") - sum(line.count(c) for c in "})]")


_SPECIAL = re.compile(r"[`{<]")
_TICKS = re.compile(r"`+")


#: How far, in total, failed tag scans may read per character of text. A ``<`` that is
#: not a tag is read up to where the attempt fails, and then every ``<`` after it is tried
#: again: ``<b <b <b ...`` would read the rest of the text once per ``<`` (quadratic).
#: Real posts fail a few short scans; once a text has spent this budget, a ``<`` whose tag
#: does not close within the budget left is plain text.
_FAILED_SCAN_BUDGET = 8
_ATTRIBUTE = re.compile(r"[^\s=/>{]+")
_UNQUOTED = re.compile(r"[^\s>]+")


def _strip_jsx(text: str) -> str:
    out: list[str] = []
    i, n = 0, len(text)
    budget = _FAILED_SCAN_BUDGET * n + 4096
    # A code span that found no closing run of k backticks after some point finds none of
    # k or more after any later point either: remember the shortest such k.
    unclosed_ticks = n + 1
    while i < n:
        # Copy plain text up to the next character that can start code, a comment or a tag.
        special = _SPECIAL.search(text, i)
        if special is None:
            out.append(text[i:])
            break
        if special.start() > i:
            out.append(text[i : special.start()])
            i = special.start()
        c = text[i]
        if c == "`":
            ticks_match = _TICKS.match(text, i)
            assert ticks_match is not None
            run = len(ticks_match.group(0))
            end = -1 if run >= unclosed_ticks else text.find(text[i : i + run], i + run)
            if end == -1:
                unclosed_ticks = min(unclosed_ticks, run)
                stop = i + run
            else:
                stop = end + run
            out.append(text[i:stop])
            i = stop
        elif text.startswith("{/*", i):
            end = text.find("*/}", i)
            i = n if end == -1 else end + 3
        elif c == "<":
            limit = min(n, i + budget)
            consumed, replacement = _jsx_tag(text, i, limit)
            if consumed > 0:
                out.append(replacement)
                i += consumed
            else:
                budget += consumed
                out.append(c)
                i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _jsx_tag(text: str, start: int, limit: int) -> tuple[int, str]:
    """Parse a tag at ``start``, reading no further than ``limit``.

    Returns (characters consumed, replacement), or (-characters read, '') when there is
    no tag here, so the caller can charge the failed attempt to its budget.
    """
    i = start + 1
    closing = text.startswith("/", i)
    if closing:
        i += 1
    if text.startswith(">", i):  # fragments <> and </>
        return i + 1 - start, ""
    name = _TAG_NAME.match(text, i, limit)
    if name is None:
        return 0, ""
    i = name.end()
    if i < limit and not (text[i].isspace() or text[i] in "/>"):
        return start - i, ""  # an autolink such as <https://example.org>
    component = name.group(0)[0].isupper()
    reach = i  # the furthest a search has read, for the budget
    attributes: list[str] = []
    changed = False
    while i < limit:
        while i < limit and text[i].isspace():
            i += 1
        if i >= limit:
            return start - max(i, reach), ""
        if text[i] == ">" or text.startswith("/>", i):
            end = i + (1 if text[i] == ">" else 2)
            break
        if text[i] == "{":  # spread: {...props}
            i = _skip_braces(text, i, limit)
            changed = True
            continue
        attr = _ATTRIBUTE.match(text, i, limit)
        if attr is None:
            return start - max(i, reach), ""
        i = attr.end()
        value = ""
        if text.startswith("=", i):
            i += 1
            if i < limit and text[i] == "{":
                i = _skip_braces(text, i, limit)
                changed = True
                continue
            close = -1
            if i < limit and text[i] in "\"'":
                close = text.find(text[i], i + 1, limit)
                # An unclosed quote read to the limit: charge that to the budget too.
                reach = max(reach, limit if close == -1 else close)
            if close != -1:
                value = "=" + text[i : close + 1]
                i = close + 1
            else:
                unquoted = _UNQUOTED.match(text, i, limit)
                if unquoted is None:
                    return start - max(i, reach), ""
                value = "=" + unquoted.group(0)
                i = unquoted.end()
        key = attr.group(0)
        if key == "className":
            key, changed = "class", True
        attributes.append(key + value)
    else:
        return start - max(i, reach), ""
    if component:
        return end - start, ""
    if not changed:
        return end - start, text[start:end]
    slash = "/" if text[end - 2 : end] == "/>" else ""
    inside = " ".join([("/" if closing else "") + name.group(0), *attributes])
    return end - start, f"<{inside}{slash}>"


def _skip_braces(text: str, i: int, limit: int) -> int:
    depth = 0
    quote: str | None = None
    while i < limit:
        c = text[i]
        if quote:
            if c == quote:
                quote = None
        elif c in "'\"`":
            quote = c
        elif c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return i


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
