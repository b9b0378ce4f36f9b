"""Compose one card from a layout, the post's text and its image: pure, no file writes.

:func:`render_card` takes a picklable :class:`CardJob` and returns the encoded bytes, so
it runs the same in a worker process as in the main one, and equal jobs give equal bytes.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageStat

from publisher.cards import faces, fonts
from publisher.cards.choose import choose_layout, too_small
from publisher.cards.contrast import RGB, busyness, choose, hex_rgb, ratio
from publisher.cards.crop import (
    Focus,
    busiest_focus,
    contain_scale,
    crop_box,
)
from publisher.cards.encode import encode
from publisher.cards.images import Source, SourceImageError, open_source, read_bytes
from publisher.cards.layout import Box, Layout, TextStyle
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
from publisher.errors import CardError

#: Bump when a change to the drawing code changes the pixels of an unchanged card.
RENDER_VERSION = "6"

META_SEPARATOR = " · "

#: Share of edge pixels above which the area under the text counts as busy.
BUSY = 0.06


@dataclass(frozen=True, kw_only=True)
class Note:
    """A diagnostic raised while rendering; the caller turns it into a Problem."""

    field: str | None
    message: str
    fix: str | None = None
    severity: str = "warning"


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
class Rendered:
    data: bytes
    format: str
    width: int
    height: int
    layout: str
    alt: str
    text_box: tuple[int, int, int, int] | None
    notes: tuple[Note, ...]
    #: Why this layout: "default", "chosen", "no image", "finished image",
    #: "text-heavy image", "diagram" or "small image" (see publisher.cards.choose).
    rule: str = "default"


@dataclass(frozen=True)
class _Placed:
    part: str
    style: TextStyle
    chain: tuple[str, ...]
    fitted: Fitted
    top: float
    height: float


class _Canvas:
    """Scales a layout's design coordinates to the card size."""

    def __init__(self, layout: Layout, options: CardOptions) -> None:
        self.width, self.height = options.width, options.height
        self.sx = options.width / layout.size[0]
        self.sy = options.height / layout.size[1]
        self.s = min(self.sx, self.sy)
        self.colors = options.colors()

    def box(self, box: Box) -> tuple[int, int, int, int]:
        x, y, w, h = box
        return (
            round(x * self.sx),
            round(y * self.sy),
            max(1, round(w * self.sx)),
            max(1, round(h * self.sy)),
        )

    def px(self, value: float) -> int:
        return max(0, round(value * self.s))

    def color(self, value: str) -> RGB:
        if value.startswith("$"):
            value = self.colors[value[1:]]
        return hex_rgb(value)


def render_card(job: CardJob) -> Rendered:
    """Draw and encode one card. Image problems become notes, never exceptions."""
    options = job.options
    layout = job.layouts[job.layout]
    notes: list[Note] = []
    source = _load_image(job, layout, notes)
    box = None
    if layout.image is not None:
        _, _, w, h = _Canvas(layout, options).box(layout.image.box)
        box = (w, h)
    choice = choose_layout(
        job.layouts,
        layout,
        image=source.image if source is not None else None,
        original=source.original_size if source is not None else (0, 0),
        box=box,
        max_upscale=options.max_upscale,
        forced=job.forced,
    )
    layout = choice.layout
    canvas = _Canvas(layout, options)
    image = Image.new("RGB", (canvas.width, canvas.height), canvas.color(layout.background))
    draw = ImageDraw.Draw(image)
    for shape in layout.shapes:
        x, y, w, h = canvas.box(shape.box)
        draw.rectangle((x, y, x + w - 1, y + h - 1), fill=canvas.color(shape.color))
    if source is not None and layout.image is not None:
        _draw_image(image, source, layout, canvas, job.focus, options)

    drawn = None
    if layout.draw_text:
        placed = _layout_text(job, layout, canvas, notes)
        text_box = _text_bounds(placed, layout, canvas, job)
        text_rgb = _contrast(image, layout, canvas, text_box, options)
    if options.logo is not None and layout.logo is not None:
        _draw_logo(image, options.logo, layout, canvas, notes, options)
    if layout.draw_text:
        drawn = _draw_text(image, placed, layout, canvas, text_rgb, options.min_contrast)
    try:
        encoded = encode(
            image, format=options.format, max_bytes=options.max_bytes, quality=options.quality
        )
    except CardError as exc:
        raise CardError(f"{job.post_id}: {exc}") from None
    alt = _alt(job, options)
    return Rendered(
        data=encoded.data,
        format=encoded.format,
        width=image.width,
        height=image.height,
        layout=layout.name,
        alt=alt,
        text_box=drawn,
        notes=tuple(notes),
        rule=choice.rule,
    )


