"""Text placement: the meta line, title and summary fitted into the layout's text box.

:func:`layout_text` fits each part at the largest size that fits (the summary gives its
room up before the title is cut), stacks them by ``text.valign``; :func:`text_bounds`
is the box the scrim must shade and :func:`draw_text` draws the lines.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from PIL import Image

from publisher.cards import fonts
from publisher.cards.canvas import Canvas
from publisher.cards.contrast import RGB, ratio
from publisher.cards.job import Note
from publisher.cards.layout import Layout, TextStyle
from publisher.cards.options import CardOptions
from publisher.cards.text import (
    ELLIPSIS,
    Fitted,
    base_direction,
    clean_text,
    fit,
    graphemes,
    size_steps,
)

META_SEPARATOR = " · "

#: More characters than any card can show; longer text is cut before fitting, so a
#: 48 KB title costs no more to fit than a 2 KB one (the fitter ends it with an ellipsis).
MAX_CARD_TEXT = 2000


@dataclass(frozen=True, kw_only=True)
class CardText:
    """The words of one card: the post's title and summary, and the meta line's fields."""

    title: str
    summary: str
    fields: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Placed:
    part: str
    style: TextStyle
    chain: tuple[str, ...]
    fitted: Fitted
    top: float
    height: float


def font_chain(style: TextStyle, options: CardOptions) -> tuple[str, ...]:
    """The font files tried in order for a text part of ``style``'s weight."""
    primary = options.bold_font if style.font == "bold" else options.regular_font
    return fonts.chain_for(
        str(primary), options.fallback_fonts, style.font, options.fallback_fonts_bold
    )


def bounded(text: str) -> str:
    """``text`` cut to :data:`MAX_CARD_TEXT` at a grapheme boundary, with an ellipsis."""
    if len(text) <= MAX_CARD_TEXT:
        return text
    kept: list[str] = []
    size = 0
    for cluster in graphemes(text[: MAX_CARD_TEXT + 64]):
        if size + len(cluster) > MAX_CARD_TEXT:
            break
        kept.append(cluster)
        size += len(cluster)
    return "".join(kept).rstrip() + ELLIPSIS


def meta_line(fmt: str, fields: tuple[tuple[str, str], ...]) -> str:
    """``fmt`` filled from ``fields``; pieces between `` · `` that come out empty are dropped."""
    values = dict(fields)
    pieces = []
    for piece in fmt.split(META_SEPARATOR):
        try:
            text = piece.format_map(values)
        except (KeyError, IndexError, ValueError):
            text = piece
        if text.strip():
            pieces.append(text.strip())
    return META_SEPARATOR.join(pieces)


def _part_text(part: str, style: TextStyle, words: CardText) -> str:
    if part == "title":
        return bounded(clean_text(words.title))
    if part == "summary":
        return bounded(clean_text(words.summary))
    return bounded(clean_text(meta_line(style.format or "", words.fields)))


_Texts = dict[str, tuple[TextStyle, str, tuple[str, ...]]]


def _gather(words: CardText, layout: Layout, options: CardOptions, notes: list[Note]) -> _Texts:
    """Each part's style, text and font chain; characters no font has are left out, noted."""
    styles = {"title": layout.title, "summary": layout.summary, "meta": layout.meta}
    texts: _Texts = {}
    for part in layout.text.order:
        style = styles[part]
        if style is None:
            continue
        chain = font_chain(style, options)
        text, missing = fonts.drop_missing(_part_text(part, style, words), chain)
        if missing:
            notes.append(_missing_note(part, missing))
        if text:
            texts[part] = (style, text, chain)
    return texts


def _missing_note(part: str, missing: list[str]) -> Note:
    shown = ", ".join(fonts.describe(c) for c in missing[:4])
    more = f" and {len(missing) - 4} more" if len(missing) > 4 else ""
    count = "a character" if len(missing) == 1 else f"{len(missing)} characters"
    return Note(
        field={"title": "title", "summary": "ogSummary"}.get(part, "meta"),
        message=f"has {count} that no configured font can draw: {shown}{more}; they are left out of the card",
        fix=(
            f"install {fonts.suggest(missing)}; the default cards.fonts.fallbacks finds it in the"
            " usual Linux, macOS and Windows places, else list its path there"
        ),
    )


class _Fitter:
    """Fits the gathered parts into a text box ``width`` wide."""

    def __init__(self, texts: _Texts, canvas: Canvas, width: int) -> None:
        self.texts, self.canvas, self.width = texts, canvas, width

    def fit(self, part: str, height: float) -> Fitted:
        style, text, chain = self.texts[part]
        low, high = (max(6, self.canvas.px(v)) for v in style.size)
        return fit(
            text,
            width=self.width,
            height=max(height, low),
            sizes=size_steps(low, high),
            max_lines=style.max_lines,
            line_height=style.line_height,
            measure_at=lambda size: lambda s: fonts.measure(s, size, chain),
            estimate_at=lambda size: fonts.estimator(size, chain, text),
        )

    def height(self, part: str, result: Fitted) -> float:
        style = self.texts[part][0]
        return result.size * (1 + (len(result.lines) - 1) * style.line_height)


