"""MDX components a feed reader can show: embeds, galleries, author bylines, JSX blocks.

A feed reader runs no JavaScript, so a component such as ``<YoutubeIframe embedId=x/>``
would vanish when :func:`publisher.posts.jsx.strip_mdx` drops it, and the sanitizer
drops every ``<iframe>``. :func:`expand` runs first and rewrites the components it knows
into plain HTML that survives both:

- a YouTube embed (component or iframe) -> its thumbnail, linked to the watch page;
- a Vimeo embed -> a link to the video;
- any other iframe -> a link to its ``src`` (absolute http(s) only);
- an image gallery -> its images as ``<img>`` (made absolute later, like any image);
- an author component (``<BlogAuthor {...authors.key} />``) -> a byline from the site's
  author data (Docusaurus ``authors.yml``, MkDocs ``.authors.yml``); dropped quietly when
  it names the post's own authors (the feed item carries them), else dropped with a note;
- a line holding only a JSX block tag gets blank lines around it, so the markdown inside
  the block is rendered as MDX renders it instead of swallowed into a raw HTML block.

Every value is untrusted: URLs are checked (no ``javascript:``, no ``data:``), text is
escaped, and the pass is linear in the text (each tag is read once; a tag that does not
close is charged to the same kind of budget the MDX stripper uses). Code is untouched.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from publisher.dataclass import dataclass
from publisher.lazy import lazy_pattern
from publisher.posts.components import Authors as Authors
from publisher.posts.components import rewrite

_FENCE = lazy_pattern(r"^ {0,3}(`{3,}|~{3,})")
#: A tag at the start of a line whose name may be an embed, a gallery or an author.
_EMBED_START = lazy_pattern(r" {0,3}<([A-Za-z][\w.-]*)(?=[\s/>])")
#: A line that is nothing but one JSX block tag: ``<Tabs>``, ``</Note>``, ``<div markdown>``.
_BLOCK_TAG_LINE = lazy_pattern(r" {0,3}<(/?)([A-Za-z][\w.:-]*)((?:[\s/][^<>]*)?)>[ \t]*")
_ATTRIBUTE_NAME = lazy_pattern(r"[^\s=/>{]+")
_BRACE_SPECIAL = lazy_pattern(r"[{}'\"`]")
#: Total characters failed tag scans may read per character of text (see jsx.py).
_FAILED_SCAN_BUDGET = 8
#: Longest tag this pass rewrites; a longer one is left to the MDX stripper.
_MAX_TAG = 64 * 1024


@dataclass(frozen=True, kw_only=True)
class Expanded:
    """The markdown with components rewritten, and what could not be kept."""

    markdown: str
    #: (problem, fix) for each component dropped, shown as the post's warnings.
    notes: tuple[tuple[str, str], ...] = ()


def expand(markdown: str, authors: Authors = (), names: Sequence[str] = ()) -> Expanded:
    """Rewrite the embeds, galleries and author components of ``markdown`` (see module).

    ``authors`` is the site's author data as (key, name, url); ``names`` are the post's
    own authors, which resolve a key such as ``JaneDoe`` (or ``JaneDoeandJohnRoe``) when
    the site's author data is not available.
    """
    if "<" not in markdown:
        return Expanded(markdown=markdown)  # no tag at all: most posts of most blogs
    expansion = _Expansion(markdown, authors, names)
    i, n = 0, len(markdown)
    while i <= n:
        if not expansion.indents and expansion.fence is None:
            i = expansion.plain_lines(i)
            if i > n:
                break
        i = expansion.line(i)
    return Expanded(markdown="\n".join(expansion.out), notes=tuple(expansion.notes))


class _Expansion:
    """One pass of :func:`expand`, a line at a time."""

    def __init__(self, markdown: str, authors: Authors, names: Sequence[str]) -> None:
        self.markdown = markdown
        self.authors = authors
        self.names = names
        self.out: list[str] = []
        self.notes: list[tuple[str, str]] = []
        self.fence: str | None = None
        self.budget = _FAILED_SCAN_BUDGET * len(markdown) + 4096
        # Open JSX blocks, innermost last: the indentation of each one's content, once seen.
        self.indents: list[int | None] = []
        #: Where the next '<' and fence markers are (searched again once passed).
        self.ahead = {"<": -1, "```": -1, "~~~": -1}

    def plain_lines(self, i: int) -> int:
        """Copy the lines from ``i`` that hold no ``<`` and cannot open a fence (outside
        blocks and fences, :meth:`line` copies them as they are) in one go; returns where
        the first other line starts (past the end when there is none)."""
        markdown = self.markdown
        ahead = self.ahead
        for token, at in ahead.items():
            if at < i:  # each search starts past the last: linear in all
                found = markdown.find(token, i)
                ahead[token] = len(markdown) + 1 if found == -1 else found
        stop = min(ahead.values())
        if stop > len(markdown):
            self.out.extend(markdown[i:].split("\n"))
            return stop
        start = markdown.rfind("\n", i, stop) + 1
        if start > i:
            self.out.extend(markdown[i : start - 1].split("\n"))
            return start
        return i

    def line(self, i: int) -> int:
        """Rewrite the line starting at ``i``; returns where the next line starts."""
        markdown = self.markdown
        end = markdown.find("\n", i)
        end = len(markdown) if end == -1 else end
        line = markdown[i:end]
        if self.indents:
            line = _dedent(line, self.indents)
        if self._fenced(line):
            return end + 1
        if "<" in line:
            after = self._embed(line, i, end)
            if after is not None:
                return after
            block = _BLOCK_TAG_LINE.fullmatch(line)
            if block is not None and _is_jsx_block(block, len(self.indents)):
                if block.group(1):
                    if self.indents:
                        self.indents.pop()
                elif not block.group(3).rstrip().endswith("/"):
                    self.indents.append(None)
                self.out.extend(["", line, ""])
                return end + 1
        self.out.append(line)
        return end + 1

    def _fenced(self, line: str) -> bool:
        """Code is copied as it is: True when ``line`` opens, is in or closes a fence."""
        if self.fence is None:
            opening = _FENCE.match(line)
            if opening is None:
                return False
            self.fence = opening.group(1)
            self.out.append(line)
            return True
        self.out.append(line)
        fence = self.fence
        closing = _FENCE.match(line)
        if (
            closing
            and closing.group(1)[0] == fence[0]
            and len(closing.group(1)) >= len(fence)
            and not line.strip().strip(fence[0])
        ):
            self.fence = None
        return True

    def _embed(self, line: str, i: int, end: int) -> int | None:
        """Rewrite a component starting ``line`` (at ``i``, the line ending at ``end``);
        returns where the next line starts, or None when the line starts none."""
        # Matched on the line as dedented: a component indented under a JSX block counts.
        start = _EMBED_START.match(line + "\n")
        kind = _kind(start.group(1)) if start else None
        if start is None or kind is None or self.budget <= 0:
            return None
        markdown, n = self.markdown, len(self.markdown)
        lt = markdown.index("<", i)
        limit = min(n, lt + _MAX_TAG, lt + self.budget)
        tag_end, attributes = _read_tag(markdown, lt, limit)
        if tag_end < 0:
            self.budget += tag_end  # charge the failed read: -tag_end characters
            self.out.append(line)
            return end + 1
        if kind == "iframe":
            tag_end = _skip_closing(markdown, tag_end, "iframe")
        html, note = rewrite(kind, start.group(1), attributes, self.authors, self.names)
        if note:
            self.notes.append(note)
        rest_end = markdown.find("\n", tag_end)
        rest_end = n if rest_end == -1 else rest_end
        rest = markdown[tag_end:rest_end]
        # Its own block, at the line's indentation (so a list item keeps it).
        indent = line[: len(line) - len(line.lstrip(" "))]
        self.out.extend(["", f"{indent}<p>{html}</p>", ""] if html else [""])
        if rest.strip():
            self.out.append(rest)
        return rest_end + 1


def iframe_html(tag: str) -> str:
    """The link (or linked video thumbnail) an ``<iframe ...>`` start tag stands for.

    For iframes the markdown pass could not see (inside a paragraph, inside raw HTML),
    called by the feed sanitizer just before it drops the iframe; '' when the ``src`` is
    not a safe http(s) URL.
    """
    end, attributes = _read_tag(tag, 0, min(len(tag), _MAX_TAG))
    if end < 0:
        return ""
    return rewrite("iframe", "iframe", _unescaped(attributes), (), ())[0]


def _unescaped(attributes: dict[str, str]) -> dict[str, str]:
    # Serialized HTML escapes '&' in attribute values; the rewrite escapes once more.
    from html import unescape  # only for a component with attributes: html.entities is 2 ms

    return {key: unescape(value) for key, value in attributes.items()}


def _dedent(line: str, indents: list[int | None]) -> str:
    """``line`` without its JSX block's content indentation.

    MDX has no indented code blocks, so content indented under a component is markdown;
    CommonMark would read four spaces as code. The first content line of a block sets how
    much to remove; a line indented less loses what it has.
    """
    if not line.strip():
        return ""
    leading = len(line) - len(line.lstrip(" \t"))
    indent = indents[-1]
    if indent is None:
        indent = indents[-1] = leading
    return line[min(leading, indent) :]


def _kind(name: str) -> str | None:
    lowered = name.lower()
    if lowered == "iframe":
        return "iframe"
    if not name[0].isupper():
        return None
    if "youtube" in lowered:
        return "youtube"
    if "vimeo" in lowered:
        return "vimeo"
    if "gallery" in lowered:
        return "gallery"
    if lowered.endswith("author") or lowered.endswith("authors"):
        return "author"
    if lowered.endswith("iframe") or lowered.endswith("embed"):
        return "iframe"
    return None


def _is_jsx_block(block: re.Match[str], depth: int) -> bool:
    """Whether a lone tag line opens or closes a block whose content MDX reads as markdown.

    Components do (capitalised names), and so does an HTML tag with a ``markdown``
    attribute (Python-Markdown's md_in_html, MkDocs Material's ``<figure markdown>``) or a
    JSX-only attribute. A plain ``<div>`` keeps CommonMark's meaning: raw HTML.
    """
    name, attributes = block.group(2), block.group(3)
    if name[0].isupper() or depth > 0:  # inside a JSX block, every tag is JSX
        return True
    if block.group(1):
        return False
    words = attributes.replace("/", " ").split()
    return (
        "markdown" in words
        or any(w.startswith("markdown=") for w in words)
        or ("className=" in attributes or "={" in attributes)
    )


def _read_tag(text: str, start: int, limit: int) -> tuple[int, dict[str, str]]:
    """Read the tag at ``start``: (end, attributes), or (-characters read, {}) if none.

    An attribute's value is the text of its string (quotes removed) or of its ``{...}``
    expression (braces kept); a spread ``{...x}`` is stored under ``...``.
    """
    name = _ATTRIBUTE_NAME.match(text, start + 1, limit)
    if name is None:
        return -1, {}
    failed = start - limit  # every failure below may have read up to the limit
    i = name.end()
    attributes: dict[str, str] = {}
    while i < limit:
        c = text[i]
        if c.isspace():
            i += 1
            continue
        if c == ">":
            return i + 1, attributes
        if text.startswith("/>", i):
            return i + 2, attributes
        if c == "{":
            close = _skip_braces(text, i, limit)
            if close < 0:
                return failed, {}
            attributes.setdefault("...", text[i:close])
            i = close
            continue
        attr = _ATTRIBUTE_NAME.match(text, i, limit)
        if attr is None:
            return start - i - 1, {}
        i = attr.end()
        value = ""
        if text.startswith("=", i):
            i += 1
            if i < limit and text[i] == "{":
                close = _skip_braces(text, i, limit)
                if close < 0:
                    return failed, {}
                value, i = text[i:close], close
            elif i < limit and text[i] in "\"'":
                close = text.find(text[i], i + 1, limit)
                if close < 0:
                    return failed, {}
                value, i = text[i + 1 : close], close + 1
            else:
                j = i
                while j < limit and not text[j].isspace() and text[j] != ">":
                    j += 1
                value, i = text[i:j], j
        attributes.setdefault(attr.group(0), value)
    return failed, {}


def _skip_braces(text: str, i: int, limit: int) -> int:
    """The index after the ``}`` that closes the ``{`` at ``i``, or -1 before ``limit``."""
    depth = 0
    while True:
        special = _BRACE_SPECIAL.search(text, i, limit)  # jumps over plain text in C
        if special is None:
            return -1
        i, c = special.start(), special.group(0)
        if c in "'\"`":
            close = text.find(c, i + 1, limit)
            if close < 0:
                return -1
            i = close + 1
            continue
        depth += 1 if c == "{" else -1
        i += 1
        if depth == 0:
            return i


def _skip_closing(text: str, i: int, name: str) -> int:
    """After an opening ``<iframe ...>``, also consume its (empty) content and end tag."""
    window = text[i : i + 4096].lower()  # a bounded look: never the whole text per tag
    close = window.find(f"</{name}")
    gt = window.find(">", close) if close >= 0 else -1
    return i if gt < 0 else i + gt + 1
