"""Every platform's link preview, as the preview page draws it, and its truncation rules.

The facts come from the adapters: each declares ``link_preview`` (a
:class:`~publisher.announce.linkpreview.LinkPreview`: cuts, picture rules, shape, parts,
colours, and where each number comes from). A platform announcements cannot go to
(Facebook) is declared here. Adding a platform's adapter adds its mock-up: the page draws
every platform from these alone, in the order of their keys.
"""

from __future__ import annotations

from dataclasses import dataclass

from publisher.announce.linkpreview import Cut, CutUnit, LinkPreview, Part, Shape, Theme
from publisher.announce.registry import announcer_class, kinds
from publisher.announce.text import graphemes

#: The preview's name for a platform's link preview.
Platform = LinkPreview

__all__ = [
    "FACEBOOK",
    "PLATFORMS",
    "Crop",
    "Cut",
    "CutUnit",
    "Part",
    "Platform",
    "Shape",
    "Theme",
    "crop",
    "truncate",
]

# Facebook: 1.91:1; an image smaller than 600x315 is shown as a small square; images up to 8
# MB (Facebook's sharing FAQ). Title on two lines, description on one (observed).
FACEBOOK = Platform(
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
)


def registered_platforms() -> tuple[Platform, ...]:
    """Each registered adapter's link preview (one per key), Facebook's, sorted by key."""
    found = {FACEBOOK.key: FACEBOOK}
    for kind in kinds():
        try:
            preview = announcer_class(kind).link_preview
        except (ImportError, AttributeError, TypeError):
            continue  # a plugin that does not load has no mock-up; `publish check` says why
        if preview is not None:
            found.setdefault(preview.key, preview)
    return tuple(found[key] for key in sorted(found))


PLATFORMS: tuple[Platform, ...] = registered_platforms()


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
