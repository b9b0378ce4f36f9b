"""``publish preview``: a page showing how every post will look wherever it is shared.

One small module per idea::

    platforms.py  each platform's limits and look as data (with their sources), truncation, crops
    unfurl.py     a post's real meta tags + its card -> each platform's link preview
    views.py      one post's section as frozen data: card, unfurls, announcements, feed view
    sections.py   those facts gathered from every stage's result
    notices.py    the section's warnings, one function per stage
    thumbs.py     small WebP copies of the cards: what the page shows, lazily loaded
    page.py       sections -> pages of HTML (the first lists every post), from
                  templates/preview/index.html.j2
    build.py      build_preview: the stage function (build, cards, pages, via OutputWriter)

The ``preview`` command is publisher/cli/preview.py (--open, --serve).
"""

from publisher.preview.build import FOLDER, PreviewResult, build_preview
from publisher.preview.platforms import PLATFORMS, Cut, Platform, crop, truncate

__all__ = [
    "FOLDER",
    "PLATFORMS",
    "Cut",
    "Platform",
    "PreviewResult",
    "build_preview",
    "crop",
    "truncate",
]