def _fit_parts(texts: _Texts, fitter: _Fitter, box_h: int, gap: int) -> dict[str, Fitted]:
    """Meta first, then the title (given the summary's room before it is cut), then the
    summary in what is left."""
    results: dict[str, Fitted] = {}
    used = 0.0
    if "meta" in texts:
        results["meta"] = fitter.fit("meta", box_h)
        used += fitter.height("meta", results["meta"]) + gap
    if "title" in texts:
        reserve = 0.0
        if "summary" in texts:
            reserve = fitter.canvas.px(texts["summary"][0].size[0]) + gap
        results["title"] = fitter.fit("title", box_h - used - reserve)
        if reserve and results["title"].truncated:
            # The title is what the card is for: give it the summary's room before cutting it.
            alone = fitter.fit("title", box_h - used)
            if not alone.truncated or len(alone.lines) > len(results["title"].lines):
                results["title"] = alone
                del texts["summary"]
        used += fitter.height("title", results["title"]) + gap
    if "summary" in texts:
        room = box_h - used
        if room >= fitter.canvas.px(texts["summary"][0].size[0]):
            results["summary"] = fitter.fit("summary", room)
    return results


def layout_text(
    words: CardText, layout: Layout, canvas: Canvas, options: CardOptions, notes: list[Note]
) -> list[Placed]:
    """Fit meta, then title, then summary into the text box; stack them."""
    _, box_y, box_w, box_h = canvas.box(layout.text.box)
    gap = canvas.px(layout.text.gap)
    texts = _gather(words, layout, options, notes)
    fitter = _Fitter(texts, canvas, box_w)
    results = _fit_parts(texts, fitter, box_h, gap)
    placed = [
        (part, results[part], fitter.height(part, results[part]))
        for part in layout.text.order
        if part in results
    ]
    total = sum(height for _, _, height in placed) + gap * max(0, len(placed) - 1)
    if layout.text.valign == "top":
        top = float(box_y)
    elif layout.text.valign == "center":
        top = box_y + (box_h - total) / 2
    else:
        top = box_y + box_h - total
    out: list[Placed] = []
    for part, fitted, height in placed:
        style, _, chain = texts[part]
        out.append(Placed(part, style, chain, fitted, top, height))
        top += height + gap
    return out


def _line_x(line_width: float, layout: Layout, canvas: Canvas, direction: str) -> float:
    x, _, w, _ = canvas.box(layout.text.box)
    align = layout.text.align
    if align == "start":
        align = "right" if direction == "rtl" else "left"
    if align == "center":
        return x + (w - line_width) / 2
    if align == "right":
        return x + w - line_width
    return float(x)


def lines(
    placed: list[Placed], layout: Layout, canvas: Canvas
) -> Iterator[tuple[Placed, str, float, float, float, str]]:
    for p in placed:
        size = p.fitted.size
        ascent, descent = fonts.metrics(size, p.chain)
        # Centre the font's ascent+descent on the em box so lines sit evenly.
        offset = (size - (ascent + descent)) / 2 + ascent
        # One direction for the whole paragraph (UAX #9 rule P2): a line of an Arabic title
        # that happens to start with a Latin word is still laid out right to left.
        direction = base_direction(" ".join(p.fitted.lines))
        for index, line in enumerate(p.fitted.lines):
            baseline = p.top + index * size * p.style.line_height + offset
            width = fonts.measure(line, size, p.chain)
            x = _line_x(width, layout, canvas, direction)
            yield p, line, x, baseline, width, direction


def text_bounds(
    placed: list[Placed], layout: Layout, canvas: Canvas
) -> tuple[int, int, int, int] | None:
    boxes = []
    for p, _line, x, baseline, width, _ in lines(placed, layout, canvas):
        ascent, descent = fonts.metrics(p.fitted.size, p.chain)
        boxes.append((x, baseline - ascent, x + width, baseline + descent))
    if not boxes:
        return None
    return (
        int(min(b[0] for b in boxes)),
        int(min(b[1] for b in boxes)),
        int(max(b[2] for b in boxes)) + 1,
        int(max(b[3] for b in boxes)) + 1,
    )


def draw_text(
    image: Image.Image,
    placed: list[Placed],
    layout: Layout,
    canvas: Canvas,
    text_rgb: RGB,
    target: float,
) -> tuple[int, int, int, int] | None:
    bounds: list[tuple[int, int, int, int]] = []
    for p, line, x, baseline, width, direction in lines(placed, layout, canvas):
        fill = text_rgb
        if p.style.color not in (None, "auto"):
            wanted = canvas.color(p.style.color)
            # A designer's colour is kept only where it is still readable.
            sample = image.crop(
                (int(x), int(baseline) - p.fitted.size, int(x + width) + 1, int(baseline))
            )
            background = sample.resize((1, 1), Image.Resampling.BOX).getpixel((0, 0))
            if isinstance(background, tuple) and (
                ratio(wanted, (background[0], background[1], background[2])) >= target
            ):
                fill = wanted
        bounds.append(
            fonts.draw_line(image, (x, baseline), line, p.fitted.size, p.chain, fill, direction)
        )
    if not bounds:
        return None
    return (
        min(b[0] for b in bounds),
        min(b[1] for b in bounds),
        max(b[2] for b in bounds),
        max(b[3] for b in bounds),
    )
