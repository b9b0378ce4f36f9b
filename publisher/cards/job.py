"""What a card render takes and gives: :class:`CardJob` in, :class:`Rendered` out.

Apart from :mod:`publisher.cards.render` (which draws), so that the stage can key, look up
and publish cached cards without importing the renderer and its imaging modules: a build
with nothing to draw never loads them (issue 12).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from publisher.cards.crop import Focus
    from publisher.cards.layout import Layout
    from publisher.cards.options import CardOptions

#: Bump when a change to the drawing code (:mod:`publisher.cards.render` and the modules
#: it draws with) changes the pixels of an unchanged card.
RENDER_VERSION = "12"


@dataclass(frozen=True, kw_only=True)
class CardJob:
    """Everything a card depends on, picklable for a worker process."""

    post_id: str
    layout: str
    layouts: Mapping[str, Layout]
    title: str
    summary: str
    fields: tuple[tuple[str, str], ...]
    image_path: str | None
    image_label: str
    image_field: str
    focus: Focus | None
    options: CardOptions
    #: The layout was picked for this post (``ogLayout``, ``--layout``), not the site default:
    #: keep it whatever the image looks like.
    forced: bool = False


@dataclass(frozen=True, kw_only=True)
class Note:
    """A diagnostic raised while rendering; the caller turns it into a Problem."""

    field: str | None
    message: str
    fix: str | None = None
    severity: str = "warning"


@dataclass(frozen=True, kw_only=True)
class Rendered:
    data: bytes
    format: str
    width: int
    height: int
    layout: str
    alt: str
    text_box: tuple[int, int, int, int] | None
    notes: tuple[Note, ...]
    #: Why this layout: "default", "chosen", "no image", "finished image", "text-heavy
    #: image", "diagram", "headline image" or "small image" (see publisher.cards.choose).
    rule: str = "default"
