"""Which layout a card gets, and the rule that chose it.

A layout hands a card over to another one when the image would suffer under it:
``when_no_image`` (nothing to draw), ``when_finished`` (the image already is a social card,
about 1.91:1 or 2:1 and at least 1000 px wide: printing a second title over its own would ruin it),
``when_text_heavy`` (a screenshot, slide or code: a title over it is unreadable and hides it),
``when_diagram`` (mostly white or transparent), ``when_text_heavy`` again for a finished title
card of another shape (a 16:9 image with a big headline of its own, :func:`carries_headline`)
and ``when_small`` (a cover would enlarge it).
A layout chosen on purpose (the post's ``ogLayout``, ``publish cards --layout``) is kept
whatever the image, except that a card with no image cannot show one.

The rule is kept with the card (``Rendered.rule``, the manifest's ``rule``) so a preview can
say why a card looks the way it does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from PIL import Image, ImageFilter, ImageStat

from publisher.cards import thumbnail
from publisher.cards.crop import QUIET, cover_scale, looks_like_diagram, text_line_runs
from publisher.cards.layout import Layout

#: The card shape social sites crop to (1200x630) and how far a finished image may be off it.
#: Images made as cards (1200x627, 1200x630, 1600x840, 1920x1005, 2400x1260) are within
#: 0.5%; 2% leaves room for hand-sized exports while charts and screen recordings that
#: happen to be 1.83-1.96:1 (3-4% off, in the sample corpus) still get the title.
CARD_RATIO = 1200 / 630
FINISHED_TOLERANCE = 0.02
#: Finished cards exported a little under the card's width (1130x592, 1024x536, 1080x565)
#: pass through too, enlarged at most 20% to fill a 1200 px card: a little softness beats
#: a second headline printed over their own. Narrower card-shaped images (an 800x420
#: illustration in the sample corpus) are too soft to enlarge and keep the title.
FINISHED_MIN_WIDTH = 1000
#: X (Twitter) documents 2:1 for its large-image card, so cards made for it (1200x600,
#: 1500x750, 2000x1000) are finished too; design tools export that shape exactly, and 0.5%
#: leaves out the 2.01-2.02:1 diagrams of the sample corpus. Shown on the 1.91:1 card they
#: lose 2% at each side, well inside a designer's margin.
WIDE_RATIO = 2.0
WIDE_TOLERANCE = 0.005

#: Text-heavy threshold on :func:`text_coverage`, measured on the 89 images of the sample
#: corpora: terminal output, code, schedules and page screenshots score 0.26-0.60, labelled
#: diagrams 0.25-0.30, photos (portraits, foliage, crowds) 0.00-0.11, illustrations < 0.24.
TEXT_HEAVY = 0.25


#: How much more than ``cards.max_upscale`` a cover may enlarge an image: a 1200x627 photo
#: needs 0.5% and a 1100x580 one 9% to fill the card, invisible in a photo; treating them as
#: "small" put card-shaped photos on the split panel.
COVER_SLACK = 1.1


def too_small(size: tuple[int, int], box: tuple[int, int], max_upscale: float) -> bool:
    """A cover of ``box`` would enlarge the image visibly past ``max_upscale``."""
    return cover_scale(size, box) > max_upscale * COVER_SLACK


@dataclass(frozen=True, kw_only=True)
class Choice:
    layout: Layout
    rule: str


def full_size(size: tuple[int, int], original: tuple[int, int]) -> tuple[int, int]:
    """The decoded image's size before shrink-on-load, turned as the decoded image is."""
    width, height = original
    if (width > height) != (size[0] > size[1]) and width != height:
        width, height = height, width
    return width, height


def looks_finished(size: tuple[int, int], original: tuple[int, int]) -> bool:
    """About 1.91:1 (or exactly 2:1) and big enough to fill the card enlarged at most 20%
    (``FINISHED_MIN_WIDTH`` wide at 1.91:1): made to be shared as it is."""
    width, height = full_size(size, original)
    if width < FINISHED_MIN_WIDTH or height <= 0:
        return False
    ratio = width / height
    if abs(ratio / CARD_RATIO - 1) <= FINISHED_TOLERANCE:
        return True
    # A 2:1 image fills the card by its height: 1024x512 would be enlarged 23%.
    tall_enough = height >= FINISHED_MIN_WIDTH / CARD_RATIO
    return tall_enough and abs(ratio / WIDE_RATIO - 1) <= WIDE_TOLERANCE


