"""Card layouts are data: YAML files in ``templates/cards/`` (or a site's own folder),
validated on load, every problem named by file and key.

A layout is drawn in this order: background colour, shapes, image, scrim, logo, chip,
author, text (the chip and the author only when config.yaml turns them on).
Boxes are ``[x, y, width, height]`` in the layout's design ``size`` (1200x630 unless it
says otherwise) and are scaled to the configured card size. Colours are ``#rrggbb``,
``#rgb`` or a reference to a site colour option: ``$background``, ``$accent``, ``$light``,
``$dark``;
text and scrim colours may be ``auto`` (chosen for 4.5:1 contrast).
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from publisher.errors import CardError

Box = tuple[int, int, int, int]

_COLOR = re.compile(r"^(#[0-9a-fA-F]{3}|#[0-9a-fA-F]{6}|\$(background|accent|light|dark))$")
FONT_WEIGHTS = ("regular", "bold")
TEXT_PARTS = ("meta", "title", "summary")


@dataclass(frozen=True, kw_only=True)
class ImageLayer:
    box: Box
    fit: str = "cover"
    padding: int = 0
    matte: str = "$background"


@dataclass(frozen=True, kw_only=True)
class Shape:
    box: Box
    color: str


@dataclass(frozen=True, kw_only=True)
class Scrim:
    color: str = "auto"
    padding: int = 48
    fade: int = 160
    side: str = "top"
    extent: str = "band"
    max_opacity: float = 0.92
    min_opacity: float = 0.0
    busy_opacity: float = 0.0


@dataclass(frozen=True, kw_only=True)
class TextBlock:
    box: Box
    align: str = "start"
    valign: str = "bottom"
    gap: int = 16
    color: str = "auto"
    order: tuple[str, ...] = TEXT_PARTS


@dataclass(frozen=True, kw_only=True)
class TextStyle:
    font: str = "regular"
    size: tuple[int, int] = (24, 32)
    max_lines: int = 2
    line_height: float = 1.25
    color: str | None = None
    format: str | None = None


@dataclass(frozen=True, kw_only=True)
class Logo:
    box: Box
    align: str = "start"


@dataclass(frozen=True, kw_only=True)
class Badge:
    """Where the author line or the category chip goes, when config.yaml turns it on: a
    pill of ``background`` in ``box``, its text ``color`` (``auto``: light or dark)."""

    box: Box
    align: str = "start"
    background: str = "$accent"
    color: str = "auto"


@dataclass(frozen=True, kw_only=True)
class Layout:
    name: str
    description: str
    size: tuple[int, int]
    background: str
    text: TextBlock
    title: TextStyle
    summary: TextStyle | None
    meta: TextStyle | None
    image: ImageLayer | None
    scrim: Scrim | None
    shapes: tuple[Shape, ...]
    logo: Logo | None
    when_no_image: str | None
    when_small: str | None
    when_diagram: str | None
    #: A finished social image (about 1.91:1, full width) and an image that mostly holds
    #: text go to these layouts instead: neither should get a title printed over it.
    when_finished: str | None = None
    when_text_heavy: str | None = None
    #: False for a layout that shows the image alone (``image.yaml``): no text layer at all.
    draw_text: bool = True
    #: Boxes for the author (avatar and name) and the category chip: drawn only when
    #: ``cards.author.show`` / ``cards.chip`` are on.
    author: Badge | None = None
    chip: Badge | None = None
    digest: str = field(compare=False)
    source: Path = field(compare=False)


class _Checker:
    def __init__(self, file: str, problems: list[str]) -> None:
        self.file = file
        self.problems = problems

    def error(self, where: str, message: str) -> None:
        self.problems.append(f"{self.file}: {where}: {message}")

    def mapping(self, value: Any, where: str, known: tuple[str, ...]) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.error(where, "must be a mapping")
            return {}
        for key in value:
            if key not in known:
                hint = difflib.get_close_matches(str(key), known, n=1)
                fix = f"did you mean '{hint[0]}'?" if hint else f"known keys: {', '.join(known)}"
                self.error(f"{where}.{key}" if where else str(key), f"unknown key; {fix}")
        return value

    def box(self, value: Any, where: str) -> Box:
        if (
            isinstance(value, list)
            and len(value) == 4
            and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
            and value[2] > 0
            and value[3] > 0
        ):
            return (value[0], value[1], value[2], value[3])
        self.error(where, "must be [x, y, width, height] in whole pixels, width and height > 0")
        return (0, 0, 1, 1)

    def color(self, value: Any, where: str, *, auto: bool = False) -> str:
        if isinstance(value, str) and (_COLOR.match(value) or (auto and value == "auto")):
            return value
        also = ", or auto" if auto else ""
        self.error(
            where,
            f"{value!r} is not a colour; write #rrggbb, $background, $accent, $light, $dark{also}",
        )
        return "#000000"

    def choice(self, value: Any, where: str, choices: tuple[str, ...]) -> str:
        if value in choices:
            return str(value)
        self.error(where, f"{value!r} is not one of {', '.join(choices)}")
        return choices[0]

    def integer(self, value: Any, where: str, low: int, high: int) -> int:
        if isinstance(value, int) and not isinstance(value, bool) and low <= value <= high:
            return value
        self.error(where, f"must be a whole number from {low} to {high}")
        return low

    def number(self, value: Any, where: str, low: float, high: float) -> float:
        if isinstance(value, int | float) and not isinstance(value, bool) and low <= value <= high:
            return float(value)
        self.error(where, f"must be a number from {low} to {high}")
        return low


def _style(check: _Checker, raw: Any, where: str, default: TextStyle) -> TextStyle:
    known = ("font", "size", "max_lines", "line_height", "color", "format")
    data = check.mapping(raw, where, known)
    size = data.get("size", list(default.size))
    if isinstance(size, int) and not isinstance(size, bool):
        size = [size, size]
    if (
        isinstance(size, list)
        and len(size) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) and 6 <= v <= 400 for v in size)
        and size[0] <= size[1]
    ):
        sizes = (size[0], size[1])
    else:
        check.error(f"{where}.size", "must be [smallest, largest] font sizes in px, 6 to 400")
        sizes = default.size
    color = data.get("color")
    fmt = data.get("format", default.format)
    if fmt is not None and not isinstance(fmt, str):
        check.error(f"{where}.format", "must be text like '{site} · {date}'")
        fmt = None
    return TextStyle(
        font=check.choice(data.get("font", default.font), f"{where}.font", FONT_WEIGHTS),
        size=sizes,
        max_lines=check.integer(
            data.get("max_lines", default.max_lines), f"{where}.max_lines", 1, 12
        ),
        line_height=check.number(
            data.get("line_height", default.line_height), f"{where}.line_height", 0.8, 3.0
        ),
        color=None if color is None else check.color(color, f"{where}.color", auto=True),
        format=fmt,
    )


def _badge(check: _Checker, raw: Any, where: str, background: str) -> Badge | None:
    if raw is None:
        return None
    data = check.mapping(raw, where, ("box", "align", "background", "color"))
    return Badge(
        box=check.box(data.get("box"), f"{where}.box"),
        align=check.choice(
            data.get("align", "start"), f"{where}.align", ("start", "left", "center", "right")
        ),
        background=check.color(data.get("background", background), f"{where}.background"),
        color=check.color(data.get("color", "auto"), f"{where}.color", auto=True),
    )


TOP_KEYS = (
    "description",
    "size",
    "background",
    "when_no_image",
    "when_small",
    "when_diagram",
    "when_finished",
    "when_text_heavy",
    "draw_text",
    "image",
    "shapes",
    "scrim",
    "text",
    "title",
    "summary",
    "meta",
    "logo",
    "author",
    "chip",
)


def parse_layout(data: Any, name: str, source: Path) -> Layout:
    """Validate one layout's YAML data; raise CardError listing every problem."""
    problems: list[str] = []
    check = _Checker(source.name if source.name else name, problems)
    top = check.mapping(data, "", TOP_KEYS)

    size_raw = top.get("size", [1200, 630])
    if (
        isinstance(size_raw, list)
        and len(size_raw) == 2
        and all(
            isinstance(v, int) and not isinstance(v, bool) and 16 <= v <= 8000 for v in size_raw
        )
    ):
        size = (size_raw[0], size_raw[1])
    else:
        check.error("size", "must be [width, height] in px")
        size = (1200, 630)

    draw_text = top.get("draw_text", True)
    if not isinstance(draw_text, bool):
        check.error("draw_text", "must be true or false")
        draw_text = True

    image: ImageLayer | None = None
    if top.get("image") is not None:
        raw = check.mapping(top["image"], "image", ("box", "fit", "padding", "matte"))
        image = ImageLayer(
            box=check.box(raw.get("box"), "image.box"),
            fit=check.choice(raw.get("fit", "cover"), "image.fit", ("cover", "contain")),
            padding=check.integer(raw.get("padding", 0), "image.padding", 0, 1000),
            matte=check.color(raw.get("matte", "$background"), "image.matte"),
        )

    shapes: list[Shape] = []
    shapes_raw = top.get("shapes", [])
    if not isinstance(shapes_raw, list):
        check.error("shapes", "must be a list of {box, color}")
        shapes_raw = []
    for index, item in enumerate(shapes_raw):
        raw = check.mapping(item, f"shapes[{index}]", ("box", "color"))
        shapes.append(
            Shape(
                box=check.box(raw.get("box"), f"shapes[{index}].box"),
                color=check.color(raw.get("color"), f"shapes[{index}].color"),
            )
        )

    scrim: Scrim | None = None
    if top.get("scrim") is not None:
        keys = (
            "color",
            "padding",
            "fade",
            "side",
            "extent",
            "max_opacity",
            "min_opacity",
            "busy_opacity",
        )
        raw = check.mapping(top["scrim"], "scrim", keys)
        scrim = Scrim(
            color=check.color(raw.get("color", "auto"), "scrim.color", auto=True),
            padding=check.integer(raw.get("padding", 48), "scrim.padding", 0, 1000),
            fade=check.integer(raw.get("fade", 160), "scrim.fade", 0, 2000),
            side=check.choice(
                raw.get("side", "top"), "scrim.side", ("top", "bottom", "left", "right")
            ),
            extent=check.choice(raw.get("extent", "band"), "scrim.extent", ("band", "box")),
            max_opacity=check.number(raw.get("max_opacity", 0.92), "scrim.max_opacity", 0, 1),
            min_opacity=check.number(raw.get("min_opacity", 0), "scrim.min_opacity", 0, 1),
            busy_opacity=check.number(raw.get("busy_opacity", 0), "scrim.busy_opacity", 0, 1),
        )

    text_raw = check.mapping(
        top.get("text", None if draw_text else {}),
        "text",
        ("box", "align", "valign", "gap", "color", "order"),
    )
    order_raw = text_raw.get("order", list(TEXT_PARTS))
    if not (
        isinstance(order_raw, list)
        and all(part in TEXT_PARTS for part in order_raw)
        and "title" in order_raw
        and len(set(order_raw)) == len(order_raw)
    ):
        check.error("text.order", "must list title and optionally meta and summary, once each")
        order_raw = list(TEXT_PARTS)
    text = TextBlock(
        box=check.box(text_raw.get("box", None if draw_text else [0, 0, *size]), "text.box"),
        align=check.choice(
            text_raw.get("align", "start"), "text.align", ("start", "left", "center", "right")
        ),
        valign=check.choice(
            text_raw.get("valign", "bottom"), "text.valign", ("top", "center", "bottom")
        ),
        gap=check.integer(text_raw.get("gap", 16), "text.gap", 0, 400),
        color=check.color(text_raw.get("color", "auto"), "text.color", auto=True),
        order=tuple(order_raw),
    )

    if "title" not in top and draw_text:
        check.error("title", "required: the title's font, size range and max_lines")
    title = _style(
        check, top.get("title") or {}, "title", TextStyle(font="bold", size=(40, 64), max_lines=3)
    )
    summary = (
        _style(check, top["summary"], "summary", TextStyle())
        if top.get("summary") is not None
        else None
    )
    meta = (
        _style(
            check,
            top["meta"],
            "meta",
            TextStyle(size=(22, 22), max_lines=1, format="{site} · {date}"),
        )
        if top.get("meta") is not None
        else None
    )
    logo: Logo | None = None
    if top.get("logo") is not None:
        raw = check.mapping(top["logo"], "logo", ("box", "align"))
        logo = Logo(
            box=check.box(raw.get("box"), "logo.box"),
            align=check.choice(
                raw.get("align", "start"), "logo.align", ("start", "left", "center", "right")
            ),
        )

    author = _badge(check, top.get("author"), "author", "$background")
    chip = _badge(check, top.get("chip"), "chip", "$accent")

    def layout_name(key: str) -> str | None:
        value = top.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z0-9_-]+", value):
            check.error(key, "must be the name of another layout, like text")
            return None
        return value

    description = top.get("description", "")
    if not isinstance(description, str):
        check.error("description", "must be text")
        description = ""
    background = check.color(top.get("background", "$background"), "background")
    if problems:
        raise CardError("\n".join(problems))
    digest = hashlib.sha256(
        json.dumps(data, sort_keys=True, ensure_ascii=False, default=str).encode()
    ).hexdigest()
    return Layout(
        name=name,
        description=description,
        size=size,
        background=background,
        text=text,
        title=title,
        summary=summary,
        meta=meta,
        image=image,
        scrim=scrim,
        shapes=tuple(shapes),
        logo=logo,
        when_no_image=layout_name("when_no_image"),
        when_small=layout_name("when_small"),
        when_diagram=layout_name("when_diagram"),
        when_finished=layout_name("when_finished"),
        when_text_heavy=layout_name("when_text_heavy"),
        draw_text=draw_text,
        author=author,
        chip=chip,
        digest=digest,
        source=source,
    )


