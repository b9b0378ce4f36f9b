"""MDX components a feed reader can show: embeds, galleries, author bylines, JSX blocks.

A feed reader runs no JavaScript, so a component such as ``<YoutubeIframe embedId=x/>``
would vanish when :func:`publisher.posts.body.strip_mdx` drops it, and the sanitizer
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
from dataclasses import dataclass
from html import escape, unescape
from urllib.parse import SplitResult, parse_qs, urlsplit

from publisher.posts.fields import FieldProblem, normalize_url

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
#: A tag at the start of a line whose name may be an embed, a gallery or an author.
_EMBED_START = re.compile(r" {0,3}<([A-Za-z][\w.-]*)(?=[\s/>])")
#: A line that is nothing but one JSX block tag: ``<Tabs>``, ``</Note>``, ``<div markdown>``.
_BLOCK_TAG_LINE = re.compile(r" {0,3}<(/?)([A-Za-z][\w.:-]*)((?:[\s/][^<>]*)?)>[ \t]*")
_YOUTUBE_ID = re.compile(r"[A-Za-z0-9_-]{6,20}")
_VIMEO_ID = re.compile(r"\d{3,12}")
_SECONDS = re.compile(r"\d{1,6}")
#: Attributes that hold a video id or URL, in the order components in the wild use them.
_VIDEO_KEYS = ("embedId", "videoId", "youtubeId", "id", "url", "src", "href", "link")
_AUTHOR_KEY = re.compile(r"\.\.\.\s*[\w$]+\s*(?:\.\s*([\w$]+)|\[\s*['\"]([^'\"]{1,200})['\"]\s*\])")
_ATTRIBUTE_NAME = re.compile(r"[^\s=/>{]+")
_BRACE_SPECIAL = re.compile(r"[{}'\"`]")
#: Total characters failed tag scans may read per character of text (see body.py).
_FAILED_SCAN_BUDGET = 8
#: Longest tag this pass rewrites; a longer one is left to the MDX stripper.
_MAX_TAG = 64 * 1024

Authors = Sequence[tuple[str, str, str]]


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
    out: list[str] = []
    notes: list[tuple[str, str]] = []
    fence: str | None = None
    budget = _FAILED_SCAN_BUDGET * len(markdown) + 4096
    # Open JSX blocks, innermost last: the indentation of each one's content, once seen.
    indents: list[int | None] = []
    i, n = 0, len(markdown)
    while i <= n:
        end = markdown.find("\n", i)
        end = n if end == -1 else end
        line = markdown[i:end]
        if indents:
            line = _dedent(line, indents)
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
            i = end + 1
            continue
        opening = _FENCE.match(line)
        if opening:
            fence = opening.group(1)
            out.append(line)
            i = end + 1
            continue
        if "<" not in line:
            out.append(line)
            i = end + 1
            continue
        # Matched on the line as dedented: a component indented under a JSX block counts.
        start = _EMBED_START.match(line + "\n")
        kind = _kind(start.group(1)) if start else None
        if start is not None and kind is not None and budget > 0:
            lt = markdown.index("<", i)
            limit = min(n, lt + _MAX_TAG, lt + budget)
            tag_end, attributes = _read_tag(markdown, lt, limit)
            if tag_end < 0:
                budget += tag_end  # charge the failed read: -tag_end characters
                out.append(line)
                i = end + 1
                continue
            if kind == "iframe":
                tag_end = _skip_closing(markdown, tag_end, "iframe")
            html, note = _rewrite(kind, start.group(1), attributes, authors, names)
            if note:
                notes.append(note)
            rest_end = markdown.find("\n", tag_end)
            rest_end = n if rest_end == -1 else rest_end
            rest = markdown[tag_end:rest_end]
            # Its own block, at the line's indentation (so a list item keeps it).
            indent = line[: len(line) - len(line.lstrip(" "))]
            out.extend(["", f"{indent}<p>{html}</p>", ""] if html else [""])
            if rest.strip():
                out.append(rest)
            i = rest_end + 1
            continue
        block = _BLOCK_TAG_LINE.fullmatch(line)
        if block is not None and _is_jsx_block(block, len(indents)):
            if block.group(1):
                if indents:
                    indents.pop()
            elif not block.group(3).rstrip().endswith("/"):
                indents.append(None)
            out.extend(["", line, ""])
            i = end + 1
            continue
        out.append(line)
        i = end + 1
    text = "\n".join(out)
    return Expanded(markdown=text, notes=tuple(notes))


def iframe_html(tag: str) -> str:
    """The link (or linked video thumbnail) an ``<iframe ...>`` start tag stands for.

    For iframes the markdown pass could not see (inside a paragraph, inside raw HTML),
    called by the feed sanitizer just before it drops the iframe; '' when the ``src`` is
    not a safe http(s) URL.
    """
    end, attributes = _read_tag(tag, 0, min(len(tag), _MAX_TAG))
    if end < 0:
        return ""
    return _rewrite("iframe", "iframe", _unescaped(attributes), (), ())[0]


def _unescaped(attributes: dict[str, str]) -> dict[str, str]:
    # Serialized HTML escapes '&' in attribute values; the rewrite escapes once more.
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


def _rewrite(
    kind: str, name: str, attributes: dict[str, str], authors: Authors, names: Sequence[str]
) -> tuple[str, tuple[str, str] | None]:
    """(inline HTML, note) for one component; the HTML is empty when it is dropped."""
    title = _literal(attributes.get("title", "")).strip()
    if kind in ("youtube", "vimeo", "iframe"):
        raw = next((attributes[k] for k in _VIDEO_KEYS if attributes.get(k)), "")
        value = _literal(raw).strip()
        video = _youtube(value, kind == "youtube") or _vimeo(value, kind == "vimeo")
        if video is not None:
            return _video_html(*video, title), None
        url = _safe_url(value)
        if url is None:
            shown = " ".join(value.split())[:80]
            return "", (
                f"<{name}> source '{shown}' is not an http(s) URL; dropped from the feeds",
                "give the embed a full https:// address",
            )
        host = urlsplit(url).hostname or url
        text = title or f"Embedded content on {host}"
        return f'<a href="{escape(url)}">{escape(text)}</a>', None
    if kind == "gallery":
        images = _gallery_images(attributes)
        if not images:
            return "", (
                f"<{name}> names no image in a literal list; dropped from the feeds",
                "write the images in the tag (images={['a.png', 'b.png']}) or as markdown images",
            )
        tags = "".join(f'<img src="{escape(src)}" alt="{escape(alt)}">' for src, alt in images)
        return tags, None
    return _author(name, attributes, authors, names)


def _literal(value: str) -> str:
    """A ``{'text'}`` or ``{"text"}`` expression as its text; other values unchanged."""
    inner = value[1:-1].strip() if value.startswith("{") and value.endswith("}") else None
    if inner and len(inner) >= 2 and inner[0] == inner[-1] and inner[0] in "'\"`":
        return inner[1:-1]
    return value


def _youtube(value: str, bare_id: bool) -> tuple[str, str, str] | None:
    """(watch URL, thumbnail URL, site) for a YouTube id or URL, else None."""
    video_id, query = "", ""
    if "://" in value or value.startswith("//"):
        parts = _split(value if "://" in value else "https:" + value)
        if parts is None:
            return None
        host = (parts.hostname or "").removeprefix("www.").removeprefix("m.")
        path = parts.path.strip("/").split("/")
        if host == "youtu.be":
            video_id = path[0]
        elif host in ("youtube.com", "youtube-nocookie.com"):
            if path[0] in ("embed", "shorts", "live", "v") and len(path) > 1:
                video_id = path[1]
            else:
                video_id = (parse_qs(parts.query).get("v") or [""])[0]
        else:
            return None
        query = parts.query
    elif bare_id:
        video_id, _, query = value.partition("?")
    matched = _YOUTUBE_ID.fullmatch(video_id)
    if matched is None:
        return None
    watch = f"https://www.youtube.com/watch?v={video_id}"
    params = parse_qs(query)
    start = (params.get("t") or params.get("start") or [""])[0].removesuffix("s")
    if _SECONDS.fullmatch(start):
        watch += f"&t={start}"
    return watch, f"https://img.youtube.com/vi/{video_id}/hqdefault.jpg", "YouTube"


def _vimeo(value: str, bare_id: bool) -> tuple[str, str, str] | None:
    video_id = ""
    if "://" in value or value.startswith("//"):
        parts = _split(value if "://" in value else "https:" + value)
        if parts is None:
            return None
        host = (parts.hostname or "").removeprefix("www.")
        if host not in ("vimeo.com", "player.vimeo.com"):
            return None
        segments = [s for s in parts.path.split("/") if s]
        video_id = segments[-1] if segments else ""
    elif bare_id:
        video_id = value
    if _VIMEO_ID.fullmatch(video_id) is None:
        return None
    return f"https://vimeo.com/{video_id}", "", "Vimeo"


def _video_html(watch: str, thumbnail: str, site: str, title: str) -> str:
    label = f"{title} (video on {site})" if title else f"Watch the video on {site}"
    link = f'<a href="{escape(watch)}">{escape(label)}</a>'
    if not thumbnail:
        return link
    image = f'<img src="{escape(thumbnail)}" alt="{escape(label)}">'
    return f'<a href="{escape(watch)}">{image}</a><br>{link}'


def _safe_url(value: str) -> str | None:
    """``value`` as a normalized absolute http(s) URL, or None (javascript:, data:, relative)."""
    value = "".join(value.split())
    if value.startswith("//"):
        value = "https:" + value
    parts = _split(value)
    if parts is None or parts.scheme.lower() not in ("http", "https"):
        return None
    try:
        return normalize_url(value)
    except (FieldProblem, ValueError):
        return None


def _gallery_images(attributes: dict[str, str]) -> list[tuple[str, str]]:
    """(src, alt) of every image a gallery's ``images``/``photos``/``items`` literal names."""
    expression = next(
        (attributes[k] for k in ("images", "photos", "items", "pictures") if k in attributes),
        "",
    )
    images: list[tuple[str, str]] = []
    pending_alt = ""
    key = ""
    i, n = 0, len(expression)
    # One pass over the literal: remember the key before each string, keep the strings
    # under src-like keys (or bare strings in an array), and pair each with its alt.
    while i < n:
        c = expression[i]
        if c in "'\"`":
            close = expression.find(c, i + 1)
            if close < 0:
                break
            value = expression[i + 1 : close]
            i = close + 1
            if key in ("alt", "caption", "title", "description"):
                if images and images[-1][1] == "":
                    images[-1] = (images[-1][0], value)
                else:
                    pending_alt = value
            elif key in ("", "src", "original", "image", "url", "path", "href"):
                src = _image_url(value)
                if src is not None:
                    images.append((src, pending_alt))
                    pending_alt = ""
            key = ""
            continue
        if c.isalpha() or c == "_":
            j = i
            while j < n and (expression[j].isalnum() or expression[j] == "_"):
                j += 1
            word = expression[i:j]
            k = j
            while k < n and expression[k].isspace():
                k += 1
            key = word if k < n and expression[k] == ":" else ""
            i = j
            continue
        if c == "{":
            pending_alt = ""
        i += 1
    return images