#: Channel spread (standard deviation, 0-255) under which an image is one flat colour.
_FLAT = 3.0


def is_flat(image: Image.Image) -> bool:
    """One colour (or wholly transparent) all over: a placeholder, not a finished card.

    Passed through, it made a card with nothing on it, not even the title.
    """
    # An opaque image is measured as it is: as RGBA its alpha would be one flat 255 and
    # its colours the same after the box filter, but converting first copied every pixel.
    probe = image if image.mode == "RGB" else image.convert("RGBA")
    probe = probe.resize((64, 32), Image.Resampling.BOX)
    return max(ImageStat.Stat(probe).stddev) < _FLAT


def text_coverage(image: Image.Image) -> float:
    """Share of the image (0 to 1) covered by lines of glyph-like detail.

    Text shows as bands of dense, sharp edges a few pixels tall, stacked with thin quiet
    gaps between them (the line spacing). The image is cut into vertical strips (columns
    of text, a sidebar); in each, a row profile of edge density is split into busy runs
    and quiet gaps, and a busy run as tall as a line of text (not a whole object) counts
    as a text line. Photos have edges too, but as blobs and textures that do not stop
    and start every few rows. One pass over a 320 px thumbnail (of the picture's shared
    grey one): cost is constant.
    """
    probe = thumbnail.shrink(thumbnail.grey(image), (320, 320), Image.Resampling.BILINEAR)
    if probe.width < 32 or probe.height < 32:
        return 0.0
    edges = probe.filter(ImageFilter.FIND_EDGES).point(lambda v: 255 if v > 64 else 0)
    edges = edges.crop((1, 1, edges.width - 1, edges.height - 1))
    width, height = edges.size
    strips = 4
    covered = 0
    for index in range(strips):
        strip = edges.crop((index * width // strips, 0, (index + 1) * width // strips, height))
        profile = list(strip.resize((1, height), Image.Resampling.BOX).tobytes())
        covered += _line_rows(profile, height)
    return covered / (strips * height)


def _line_rows(profile: list[int], height: int) -> int:
    """Rows that belong to text-line-sized busy runs in a row profile of edge density."""
    lines = text_line_runs(profile, height)
    # One or two bands are a headline or a horizon; text is many lines.
    return sum(end - start for start, end in lines) if len(lines) >= 3 else 0


#: Big type is looked for on a thumbnail this many rows tall, where 80-200 px letters of a
#: 675-1080 px tall card are 6-25 rows: glyphs again, as body text is at 320 px.
_HEADLINE_ROWS = 96
#: A headline band is this share of the height at most (two or three lines of display
#: type); a taller busy run is a picture. A card's background is quiet on at least
#: ``_HEADLINE_QUIET`` of its rows (flat colour or gradient), a photo's almost never.
_HEADLINE_BAND = 0.45
_HEADLINE_QUIET = 0.4
#: At most this many busy bands: a card holds a headline of a line or three, a subtitle
#: and a logo (3-4 bands on generated cards); the labelled diagrams and UI screenshots of
#: the sample corpora that the rest of the test takes for a card have 6-25.
_HEADLINE_BANDS = 5
#: Widest shape tried: title cards are made 16:9 to 2:1; a 3:1 banner is a strip of art.
_HEADLINE_WIDEST = 2.1
#: A line of display type is at least this many thumbnail rows tall and, on its median
#: row, has edges over this share (0-255) of the width: the upright strokes of letters
#: cross every row of the line (medians 39-80 on generated cards), while the outline of a
#: shape crosses each row twice (at most 24 on generated photos and drawn circles).
_HEADLINE_LINE = 4
_HEADLINE_DENSE = 32


def carries_headline(image: Image.Image, original: tuple[int, int]) -> bool:
    """A finished title card: big display type (a headline) on a flat or gradient ground.

    :func:`text_coverage` sees lines of small glyphs only, so a 16:9 card with a 150 px
    headline went under a second title. Here the same edge analysis runs on a thumbnail
    :data:`_HEADLINE_ROWS` tall: most rows are quiet (the designed background), every busy
    run is a band no taller than a few lines of type, and at least one band breaks into
    letters and words (busy column runs with quiet columns between), with few bands in all
    (a labelled diagram has many). Only landscape images 1.3:1 to 2.1:1 as big as a card
    (``FINISHED_MIN_WIDTH``) are tried: a title card is made at that size and shape.
    """
    width, height = full_size(image.size, original)
    if width < FINISHED_MIN_WIDTH or not height * 1.3 <= width <= height * _HEADLINE_WIDEST:
        return False
    probe = thumbnail.grey(image)
    probe = probe.resize(
        (max(1, round(probe.width * _HEADLINE_ROWS / probe.height)), _HEADLINE_ROWS),
        Image.Resampling.BOX,
    )
    edges = probe.filter(ImageFilter.FIND_EDGES).point(lambda v: 255 if v > 64 else 0)
    edges = edges.crop((1, 1, edges.width - 1, edges.height - 1))
    rows = list(edges.resize((1, edges.height), Image.Resampling.BOX).tobytes())
    bands = _runs(rows, QUIET)
    quiet = edges.height - sum(bottom - top for top, bottom in bands)
    if quiet < edges.height * _HEADLINE_QUIET or not 0 < len(bands) <= _HEADLINE_BANDS:
        return False
    if any(_picture_band(top, bottom, edges.height) for top, bottom in bands):
        return False
    return any(
        bottom - top >= _HEADLINE_LINE
        and sorted(rows[top:bottom])[(bottom - top) // 2] > _HEADLINE_DENSE
        and _lettered(edges.crop((0, top, edges.width, bottom)))
        for top, bottom in bands
    )


def _picture_band(top: int, bottom: int, height: int) -> bool:
    """A busy band too tall for lines of type, or one running off the top or bottom edge
    (the ground of a photo, a skyline's lit windows): a designer sets a headline inside
    margins, so no card with one is lost."""
    touches = top == 0 or bottom == height
    return bottom - top > height * _HEADLINE_BAND or (touches and bottom - top >= _HEADLINE_LINE)


def _lettered(band: Image.Image) -> bool:
    """The band breaks into words (busy column runs with quiet columns between) spread
    over a fair share of the width: a line of type, not one object."""
    columns = list(band.resize((band.width, 1), Image.Resampling.BOX).tobytes())
    glyphs = _runs(columns, 0)
    spread = glyphs[-1][1] - glyphs[0][0] if glyphs else 0
    return len(glyphs) >= 2 and spread >= band.width * 0.25


def _runs(profile: list[int], quiet: int) -> list[tuple[int, int]]:
    """(start, end) of each run of values above ``quiet``."""
    found: list[tuple[int, int]] = []
    start: int | None = None
    for index, value in enumerate([*profile, 0]):
        if value > quiet and start is None:
            start = index
        elif value <= quiet and start is not None:
            found.append((start, index))
            start = None
    return found


def choose_layout(
    layouts: Mapping[str, Layout],
    start: Layout,
    *,
    image: Image.Image | None,
    original: tuple[int, int],
    box: tuple[int, int] | None,
    max_upscale: float,
    forced: bool,
) -> Choice:
    """The layout to draw and the rule that chose it (see the module docstring).

    ``box``: the size the start layout would draw the image at, for the small-image rule.
    """
    if image is None:
        if start.image is not None and start.when_no_image:
            return Choice(layout=layouts.get(start.when_no_image, start), rule="no image")
        return Choice(layout=start, rule="chosen" if forced else "default")
    if forced or start.image is None:
        return Choice(layout=start, rule="chosen" if forced else "default")
    if start.when_finished and looks_finished(image.size, original) and not is_flat(image):
        return Choice(layout=layouts.get(start.when_finished, start), rule="finished image")
    if start.when_text_heavy and text_coverage(image) >= TEXT_HEAVY:
        return Choice(layout=layouts.get(start.when_text_heavy, start), rule="text-heavy image")
    if start.when_diagram and looks_like_diagram(image):
        return Choice(layout=layouts.get(start.when_diagram, start), rule="diagram")
    # After the diagram rule: a headline on white was already sent to split as a diagram.
    if start.when_text_heavy and carries_headline(image, original):
        return Choice(layout=layouts.get(start.when_text_heavy, start), rule="headline image")
    if start.when_small and box is not None and too_small(image.size, box, max_upscale):
        return Choice(layout=layouts.get(start.when_small, start), rule="small image")
    return Choice(layout=start, rule="default")
