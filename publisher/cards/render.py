"""Compose one card from a layout, the post's text and its image: pure, no file writes.

:func:`render_card` takes a picklable :class:`CardJob` and returns the encoded bytes, so
it runs the same in a worker process as in the main one, and equal jobs give equal bytes.
It loads the inputs (the post's image, the logo) and draws the layers in order, each
owned by its own module: :mod:`~publisher.cards.canvas` (background, shapes, the
picture), :mod:`~publisher.cards.scrim` (the shade the text needs),
:mod:`~publisher.cards.brand` (logo) and :mod:`~publisher.cards.typeset` (the text).
"""

from __future__ import annotations

import functools
from pathlib import Path

from PIL import Image, ImageDraw

from publisher.cards import brand
from publisher.cards.brand import draw_pill, readable_on
from publisher.cards.canvas import Canvas, place_image
from publisher.cards.choose import Choice, choose_layout, too_small
from publisher.cards.crop import contain_scale, crop_box
from publisher.cards.encode import encode
from publisher.cards.images import Source, SourceImageError, open_source, read_bytes
from publisher.cards.job import RENDER_VERSION, CardJob, Note, Rendered
from publisher.cards.layout import Badge, Layout, TextStyle
from publisher.cards.options import CardOptions
from publisher.cards.scrim import shade_text
from publisher.cards.subjects import Frac, subject_crop
from publisher.cards.text import clean_text
from publisher.cards.typeset import CardText, draw_text, font_chain, layout_text, text_bounds
from publisher.errors import CardError

__all__ = ["RENDER_VERSION", "CardJob", "Note", "Rendered", "render_card"]

#: A finished image (see :mod:`publisher.cards.choose`) may be enlarged this much to
#: cover the card: 1000 px to 1200 px. Softness beats a second headline or a stamp.
FINISHED_UPSCALE = 1.2


def render_card(job: CardJob) -> Rendered:
    """Draw and encode one card. Image problems become notes, never exceptions."""
    options = job.options
    notes: list[Note] = []
    source = _load_image(job, job.layouts[job.layout], notes)
    choice = _choose(job, source)
    layout = choice.layout
    canvas = Canvas(layout, options)
    image = Image.new("RGB", (canvas.width, canvas.height), canvas.color(layout.background))
    draw = ImageDraw.Draw(image)
    for shape in layout.shapes:
        x, y, w, h = canvas.box(shape.box)
        draw.rectangle((x, y, x + w - 1, y + h - 1), fill=canvas.color(shape.color))
    placed, text_box = [], None
    if layout.draw_text:
        # Placed before the picture is drawn, so the crop can keep text and faces in the
        # picture out from under the title.
        words = CardText(title=job.title, summary=job.summary, fields=job.fields)
        placed = layout_text(words, layout, canvas, options, notes)
        text_box = text_bounds(placed, layout, canvas)
    if source is not None and layout.image is not None:
        _draw_picture(image, source.image, job, choice, canvas, text_box)
    drawn = None
    if layout.draw_text:
        text_rgb = shade_text(image, layout, canvas, text_box, options.min_contrast)
    if options.logo is not None and layout.logo is not None:
        _draw_logo(image, options.logo, layout, canvas, notes)
    if options.chip and layout.chip is not None:
        _draw_badge(image, _chip_text(job.fields), layout.chip, canvas, None)
    if options.author_show and layout.author is not None:
        avatar = _avatar(layout.author, canvas, notes)
        _draw_badge(image, dict(job.fields).get("author", ""), layout.author, canvas, avatar)
    if layout.draw_text:
        drawn = draw_text(image, placed, layout, canvas, text_rgb, options.min_contrast)
    try:
        encoded = encode(
            image, format=options.format, max_bytes=options.max_bytes, quality=options.quality
        )
    except CardError as exc:
        raise CardError(f"{job.post_id}: {exc}") from None
    return Rendered(
        data=encoded.data,
        format=encoded.format,
        width=image.width,
        height=image.height,
        layout=layout.name,
        alt=_alt(job, options),
        text_box=drawn,
        notes=tuple(notes),
        rule=choice.rule,
    )


def _choose(job: CardJob, source: Source | None) -> Choice:
    start = job.layouts[job.layout]
    box = None
    if start.image is not None:
        _, _, w, h = Canvas(start, job.options).box(start.image.box)
        box = (w, h)
    return choose_layout(
        job.layouts,
        start,
        image=source.image if source is not None else None,
        original=source.original_size if source is not None else (0, 0),
        box=box,
        max_upscale=job.options.max_upscale,
        forced=job.forced,
    )