def _image_url(value: str) -> str | None:
    """An image reference a feed may carry: absolute http(s), or relative to the post."""
    value = value.strip()
    if not value or any(ch.isspace() for ch in value):
        return None
    if ":" in value.split("/")[0]:  # a scheme: only http(s) may stay
        return _safe_url(value)
    return value if _split(value) is not None else None


def _split(value: str) -> SplitResult | None:
    """``urlsplit``, or None for what it refuses (an unclosed IPv6 bracket)."""
    try:
        parts = urlsplit(value)
        parts.hostname  # noqa: B018 - parsed lazily, and may raise here
    except ValueError:
        return None
    return parts


def _author(
    name: str, attributes: dict[str, str], authors: Authors, names: Sequence[str]
) -> tuple[str, tuple[str, str] | None]:
    spread = _AUTHOR_KEY.search(attributes.get("...", ""))
    key = (spread.group(1) or spread.group(2)) if spread else ""
    key = key or _literal(attributes.get("author", attributes.get("id", ""))).strip()
    for known, full_name, url in authors:
        if key and known == key:
            safe = _safe_url(url) if url else None
            shown = escape(full_name)
            byline = f'<a href="{escape(safe)}">{shown}</a>' if safe else shown
            return f"By {byline}", None
    literal = _literal(attributes.get("name", "")).strip()
    if literal and not literal.startswith("{"):
        return f"By {escape(literal)}", None
    # The post's own authors (frontmatter, or an "Author: ..." line), whose names run
    # together make the key (authors.JaneDoe, authors.JaneDoeandJohnRoe): the feed item
    # already names them in its author fields, so the card is dropped without a warning.
    compact = _compact(key)
    if compact and names and compact in (_compact("and".join(names)), *map(_compact, names)):
        return "", None
    what = f"'{key}'" if key else "its author"
    return "", (
        f"<{name}> has no author data for {what}; dropped from the feeds",
        "add the author to the generator's authors file, or name the author in the "
        "frontmatter (authors: [...])",
    )


def _compact(text: str) -> str:
    return "".join(c for c in text.casefold() if c.isalnum())