def _alt(job: CardJob, options: CardOptions) -> str:
    values = dict(job.fields)
    return " ".join(
        options.alt.format(
            title=clean_text(job.title),
            summary=clean_text(job.summary),
            site=values.get("site", ""),
        ).split()
    )


def _load_image(job: CardJob, layout: Layout, notes: list[Note]) -> Source | None:
    if job.image_path is None:
        return None
    options = job.options
    canvas = _Canvas(layout, options)
    need = (options.width, options.height)
    if layout.image is not None:
        _, _, w, h = canvas.box(layout.image.box)
        need = (w, h)
    try:
        data = read_bytes(Path(job.image_path), max_bytes=options.max_image_bytes)
        return open_source(data, need=need, max_pixels=options.max_pixels)
    except SourceImageError as exc:
        notes.append(
            Note(
                field=job.image_field,
                message=f"{job.image_label} {exc.message}",
                fix=f"{exc.fix}; until then the card has no image",
                severity=exc.severity,
            )
        )
        return None


def _draw_image(
    image: Image.Image,
    source: Source,
    layout: Layout,
    canvas: _Canvas,
    focus: Focus | None,
    options: CardOptions,
) -> None:
    assert layout.image is not None
    x, y, w, h = canvas.box(layout.image.box)
    pad = canvas.px(layout.image.padding)
    picture = source.image
    matte = canvas.color(layout.image.matte)
    image.paste(matte, (x, y, x + w, y + h))
    small = too_small(picture.size, (w, h), options.max_upscale)
    if layout.image.fit == "cover" and not small:
        # The post's focal point wins; then faces (with the optional detector), so a crop
        # does not cut eyes off for a strip of busier background; then the busiest strip.
        below = layout.text.valign == "bottom" and layout.draw_text
        where = (
            focus
            or faces.face_focus(picture, (w, h), text_below=below)
            or busiest_focus(picture, (w, h))
        )
        crop = crop_box(picture.size, (w, h), where)
        resized = picture.resize((w, h), Image.Resampling.LANCZOS, box=crop)
        left, top = x, y
    else:
        inner = (max(1, w - 2 * pad), max(1, h - 2 * pad))
        scale = min(contain_scale(picture.size, inner), options.max_upscale)
        size = (max(1, round(picture.width * scale)), max(1, round(picture.height * scale)))
        resized = picture.resize(size, Image.Resampling.LANCZOS)
        left, top = x + (w - size[0]) // 2, y + (h - size[1]) // 2
        stamp = contain_scale(picture.size, inner) > scale and size[0] * size[1] < STAMP * w * h
        if picture.mode != "RGBA" and stamp:
            _blurred_fill(image, picture, (x, y, w, h))
        elif picture.mode != "RGBA":
            _outline_if_lost(image, resized, (left, top), matte)
    if resized.mode == "RGBA":
        image.paste(resized, (left, top), resized)
    else:
        image.paste(resized, (left, top))


#: A contained opaque picture held back by ``max_upscale`` and covering less than this
#: share of its box would sit on the panel like a postage stamp: the box is filled with a
#: blurred copy of it first. (A picture merely of another shape keeps the plain panel.)
STAMP = 0.45


