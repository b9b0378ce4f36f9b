"""How a platform shows a shared link: facts an adapter declares, which the preview page
(``publish preview``) draws its mock-up from.

An adapter sets ``link_preview`` to a :class:`LinkPreview`: the platform's cuts and
picture rules, where the picture goes (``shape``), which lines the text shows in which
order (``parts``), and its colours (``theme``). Every number says where it comes from in
the adapter's comment; ``approximate`` marks those the platform does not publish
(observed behaviour), and ``note`` says so on the page next to the mock-up.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

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
class LinkPreview:
    """One platform's link preview (``key``: the adapter's kind, or a platform without one)."""

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
