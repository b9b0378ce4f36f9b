"""How each platform shows a shared link: its limits as data, and its truncation rules.

Every number carries where it comes from. ``approximate`` marks the ones that are not
published by the platform (observed behaviour, or a line clamp whose length depends on the
reader's screen); the preview page says so next to each mock-up. The numbers:

* Slack: the unfurl shows ``og:description`` cut at about 300 characters (observed;
  Slack documents the tags it reads, not the cut). The image keeps its own shape.
* Discord: ``og:title`` is cut to 67 + ``...`` and ``og:description`` to 347 + ``...``,
  counted in UTF-8 bytes (observed by developers; Discord documents neither). The large
  image keeps its own shape.
* X: ``twitter:title`` up to 70 characters and ``twitter:description`` up to 200 (X's
  card markup reference); the summary_large_image picture is cropped to 2:1 (X's card
  docs). Images up to 5 MB. The current apps show only the title over the picture.
* LinkedIn: 1.91:1 (LinkedIn's recommended 1200x627), images up to 5 MB, no WebP; the
  feed shows the title on up to two lines and no description (observed).
* Facebook: 1.91:1; an image smaller than 600x315 is shown as a small square; images up
  to 8 MB (Facebook's sharing FAQ). Title on two lines, description on one (observed).
* Mastodon: preview images up to 2 MB, JPEG/PNG/GIF/WebP (``PreviewCard::LIMIT`` in
  Mastodon's source); the web app shows the picture in its own shape and clamps title
  and description (observed).
* Bluesky: ``app.bsky.embed.external`` thumbnails up to 1,000,000 bytes (the lexicon);
  the app crops to about 1.91:1 and clamps the title to two lines and the description
  to two (observed).
* Microsoft Teams: a pasted link unfurls to a box with a thumbnail beside the title,
  description and domain (observed; Microsoft documents no limits for it). The Teams
  announcer itself posts an Adaptive Card, shown in the announcement's payload.
* Telegram: the link preview hangs under the message with a bar on its left: site name,
  title, description and, as the Telegram announcer asks (``prefer_large_media``), the
  picture large below them in its own shape (observed; Telegram publishes no limits).
* Matrix: Element shows the preview the homeserver made (Synapse's ``/preview_url``,
  which downloads at most ``max_spider_size``, 10 MB by default) with a small thumbnail,
  only when the homeserver has URL previews on (off by default) and never in encrypted
  rooms; the description is clamped to three lines (observed).

* Google Chat: a link in a message unfurls to a card with the picture above the title,
  description and domain (observed; Google documents no limits for link previews).
* Mattermost: the server's OpenGraph preview hangs under the post with a bar on its left:
  site name, title, description, and the picture large below (observed; the server reads
  ``og:*`` tags itself).
* Zulip: the inline URL preview shows a small picture beside the title and description
  (observed; the server's ``inline_url_embed_preview`` setting must be on).
* Threads: a link attachment shows the picture at about 1.91:1 with the title and domain
  under it (observed; Meta documents no limits for it).

Adding a platform is one :class:`Platform` entry: its cuts and picture rules, where the
picture goes (``shape``), which lines the text shows in which order (``parts``), and its
colours (``theme``). The page draws every platform from these alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from publisher.announce.text import graphemes

CutUnit = Literal["chars", "bytes"]
#: card: the picture above the text; quote: a bar on the left, the picture below the
#: text; overlay: the title over the picture (X).
Shape = Literal["card", "quote", "overlay"]
#: The lines of a mock-up's text, in the order the platform draws them.
Part = Literal["site", "domain", "title", "description"]


@dataclass(frozen=True, kw_only=True)
class Theme:
    """A mock-up's colours (CSS values), written into the page's style sheet."""

    background: str = "#ffffff"
    #: Behind the text, when it differs from the picture's background (LinkedIn, Facebook).
    body: str | None = None
    text: str = "#0f1419"
    title: str = "#0f1419"
    site: str | None = None  # default: muted
    muted: str = "#536471"
    border: str = "#d4dbe2"
    #: The coloured bar on the left of a quote-shaped preview.
    bar: str | None = None
    radius: int = 8


@dataclass(frozen=True, kw_only=True)
class Cut:
    """A hard cut: at most ``max`` units including the ``ellipsis``."""

    max: int
    unit: CutUnit = "chars"
    ellipsis: str = "…"
    approximate: bool = False

    def describe(self) -> str:
        unit = "UTF-8 bytes" if self.unit == "bytes" else "characters"
        return f"{'about ' if self.approximate else ''}{self.max} {unit}"


@dataclass(frozen=True, kw_only=True)
class Platform:
    key: str
    name: str
    #: Hard cuts the platform applies to the text it stores or shows (None: no cut).
    title_cut: Cut | None = None
    description_cut: Cut | None = None
    #: Does the link preview show the description at all?
    shows_description: bool = True
    #: Lines the app clamps the title/description to with its own CSS (None: no clamp).
    title_lines: int | None = None
    description_lines: int | None = None
    #: width / height of the crop box; None: the picture keeps its own shape.
    ratio: float | None = None
    ratio_label: str = ""
    #: Below this size the picture is shown as a small thumbnail instead of a large image.
    large_min: tuple[int, int] | None = None
    max_bytes: int | None = None
    formats: frozenset[str] = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})
    #: What is approximate about this mock-up, said on the page.
    note: str = ""
    #: How the mock-up is drawn: where the picture goes, the text lines, the colours.
    shape: Shape = "card"
    parts: tuple[Part, ...] = ("title", "description", "domain")
    #: The picture is always a small thumbnail beside the text (Teams, Matrix).
    small_picture: bool = False
    theme: Theme = Theme()


PLATFORMS: tuple[Platform, ...] = (
    Platform(
        key="slack",
        name="Slack",
        description_cut=Cut(max=300, approximate=True),
        note="description cut observed, not documented; the picture keeps its shape",
        shape="quote",
        parts=("site", "title", "description"),
        theme=Theme(
            title="#1264a3", text="#1d1c1d", site="#1d1c1d", border="transparent", bar="#dddddd"
        ),
    ),
    Platform(
        key="discord",
        name="Discord",
        title_cut=Cut(max=70, unit="bytes", ellipsis="...", approximate=True),
        description_cut=Cut(max=350, unit="bytes", ellipsis="...", approximate=True),
        note="cuts observed (counted in UTF-8 bytes), not documented",
        shape="quote",
        parts=("site", "title", "description"),
        theme=Theme(
            background="#2b2d31",
            text="#dbdee1",
            title="#00a8fc",
            muted="#b5bac1",
            border="#2b2d31",
            bar="#1e1f22",
            radius=4,
        ),
    ),
    Platform(
        key="x",
        name="X",
        title_cut=Cut(max=70),
        description_cut=Cut(max=200),
        shows_description=False,
        title_lines=1,
        ratio=2.0,
        ratio_label="2:1",
        max_bytes=5_000_000,
        note="the apps show only the title over the picture today",
        shape="overlay",
        parts=("domain", "title"),
        theme=Theme(border="#cfd9de", radius=16),
    ),
    Platform(
        key="linkedin",
        name="LinkedIn",
        shows_description=False,
        title_lines=2,
        ratio=1200 / 627,
        ratio_label="1.91:1",
        max_bytes=5_000_000,
        formats=frozenset({"image/jpeg", "image/png", "image/gif"}),
        note="two title lines and no description are observed, not documented",
        theme=Theme(
            body="#eef3f8",
            title="rgba(0,0,0,.9)",
            muted="rgba(0,0,0,.6)",
            border="#e0dfdc",
            radius=2,
        ),
    ),
    Platform(
        key="facebook",
        name="Facebook",
        title_lines=2,
        description_lines=1,
        ratio=1.91,
        ratio_label="1.91:1",
        large_min=(600, 315),
        max_bytes=8_000_000,
        note="line clamps observed; they depend on the reader's screen",
        parts=("domain", "title", "description"),
        theme=Theme(body="#f0f2f5", title="#050505", muted="#65676b", border="#dadde1", radius=0),
    ),
    Platform(
        key="mastodon",
        name="Mastodon",
        title_lines=2,
        description_lines=2,
        max_bytes=2_000_000,
        note="line clamps observed in the web app; they depend on the reader's screen",
        parts=("site", "title", "description"),
        theme=Theme(
            background="#282c37", text="#d9e1e8", title="#ffffff", muted="#9baec8", border="#393f4f"
        ),
    ),
    Platform(
        key="bluesky",
        name="Bluesky",
        title_lines=2,
        description_lines=2,
        ratio=1.91,
        ratio_label="about 1.91:1",
        max_bytes=1_000_000,
        formats=frozenset({"image/jpeg", "image/png", "image/webp"}),
        note="crop and line clamps observed in the app; the 1,000,000-byte limit is the lexicon's",
        theme=Theme(text="#0b0f14", muted="#42576c", radius=12),
    ),
    Platform(
        key="teams",
        name="Microsoft Teams",
        title_lines=2,
        description_lines=2,
        small_picture=True,
        note="a pasted link's preview, observed; Microsoft documents no limits for it",
        parts=("title", "description", "domain"),
        theme=Theme(text="#242424", title="#242424", muted="#616161", border="#e0e0e0", radius=4),
    ),
    Platform(
        key="telegram",
        name="Telegram",
        note="layout observed in the apps; Telegram publishes no limits for link previews",
        shape="quote",
        parts=("site", "title", "description"),
        theme=Theme(
            background="#effdde",
            text="#000000",
            title="#000000",
            site="#3a8e26",
            border="#effdde",
            bar="#5fbe67",
            radius=6,
        ),
    ),
    Platform(
        key="matrix",
        name="Matrix (Element)",
        description_lines=3,
        small_picture=True,
        max_bytes=10 * 1024 * 1024,
        note=(
            "drawn by Element from the homeserver's preview, which needs URL previews on"
            " (off by default) and is never made in encrypted rooms; line clamp observed"
        ),
        parts=("site", "title", "description"),
        theme=Theme(
            text="#17191c", title="#0dbd8b", muted="#737d8c", border="#e3e8f0", bar="#e3e8f0"
        ),
    ),
    Platform(
        key="googlechat",
        name="Google Chat",
        title_lines=2,
        description_lines=2,
        note="layout observed; Google documents no limits for link previews",
        parts=("title", "description", "domain"),
        theme=Theme(text="#1f1f1f", title="#0b57d0", muted="#444746", border="#c4c7c5", radius=8),
    ),
    Platform(
        key="mattermost",
        name="Mattermost",
        note="the server's own OpenGraph preview, layout observed",
        shape="quote",
        parts=("site", "title", "description"),
        theme=Theme(
            text="#3f4350",
            title="#1c58d9",
            site="#3f4350",
            border="transparent",
            bar="#dddddd",
            radius=4,
        ),
    ),
    Platform(
        key="zulip",
        name="Zulip",
        title_lines=1,
        description_lines=3,
        small_picture=True,
        note="needs the server's inline URL previews on; layout observed",
        parts=("title", "description"),
        theme=Theme(text="#333333", title="#0b66c3", muted="#666666", border="#e0e0e0", radius=4),
    ),
    Platform(
        key="threads",
        name="Threads",
        shows_description=False,
        title_lines=2,
        ratio=1.91,
        ratio_label="about 1.91:1",
        note="layout and crop observed in the app; Meta documents no limits for it",
        parts=("title", "domain"),
        theme=Theme(text="#000000", title="#000000", muted="#999999", border="#e5e5e5", radius=12),
    ),
)


def _size(text: str, unit: CutUnit) -> int:
    if unit == "bytes":
        return len(text.encode("utf-8"))
    return sum(1 for _ in graphemes(text))


def truncate(text: str, cut: Cut | None) -> tuple[str, bool]:
    """``text`` as the platform keeps it, and whether it was cut.

    The platform keeps the first ``max - len(ellipsis)`` units and appends the ellipsis;
    the cut falls on a grapheme boundary, so an emoji or an accented letter stays whole.
    """
    if cut is None or _size(text, cut.unit) <= cut.max:
        return text, False
    room = cut.max - _size(cut.ellipsis, cut.unit)
    kept: list[str] = []
    used = 0
    for grapheme in graphemes(text):
        size = _size(grapheme, cut.unit)
        if used + size > room:
            break
        kept.append(grapheme)
        used += size
    return "".join(kept) + cut.ellipsis, True


@dataclass(frozen=True, kw_only=True)
class Crop:
    """What a crop to ``ratio`` cuts off a ``width`` x ``height`` picture (centred)."""

    lost_x: int  # pixels cut from the left and from the right, each
    lost_y: int  # pixels cut from the top and from the bottom, each

    @property
    def none(self) -> bool:
        return self.lost_x == 0 and self.lost_y == 0

    def describe(self) -> str:
        if self.lost_y:
            return f"{self.lost_y} px cut from the top and from the bottom"
        if self.lost_x:
            return f"{self.lost_x} px cut from each side"
        return "nothing cut"


def crop(width: int, height: int, ratio: float | None) -> Crop:
    """The centred crop of a picture to the width/height ``ratio`` (None: no crop)."""
    if ratio is None or width <= 0 or height <= 0:
        return Crop(lost_x=0, lost_y=0)
    if width / height > ratio:
        kept = round(height * ratio)
        return Crop(lost_x=max(0, (width - kept) // 2), lost_y=0)
    kept = round(width / ratio)
    return Crop(lost_x=0, lost_y=max(0, (height - kept) // 2))