def _blurred_fill(image: Image.Image, picture: Image.Image, box: tuple[int, int, int, int]) -> None:
    """Fill ``box`` with the picture blown up to cover it and blurred beyond recognition:
    its own colours around it, the way video players frame a portrait clip."""
    x, y, w, h = box
    crop = crop_box(picture.size, (w, h), (0.5, 0.5))
    tiny = picture.resize((max(1, w // 16), max(1, h // 16)), Image.Resampling.BOX, box=crop)
    fill = tiny.filter(ImageFilter.GaussianBlur(2)).resize((w, h), Image.Resampling.BICUBIC)
    # Dimmed a little so the sharp picture on top stands out from its own blur.
    fill = Image.blend(fill, Image.new("RGB", fill.size, (0, 0, 0)), 0.25)
    image.paste(fill, (x, y))


def _outline_if_lost(
    image: Image.Image, picture: Image.Image, where: tuple[int, int], matte: RGB
) -> None:
    """White artwork on a light panel has no visible edge: frame it with a thin line."""
    width, height = picture.size
    if width < 8 or height < 8:
        return
    edge = Image.new("L", picture.size, 255)
    ImageDraw.Draw(edge).rectangle((3, 3, width - 4, height - 4), fill=0)
    mean = ImageStat.Stat(picture.convert("RGB"), mask=edge).mean
    rim: RGB = (round(mean[0]), round(mean[1]), round(mean[2]))
    if ratio(rim, matte) >= 1.15:
        return
    line: RGB = tuple(round(c * 0.78) for c in matte)  # type: ignore[assignment]
    left, top = where
    ImageDraw.Draw(image).rectangle(
        (left - 2, top - 2, left + width + 1, top + height + 1), outline=line, width=2
    )


def _chain(style: TextStyle, options: CardOptions) -> tuple[str, ...]:
    primary = options.bold_font if style.font == "bold" else options.regular_font
    return fonts.chain_for(
        str(primary), options.fallback_fonts, style.font, options.fallback_fonts_bold
    )


#: More characters than any card can show; longer text is cut before fitting, so a
#: 48 KB title costs no more to fit than a 2 KB one (the fitter ends it with an ellipsis).
MAX_CARD_TEXT = 2000


def _bounded(text: str) -> str:
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


def _part_text(part: str, style: TextStyle, job: CardJob) -> str:
    if part == "title":
        return _bounded(clean_text(job.title))
    if part == "summary":
        return _bounded(clean_text(job.summary))
    values = dict(job.fields)
    pieces = []
    for piece in (style.format or "").split(META_SEPARATOR):
        try:
            text = piece.format_map(values)
        except (KeyError, IndexError, ValueError):
            text = piece
        if text.strip():
            pieces.append(text.strip())
    return _bounded(clean_text(META_SEPARATOR.join(pieces)))


def _layout_text(job: CardJob, layout: Layout, canvas: _Canvas, notes: list[Note]) -> list[_Placed]:
    """Fit meta, then title, then summary into the text box; stack them."""
    _, _, box_w, box_h = canvas.box(layout.text.box)
    gap = canvas.px(layout.text.gap)
    styles = {"title": layout.title, "summary": layout.summary, "meta": layout.meta}
    texts: dict[str, tuple[TextStyle, str, tuple[str, ...]]] = {}
    for part in layout.text.order:
        style = styles[part]
        if style is None:
            continue
        chain = _chain(style, job.options)
        text, missing = fonts.drop_missing(_part_text(part, style, job), chain)
        if missing:
            shown = ", ".join(fonts.describe(c) for c in missing[:4])
            more = f" and {len(missing) - 4} more" if len(missing) > 4 else ""
            count = "a character" if len(missing) == 1 else f"{len(missing)} characters"
            notes.append(
                Note(
                    field={"title": "title", "summary": "ogSummary"}.get(part, "meta"),
                    message=f"has {count} that no configured font can draw: {shown}{more}; they are left out of the card",
                    fix=f"install {fonts.suggest(missing)} and list it in cards.fonts.fallbacks",
                )
            )
        if text:
            texts[part] = (style, text, chain)

    def fitted(part: str, height: float) -> Fitted:
        style, text, chain = texts[part]
        low, high = (max(6, canvas.px(v)) for v in style.size)
        return fit(
            text,
            width=box_w,
            height=max(height, low),
            sizes=size_steps(low, high),
            max_lines=style.max_lines,
            line_height=style.line_height,
            measure_at=lambda size: lambda s: fonts.measure(s, size, chain),
        )

    def block_height(part: str, result: Fitted) -> float:
        style = texts[part][0]
        return result.size * (1 + (len(result.lines) - 1) * style.line_height)

    results: dict[str, Fitted] = {}
    used = 0.0
    if "meta" in texts:
        results["meta"] = fitted("meta", box_h)
        used += block_height("meta", results["meta"]) + gap
    if "title" in texts:
        reserve = 0.0
        if "summary" in texts:
            reserve = canvas.px(texts["summary"][0].size[0]) + gap
        results["title"] = fitted("title", box_h - used - reserve)
        if reserve and results["title"].truncated:
            # The title is what the card is for: give it the summary's room before cutting it.
            alone = fitted("title", box_h - used)
            if not alone.truncated or len(alone.lines) > len(results["title"].lines):
                results["title"] = alone
                del texts["summary"]
        used += block_height("title", results["title"]) + gap
    if "summary" in texts:
        room = box_h - used
        low = canvas.px(texts["summary"][0].size[0])
        if room >= low:
            results["summary"] = fitted("summary", room)
    placed: list[_Placed] = []
    for part in layout.text.order:
        if part in results:
            style, _, chain = texts[part]
            placed.append(
                _Placed(part, style, chain, results[part], 0.0, block_height(part, results[part]))
            )
    total = sum(p.height for p in placed) + gap * max(0, len(placed) - 1)
    _, box_y, _, _ = canvas.box(layout.text.box)
    if layout.text.valign == "top":
        top = float(box_y)
    elif layout.text.valign == "center":
        top = box_y + (box_h - total) / 2
    else:
        top = box_y + box_h - total
    out: list[_Placed] = []
    for p in placed:
        out.append(_Placed(p.part, p.style, p.chain, p.fitted, top, p.height))
        top += p.height + gap
    return out


def _line_x(line_width: float, layout: Layout, canvas: _Canvas, direction: str) -> float:
    x, _, w, _ = canvas.box(layout.text.box)
    align = layout.text.align
    if align == "start":
        align = "right" if direction == "rtl" else "left"
    if align == "center":
        return x + (w - line_width) / 2
    if align == "right":
        return x + w - line_width
    return float(x)


def _lines(
    placed: list[_Placed], layout: Layout, canvas: _Canvas
) -> Iterator[tuple[_Placed, str, float, float, float, str]]:
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


def _text_bounds(
    placed: list[_Placed], layout: Layout, canvas: _Canvas, job: CardJob
) -> tuple[int, int, int, int] | None:
    boxes = []
    for p, _line, x, baseline, width, _ in _lines(placed, layout, canvas):
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


def _contrast(
    image: Image.Image,
    layout: Layout,
    canvas: _Canvas,
    text_box: tuple[int, int, int, int] | None,
    options: CardOptions,
) -> RGB:
    """Pick the text colour, draw the scrim it needs; return the colour."""
    light, dark = canvas.color("$light"), canvas.color("$dark")
    if text_box is None:
        return light
    scrim = layout.scrim
    pad = canvas.px(scrim.padding) if scrim else canvas.px(8)
    left = max(0, text_box[0] - pad)
    top = max(0, text_box[1] - pad)
    right = min(image.width, text_box[2] + pad)
    bottom = min(image.height, text_box[3] + pad)
    region = image.crop((left, top, right, bottom))
    texts = [canvas.color(layout.text.color)] if layout.text.color != "auto" else [light, dark]
    candidates: list[tuple[RGB, RGB]] = []
    for text in texts:
        if scrim is None or scrim.color == "auto":
            shade: RGB = (
                (0, 0, 0)
                if ratio(text, (0, 0, 0)) > ratio(text, (255, 255, 255))
                else (255, 255, 255)
            )
        else:
            shade = canvas.color(scrim.color)
        candidates.append((text, shade))
    floor = 0.0
    if scrim is not None:
        floor = scrim.min_opacity
        if scrim.busy_opacity > floor and busyness(region) > BUSY:
            floor = scrim.busy_opacity
        floor = min(floor, scrim.max_opacity)
    choice = choose(
        region,
        candidates,
        target=options.min_contrast,
        max_opacity=scrim.max_opacity if scrim else 0.0,
        min_opacity=floor,
    )
    if scrim is not None and choice.opacity > 0:
        _draw_scrim(
            image,
            scrim.side,
            scrim.extent,
            canvas.px(scrim.fade),
            (left, top, right, bottom),
            choice.scrim,
            choice.opacity,
        )
    return choice.text


def _draw_scrim(
    image: Image.Image,
    side: str,
    extent: str,
    fade: int,
    box: tuple[int, int, int, int],
    color: RGB,
    opacity: float,
) -> None:
    """A solid scrim over the text with a linear fade of ``fade`` px on ``side``."""
    width, height = image.size
    left, top, right, bottom = box
    if extent == "band":
        if side in ("top", "bottom"):
            left, right = 0, width
            top, bottom = (top, height) if side == "top" else (0, bottom)
        else:
            top, bottom = 0, height
            left, right = (left, width) if side == "left" else (0, right)
    alpha = min(255, int(opacity * 255 + 0.999))
    mask = Image.new("L", (width, height), 0)
    mask.paste(alpha, (left, top, right, bottom))
    if fade > 0:
        ramp = Image.linear_gradient("L").point(lambda v: v * alpha // 255)
        if side == "top" and top > 0:
            start = max(0, top - fade)
            mask.paste(ramp.resize((right - left, top - start)), (left, start))
        elif side == "bottom" and bottom < height:
            end = min(height, bottom + fade)
            piece = ramp.transpose(Image.Transpose.FLIP_TOP_BOTTOM).resize(
                (right - left, end - bottom)
            )
            mask.paste(piece, (left, bottom))
        elif side == "left" and left > 0:
            start = max(0, left - fade)
            piece = ramp.transpose(Image.Transpose.ROTATE_90).transpose(
                Image.Transpose.FLIP_LEFT_RIGHT
            )
            mask.paste(piece.resize((left - start, bottom - top)), (start, top))
        elif side == "right" and right < width:
            end = min(width, right + fade)
            piece = ramp.transpose(Image.Transpose.ROTATE_90)
            mask.paste(piece.resize((end - right, bottom - top)), (right, top))
    image.paste(color, (0, 0, width, height), mask)


def _draw_logo(
    image: Image.Image,
    path: Path,
    layout: Layout,
    canvas: _Canvas,
    notes: list[Note],
    options: CardOptions,
) -> None:
    assert layout.logo is not None
    x, y, w, h = canvas.box(layout.logo.box)
    loaded = _logo(path, (w, h), options.max_image_bytes, options.max_pixels, _stamp(path))
    if isinstance(loaded, SourceImageError):
        notes.append(
            Note(field="cards.logo", message=f"{path.name} {loaded.message}", fix=loaded.fix)
        )
        return
    logo = loaded
    size = logo.size
    align = layout.logo.align
    left = (
        x
        if align in ("start", "left")
        else (x + w - size[0] if align == "right" else x + (w - size[0]) // 2)
    )
    top = y + (h - size[1]) // 2
    image.paste(logo, (left, top), logo if logo.mode == "RGBA" else None)


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        info = path.stat()
    except OSError:
        return None
    return info.st_size, info.st_mtime_ns


@functools.lru_cache(maxsize=8)
def _logo(
    path: Path,
    box: tuple[int, int],
    max_bytes: int,
    max_pixels: int,
    stamp: tuple[int, int] | None,
) -> Image.Image | SourceImageError:
    """The logo decoded and scaled to fit ``box``, once per worker process rather than
    once per card (``stamp``, the file's size and mtime, keys out an edited logo).
    Callers only paste it, never change it."""
    del stamp
    try:
        data = read_bytes(path, max_bytes=max_bytes)
        # Decode at no less than the logo box: a shrink-on-load to anything smaller (the
        # old need=(1, 1) let reduce() turn 240x80 into 3x1) is then blown back up as a smear.
        # reduce(f) keeps both sides >= the box, so the contained size below is never upscaled.
        logo = open_source(data, need=box, max_pixels=max_pixels).image
    except SourceImageError as exc:
        return exc
    scale = contain_scale(logo.size, box)
    size = (max(1, round(logo.width * scale)), max(1, round(logo.height * scale)))
    return logo.resize(size, Image.Resampling.LANCZOS)


def _draw_text(
    image: Image.Image,
    placed: list[_Placed],
    layout: Layout,
    canvas: _Canvas,
    text_rgb: RGB,
    target: float,
) -> tuple[int, int, int, int] | None:
    bounds: list[tuple[int, int, int, int]] = []
    for p, line, x, baseline, width, direction in _lines(placed, layout, canvas):
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
