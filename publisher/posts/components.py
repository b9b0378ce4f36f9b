"""What each MDX component becomes in a feed (see :mod:`publisher.posts.mdx`): a video
embed's thumbnail or link, a gallery's images, an author byline. Every value is
untrusted: URLs are checked (no ``javascript:``, no ``data:``) and text is escaped."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import SplitResult, parse_qs, urlsplit

from publisher.lazy import lazy_pattern
from publisher.posts.fields import FieldProblem, normalize_url
from publisher.posts.text import escape

_YOUTUBE_ID = lazy_pattern(r"[A-Za-z0-9_-]{6,20}")
_VIMEO_ID = lazy_pattern(r"\d{3,12}")
_SECONDS = lazy_pattern(r"\d{1,6}")
#: Attributes that hold a video id or URL, in the order components in the wild use them.
_VIDEO_KEYS = ("embedId", "videoId", "youtubeId", "id", "url", "src", "href", "link")
_AUTHOR_KEY = lazy_pattern(
    r"\.\.\.\s*[\w$]+\s*(?:\.\s*([\w$]+)|\[\s*['\"]([^'\"]{1,200})['\"]\s*\])"
)

Authors = Sequence[tuple[str, str, str]]


def rewrite(
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