def handovers(layout: Layout) -> tuple[str | None, ...]:
    """The layouts this one may hand a card over to."""
    return (
        layout.when_no_image,
        layout.when_small,
        layout.when_diagram,
        layout.when_finished,
        layout.when_text_heavy,
    )


def layout_file(name: str, folders: tuple[Path, ...]) -> Path | None:
    """The first ``<name>.yaml`` in ``folders`` (a site's own folder comes first)."""
    if not re.fullmatch(r"[A-Za-z0-9_-]+", name):
        return None
    for folder in folders:
        path = folder / f"{name}.yaml"
        if path.is_file():
            return path
    return None


def available(folders: tuple[Path, ...]) -> list[str]:
    return sorted({p.stem for folder in folders if folder.is_dir() for p in folder.glob("*.yaml")})


def load_layout(name: str, folders: tuple[Path, ...]) -> Layout:
    """Read and validate the layout called ``name``; CardError when missing or invalid."""
    path = layout_file(name, folders)
    if path is None:
        known = available(folders)
        hint = difflib.get_close_matches(name, known, n=1)
        fix = f"did you mean '{hint[0]}'?" if hint else f"available: {', '.join(known)}"
        raise CardError(f"card layout '{name}' not found; {fix}")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise CardError(f"{path}: cannot be read as YAML ({exc}); fix the file") from None
    return parse_layout(data, name, path)


def load_layouts(
    names: tuple[str, ...], folders: tuple[Path, ...]
) -> tuple[dict[str, Layout], list[str]]:
    """Every named layout and the layouts they fall back to; problems for the rest."""
    layouts: dict[str, Layout] = {}
    problems: list[str] = []
    pending = list(names)
    while pending:
        name = pending.pop(0)
        if name in layouts:
            continue
        try:
            layout = load_layout(name, folders)
        except CardError as exc:
            if str(exc) not in problems:
                problems.append(str(exc))
            continue
        layouts[name] = layout
        pending.extend(n for n in handovers(layout) if n)
    return layouts, problems