def _draw_picture(
    image: Image.Image,
    picture: Image.Image,
    job: CardJob,
    choice: Choice,
    canvas: Canvas,
    text_box: tuple[int, int, int, int] | None,
) -> None:
    layout = choice.layout
    assert layout.image is not None
    box = canvas.box(layout.image.box)
    upscale = job.options.max_upscale
    if choice.rule == "finished image":
        upscale = max(upscale, FINISHED_UPSCALE)
    where = None
    if layout.image.fit == "cover" and job.focus is not None:
        where = crop_box(picture.size, (box[2], box[3]), job.focus)  # the post's focus wins
    elif layout.image.fit == "cover" and not too_small(picture.size, box[2:], upscale):
        where = subject_crop(
            picture,
            (box[2], box[3]),
            avoid=_drawn_over(layout, canvas, text_box),
            text_below=layout.text.valign == "bottom" and layout.draw_text,
        )
    place_image(
        image,
        picture,
        box,
        where=where,
        upscale=upscale,
        padding=canvas.px(layout.image.padding),
        matte=canvas.color(layout.image.matte),
    )


def _drawn_over(
    layout: Layout, canvas: Canvas, text_box: tuple[int, int, int, int] | None
) -> list[Frac]:
    """What the card draws over its picture, as fractions of the image box: the text
    (with the scrim's padding) and the logo, chip and author boxes that are turned on."""
    assert layout.image is not None
    x, y, w, h = canvas.box(layout.image.box)
    boxes: list[tuple[int, int, int, int]] = []
    if text_box is not None:
        pad = canvas.px(layout.scrim.padding) if layout.scrim is not None else 0
        left, top, right, bottom = text_box
        boxes.append((left - pad, top - pad, right + pad, bottom + pad))
    options = canvas.options
    parts = (
        (layout.logo, options.logo is not None),
        (layout.chip, options.chip),
        (layout.author, options.author_show),
    )
    for part, shown in parts:
        if part is not None and shown:
            px, py, pw, ph = canvas.box(part.box)
            boxes.append((px, py, px + pw, py + ph))
    return [
        ((left - x) / w, (top - y) / h, (right - x) / w, (bottom - y) / h)
        for left, top, right, bottom in boxes
    ]


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
    canvas = Canvas(layout, options)
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


def _draw_logo(
    image: Image.Image, path: Path, layout: Layout, canvas: Canvas, notes: list[Note]
) -> None:
    assert layout.logo is not None
    box = canvas.box(layout.logo.box)
    options = canvas.options
    loaded = _logo(
        path, (box[2], box[3]), options.max_image_bytes, options.max_pixels, _stamp(path)
    )
    if isinstance(loaded, SourceImageError):
        notes.append(
            Note(field="cards.logo", message=f"{path.name} {loaded.message}", fix=loaded.fix)
        )
        return
    brand.paste_logo(image, loaded, box, layout.logo.align)


def _chip_text(fields: tuple[tuple[str, str], ...]) -> str:
    """The post's first category, else its first tag."""
    values = dict(fields)
    return values.get("category", "") or values.get("tags", "").split(", ")[0]


def _avatar(badge: Badge, canvas: Canvas, notes: list[Note]) -> Image.Image | None:
    path = canvas.options.author_avatar
    if path is None:
        return None
    side = canvas.box(badge.box)[3] * 4  # decoded at 4x the pill's height, cut round later
    options = canvas.options
    loaded = _logo(path, (side, side), options.max_image_bytes, options.max_pixels, _stamp(path))
    if isinstance(loaded, SourceImageError):
        notes.append(
            Note(
                field="cards.author.avatar",
                message=f"{path.name} {loaded.message}",
                fix=loaded.fix,
            )
        )
        return None
    return loaded


def _draw_badge(
    image: Image.Image, label: str, badge: Badge, canvas: Canvas, avatar: Image.Image | None
) -> None:
    label = clean_text(label)
    if not label.strip() and avatar is None:
        return
    fill = canvas.color(badge.background)
    light, dark = canvas.color("$light"), canvas.color("$dark")
    color = readable_on(fill, light, dark) if badge.color == "auto" else canvas.color(badge.color)
    chain = font_chain(TextStyle(font="bold"), canvas.options)
    draw_pill(
        image,
        label,
        canvas.box(badge.box),
        align=badge.align,
        fill=fill,
        color=color,
        chain=chain,
        avatar=avatar,
    )


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
