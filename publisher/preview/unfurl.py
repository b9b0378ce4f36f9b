"""From a post's real ``<meta>`` tags to what each platform draws when the link is shared."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urlsplit

from publisher.preview.platforms import PLATFORMS, Crop, Platform, crop, truncate


class _MetaReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "meta":
            return
        values = dict(attrs)
        key = values.get("property") or values.get("name")
        content = values.get("content")
        if key and content is not None and key not in self.tags:
            self.tags[key] = content


def read_meta(html: str) -> dict[str, str]:
    """``og:*``, ``twitter:*`` and ``article:*`` values from a meta-tag snippet (first wins)."""
    reader = _MetaReader()
    reader.feed(html)
    reader.close()
    return reader.tags


@dataclass(frozen=True, kw_only=True)
class Picture:
    """The card picture as a platform shows it: the served card's facts, a small copy's pixels."""

    src: str  # the small copy (thumbs.py), relative to the preview page
    width: int
    height: int
    bytes: int
    mime: str
    alt: str


@dataclass(frozen=True, kw_only=True)
class Unfurl:
    """One platform's mock-up of one post's link preview."""

    platform: Platform
    site: str
    domain: str
    title: str
    title_cut: bool
    description: str
    description_cut: bool
    picture: Picture | None
    #: "large" (full-width), "small" (a thumbnail beside the text) or "none".
    image_mode: str
    crop: Crop
    #: Why the picture is not shown, or what the platform does to it.
    image_notes: tuple[str, ...]


def _text(meta: Mapping[str, str], platform: Platform, name: str) -> str:
    # X reads twitter:* first and falls back to og:*; the others read og:*.
    if platform.key == "x":
        return meta.get(f"twitter:{name}") or meta.get(f"og:{name}") or ""
    return meta.get(f"og:{name}") or meta.get(f"twitter:{name}") or ""


def unfurl(meta: Mapping[str, str], picture: Picture | None, platform: Platform) -> Unfurl:
    """What ``platform`` shows for a page with these meta tags and this card picture."""
    title, title_cut = truncate(_text(meta, platform, "title"), platform.title_cut)
    description, description_cut = truncate(
        _text(meta, platform, "description"), platform.description_cut
    )
    url = meta.get("og:url", "")
    domain = (urlsplit(url).hostname or "").removeprefix("www.")
    notes: list[str] = []
    mode = "none"
    shown = picture
    if picture is not None:
        mode = "large"
        if platform.small_picture or (
            meta.get("twitter:card") == "summary" and platform.key in ("x", "slack", "discord")
        ):
            mode = "small"
        if picture.mime not in platform.formats:
            notes.append(f"{platform.name} does not show {picture.mime} images")
            shown, mode = None, "none"
        elif platform.max_bytes is not None and picture.bytes > platform.max_bytes:
            notes.append(
                f"{picture.bytes:,} bytes is over {platform.name}'s {platform.max_bytes:,}-byte limit"
            )
            shown, mode = None, "none"
        elif platform.large_min is not None and (
            picture.width < platform.large_min[0] or picture.height < platform.large_min[1]
        ):
            w, h = platform.large_min
            notes.append(f"smaller than {w}x{h}: shown as a small square")
            mode = "small"
    cut = crop(0, 0, None)
    if shown is not None and mode == "large" and platform.ratio is not None:
        cut = crop(shown.width, shown.height, platform.ratio)
        notes.append(f"cropped to {platform.ratio_label}: {cut.describe()}")
    return Unfurl(
        platform=platform,
        site=meta.get("og:site_name", ""),
        domain=domain,
        title=title,
        title_cut=title_cut,
        description=description if platform.shows_description else "",
        description_cut=description_cut and platform.shows_description,
        picture=shown,
        image_mode=mode if shown is not None else "none",
        crop=cut,
        image_notes=tuple(notes),
    )


def unfurls(meta: Mapping[str, str], picture: Picture | None) -> tuple[Unfurl, ...]:
    """Every platform's mock-up, in the order of :data:`PLATFORMS`."""
    return tuple(unfurl(meta, picture, platform) for platform in PLATFORMS)
