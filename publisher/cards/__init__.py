"""Open Graph cards: a 1200x630 preview image per post, its meta tags and a manifest.

The stage, one small module per idea::

    options.py   CardOptions: the cards: section of config.yaml as the stages read it
    option_schema.py  the cards: section checked into CardOptions (parse_card_options)
    layout.py    templates/cards/*.yaml -> Layout (validated data; values in layout_values.py)
    images.py    source image bytes -> pixels (allowed decoders only, file and pixel caps)
    addresses.py which hosts a remote image may come from (no loopback, private, metadata)
    transport.py one HTTP GET to a checked address under one wall-clock deadline
    fetch.py     remote ogImageUrl -> cached file (checked redirects, byte cap)
    choose.py    which layout a card gets (finished, text-heavy, diagram, small image)
    crop.py      focal point / busiest region -> crop box
    subjects.py  text blocks and faces in the picture -> a crop that keeps them uncovered
    contrast.py  pixels under the text -> text colour and scrim strength (WCAG 4.5:1)
    clean.py     title/summary clean-up: markdown, HTML tags and entities out
    text.py      line breaking (UAX #14, via publisher.unicode), auto-fit, ellipsis
    fonts.py     per-character font fallback, shaping, drawing
    job.py       CardJob and Rendered: what a render takes and gives (no imaging imports)
    render.py    CardJob -> encoded card (pure; runs in worker processes), layer by layer:
    canvas.py      background, shapes and the picture
    scrim.py       the shade the text needs
    brand.py       logo, author pill, category chip
    typeset.py     meta line, title and summary fitted and drawn
    encode.py    JPEG/PNG under a byte budget
    cache.py     render cache keyed by a hash of every input
    publish.py   a card's image and meta snippet written, or kept unread when in place
    meta.py      manifest.json and the per-post <meta> snippet
    check.py     check_cards: what the stage would refuse, without rendering (publish check)
    build.py     build_cards / render_one: the stage function

The names below are imported on first use (PEP 562), not with the package: loading
config.yaml imports ``publisher.cards.options``, and a build with cards off, or with
nothing changed, must not pay for the renderer's imports (issue 12).
"""

from __future__ import annotations

from publisher.lazy import lazy_exports

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (issue 12)

if TYPE_CHECKING:
    from publisher.cards.build import CardsResult, Planned, build_cards, render_one
    from publisher.cards.check import check_cards
    from publisher.cards.meta import Card
    from publisher.cards.option_schema import KNOWN_KEYS, parse_card_options
    from publisher.cards.options import CardOptions

#: Each public name and the module that defines it.
_HOMES = {
    "CardsResult": "build",
    "Planned": "build",
    "build_cards": "build",
    "render_one": "build",
    "check_cards": "check",
    "Card": "meta",
    "KNOWN_KEYS": "option_schema",
    "CardOptions": "options",
    "parse_card_options": "option_schema",
}

__all__ = [
    "KNOWN_KEYS",
    "Card",
    "CardOptions",
    "CardsResult",
    "Planned",
    "build_cards",
    "check_cards",
    "parse_card_options",
    "render_one",
]


__getattr__ = lazy_exports(__name__, _HOMES, globals())
